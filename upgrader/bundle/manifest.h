/* SPDX-License-Identifier: MIT */
/* The release manifest of a bundle (docs/bundle.md) and the sink its verified content goes
 * to: the types the bundle reader and the payload decoder share. */
#ifndef UPGRADER_BUNDLE_MANIFEST_H
#define UPGRADER_BUNDLE_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "bundle/decompress.h"
#include "common/error.h"

#define BUNDLE_MANIFEST_NAME  "manifest.json"
#define BUNDLE_SIGNATURE_NAME "manifest.json.sig"
#define BUNDLE_MANIFEST_MAX   (1024 * 1024)
#define BUNDLE_SIGNATURE_MAX  (64 * 1024)
#define BUNDLE_FORMAT         1
#define BUNDLE_OFFSET_UNKNOWN UINT64_MAX

struct bundle_chunk {
    uint64_t offset, size;               /* in the plain (uncompressed) payload */
    uint64_t stored_offset, stored_size; /* in the payload member as stored */
    unsigned char sha256[32];            /* of the plain bytes */
    unsigned char stored_sha256[32];     /* of the stored bytes: tells tampering from corruption */
};

struct bundle_payload {
    char *name; /* tar member name: plain, no '/' and no leading '.' */
    char *slot; /* what it is written to, e.g. "rootfs" */
    enum codec compression;
    uint64_t size;               /* plain bytes */
    unsigned char sha256[32];    /* of all plain bytes */
    uint64_t stored_size;        /* bytes of the member */
    struct bundle_chunk *chunks; /* tile [0, size) and [0, stored_size) in order */
    size_t nchunks;
    /* The optional block index (blockindex.h), a member after the payloads: NULL name =
     * none, and the payload installs only as a whole stream. */
    char *index_name;
    uint64_t index_size;
    unsigned char index_sha256[32];
    uint32_t block_size; /* bytes per indexed block */
    uint32_t frame_size; /* plain bytes per frame */
    int index_version;   /* 2 with "frames" (block_index_size()), else 1 */
    int flush_frames;    /* 1: "frames": "flush", a gzip member per chunk flushed at every
                          * frame; 0: "members", each frame its own gzip member or zstd frame */
};

struct bundle_manifest {
    char *product;
    char *version;
    char **hardware; /* hardware revisions the release fits (at least one) */
    size_t nhardware;
    struct bundle_payload *payloads;
    size_t npayloads;
};

/* Parses (already verified) manifest JSON; UG_ERR_USAGE naming the field that is wrong. */
ug_err bundle_manifest_parse(const char *json, size_t len, struct bundle_manifest *out,
                             char *err) UG_MUST_CHECK;
/* Frees what the manifest holds and zeroes it. */
void bundle_manifest_free(struct bundle_manifest *m);
/* 1 if the release fits hardware revision hw. */
int bundle_manifest_fits(const struct bundle_manifest *m, const char *hw);

/* Where verified content goes (the slot writer). Only write is required. Plain bytes reach
 * write() before their chunk's digest is checked; nothing may be trusted before
 * payload_end() is called, and a failure after write() means the bytes are to be discarded. */
struct bundle_sink {
    /* The verified manifest, before any payload byte: refuse product/hardware/downgrade here. */
    ug_err (*check)(void *ctx, const struct bundle_manifest *m, char *err);
    /* A payload starts; data_offset is where its stored bytes begin in the bundle stream
     * (BUNDLE_OFFSET_UNKNOWN if not plain ustar), so a resume can ask for a byte range. */
    ug_err (*payload_begin)(void *ctx, const struct bundle_payload *p, uint64_t data_offset,
                            char *err);
    /* Plain bytes of payload p at offset, in order, without gaps. */
    ug_err (*write)(void *ctx, const struct bundle_payload *p, uint64_t offset, const void *data,
                    size_t len, char *err);
    /* Chunk `chunk` of p is complete and matches its signed digests (progress for resume). */
    ug_err (*chunk_verified)(void *ctx, const struct bundle_payload *p, size_t chunk, char *err);
    /* Every byte of p is written and matches the signed size and digests. */
    ug_err (*payload_end)(void *ctx, const struct bundle_payload *p, char *err);
};

#endif
