/* SPDX-License-Identifier: MIT */
/* The streaming install: bundle bytes pulled from the transport (or a local file) through
 * the verifying bundle reader straight into the slot, durably, with a resumable checkpoint. */
#include "upgrade/install.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/bundle.h"
#include "bundle/payload.h"
#include "common/fsutil.h"
#include "common/hex.h"
#include "common/jsonfile.h"
#include "common/version.h"
#include "net/cpusplit.h"
#include "net/url.h"
#include "upgrade/install_int.h"
#include "upgrade/slots/readback.h"
#include "upgrade/slots/slot.h"

static int is_local_path(const char *url)
{
    return url[0] == '/' || url[0] == '.' || strncmp(url, "file://", 7) == 0;
}

const char *install_local_path(const char *url)
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
    cpu_split_end(&s->split);
    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->split.net_cpu = -1;
}

/* Opens the bundle at byte offset (0, or a resume point); res gets the server's answer. */
static ug_err source_open(struct install *in, uint64_t offset, struct source *s,
                          struct fetch_result *res, char *err)
{
    memset(s, 0, sizeof *s);
    memset(res, 0, sizeof *res);
    s->fd = -1;
    s->split.net_cpu = -1;
    s->limit = UINT64_MAX;
    s->fetched = &in->out->bytes_fetched;
    s->name = in->display;
    s->cancel = in->req->cancel;
    if (!(s->buffer = malloc(PULL_BUFFER)))
        return ug_oom(err);
    if (in->handoff && offset == 0) {
        s->reader = in->handoff;
        in->handoff = NULL;
        *res = *fetch_reader_result(s->reader);
        return UG_OK;
    }
    if (in->local) {
        const char *path = install_local_path(in->req->url);
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
    install_fetch_options(in, offset, &o);
    /* TFTP is lock-step: each block waits for our acknowledgement, so the transfer thread
     * gets a CPU of its own and the decoder, the writer and the flusher (started after this,
     * from this thread) the others. Measured in docs/install.md. */
    if (url_is_tftp(o.url) && cpu_split_begin(&s->split) >= 0) {
        o.pin_transfer = 1;
        o.transfer_cpu = s->split.net_cpu;
    }
    /* A bundle can be larger than any single fetch limit a caller set for profiles; the
     * signed manifest bounds what is read. */
    ug_err rc = fetch_open(&o, &s->reader, res, err);
    if (rc == UG_OK) { /* on success the answer's headers are the reader's */
        *res = *fetch_reader_result(s->reader);
        in->out->transfer_cpu = res->transfer_cpu;
    }
    return rc;
}

static ug_err source_pull(void *ctx, const void **data, size_t *len, char *err)
{
    struct source *s = ctx;
    if (s->cancel && *s->cancel)
        return ug_fail(err, UG_ERR_OTHER, "%s: cancelled", s->name);
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
        /* The buffer is filled before it is handed on: TFTP delivers one small block per
         * read, and passing each one down the pipeline on its own costs more than it. */
        while (*len < want) {
            size_t got = 0;
            ug_err rc = fetch_read(s->reader, s->buffer + *len, want - *len, &got, err);
            if (rc != UG_OK)
                return rc;
            if (got == 0)
                break;
            *len += got;
        }
    }
    s->delivered += *len;
    *s->fetched += *len;
    return UG_OK;
}

/* ---- the sink: checks on the verified manifest, then the slot */

