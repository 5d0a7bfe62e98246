/* SPDX-License-Identifier: MIT */
/* Bundle reading: the signed manifest first, then each payload member found by libarchive and
 * streamed into the payload decoder (payload.h), which verifies it, in bounded memory. */
#include "bundle/bundle.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <malloc.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle/payload.h"
#include "bundle/sign.h"
#include "common/buf.h"
#include "common/version.h"

#define FILE_BUFFER (256 * 1024)

/* ---- the archive */

struct reader {
    bundle_pull_fn pull;
    void *pull_ctx;
    const char *name;
    ug_err pull_rc; /* the pull's own failure, passed through unchanged */
    char pull_err[UG_ERRBUF];
};

static la_ssize_t archive_pull(struct archive *a, void *ctx, const void **buffer)
{
    struct reader *r = ctx;
    size_t len = 0;
    *buffer = NULL;
    r->pull_rc = r->pull(r->pull_ctx, buffer, &len, r->pull_err);
    if (r->pull_rc != UG_OK) {
        archive_set_error(a, EIO, "read failed");
        return -1;
    }
    return (la_ssize_t)len;
}

/* Turns a libarchive failure into our error: the pull's own when it was the cause. */
static ug_err archive_failure(struct archive *a, struct reader *r, const char *doing, char *err)
{
    if (r->pull_rc != UG_OK) {
        snprintf(err, UG_ERRBUF, "%s", r->pull_err);
        return r->pull_rc;
    }
    return ug_fail(err, UG_ERR_UNUSABLE, "%s: not a readable bundle (%s: %s)", r->name, doing,
                   archive_error_string(a) ? archive_error_string(a) : "truncated or corrupt");
}

/* Checks the member header that is next against what the manifest lists. */
static ug_err check_member(struct archive *a, struct reader *r, struct archive_entry *e, int status,
                           const char *want, int64_t want_size, char *err)
{
    if (status == ARCHIVE_EOF)
        return ug_fail(err, UG_ERR_UNUSABLE, "%s: bundle ends before member %s (truncated)",
                       r->name, want);
    if (status < ARCHIVE_WARN)
        return archive_failure(a, r, "member header", err);
    const char *got = archive_entry_pathname(e);
    if (!got)
        got = "";
    if (got[0] == '/' || strcmp(got, "..") == 0 || strncmp(got, "../", 3) == 0 ||
        strstr(got, "/../") || (strlen(got) >= 3 && strcmp(got + strlen(got) - 3, "/..") == 0))
        return ug_fail(err, UG_ERR_VERIFY, "%s: member '%s' has an unsafe path", r->name, got);
    if (archive_entry_hardlink(e) || archive_entry_symlink(e) ||
        archive_entry_filetype(e) != AE_IFREG)
        return ug_fail(err, UG_ERR_VERIFY, "%s: member '%s' is a link or not a regular file",
                       r->name, got);
    if (strcmp(got, want) != 0)
        return ug_fail(err, UG_ERR_VERIFY,
                       "%s: member '%s' where %s was expected (names or order differ "
                       "from the signed manifest)",
                       r->name, got, want);
    if (!archive_entry_size_is_set(e) || (want_size >= 0 && archive_entry_size(e) != want_size))
        return ug_fail(err, UG_ERR_VERIFY,
                       "%s: member %s is %lld bytes, the signed manifest says %lld", r->name, got,
                       (long long)archive_entry_size(e), (long long)want_size);
    return UG_OK;
}

static ug_err read_whole_member(struct archive *a, struct reader *r, const char *want, size_t max,
                                struct buf *out, char *err)
{
    struct archive_entry *e = NULL;
    int status = archive_read_next_header(a, &e);
    ug_err rc = check_member(a, r, e, status, want, -1, err);
    if (rc != UG_OK)
        return rc;
    if (archive_entry_size(e) <= 0 || (uint64_t)archive_entry_size(e) > max)
        return ug_fail(err, UG_ERR_VERIFY, "%s: member %s is empty or larger than %zu bytes",
                       r->name, want, max);
    char block[16384];
    for (;;) {
        la_ssize_t n = archive_read_data(a, block, sizeof block);
        if (n < 0)
            return archive_failure(a, r, want, err);
        if (n == 0)
            break;
        if (buf_append(out, block, (size_t)n) != 0)
            return ug_oom(err);
    }
    if (out->len != (size_t)archive_entry_size(e))
        return ug_fail(err, UG_ERR_UNUSABLE, "%s: member %s is truncated", r->name, want);
    return UG_OK;
}

