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
#define BLOCK_INDEX_MAGIC2 "UGBIDX2\n"
#define BLOCK_INDEX_HEADER 40 /* magic, block and frame size, image size, frame and block count */
#define BLOCK_KEY_BYTES    8  /* of each block's SHA-256 kept in a version 1 index */
#define BLOCK_KEY_BYTES2   6  /* in a version 2 index */

/* A parsed index: views into the caller's bytes, which must outlive it. */
struct block_index {
    uint32_t block_size, frame_size;
    uint64_t image_size;
    uint64_t nframes, nblocks;
    int version;                /* 1: frame sizes as u32, 8-byte keys; 2: as 4 byte planes, 6 */
    unsigned key_bytes;         /* BLOCK_KEY_BYTES or BLOCK_KEY_BYTES2 */
    const uint8_t *frame_sizes; /* stored bytes of each frame (version 1: nframes little-endian
                                 * u32; 2: byte 0 of every frame's, then byte 1, 2, 3) */
    const uint8_t *keys;        /* nblocks * key_bytes */
};

/* The index member's exact size for an image of this shape, in this version (1 or 2). */
uint64_t block_index_size(uint64_t image_size, uint32_t block_size, uint32_t frame_size,
                          int version);
/* The key bytes a block has in this version. */
unsigned block_index_key_bytes(int version);
/* The bits of a key (block_key()) that a key of this version keeps. */
uint64_t block_index_key_mask(int version);
/* Writes the header of such an index into out[BLOCK_INDEX_HEADER]. */
void block_index_header(uint8_t *out, uint64_t image_size, uint32_t block_size, uint32_t frame_size,
                        int version);
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
/* The key of block b (the first key_bytes of its SHA-256, big-endian, from the top bits). */
uint64_t block_index_key(const struct block_index *x, uint64_t b);
/* The key of len bytes (a block; the image's last block may be shorter). */
uint64_t block_key(const void *data, size_t len);
/* The key of a SHA-256 digest (its first n bytes, from the top bits of the result). */
uint64_t block_key_of_digest(const unsigned char *digest, unsigned n);
/* The block size an image declares (ext2/3/4 superblock), or 0 when it cannot tell. */
uint32_t block_size_of_image(const uint8_t *head, size_t len);
/* The bytes of the file system an image holds (ext2/3/4: blocks x block size), or 0. */
uint64_t fs_size_of_image(const uint8_t *head, size_t len);

#endif