ug_err install_check_manifest(void *ctx, const struct bundle_manifest *m, char *err)
{
    struct install *in = ctx;
    const struct install_request *r = in->req;
    const char *name = in->display;
    if (!r->product || strcmp(m->product, r->product) != 0)
        return ug_fail(err, UG_ERR_VERIFY, "%s: bundle is for product %s, this device is %s", name,
                       m->product, r->product ? r->product : "(unknown)");
    if (!bundle_manifest_fits(m, r->hardware))
        return ug_fail(err, UG_ERR_VERIFY, "%s: release %s does not fit hardware %s", name,
                       m->version, r->hardware ? r->hardware : "(unknown)");
    int cmp = 0;
    if (r->expected_version && r->expected_version[0]) {
        if (version_compare(m->version, r->expected_version, &cmp, err) != UG_OK || cmp != 0)
            return ug_fail(err, UG_ERR_VERIFY, "%s: bundle holds version %s, the plan expects %s",
                           name, m->version, r->expected_version);
    }
    if (r->downgrade_limit && r->downgrade_limit[0]) {
        if (version_compare(m->version, r->downgrade_limit, &cmp, err) != UG_OK)
            return ug_fail(err, UG_ERR_USAGE, "Downgrade_Rev_Limit '%s' is not a version",
                           r->downgrade_limit);
        if (cmp < 0)
            return ug_fail(err, UG_ERR_VERIFY,
                           "%s: downgrade to %s refused: Downgrade_Rev_Limit is %s (running %s)",
                           name, m->version, r->downgrade_limit,
                           r->running_version ? r->running_version : "unknown");
    }
    /* One image into one slot: a bundle of several payloads belongs to another installer. */
    if (m->npayloads != 1)
        return ug_fail(err, UG_ERR_VERIFY, "%s: bundle has %zu payloads, this device installs one",
                       name, m->npayloads);
    if (m->payloads[0].size > in->slot.size)
        return ug_fail(err, UG_ERR_VERIFY,
                       "%s: image of %llu bytes does not fit slot %s (%llu bytes)", name,
                       (unsigned long long)m->payloads[0].size, in->slot.location,
                       (unsigned long long)in->slot.size);
    snprintf(in->out->version, sizeof in->out->version, "%s", m->version);
    in->total = m->payloads[0].size;
    return UG_OK;
}

void install_fetch_options(const struct install *in, uint64_t from, struct fetch_options *o)
{
    if (in->req->fetch)
        *o = *in->req->fetch;
    else
        fetch_options_init(o);
    o->url = in->req->url;
    o->method = FETCH_GET;
    o->resume_from = from;
    o->if_none_match = o->if_modified_since = NULL; /* we want the body, never a 304 */
}

ug_err install_slot_write(struct install *in, const void *data, size_t len, char *err)
{
    ug_err rc = UG_OK;
    /* Power-loss ordering: the caller makes the slot unbootable (flushed) before its first
     * byte changes; a pass refused or cut off before this point leaves the slot as it was. */
    if (!in->writing && in->req->before_write)
        rc = in->req->before_write(in->req->before_write_ctx, err);
    in->writing = 1;
    return rc == UG_OK ? slot_write(&in->slot, data, len, err) : rc;
}

static ug_err sink_write(void *ctx, const struct bundle_payload *p, uint64_t offset,
                         const void *data, size_t len, char *err)
{
    struct install *in = ctx;
    (void)p;
    if (offset != in->written)
        return ug_fail(err, UG_ERR_OTHER, "%s: write at %llu, expected %llu", in->slot.location,
                       (unsigned long long)offset, (unsigned long long)in->written);
    ug_err rc = install_slot_write(in, data, len, err);
    if (rc != UG_OK)
        return rc;
    in->written += len;
    if (in->req->progress)
        in->req->progress(in->req->progress_ctx, in->written, in->total);
    return UG_OK;
}

/* Records the transfer in the resume file as holding chunks [0, chunks_done), which are
 * bytes_done image bytes. */
