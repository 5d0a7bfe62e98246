/* SPDX-License-Identifier: MIT */
/* Streaming codecs for bundle payloads: gzip (ISA-L igzip where built with HAVE_ISAL,
 * zlib otherwise), zstd (libzstd) and stored bytes, behind one small ops table. */
#ifndef UPGRADER_DECOMPRESS_H
#define UPGRADER_DECOMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

enum codec {
    CODEC_NONE, /* stored as is */
    CODEC_GZIP, /* RFC 1952 member(s) */
    CODEC_ZSTD, /* zstd frame(s) */
};

/* One streaming decoder; which backend it runs is fixed when it is opened. */
struct decompressor;

/* The manifest name of a codec: "none", "gzip", "zstd". */
const char *codec_name(enum codec codec);
/* Parses a manifest name; 0, or -1 for an unknown codec. */
int codec_parse(const char *name, enum codec *out);

/* Opens a decoder for codec. backend NULL picks the fastest one built in; otherwise one
 * of "isal", "zlib" (gzip), "zstd", "copy" (none); UG_ERR_USAGE if not available. */
ug_err decompress_open(enum codec codec, const char *backend, struct decompressor **out,
                       char *err) UG_MUST_CHECK;
/* The backend a decoder runs ("isal", "zlib", "zstd", "copy"). */
const char *decompress_backend(const struct decompressor *d);
/* Decodes from in[0..in_len) into out[0..out_cap): *in_used and *out_made say how much was
 * taken and made; *ended becomes 1 when the current stream (gzip member, zstd frame) is
 * complete, after which input is no longer consumed until decompress_reset() ("copy" has
 * no end marker: its stream ends where the caller's input does).
 * UG_ERR_UNUSABLE (message without a file name) when the data is not valid. */
ug_err decompress_step(struct decompressor *d, const uint8_t *in, size_t in_len, size_t *in_used,
                       uint8_t *out, size_t out_cap, size_t *out_made, int *ended,
                       char *err) UG_MUST_CHECK;
/* Readies the decoder for the next independent stream (the next chunk). */
ug_err decompress_reset(struct decompressor *d, char *err) UG_MUST_CHECK;
/* Frees the decoder (NULL is fine). */
void decompress_close(struct decompressor *d);

/* The most bytes compress_buffer() can make from len bytes. */
size_t compress_bound(enum codec codec, size_t len);
/* Compresses in[0..len) as one independent stream into out (cap bytes, at least
 * compress_bound()); level 0 = the codec's default. Used by pack, a chunk at a time. */
ug_err compress_buffer(enum codec codec, int level, const void *in, size_t len, uint8_t *out,
                       size_t cap, size_t *out_len, char *err) UG_MUST_CHECK;
/* A compressor kept for many streams (pack's frames): its state is set up once, not per
 * frame (a deflate state is ~270 KiB, fresh pages each time). */
struct compressor;
/* Opens one for codec at level (0 = default). */
ug_err compressor_open(enum codec codec, int level, struct compressor **out,
                       char *err) UG_MUST_CHECK;
/* As compress_buffer, with the kept state. */
ug_err compressor_run(struct compressor *c, const void *in, size_t len, uint8_t *out, size_t cap,
                      size_t *out_len, char *err) UG_MUST_CHECK;
/* Frees it (NULL is fine). */
void compressor_close(struct compressor *c);

/* Flush frames (docs/bundle.md), gzip only: a chunk is one gzip member whose deflate stream
 * is flushed to a byte boundary (Z_SYNC_FLUSH) after every frame, so a frame's bytes decode
 * alone given the plain bytes before it in the chunk. Compresses the next frame of the
 * chunk (first: a new member starts; last: it ends) into out (cap >= compress_bound()). */
ug_err compressor_frame(struct compressor *c, const void *in, size_t len, int first, int last,
                        uint8_t *out, size_t cap, size_t *out_len, char *err) UG_MUST_CHECK;

/* Decodes single flush frames. */
struct frame_inflater;
/* Opens one. */
ug_err frame_inflater_open(struct frame_inflater **out, char *err) UG_MUST_CHECK;
/* Decodes the flush frame in[0..len) into exactly out_len bytes at out, given hist_len
 * plain bytes of the chunk before it (its last 32 KiB are used); first/last: the frame
 * opens/closes its chunk's gzip member. UG_ERR_UNUSABLE when it is not exactly that. */
ug_err frame_inflate(struct frame_inflater *f, const uint8_t *in, size_t len, int first, int last,
                     const uint8_t *hist, size_t hist_len, uint8_t *out, size_t out_len,
                     char *err) UG_MUST_CHECK;
/* Decodes the frame that follows the one frame_inflate() or this just decoded without error
 * (its history is the inflater's own: nothing copied in). */
ug_err frame_inflate_next(struct frame_inflater *f, const uint8_t *in, size_t len, int last,
                          uint8_t *out, size_t out_len, char *err) UG_MUST_CHECK;
/* Frees it (NULL is fine). */
void frame_inflater_close(struct frame_inflater *f);

#endif
