/* SPDX-License-Identifier: MIT */
/* The payload decoder: stored bytes of one bundle payload pushed in, verified plain bytes out
 * to a bundle_sink, on a writer thread of its own (docs/install.md, the pipeline). */
#ifndef UPGRADER_PAYLOAD_H
#define UPGRADER_PAYLOAD_H

#include <stddef.h>

#include "bundle/manifest.h"
#include "common/error.h"

/* Decodes one payload's stored bytes pushed in order from chunk first_chunk on (a resumed
 * transfer starts at payload data_offset + chunks[first_chunk].stored_offset), checking
 * every chunk against its signed digests (which tile the payload, so no whole-payload digest
 * is computed again). backend NULL = the fastest codec there is (decompress.h). */
struct payload_decoder;
ug_err payload_decoder_open(const struct bundle_payload *p, size_t first_chunk, const char *backend,
                            const struct bundle_sink *sink, void *ctx, const char *name,
                            struct payload_decoder **out, char *err) UG_MUST_CHECK;
/* Feeds the next stored bytes. */
ug_err payload_decoder_feed(struct payload_decoder *d, const void *data, size_t len,
                            char *err) UG_MUST_CHECK;
/* The stored bytes have ended: UG_ERR_UNUSABLE if chunks are missing (truncated), else the
 * final digest check and payload_end(). */
ug_err payload_decoder_finish(struct payload_decoder *d, char *err) UG_MUST_CHECK;
/* Frees the decoder (NULL is fine). */
void payload_decoder_close(struct payload_decoder *d);

#endif