ug_err install_save_state(struct install *in, uint64_t data_offset, size_t chunks_done,
                          uint64_t bytes_done, char *err)
{
    json_object *st = json_object_new_object();
    if (!st)
        return ug_oom(err);
    jsonfile_set_string(st, "url", in->display);
    jsonfile_set_string(st, "slot", in->slot.location);
    jsonfile_set_string(st, "etag", in->etag);
    jsonfile_set_string(st, "last_modified", in->last_modified);
    jsonfile_set_string(st, "version", in->out->version);
    jsonfile_set_string(st, "payload_sha256", in->payload_sha256);
    jsonfile_set_int(st, "data_offset", (long long)data_offset);
    jsonfile_set_int(st, "chunks_done", (long long)chunks_done);
    jsonfile_set_int(st, "bytes_done", (long long)bytes_done);
    ug_err rc = jsonfile_save(in->req->resume_file, st, err);
    json_object_put(st);
    return rc;
}

static ug_err sink_payload_begin(void *ctx, const struct bundle_payload *p, uint64_t data_offset,
                                 char *err)
{
    struct install *in = ctx;
    in->head_data_offset = data_offset;
    hex_encode(p->sha256, sizeof p->sha256, in->payload_sha256);
    if (!in->req->resume_file)
        return UG_OK;
    if (data_offset == BUNDLE_OFFSET_UNKNOWN)
        in->can_resume = 0;
    /* Power-loss ordering: the resume file is reset to "no chunk done" durably before the
     * first byte of this pass reaches the slot, so an old record can never vouch for bytes
     * that are now being overwritten. */
    return install_save_state(in, data_offset, 0, 0, err);
}

static void *flusher_main(void *arg)
{
    struct install *in = arg;
    char err[UG_ERRBUF];
    pthread_mutex_lock(&in->flush_mu);
    for (;;) {
        /* Asked for while this thread was busy is done before it stops: those chunks
         * are verified and written, recording them can only save a later transfer. */
        while (in->flush_wanted == in->flush_done && !in->flush_stop)
            pthread_cond_wait(&in->flush_cv, &in->flush_mu);
        if (in->flush_wanted == in->flush_done || in->flush_rc != UG_OK)
            break;
        size_t chunks = in->flush_wanted;
        uint64_t bytes = in->flush_wanted_bytes;
        pthread_mutex_unlock(&in->flush_mu);
        /* Power-loss ordering: the chunks were written before this request was made, so
         * this fsync makes them durable; only then does the resume file (atomic) claim them.
         * A cut between the two loses the claim, never claims bytes the medium may not hold. */
        ug_err rc = slot_flush(&in->slot, err);
        if (rc == UG_OK && in->req->resume_file && in->can_resume)
            rc = install_save_state(in, in->head_data_offset, chunks, bytes, err);
        pthread_mutex_lock(&in->flush_mu);
        if (rc != UG_OK && in->flush_rc == UG_OK) {
            in->flush_rc = rc;
            snprintf(in->flush_err, sizeof in->flush_err, "%s", err);
        }
        in->flush_done = chunks;
    }
    pthread_mutex_unlock(&in->flush_mu);
    return NULL;
}

/* Waits for the flusher's last request and ends it; its first failure, if any. */
ug_err install_flusher_stop(struct install *in, char *err)
{
    if (!in->flusher_running)
        return UG_OK;
    pthread_mutex_lock(&in->flush_mu);
    in->flush_stop = 1;
    pthread_cond_broadcast(&in->flush_cv);
    pthread_mutex_unlock(&in->flush_mu);
    pthread_join(in->flusher, NULL);
    in->flusher_running = 0;
    in->flush_stop = 0;
    in->flush_wanted = in->flush_done = 0;
    if (in->flush_rc != UG_OK)
        return ug_fail(err, in->flush_rc, "%s", in->flush_err);
    return UG_OK;
}

/* A chunk is verified (called on the decoder's writer thread): every checkpoint_every bytes
 * the flusher is asked to make the chunks so far durable and record them; if it is still
 * busy, it takes the latest request when it is done. */
