/* The streaming install: bundle bytes pulled from the transport (or a local file) through
 * the verifying bundle reader straight into the slot, durably, with a resumable checkpoint. */
#include "install.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "slot.h"
#include "version.h"

#define PULL_BUFFER (256 * 1024)

/* Where the bundle's bytes come from: a local file or a transfer, from some offset on. */
struct source {
    int fd;                        /* local file, or -1 */
    struct fetch_reader *reader;   /* network transfer, or NULL */
    uint64_t limit;                /* bytes to deliver at most (UINT64_MAX: to the end) */
    uint64_t delivered;
    uint64_t *fetched;             /* the call's running total */
    const char *name;              /* URL or path, for messages */
    uint8_t *buffer;
};

struct install {
    const struct install_request *req;
    struct install_result *out;
    char display[FETCH_URL_MAX];   /* the URL without credentials */
    int local;                     /* req->url is a local path */
    struct slot slot;
    uint64_t total;                /* plain bytes of the payload */
    uint64_t written;
};

static int is_local_path(const char *url)
{
    return url[0] == '/' || url[0] == '.' || strncmp(url, "file://", 7) == 0;
}

static const char *local_path(const char *url)
{
    return strncmp(url, "file://", 7) == 0 ? url + 7 : url;
}

/* ---- sources */

static void source_close(struct source *s)
{
    if (s->fd >= 0)
        close(s->fd);
    fetch_close(s->reader);
    free(s->buffer);
    memset(s, 0, sizeof *s);
    s->fd = -1;
}

/* Opens the bundle at byte offset (0, or a resume point); res gets the server's answer. */
static ug_err source_open(struct install *in, uint64_t offset, struct source *s, struct fetch_result *res,
                          char *err)
{
    memset(s, 0, sizeof *s);
    memset(res, 0, sizeof *res);
    s->fd = -1;
    s->limit = UINT64_MAX;
    s->fetched = &in->out->bytes_fetched;
    s->name = in->display;
    if (!(s->buffer = malloc(PULL_BUFFER)))
        return ug_fail(err, UG_ERR_OTHER, "out of memory");
    if (in->local) {
        const char *path = local_path(in->req->url);
        s->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (s->fd < 0)
            return ug_fail(err, UG_ERR_UNUSABLE, "%s: cannot open: %s", path, strerror(errno));
        if (offset && lseek(s->fd, (off_t)offset, SEEK_SET) != (off_t)offset)
            return ug_fail(err, UG_ERR_UNUSABLE, "%s: cannot seek to %llu: %s", path,
                           (unsigned long long)offset, strerror(errno));
        res->start_offset = offset;
        res->resumed = offset > 0;
        return UG_OK;
    }
    struct fetch_options o;
    if (in->req->fetch)
        o = *in->req->fetch;
    else
        fetch_options_init(&o);
    o.url = in->req->url;
    o.method = FETCH_GET;
    o.resume_from = offset;
    o.if_none_match = o.if_modified_since = NULL; /* we want the body, never a 304 */
    /* A bundle can be larger than any single fetch limit a caller set for profiles; the
     * signed manifest bounds what is read. */
    return fetch_open(&o, &s->reader, res, err);
}

static ug_err source_pull(void *ctx, const void **data, size_t *len, char *err)
{
    struct source *s = ctx;
    size_t want = PULL_BUFFER;
    *data = s->buffer;
    *len = 0;
    if (s->limit - s->delivered < want)
        want = (size_t)(s->limit - s->delivered);
    if (want == 0)
        return UG_OK;
    if (s->fd >= 0) {
        ssize_t n;
        do
            n = read(s->fd, s->buffer, want);
        while (n < 0 && errno == EINTR);
        if (n < 0)
            return ug_fail(err, UG_ERR_UNUSABLE, "%s: read failed: %s", s->name, strerror(errno));
        *len = (size_t)n;
    } else {
        ug_err rc = fetch_read(s->reader, s->buffer, want, len, err);
        if (rc != UG_OK)
            return rc;
    }
    s->delivered += *len;
    *s->fetched += *len;
    return UG_OK;
}

/* ---- the sink: checks on the verified manifest, then the slot */

