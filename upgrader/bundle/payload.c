/* SPDX-License-Identifier: MIT */
/* The payload decoder: one payload's stored bytes through SHA-256, the codec and a ring of
 * buffers to a writer thread that hashes the plain bytes, checks each chunk and feeds the sink. */
#include "bundle/payload.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/decompress.h"

/* Two stages on their own threads (docs/install.md): the caller's thread hashes the stored
 * bytes (while they are still in its cache, and a quarter of the plain bytes' size, so no
 * copy of them crosses to the other core) and decodes into a ring of RING_SLOTS buffers;
 * the writer thread hashes the plain bytes of each chunk, hands them to the sink and checks
 * the chunk at its end. The ring bounds memory and makes the stage that runs ahead wait.
 *
 * The payload's whole-image digest is not computed again: the chunk digests are signed and
 * tile the payload exactly (checked when the manifest is parsed), so every plain byte is
 * already checked against a signed digest; hashing it all a second time cost a third of
 * the install's CPU (docs/bundle.md). */

#define RING_SLOTS 12
/* Plain bytes per slot, handed to the sink per write. The fuzz build (tests/fuzz/run.sh) makes
 * it 4 KiB: the small bundles a fuzzer makes then fill and wrap the ring, and the ring stays
 * under the size the sanitizer's allocator maps and unmaps afresh for each input. */
#ifndef PAYLOAD_RING_BUFFER
#define PAYLOAD_RING_BUFFER (32 * 1024)
#endif
#define RING_BUFFER PAYLOAD_RING_BUFFER

enum item_kind {
    ITEM_DATA,
    ITEM_CHUNK_END
};

/* One ring slot: decoded bytes, or the end of a chunk with what the decoding thread saw. */
struct ring_item {
    enum item_kind kind;
    uint8_t *data;
    size_t len;
    uint64_t offset; /* of data in the plain payload */
    size_t chunk;
    /* ITEM_CHUNK_END: in the order they are reported (tampering before codec errors). */
    int stored_ok, decode_failed, ended;
    uint64_t out_chunk;
    char decode_err[160];
};

struct payload_decoder {
    const struct bundle_payload *p;
    const struct bundle_sink *sink;
    void *ctx;
    const char *name;
    struct decompressor *dec;
    EVP_MD_CTX *plain, *stored;
    /* Decoding thread's view of the current chunk. */
    size_t chunk;
    uint64_t in_chunk;  /* stored bytes of it taken */
    uint64_t out_chunk; /* plain bytes of it made */
    int ended;          /* its stream is complete */
    /* A decode error is held until the chunk's stored bytes are all hashed, to report
     * tampering (digest mismatch) rather than a confusing codec error. */
    int decode_failed;
    char decode_err[160];
    /* The slot being filled: it is published only once full (or at the chunk's end), so
     * the writer gets whole slots, which lie side by side and go to the sink together. */
    struct ring_item *filling;
    size_t filled;

    /* The ring, under mu: head counts items published, tail the items the writer is done with. */
    pthread_mutex_t mu;
    pthread_cond_t published, consumed;
    struct ring_item ring[RING_SLOTS];
    uint64_t head, tail;
    /* Wake-ups cost more than the work they hand over (a futex and, on a VM, an IPI each),
     * so they come in batches: the writer sleeps until half the ring is full (or the
     * decoder drains it), the decoder until the writer is down to `wake_at` items. */
    int writer_waiting, decoder_waiting;
    uint64_t wake_at;
    int thread_started;
    int stop;
    int failed; /* the writer failed: rc and err say why */
    ug_err rc;
    char err[UG_ERRBUF];
    pthread_t writer;
    uint8_t *buffers; /* RING_SLOTS * RING_BUFFER */
};

static int md_reset(EVP_MD_CTX *md)
{
    return EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 ? 0 : -1;
}

static int md_check(EVP_MD_CTX *md, const unsigned char want[32])
{
    unsigned char got[32];
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(md, got, &n) != 1 || n != 32)
        return -1;
    return memcmp(got, want, 32) == 0 ? 0 : -1;
}

/* Records the writer's failure and wakes everyone. Called with mu held. */
static void fail_locked(struct payload_decoder *d, ug_err rc, const char *err)
{
    if (!d->failed) {
        d->failed = 1;
        d->rc = rc;
        snprintf(d->err, sizeof d->err, "%s", err);
    }
    pthread_cond_broadcast(&d->published);
    pthread_cond_broadcast(&d->consumed);
}