ug_err install_chunk_verified(void *ctx, const struct bundle_payload *p, size_t chunk, char *err)
{
    struct install *in = ctx;
    if (chunk + 1 >= p->nchunks || in->written - in->checkpointed < in->checkpoint_every)
        return UG_OK;
    if (!in->flusher_running) {
        if (pthread_create(&in->flusher, NULL, flusher_main, in) != 0)
            return ug_fail(err, UG_ERR_OTHER, "cannot start the flusher thread");
        in->flusher_running = 1;
    }
    ug_err rc = UG_OK;
    pthread_mutex_lock(&in->flush_mu);
    if (in->flush_rc != UG_OK) {
        rc = ug_fail(err, in->flush_rc, "%s", in->flush_err);
    } else {
        in->flush_wanted = chunk + 1;
        in->flush_wanted_bytes = p->chunks[chunk].offset + p->chunks[chunk].size;
        in->checkpointed = in->written;
        pthread_cond_broadcast(&in->flush_cv);
    }
    pthread_mutex_unlock(&in->flush_mu);
    return rc;
}

static ug_err sink_payload_end(void *ctx, const struct bundle_payload *p, char *err)
{
    struct install *in = ctx;
    ug_err rc = install_flusher_stop(in, err);
    if (rc != UG_OK)
        return rc;
    /* Every byte is verified; it counts only once it is on the medium. */
    rc = slot_flush(&in->slot, err);
    /* Where the medium may lie (block devices), it proves it by reading the image back. */
    if (rc == UG_OK && in->slot.backend->readback)
        rc = slot_readback(in->slot.backend, in->slot.location, p, err);
    if (rc == UG_OK)
        in->out->image_size = in->written;
    return rc;
}

static const struct bundle_sink install_sink = {
    .check = install_check_manifest,
    .payload_begin = sink_payload_begin,
    .write = sink_write,
    .chunk_verified = install_chunk_verified,
    .payload_end = sink_payload_end,
};

/* The head of a resumed bundle: the same checks, then a stop at the payload, whose signed
 * description is kept if it is the one the resume file names. */
ug_err install_copy_payload(struct bundle_payload *to, const struct bundle_payload *from)
{
    *to = *from;
    to->name = strdup(from->name);
    to->slot = strdup(from->slot);
    to->chunks = malloc(from->nchunks * sizeof *from->chunks);
    to->index_name = from->index_name ? strdup(from->index_name) : NULL;
    if (!to->name || !to->slot || !to->chunks || (from->index_name && !to->index_name))
        return UG_ERR_OTHER;
    memcpy(to->chunks, from->chunks, from->nchunks * sizeof *from->chunks);
    return UG_OK;
}

void install_free_payload(struct bundle_payload *p)
{
    free(p->name);
    free(p->slot);
    free(p->chunks);
    free(p->index_name);
    memset(p, 0, sizeof *p);
}

static ug_err head_payload_begin(void *ctx, const struct bundle_payload *p, uint64_t data_offset,
                                 char *err)
{
    struct install *in = ctx;
    char hex[65];
    hex_encode(p->sha256, sizeof p->sha256, hex);
    size_t done = (size_t)jsonfile_get_int(in->state, "chunks_done", 0);
    /* The same plain image (its signed digest) cut at the same place: the slot's recorded
     * bytes are this bundle's first chunks, whatever the codec or signer. */
    if (data_offset != (uint64_t)jsonfile_get_int(in->state, "data_offset", -1) ||
        strcmp(hex, jsonfile_get_string(in->state, "payload_sha256", "")) != 0 ||
        done >= p->nchunks ||
        p->chunks[done].offset != (uint64_t)jsonfile_get_int(in->state, "bytes_done", -1)) {
        in->restart = 1;
        return ug_fail(err, UG_ERR_OTHER, "%s: the bundle changed since the cut transfer",
                       in->display);
    }
    hex_encode(p->sha256, sizeof p->sha256, in->payload_sha256);
    if (install_copy_payload(&in->payload, p) != UG_OK)
        return ug_oom(err);
    in->head_data_offset = data_offset;
    in->head_matched = 1;
    /* Not an error: bundle_read stops here, the rest of the head is not needed. */
    return ug_fail(err, UG_ERR_OTHER, "head read");
}

