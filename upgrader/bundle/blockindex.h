/* SPDX-License-Identifier: MIT */
/* A payload's block index (docs/bundle.md): the stored size of every compressed frame and a
 * 64-bit SHA-256 prefix of every file-system block, so a device can tell which blocks it
 * already holds and which frames to fetch by HTTP range. */
#ifndef UPGRADER_BUNDLE_BLOCKINDEX_H
#define UPGRADER_BUNDLE_BLOCKINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "bundle/manifest.h"
#include "common/error.h"

#define BLOCK_INDEX_MAGIC  "UGBIDX1\n"
#define BLOCK_INDEX_HEADER 40 /* magic, block and frame size, image size, frame and block count */
#define BLOCK_KEY_BYTES    8  /* of each block's SHA-256 kept in the index */

/* A parsed index: views into the caller's bytes, which must outlive it. */
struct block_index {
    uint32_t block_size, frame_size;
    uint64_t image_size;
    uint64_t nframes, nblocks;
    const uint8_t *frame_sizes; /* nframes little-endian u32: stored bytes of each frame */
    const uint8_t *keys;        /* nblocks * BLOCK_KEY_BYTES */
};

/* The index member's exact size for an image of this shape. */
uint64_t block_index_size(uint64_t image_size, uint32_t block_size, uint32_t frame_size);
/* Writes the header of such an index into out[BLOCK_INDEX_HEADER]. */
void block_index_header(uint8_t *out, uint64_t image_size, uint32_t block_size,
                        uint32_t frame_size);
/* Parses index bytes (already checked against the signed digest) for payload p, whose
 * manifest entry names the block and frame size: UG_ERR_VERIFY when they disagree with it
 * (sizes, counts, frames that do not tile every chunk's stored bytes). */
ug_err block_index_parse(const void *data, size_t len, const struct bundle_payload *p,
                         struct block_index *out, char *err) UG_MUST_CHECK;
/* Checks an index's header (len: the whole index's bytes) against payload p, filling the
 * counts of out (not its pointers): UG_ERR_VERIFY when they disagree. */
ug_err block_index_check_header(const uint8_t *head, uint64_t len, const struct bundle_payload *p,
                                struct block_index *out, char *err) UG_MUST_CHECK;
/* Checks that the stored sizes of chunk k's frames (little-endian u32, from its first
 * frame on) are not empty and add up to its stored size: UG_ERR_VERIFY if not. */
ug_err block_index_check_chunk(const uint8_t *frames, const struct bundle_chunk *c, size_t k,
                               uint32_t frame_size, char *err) UG_MUST_CHECK;
/* Inflates the index member (one gzip stream, its digest already checked) into *raw
 * (malloc'd, *raw_len bytes: exactly block_index_size() for p, else UG_ERR_UNUSABLE). */
ug_err block_index_inflate(const void *stored, size_t len, const struct bundle_payload *p,
                           uint8_t **raw, size_t *raw_len, char *err) UG_MUST_CHECK;
/* The stored size of frame f. */
uint32_t block_index_frame(const struct block_index *x, uint64_t f);
/* The key of block b (the first BLOCK_KEY_BYTES of its SHA-256, big-endian). */
uint64_t block_index_key(const struct block_index *x, uint64_t b);
/* The key of len bytes (a block; the image's last block may be shorter). */
uint64_t block_key(const void *data, size_t len);
/* The key of a SHA-256 digest. */
uint64_t block_key_of_digest(const unsigned char digest[32]);
/* The block size an image declares (ext2/3/4 superblock), or 0 when it cannot tell. */
uint32_t block_size_of_image(const uint8_t *head, size_t len);
/* The bytes of the file system an image holds (ext2/3/4: blocks x block size), or 0. */
uint64_t fs_size_of_image(const uint8_t *head, size_t len);

#endif