/* The writer's work at a chunk end: the checks in the order that names the cause best. */
static ug_err writer_chunk_end(struct payload_decoder *d, const struct ring_item *it, char *err)
{
    const struct bundle_chunk *k = &d->p->chunks[it->chunk];
    const char *name = d->name, *pl = d->p->name;
    if (!it->stored_ok)
        return ug_fail(err, UG_ERR_VERIFY,
                       "%s: payload %s chunk %zu does not match its signed digest "
                       "(tampered or corrupt)",
                       name, pl, it->chunk);
    if (it->decode_failed)
        return ug_fail(err, UG_ERR_UNUSABLE, "%s: payload %s chunk %zu %s", name, pl, it->chunk,
                       it->decode_err);
    if (!it->ended || it->out_chunk != k->size)
        return ug_fail(err, UG_ERR_VERIFY,
                       "%s: payload %s chunk %zu decodes to %llu bytes, the manifest says %llu",
                       name, pl, it->chunk, (unsigned long long)it->out_chunk,
                       (unsigned long long)k->size);
    if (md_check(d->plain, k->sha256) != 0)
        return ug_fail(err, UG_ERR_VERIFY,
                       "%s: payload %s chunk %zu: SHA-256 of the decoded bytes does "
                       "not match the signed manifest",
                       name, pl, it->chunk);
    if (md_reset(d->plain))
        return ug_fail(err, UG_ERR_OTHER, "SHA-256 failed");
    if (d->sink->chunk_verified)
        return d->sink->chunk_verified(d->ctx, d->p, it->chunk, err);
    return UG_OK;
}

/* Takes the items [first, first + avail) of the ring may offer: a chunk end alone, or a run
 * of data slots that lie side by side in memory and in the image, hashed one by one and
 * handed to the sink in one write (one system call instead of one per slot). *taken: how
 * many items were done. */
static ug_err consume(struct payload_decoder *d, uint64_t first, uint64_t avail, uint64_t *taken,
                      char *err)
{
    const struct ring_item *it = &d->ring[first % RING_SLOTS];
    *taken = 1;
    if (it->kind == ITEM_CHUNK_END)
        return writer_chunk_end(d, it, err);
    size_t len = 0;
    for (uint64_t i = first; i < first + avail; i++) {
        const struct ring_item *next = &d->ring[i % RING_SLOTS];
        if (i > first && (next->kind != ITEM_DATA || next->data != it->data + len ||
                          next->offset != it->offset + len))
            break;
        if (EVP_DigestUpdate(d->plain, next->data, next->len) != 1)
            return ug_fail(err, UG_ERR_OTHER, "SHA-256 failed");
        len += next->len;
        *taken = i - first + 1;
    }
    return d->sink->write(d->ctx, d->p, it->offset, it->data, len, err);
}