static ug_err stream_payload(struct archive *a, struct reader *r, const struct bundle_payload *p,
                             const struct bundle_sink *sink, void *ctx, char *err)
{
    struct archive_entry *e = NULL;
    struct payload_decoder *d = NULL;
    int status = archive_read_next_header(a, &e);
    if (p->stored_size > INT64_MAX)
        return ug_fail(err, UG_ERR_VERIFY, "%s: payload %s is too large", r->name, p->name);
    ug_err rc = check_member(a, r, e, status, p->name, (int64_t)p->stored_size, err);
    if (rc != UG_OK)
        return rc;
    /* In a plain ustar member the data follows its one 512-byte header block. */
    uint64_t data_offset = archive_format(a) == ARCHIVE_FORMAT_TAR_USTAR
                               ? (uint64_t)archive_read_header_position(a) + 512
                               : BUNDLE_OFFSET_UNKNOWN;
    if (sink->payload_begin && (rc = sink->payload_begin(ctx, p, data_offset, err)) != UG_OK)
        return rc;
    rc = payload_decoder_open(p, 0, NULL, sink, ctx, r->name, &d, err);
    uint64_t expect = 0;
    while (rc == UG_OK) {
        const void *block;
        size_t size;
        la_int64_t offset;
        int s = archive_read_data_block(a, &block, &size, &offset);
        if (s == ARCHIVE_EOF)
            break;
        if (s < ARCHIVE_WARN) {
            rc = archive_failure(a, r, p->name, err);
            break;
        }
        if ((uint64_t)offset != expect) { /* a sparse member would leave holes */
            rc = ug_fail(err, UG_ERR_VERIFY, "%s: member %s has holes", r->name, p->name);
            break;
        }
        expect += size;
        rc = payload_decoder_feed(d, block, size, err);
    }
    if (rc == UG_OK)
        rc = payload_decoder_finish(d, err);
    payload_decoder_close(d);
    return rc;
}

/* A payload's block index member: read through and checked against its signed digest (a
 * whole-stream install does not use it, but takes no unverified member either). */
static ug_err check_index_member(struct archive *a, struct reader *r,
                                 const struct bundle_payload *p, char *err)
{
    struct archive_entry *e = NULL;
    int status = archive_read_next_header(a, &e);
    ug_err rc = check_member(a, r, e, status, p->index_name, (int64_t)p->index_size, err);
    EVP_MD_CTX *md = rc == UG_OK ? EVP_MD_CTX_new() : NULL;
    if (rc == UG_OK && (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1))
        rc = ug_oom(err);
    while (rc == UG_OK) {
        const void *block;
        size_t size;
        la_int64_t offset;
        int s = archive_read_data_block(a, &block, &size, &offset);
        if (s == ARCHIVE_EOF)
            break;
        if (s < ARCHIVE_WARN)
            rc = archive_failure(a, r, p->index_name, err);
        else if (EVP_DigestUpdate(md, block, size) != 1)
            rc = ug_fail(err, UG_ERR_OTHER, "SHA-256 failed");
    }
    unsigned char d[32];
    if (rc == UG_OK && (EVP_DigestFinal_ex(md, d, NULL) != 1 || memcmp(d, p->index_sha256, 32)))
        rc = ug_fail(err, UG_ERR_VERIFY, "%s: member %s does not match its signed digest", r->name,
                     p->index_name);
    EVP_MD_CTX_free(md);
    return rc;
}

