/* SPDX-License-Identifier: MIT */
/* The in-memory file server behind the unit tests' wrapped transport: answers shaped like
 * fetch.c's (status, reason, validators, messages), and a log of what was asked. */
#include "fakeserver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"

static struct {
    struct fake_file files[FAKE_MAX_FILES];
    size_t nfiles;
    struct fake_request log[FAKE_MAX_REQUESTS];
    size_t nlog;
    uint64_t served;
    fake_hook_fn hook;
    void *hook_ctx;
} fake;

/* A pulled transfer of one file. */
struct fake_reader {
    const struct fake_file *file;
    uint64_t at, end;
    struct fetch_result res;
};

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void free_request(struct fake_request *r)
{
    free(r->url);
    free(r->username);
    free(r->password);
    free(r->if_none_match);
    free(r->if_modified_since);
    free(r->user_agent);
    free(r->ca_file);
    free(r->extra_ca_file);
    free(r->body);
    memset(r, 0, sizeof *r);
}

void fake_reset(void)
{
    for (size_t i = 0; i < fake.nfiles; i++)
        buf_free(&fake.files[i].body);
    for (size_t i = 0; i < fake.nlog; i++)
        free_request(&fake.log[i]);
    memset(&fake, 0, sizeof fake);
}

/* The path of a URL: after scheme://host[:port], up to any ?query or #fragment. */
static void url_path(const char *url, char *out, size_t n)
{
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : url;
    if (!p)
        p = "/";
    snprintf(out, n, "%.*s", (int)strcspn(p, "?#"), p);
}

static struct fake_file *find(const char *path)
{
    for (size_t i = 0; i < fake.nfiles; i++)
        if (strcmp(fake.files[i].path, path) == 0)
            return &fake.files[i];
    return NULL;
}

static struct fake_file *file_at(const char *path)
{
    struct fake_file *f = find(path);
    if (f)
        return f;
    if (fake.nfiles == FAKE_MAX_FILES)
        return NULL;
    f = &fake.files[fake.nfiles++];
    memset(f, 0, sizeof *f);
    snprintf(f->path, sizeof f->path, "%s", path);
    return f;
}

struct fake_file *fake_serve(const char *path, const void *data, size_t len)
{
    struct fake_file *f = file_at(path);
    if (!f)
        return NULL;
    f->answer = FAKE_OK;
    buf_reset(&f->body);
    if (buf_append(&f->body, len ? data : "", len) != 0)
        return NULL;
    return f;
}

struct fake_file *fake_serve_file(const char *path, const char *local_file)
{
    struct buf b = {0};
    char err[UG_ERRBUF];
    struct fake_file *f = NULL;
    if (fs_read_file(local_file, 1u << 30, &b, err) == UG_OK)
        f = fake_serve(path, b.data, b.len);
    else
        fprintf(stderr, "fake_serve_file: %s\n", err);
    buf_free(&b);
    return f;
}

struct fake_file *fake_fail(const char *path, enum fake_answer answer)
{
    struct fake_file *f = file_at(path);
    if (f)
        f->answer = answer;
    return f;
}

size_t fake_request_count(void)
{
    return fake.nlog;
}

const struct fake_request *fake_request_at(size_t i)
{
    return i < fake.nlog ? &fake.log[i] : NULL;
}

size_t fake_requests_of(const char *path)
{
    size_t n = 0;
    char p[256];
    for (size_t i = 0; i < fake.nlog; i++) {
        url_path(fake.log[i].url, p, sizeof p);
        n += strcmp(p, path) == 0;
    }
    return n;
}

const struct fake_request *fake_last_request_of(const char *path)
{
    char p[256];
    for (size_t i = fake.nlog; i-- > 0;) {
        url_path(fake.log[i].url, p, sizeof p);
        if (strcmp(p, path) == 0)
            return &fake.log[i];
    }
    return NULL;
}

uint64_t fake_bytes_served(void)
{
    return fake.served;
}

void fake_set_hook(fake_hook_fn hook, void *ctx)
{
    fake.hook = hook;
    fake.hook_ctx = ctx;
}

/* Logs the request and runs the hook; the file it names, or NULL. */
static const struct fake_file *take_request(const struct fetch_options *o)
{
    if (fake.nlog < FAKE_MAX_REQUESTS) {
        struct fake_request *r = &fake.log[fake.nlog++];
        r->url = dup_or_null(o->url ? o->url : "");
        r->username = dup_or_null(o->username);
        r->password = dup_or_null(o->password);
        r->if_none_match = dup_or_null(o->if_none_match);
        r->if_modified_since = dup_or_null(o->if_modified_since);
        r->user_agent = dup_or_null(o->user_agent);
        r->ca_file = dup_or_null(o->ca_file);
        r->extra_ca_file = dup_or_null(o->extra_ca_file);
        r->method = o->method;
        if (o->body && (r->body = malloc(o->body_len + 1)) != NULL) {
            memcpy(r->body, o->body, o->body_len);
            r->body[o->body_len] = '\0';
        }
        r->timeout_ms = o->timeout_ms;
        r->tftp_blksize = o->tftp_blksize;
        r->resume_from = o->resume_from;
        if (fake.hook)
            fake.hook(fake.hook_ctx, r);
    }
    char path[256];
    url_path(o->url ? o->url : "", path, sizeof path);
    return find(path);
}