static void *writer_main(void *arg)
{
    struct payload_decoder *d = arg;
    char err[UG_ERRBUF];
    pthread_mutex_lock(&d->mu);
    for (;;) {
        while (d->tail == d->head && !d->stop && !d->failed) {
            d->writer_waiting = 1;
            pthread_cond_wait(&d->published, &d->mu);
            d->writer_waiting = 0;
        }
        if (d->failed || d->tail == d->head)
            break;
        uint64_t first = d->tail, avail = d->head - d->tail, taken = 0;
        pthread_mutex_unlock(&d->mu);
        /* The slots are ours until tail moves: the decoding thread does not reuse them before. */
        ug_err rc = consume(d, first, avail, &taken, err);
        pthread_mutex_lock(&d->mu);
        if (rc != UG_OK) {
            fail_locked(d, rc, err);
            break;
        }
        d->tail += taken;
        if (d->decoder_waiting && d->head - d->tail <= d->wake_at)
            pthread_cond_signal(&d->consumed);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

/* The next free slot for the decoding thread, waiting while the ring is full. */
static ug_err ring_acquire(struct payload_decoder *d, struct ring_item **out, char *err)
{
    pthread_mutex_lock(&d->mu);
    while (d->head - d->tail >= RING_SLOTS && !d->failed) {
        d->decoder_waiting = 1;
        d->wake_at = RING_SLOTS / 2;
        pthread_cond_wait(&d->consumed, &d->mu);
        d->decoder_waiting = 0;
    }
    ug_err rc = d->failed ? ug_fail(err, d->rc, "%s", d->err) : UG_OK;
    pthread_mutex_unlock(&d->mu);
    *out = &d->ring[d->head % RING_SLOTS];
    return rc;
}

static void ring_publish(struct payload_decoder *d)
{
    pthread_mutex_lock(&d->mu);
    d->head++;
    if (d->writer_waiting && d->head - d->tail >= RING_SLOTS / 2)
        pthread_cond_signal(&d->published);
    pthread_mutex_unlock(&d->mu);
}

/* Waits until the writer has taken every published item (or one failed). */
static ug_err ring_drain(struct payload_decoder *d, char *err)
{
    pthread_mutex_lock(&d->mu);
    pthread_cond_signal(&d->published); /* whatever is left, however little */
    while (d->tail != d->head && !d->failed) {
        d->decoder_waiting = 1;
        d->wake_at = 0;
        pthread_cond_wait(&d->consumed, &d->mu);
        d->decoder_waiting = 0;
    }
    ug_err rc = d->failed ? ug_fail(err, d->rc, "%s", d->err) : UG_OK;
    pthread_mutex_unlock(&d->mu);
    return rc;
}

ug_err payload_decoder_open(const struct bundle_payload *p, size_t first_chunk, const char *backend,
                            const struct bundle_sink *sink, void *ctx, const char *name,
                            struct payload_decoder **out, char *err)
{
    *out = NULL;
    if (first_chunk > p->nchunks)
        return ug_fail(err, UG_ERR_USAGE, "%s: payload %s has no chunk %zu", name, p->name,
                       first_chunk);
    struct payload_decoder *d = calloc(1, sizeof *d);
    if (!d)
        return ug_oom(err);
    d->p = p;
    d->sink = sink;
    d->ctx = ctx;
    d->name = name;
    d->chunk = first_chunk;
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->published, NULL);
    pthread_cond_init(&d->consumed, NULL);
    ug_err rc = decompress_open(p->compression, backend, &d->dec, err);
    if (rc == UG_OK) {
        d->buffers = malloc((size_t)RING_SLOTS * RING_BUFFER);
        d->plain = EVP_MD_CTX_new();
        d->stored = EVP_MD_CTX_new();
        if (!d->buffers || !d->plain || !d->stored || md_reset(d->plain) || md_reset(d->stored))
            rc = ug_oom(err);
    }
    for (int i = 0; rc == UG_OK && i < RING_SLOTS; i++)
        d->ring[i].data = d->buffers + (size_t)i * RING_BUFFER;
    if (rc == UG_OK) {
        if (pthread_create(&d->writer, NULL, writer_main, d) != 0)
            rc = ug_fail(err, UG_ERR_OTHER, "cannot start the decoder's writer thread");
        else
            d->thread_started = 1;
    }
    if (rc != UG_OK) {
        payload_decoder_close(d);
        return rc;
    }
    *out = d;
    return UG_OK;
}

void payload_decoder_close(struct payload_decoder *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->mu);
    d->stop = 1;
    pthread_cond_broadcast(&d->published);
    pthread_mutex_unlock(&d->mu);
    if (d->thread_started)
        pthread_join(d->writer, NULL);
    pthread_cond_destroy(&d->published);
    pthread_cond_destroy(&d->consumed);
    pthread_mutex_destroy(&d->mu);
    decompress_close(d->dec);
    EVP_MD_CTX_free(d->plain);
    EVP_MD_CTX_free(d->stored);
    free(d->buffers);
    free(d);
}

/* Publishes the slot being filled, if it holds anything. */
static void deliver(struct payload_decoder *d)
{
    struct ring_item *it = d->filling;
    if (!it || d->filled == 0)
        return;
    const struct bundle_chunk *k = &d->p->chunks[d->chunk];
    it->kind = ITEM_DATA;
    it->len = d->filled;
    it->offset = k->offset + d->out_chunk - d->filled;
    it->chunk = d->chunk;
    d->filling = NULL;
    d->filled = 0;
    ring_publish(d);
}

/* Runs the codec over in[0..n) (final: no more input for this chunk), straight into ring
 * slots, publishing each one it fills (and, when final, the last one however full). */