ug_err bundle_read(bundle_pull_fn pull, void *pull_ctx, const char *name, const char *keyring,
                   const struct bundle_sink *sink, void *ctx, struct bundle_manifest *manifest,
                   char *err)
{
    struct reader r = {pull, pull_ctx, name, UG_OK, ""};
    struct buf json = {0}, sig = {0};
    struct archive *a = archive_read_new();
    ug_err rc = UG_OK;
    memset(manifest, 0, sizeof *manifest);
    if (!a)
        return ug_oom(err);
    /* tar only, no filters: a bundle is never compressed as a whole, and nothing else is
     * guessed at. */
    archive_read_support_format_tar(a);
    if (archive_read_open(a, &r, NULL, archive_pull, NULL) != ARCHIVE_OK) {
        rc = archive_failure(a, &r, "opening", err);
        goto out;
    }
    rc = read_whole_member(a, &r, BUNDLE_MANIFEST_NAME, BUNDLE_MANIFEST_MAX, &json, err);
    if (rc == UG_OK)
        rc = read_whole_member(a, &r, BUNDLE_SIGNATURE_NAME, BUNDLE_SIGNATURE_MAX, &sig, err);
    /* Nothing in the manifest is looked at before its signature holds. */
    if (rc == UG_OK)
        rc = sign_verify(keyring, json.data, json.len, sig.data, sig.len, name, err);
    if (rc == UG_OK && (rc = bundle_manifest_parse(json.data, json.len, manifest, err)) != UG_OK)
        ug_prefix(err, "%s: ", name);
    /* The manifest's text and parse tree grow with the image (a line per chunk) and are done
     * with: freed and their heap pages given back before the payload's buffers are taken,
     * so peak memory stays the same for a 256 MiB and a 1 GiB image. */
    buf_free(&json);
    buf_free(&sig);
    malloc_trim(0);
    if (rc == UG_OK && sink->check)
        rc = sink->check(ctx, manifest, err);
    for (size_t i = 0; rc == UG_OK && i < manifest->npayloads; i++)
        rc = stream_payload(a, &r, &manifest->payloads[i], sink, ctx, err);
    for (size_t i = 0; rc == UG_OK && i < manifest->npayloads; i++)
        if (manifest->payloads[i].index_name)
            rc = check_index_member(a, &r, &manifest->payloads[i], err);
    if (rc == UG_OK) {
        struct archive_entry *e = NULL;
        int s = archive_read_next_header(a, &e);
        if (s == ARCHIVE_OK || s == ARCHIVE_WARN)
            rc = ug_fail(err, UG_ERR_VERIFY, "%s: member '%s' is not listed in the signed manifest",
                         name, archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
        else if (s != ARCHIVE_EOF)
            rc = archive_failure(a, &r, "end of archive", err);
    }
out:
    archive_read_free(a);
    buf_free(&json);
    buf_free(&sig);
    if (rc != UG_OK)
        bundle_manifest_free(manifest);
    return rc;
}

struct file_pull {
    int fd;
    const char *path;
    uint8_t *buffer;
};

static ug_err file_pull(void *ctx, const void **data, size_t *len, char *err)
{
    struct file_pull *f = ctx;
    ssize_t n;
    do
        n = read(f->fd, f->buffer, FILE_BUFFER);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return ug_fail(err, UG_ERR_OTHER, "%s: read failed: %s", f->path, strerror(errno));
    *data = f->buffer;
    *len = (size_t)n;
    return UG_OK;
}

ug_err bundle_read_file(const char *path, const char *keyring, const struct bundle_sink *sink,
                        void *ctx, struct bundle_manifest *manifest, char *err)
{
    struct file_pull f = {open(path, O_RDONLY | O_CLOEXEC), path, malloc(FILE_BUFFER)};
    ug_err rc;
    memset(manifest, 0, sizeof *manifest);
    if (f.fd < 0)
        rc = ug_fail(err, UG_ERR_UNUSABLE, "%s: cannot open: %s", path, strerror(errno));
    else if (!f.buffer)
        rc = ug_oom(err);
    else
        rc = bundle_read(file_pull, &f, path, keyring, sink, ctx, manifest, err);
    if (f.fd >= 0)
        close(f.fd);
    free(f.buffer);
    return rc;
}