static int is_http(const char *url)
{
    return strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0;
}

static int same(const char *held, const char *served)
{
    return held && served[0] && strcmp(held, served) == 0;
}

/* The answer to o as fetch.c would classify it, without the body. */
static ug_err answer(const struct fetch_options *o, const struct fake_file *f,
                     struct fetch_result *res, char *err)
{
    const char *url = o->url ? o->url : "";
    int http = is_http(url);
    memset(res, 0, sizeof *res);
    snprintf(res->effective_url, sizeof res->effective_url, "%s", url);
    snprintf(res->server_ip, sizeof res->server_ip, "127.0.0.1");
    res->transfer_cpu = -1;
    enum fake_answer a = f ? f->answer : FAKE_NOT_FOUND;
    if (a == FAKE_UNREACHABLE) {
        res->server_ip[0] = '\0';
        snprintf(res->reason, sizeof res->reason, "connection refused");
        return ug_fail(err, UG_ERR_UNREACHABLE, "%s: connection refused (fake server)", url);
    }
    if (a == FAKE_NOT_FOUND || a == FAKE_SERVER_FAIL) {
        res->status = http ? (a == FAKE_NOT_FOUND ? 404 : 500) : 0;
        res->not_found = a == FAKE_NOT_FOUND;
        snprintf(res->reason, sizeof res->reason, "%s",
                 a == FAKE_NOT_FOUND ? "file not found" : "http error 500");
        return ug_fail(err, UG_ERR_UNUSABLE, "%s: %s (server answered HTTP %ld)", url, res->reason,
                       res->status);
    }
    snprintf(res->etag, sizeof res->etag, "%s", f->etag);
    snprintf(res->last_modified, sizeof res->last_modified, "%s", f->last_modified);
    res->status = http ? 200 : 0;
    snprintf(res->reason, sizeof res->reason, "ok");
    if (http && (same(o->if_none_match, f->etag) || same(o->if_modified_since, f->last_modified))) {
        res->status = 304;
        res->not_modified = 1;
        snprintf(res->reason, sizeof res->reason, "not modified");
    }
    return UG_OK;
}

ug_err fake_fetch_to_buffer(const struct fetch_options *o, size_t max_size, struct buf *out,
                            struct fetch_result *res, char *err)
{
    struct fetch_result ignored;
    if (!res)
        res = &ignored;
    const struct fake_file *f = take_request(o);
    ug_err rc = answer(o, f, res, err);
    if (rc != UG_OK || res->not_modified)
        return rc;
    uint64_t limit = o->max_size && o->max_size < max_size ? o->max_size : max_size;
    if (f->body.len > limit) {
        snprintf(res->reason, sizeof res->reason, "file too large");
        return ug_fail(err, UG_ERR_UNUSABLE, "%s: file too large", o->url);
    }
    if (buf_append(out, f->body.len ? f->body.data : "", f->body.len) != 0)
        return ug_oom(err);
    res->bytes = f->body.len;
    fake.served += f->body.len;
    return UG_OK;
}

ug_err fake_fetch_open(const struct fetch_options *o, struct fetch_reader **reader,
                       struct fetch_result *res, char *err)
{
    struct fetch_result ignored;
    if (!res)
        res = &ignored;
    *reader = NULL;
    const struct fake_file *f = take_request(o);
    ug_err rc = answer(o, f, res, err);
    if (rc != UG_OK)
        return rc;
    struct fake_reader *r = calloc(1, sizeof *r);
    if (!r)
        return ug_oom(err);
    r->file = f;
    r->res = *res;
    r->end = f->body.len;
    if ((o->resume_from || o->range_length) && f->ranges && o->resume_from <= f->body.len) {
        r->at = o->resume_from;
        if (o->range_length && o->range_length < r->end - r->at)
            r->end = r->at + o->range_length;
        r->res.status = 206;
        r->res.resumed = 1;
        r->res.start_offset = o->resume_from;
    }
    *res = r->res;
    *reader = (struct fetch_reader *)r;
    return UG_OK;
}

ug_err fake_fetch_read(struct fetch_reader *reader, void *buf, size_t len, size_t *got, char *err)
{
    struct fake_reader *r = (struct fake_reader *)reader;
    (void)err;
    size_t left = (size_t)(r->end - r->at);
    *got = len < left ? len : left;
    if (*got)
        memcpy(buf, r->file->body.data + r->at, *got);
    r->at += *got;
    r->res.bytes += *got;
    fake.served += *got;
    return UG_OK;
}

const struct fetch_result *fake_fetch_reader_result(const struct fetch_reader *reader)
{
    return &((const struct fake_reader *)reader)->res;
}

void fake_fetch_close(struct fetch_reader *reader)
{
    free(reader);
}