static const struct bundle_sink head_sink = {
    .check = install_check_manifest,
    .payload_begin = head_payload_begin,
    .write = sink_write,
};

/* What the answer says about resuming: the server's identity of the file, and whether a
 * range can be asked for (HTTP with an ETag or Last-Modified, or a local file). */
void install_note_source(struct install *in, const struct fetch_result *res)
{
    snprintf(in->etag, sizeof in->etag, "%s", res->etag);
    snprintf(in->last_modified, sizeof in->last_modified, "%s", res->last_modified);
    in->can_resume = in->local || (res->status != 0 && (res->etag[0] || res->last_modified[0]));
}

/* ---- the passes */

/* One pass over the whole bundle from byte 0. */
static ug_err install_full(struct install *in, char *err)
{
    struct source src;
    struct fetch_result res;
    struct bundle_manifest m;
    ug_err rc = source_open(in, 0, &src, &res, err);
    install_note_source(in, &res);
    in->written = in->checkpointed = 0;
    if (rc == UG_OK)
        rc = slot_seek(&in->slot, 0, err);
    if (rc == UG_OK)
        rc = bundle_read(source_pull, &src, in->display, in->req->keyring, &install_sink, in, &m,
                         err);
    if (rc == UG_OK)
        bundle_manifest_free(&m);
    char flush_err[UG_ERRBUF];
    if (install_flusher_stop(in, flush_err) != UG_OK && rc == UG_OK)
        rc = ug_fail(err, UG_ERR_OTHER, "%s", flush_err);
    source_close(&src);
    return rc;
}

/* Continues a cut transfer: re-reads and re-verifies the signed head, then asks for the
 * payload's stored bytes from the first chunk not yet durably in the slot. Sets in->restart
 * when the bundle changed or the server will not give a range (then a full pass follows). */
static ug_err install_resume(struct install *in, char *err)
{
    struct source src;
    struct fetch_result res;
    struct bundle_manifest m;
    struct payload_decoder *d = NULL;
    uint64_t data_offset = (uint64_t)jsonfile_get_int(in->state, "data_offset", 0);
    size_t k = (size_t)jsonfile_get_int(in->state, "chunks_done", 0);
    ug_err rc = source_open(in, 0, &src, &res, err);
    if (rc != UG_OK)
        goto out;
    install_note_source(in, &res);
    if (!in->can_resume || strcmp(in->etag, jsonfile_get_string(in->state, "etag", "")) != 0 ||
        strcmp(in->last_modified, jsonfile_get_string(in->state, "last_modified", "")) != 0) {
        in->restart = 1;
        goto out;
    }
    /* The head (manifest, signature, payload header) is verified again from the server: a
     * resume trusts nothing it did not just check but the slot's durably recorded chunks. */
    src.limit = data_offset;
    rc = bundle_read(source_pull, &src, in->display, in->req->keyring, &head_sink, in, &m, err);
    if (rc == UG_OK) { /* the archive ended before its payload: not what the file said */
        bundle_manifest_free(&m);
        in->restart = 1;
    }
    if (!in->head_matched)
        goto out;
    source_close(&src);
    const struct bundle_payload *p = &in->payload;
    uint64_t from = data_offset + p->chunks[k].stored_offset;
    rc = source_open(in, from, &src, &res, err);
    if (rc != UG_OK)
        goto out;
    if (!res.resumed || res.start_offset != from || strcmp(res.etag, in->etag) != 0 ||
        strcmp(res.last_modified, in->last_modified) != 0) {
        in->restart = 1; /* range ignored, or the file changed between the two requests */
        goto out;
    }
    src.limit = p->stored_size - p->chunks[k].stored_offset;
    in->total = p->size;
    in->written = in->checkpointed = p->chunks[k].offset;
    in->out->resumed = 1;
    in->out->resume_offset = in->written;
    rc = slot_seek(&in->slot, in->written, err);
    if (rc == UG_OK)
        rc = payload_decoder_open(p, k, NULL, &install_sink, in, in->display, &d, err);
    while (rc == UG_OK) {
        const void *data;
        size_t len;
        rc = source_pull(&src, &data, &len, err);
        if (rc != UG_OK || len == 0)
            break;
        rc = payload_decoder_feed(d, data, len, err);
    }
    if (rc == UG_OK)
        rc = payload_decoder_finish(d, err);
out:
    payload_decoder_close(d);
    char flush_err[UG_ERRBUF];
    if (install_flusher_stop(in, flush_err) != UG_OK && rc == UG_OK)
        rc = ug_fail(err, UG_ERR_OTHER, "%s", flush_err);
    source_close(&src);
    install_free_payload(&in->payload);
    if (in->restart)
        in->out->resumed = 0;
    return rc;
}

