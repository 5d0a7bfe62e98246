/* SPDX-License-Identifier: MIT */
/* What the whole-stream install (install.c) and the delta install (delta.c) share: the
 * state of one install_bundle() call and the helpers both passes use. Private to them. */
#ifndef UPGRADER_INSTALL_INT_H
#define UPGRADER_INSTALL_INT_H

#include <json-c/json.h>
#include <pthread.h>

#include "bundle/manifest.h"
#include "net/cpusplit.h"
#include "upgrade/install.h"
#include "upgrade/slots/slot.h"

#define PULL_BUFFER (64 * 1024) /* the transport hands over at most 64 KiB at a time */

/* Where the bundle's bytes come from: a local file or a transfer, from some offset on. */
struct source {
    int fd;                      /* local file, or -1 */
    struct fetch_reader *reader; /* network transfer, or NULL */
    uint64_t limit;              /* bytes to deliver at most (UINT64_MAX: to the end) */
    uint64_t delivered;
    uint64_t *fetched;                   /* the call's running total */
    const char *name;                    /* URL or path, for messages */
    const volatile sig_atomic_t *cancel; /* the request's: checked before each read */
    uint8_t *buffer;
    struct cpu_split split; /* TFTP: the transfer thread's CPU, kept from the decoder */
};

struct install {
    const struct install_request *req;
    struct install_result *out;
    char display[FETCH_URL_MAX]; /* the URL without credentials */
    int local;                   /* req->url is a local path */
    struct slot slot;
    uint64_t total; /* plain bytes of the payload */
    uint64_t written;
    int writing; /* req->before_write was called: the slot may now change */

    /* Resume bookkeeping (docs/install.md): what the resume file says and will say. */
    json_object *state; /* the resume file's content, or NULL without one */
    int can_resume;     /* the source can be asked for a range and identified */
    char etag[128], last_modified[64];
    uint64_t checkpoint_every, checkpointed; /* image bytes between checkpoints, last one */
    /* The flusher thread fsyncs the slot (then saves the resume file) while the pipeline
     * goes on, so the disk writes back during decoding instead of all at the end. */
    pthread_t flusher;
    pthread_mutex_t flush_mu;
    pthread_cond_t flush_cv;
    int flusher_running, flush_stop;
    size_t flush_wanted;         /* chunks [0, flush_wanted) are written: make them durable */
    size_t flush_done;           /* chunks [0, flush_done) are durable and recorded */
    uint64_t flush_wanted_bytes; /* image bytes in those chunks */
    char payload_sha256[65];     /* hex, of the payload being written (for the resume file) */
    ug_err flush_rc;
    char flush_err[UG_ERRBUF];
    /* Resume pass: the head re-read stops at the payload, whose signed description is kept. */
    uint64_t head_data_offset;
    int head_matched, restart;
    struct bundle_payload payload;
    /* The delta pass's first request, answered 200 (no ranges): the whole bundle, unread,
     * handed to the whole-stream pass so that it costs no second request. */
    struct fetch_reader *handoff;
};

/* The request's transfer options for the bundle's body from byte `from` on (a GET that never
 * takes a 304). */
void install_fetch_options(const struct install *in, uint64_t from, struct fetch_options *o);
/* Writes to the slot at its position; the first write of the call runs req->before_write
 * first (the slot made unbootable), so nothing changes the slot before that. */
ug_err install_slot_write(struct install *in, const void *data, size_t len, char *err);
/* The sink's check of the verified manifest: product, hardware, version, downgrade, size. */
ug_err install_check_manifest(void *ctx, const struct bundle_manifest *m, char *err);
/* Replaces the resume file: chunks [0, chunks_done) = bytes_done image bytes are durable. */
ug_err install_save_state(struct install *in, uint64_t data_offset, size_t chunks_done,
                          uint64_t bytes_done, char *err);
/* A deep copy of a payload's description (freed by install_free_payload). */
ug_err install_copy_payload(struct bundle_payload *to, const struct bundle_payload *from);
/* Frees what install_copy_payload made. */
void install_free_payload(struct bundle_payload *p);
/* Notes the server's identity of the bundle and whether a range can be asked for. */
void install_note_source(struct install *in, const struct fetch_result *res);
/* Chunk `chunk` of p is written and verified: every checkpoint_bytes of image the flusher
 * thread is asked to fsync the slot and then record the chunks so far (docs/install.md). */
ug_err install_chunk_verified(void *ctx, const struct bundle_payload *p, size_t chunk, char *err);
/* Waits for the flusher's last request and ends it; its first failure, if any. */
ug_err install_flusher_stop(struct install *in, char *err);
/* The path of a local bundle URL (file:// removed). */
const char *install_local_path(const char *url);
/* The delta pass (delta.c): UG_OK when installed; *fallback = 1 when the bundle has no
 * index or the server gives no ranges, and the whole stream is to be read instead. */
ug_err install_delta(struct install *in, int *fallback, char *err);

#endif