static ug_err check_manifest(void *ctx, const struct bundle_manifest *m, char *err)
{
    struct install *in = ctx;
    const struct install_request *r = in->req;
    const char *name = in->display;
    if (!r->product || strcmp(m->product, r->product) != 0)
        return ug_fail(err, UG_ERR_VERIFY, "%s: bundle is for product %s, this device is %s", name, m->product,
                       r->product ? r->product : "(unknown)");
    if (!bundle_manifest_fits(m, r->hardware))
        return ug_fail(err, UG_ERR_VERIFY, "%s: release %s does not fit hardware %s", name, m->version,
                       r->hardware ? r->hardware : "(unknown)");
    int cmp = 0;
    if (r->expected_version && r->expected_version[0]) {
        if (version_compare(m->version, r->expected_version, &cmp, err) != UG_OK || cmp != 0)
            return ug_fail(err, UG_ERR_VERIFY, "%s: bundle holds version %s, the plan expects %s", name,
                           m->version, r->expected_version);
    }
    if (r->downgrade_limit && r->downgrade_limit[0]) {
        if (version_compare(m->version, r->downgrade_limit, &cmp, err) != UG_OK)
            return ug_fail(err, UG_ERR_USAGE, "Downgrade_Rev_Limit '%s' is not a version", r->downgrade_limit);
        if (cmp < 0)
            return ug_fail(err, UG_ERR_VERIFY, "%s: downgrade to %s refused: Downgrade_Rev_Limit is %s (running %s)",
                           name, m->version, r->downgrade_limit,
                           r->running_version ? r->running_version : "unknown");
    }
    /* One image into one slot: a bundle of several payloads belongs to another installer. */
    if (m->npayloads != 1)
        return ug_fail(err, UG_ERR_VERIFY, "%s: bundle has %zu payloads, this device installs one", name,
                       m->npayloads);
    if (m->payloads[0].size > in->slot.size)
        return ug_fail(err, UG_ERR_VERIFY, "%s: image of %llu bytes does not fit slot %s (%llu bytes)", name,
                       (unsigned long long)m->payloads[0].size, in->slot.location,
                       (unsigned long long)in->slot.size);
    snprintf(in->out->version, sizeof in->out->version, "%s", m->version);
    in->total = m->payloads[0].size;
    return UG_OK;
}

static ug_err sink_write(void *ctx, const struct bundle_payload *p, uint64_t offset, const void *data, size_t len,
                         char *err)
{
    struct install *in = ctx;
    (void)p;
    if (offset != in->written)
        return ug_fail(err, UG_ERR_OTHER, "%s: write at %llu, expected %llu", in->slot.location,
                       (unsigned long long)offset, (unsigned long long)in->written);
    ug_err rc = slot_write(&in->slot, data, len, err);
    if (rc != UG_OK)
        return rc;
    in->written += len;
    if (in->req->progress)
        in->req->progress(in->req->progress_ctx, in->written, in->total);
    return UG_OK;
}

static ug_err sink_payload_end(void *ctx, const struct bundle_payload *p, char *err)
{
    struct install *in = ctx;
    (void)p;
    /* Every byte is verified; it counts only once it is on the medium. */
    ug_err rc = slot_flush(&in->slot, err);
    if (rc == UG_OK)
        in->out->image_size = in->written;
    return rc;
}

static const struct bundle_sink install_sink = {
    .check = check_manifest,
    .write = sink_write,
    .payload_end = sink_payload_end,
};

/* ---- the passes */

/* One pass over the whole bundle from byte 0. */
static ug_err install_full(struct install *in, char *err)
{
    struct source src;
    struct fetch_result res;
    struct bundle_manifest m;
    ug_err rc = source_open(in, 0, &src, &res, err);
    if (rc == UG_OK)
        rc = bundle_read(source_pull, &src, in->display, in->req->keyring, &install_sink, in, &m, err);
    if (rc == UG_OK)
        bundle_manifest_free(&m);
    source_close(&src);
    return rc;
}

ug_err install_bundle(const struct install_request *req, struct install_result *out, char *err)
{
    struct install in = {.req = req, .out = out};
    memset(out, 0, sizeof *out);
    if (!req->url || !req->url[0] || !req->keyring || !req->slot_path)
        return ug_fail(err, UG_ERR_USAGE, "install: a bundle URL, a keyring and a slot are needed");
    in.local = is_local_path(req->url);
    fetch_url_for_display(req->url, in.display, sizeof in.display);
    ug_err rc = slot_open_write(&in.slot, &slot_file_backend, req->slot_path, err);
    if (rc != UG_OK)
        return rc;
    rc = install_full(&in, err);
    slot_close(&in.slot);
    return rc;
}