ug_err install_bundle(const struct install_request *req, struct install_result *out, char *err)
{
    struct install in = {.req = req, .out = out};
    memset(out, 0, sizeof *out);
    out->transfer_cpu = -1;
    if (!req->url || !req->url[0] || !req->keyring || !req->slot_location || !req->slot_location[0])
        return ug_fail(err, UG_ERR_USAGE, "install: a bundle URL, a keyring and a slot are needed");
    const struct slot_backend *backend;
    ug_err rc = slot_backend_lookup(
        req->slot_backend && req->slot_backend[0] ? req->slot_backend : "file", &backend, err);
    if (rc != UG_OK)
        return rc;
    in.local = is_local_path(req->url);
    url_for_display(req->url, in.display, sizeof in.display);
    in.checkpoint_every = req->checkpoint_bytes ? req->checkpoint_bytes : INSTALL_CHECKPOINT_BYTES;
    pthread_mutex_init(&in.flush_mu, NULL);
    pthread_cond_init(&in.flush_cv, NULL);
    rc = slot_open_write(&in.slot, backend, req->slot_location, err);
    if (rc != UG_OK)
        goto out;
    /* A damaged resume file only costs a full transfer. */
    if (req->resume_file && jsonfile_load(req->resume_file, &in.state, err) != UG_OK)
        in.state = NULL;
    /* With slots to reuse, a bundle that has a block index and a source that gives byte
     * ranges installs as a delta; TFTP (no ranges) always reads the whole stream. */
    if (req->nreuse && (in.local || strncmp(req->url, "http://", 7) == 0 ||
                        strncmp(req->url, "https://", 8) == 0)) {
        int fallback = 0;
        rc = install_delta(&in, &fallback, err);
        if (!fallback)
            goto out;
        in.out->delta = 0;
        in.etag[0] = in.last_modified[0] = '\0';
    }
    if (req->resume_file) {
        if (in.state && jsonfile_get_int(in.state, "chunks_done", 0) > 0 &&
            strcmp(jsonfile_get_string(in.state, "url", ""), in.display) == 0 &&
            strcmp(jsonfile_get_string(in.state, "slot", ""), in.slot.location) == 0) {
            rc = install_resume(&in, err);
            if (!in.restart)
                goto out;
        }
    }
    rc = install_full(&in, err);
out:
    /* The slot now holds the verified image: nothing is left to resume. */
    if (rc == UG_OK && req->resume_file && fs_exists(req->resume_file)) {
        if (unlink(req->resume_file) != 0)
            rc = ug_fail(err, UG_ERR_OTHER, "%s: cannot remove: %s", req->resume_file,
                         strerror(errno));
        else
            rc = fs_sync_parent(req->resume_file, err);
    }
    json_object_put(in.state);
    fetch_close(in.handoff);
    slot_close(&in.slot);
    pthread_cond_destroy(&in.flush_cv);
    pthread_mutex_destroy(&in.flush_mu);
    return rc;
}