static ug_err pump(struct payload_decoder *d, const uint8_t *in, size_t n, int final, char *err)
{
    const struct bundle_chunk *k = &d->p->chunks[d->chunk];
    /* The next frame of an indexed chunk arrives after the previous one ended. */
    if (d->ended && n > 0 && d->p->frame_size && !d->p->flush_frames) {
        d->ended = 0;
        if (decompress_reset(d->dec, d->decode_err) != UG_OK)
            d->decode_failed = 1;
    }
    while (!d->decode_failed) {
        size_t used = 0, made = 0;
        int ended = 0;
        if (!d->filling) {
            ug_err rc = ring_acquire(d, &d->filling, err);
            if (rc != UG_OK)
                return rc;
        }
        if (decompress_step(d->dec, in, n, &used, d->filling->data + d->filled,
                            RING_BUFFER - d->filled, &made, &ended, d->decode_err) != UG_OK) {
            d->decode_failed = 1;
            break;
        }
        if (used) { /* in may be NULL with n == 0 when the stream is only being finished */
            in += used;
            n -= used;
        }
        if (made > k->size - d->out_chunk) {
            d->decode_failed = 1;
            snprintf(d->decode_err, sizeof d->decode_err, "decodes to more than its %llu bytes",
                     (unsigned long long)k->size);
            break;
        }
        d->out_chunk += made;
        d->filled += made;
        if (d->filled == RING_BUFFER)
            deliver(d);
        if (ended && n > 0 && d->p->frame_size && !d->p->flush_frames) {
            /* An indexed payload's chunk is several frames, each a stream of its own. */
            if (decompress_reset(d->dec, d->decode_err) != UG_OK) {
                d->decode_failed = 1;
                break;
            }
            continue;
        }
        if (ended) {
            d->ended = 1;
            if (n > 0) {
                d->decode_failed = 1;
                snprintf(d->decode_err, sizeof d->decode_err,
                         "has data after the end of its stream");
            }
            break;
        }
        if (used == 0 && made == 0) {
            if (n > 0) {
                d->decode_failed = 1;
                snprintf(d->decode_err, sizeof d->decode_err, "does not decode (no progress)");
            }
            break;
        }
        if (n == 0 && d->filled > 0 && !final)
            break; /* the codec wants more input than this call has */
    }
    if (final) {
        deliver(d);
        d->filling = NULL; /* an empty slot held is simply acquired again */
    }
    return UG_OK;
}

/* The chunk's stored bytes are all in: the writer thread checks it once it has hashed them
 * and the plain bytes. */
static ug_err finish_chunk(struct payload_decoder *d, char *err)
{
    const struct bundle_chunk *k = &d->p->chunks[d->chunk];
    ug_err rc = pump(d, NULL, 0, 1, err);
    if (rc != UG_OK)
        return rc;
    if (d->p->compression == CODEC_NONE)
        d->ended = d->out_chunk == k->size;
    struct ring_item *it;
    if ((rc = ring_acquire(d, &it, err)) != UG_OK)
        return rc;
    it->kind = ITEM_CHUNK_END;
    it->len = 0;
    it->chunk = d->chunk;
    /* Reported first by the writer: tampering names the cause better than a codec error. */
    it->stored_ok = md_check(d->stored, k->stored_sha256) == 0;
    if (md_reset(d->stored))
        return ug_fail(err, UG_ERR_OTHER, "SHA-256 failed");
    it->decode_failed = d->decode_failed;
    it->ended = d->ended;
    it->out_chunk = d->out_chunk;
    snprintf(it->decode_err, sizeof it->decode_err, "%s", d->decode_err);
    ring_publish(d);
    d->chunk++;
    d->in_chunk = d->out_chunk = 0;
    d->ended = d->decode_failed = 0;
    d->decode_err[0] = '\0';
    return decompress_reset(d->dec, err);
}

ug_err payload_decoder_feed(struct payload_decoder *d, const void *data, size_t len, char *err)
{
    const uint8_t *in = data;
    while (len > 0) {
        if (d->chunk >= d->p->nchunks)
            return ug_fail(err, UG_ERR_VERIFY,
                           "%s: payload %s is longer than its signed %llu bytes", d->name,
                           d->p->name, (unsigned long long)d->p->stored_size);
        const struct bundle_chunk *k = &d->p->chunks[d->chunk];
        uint64_t left = k->stored_size - d->in_chunk;
        size_t take = left < len ? (size_t)left : len;
        ug_err rc = UG_OK;
        if (EVP_DigestUpdate(d->stored, in, take) != 1)
            rc = ug_fail(err, UG_ERR_OTHER, "SHA-256 failed");
        if (rc == UG_OK)
            rc = pump(d, in, take, 0, err);
        if (rc != UG_OK)
            return rc;
        d->in_chunk += take;
        in += take;
        len -= take;
        if (d->in_chunk == k->stored_size && (rc = finish_chunk(d, err)) != UG_OK)
            return rc;
    }
    return UG_OK;
}

ug_err payload_decoder_finish(struct payload_decoder *d, char *err)
{
    /* Every chunk end published so far must have passed the writer's checks first. */
    ug_err rc = ring_drain(d, err);
    if (rc != UG_OK)
        return rc;
    if (d->chunk < d->p->nchunks)
        return ug_fail(err, UG_ERR_UNUSABLE,
                       "%s: payload %s is truncated (ends in chunk %zu of %zu)", d->name,
                       d->p->name, d->chunk, d->p->nchunks);
    return d->sink->payload_end ? d->sink->payload_end(d->ctx, d->p, err) : UG_OK;
}
