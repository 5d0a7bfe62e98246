/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the block index parser (blockindex.c): the input is an index member,
 * raw or gzip-compressed, checked against a payload whose shape its own header suggests (so
 * well-formed inputs reach the frame checks); anything malformed must be refused, never read
 * past its end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/blockindex.h"

#define MAX_IMAGE (64u << 20)

static uint64_t get(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Frame f's stored size as the input's table says (1 past its end). */
static uint64_t frame_of(const uint8_t *d, size_t n, int version, uint64_t nframes, uint64_t f)
{
    const uint8_t *t = d + BLOCK_INDEX_HEADER;
    if (version != 2)
        return BLOCK_INDEX_HEADER + 4 * (f + 1) <= n ? get(t + 4 * f, 4) : 1;
    if (BLOCK_INDEX_HEADER + 4 * nframes > n)
        return 1;
    return t[f] | (uint64_t)t[nframes + f] << 8 | (uint64_t)t[2 * nframes + f] << 16 |
           (uint64_t)t[3 * nframes + f] << 24;
}

/* A payload of the header's sizes, chunks of four frames, whose stored sizes are the sums of
 * the input's frame table where it has one. */
static int shape(const uint8_t *d, size_t n, struct bundle_payload *p)
{
    memset(p, 0, sizeof *p);
    if (n < BLOCK_INDEX_HEADER)
        return -1;
    p->block_size = (uint32_t)get(d + 8, 4);
    p->frame_size = (uint32_t)get(d + 12, 4);
    p->size = get(d + 16, 8);
    p->index_version = memcmp(d, BLOCK_INDEX_MAGIC2, 8) == 0 ? 2 : 1;
    /* The manifest's bounds: frames of at least 512 bytes (so at most 32768 chunks here). */
    if (!p->block_size || p->frame_size < 512 || !p->size || p->size > MAX_IMAGE ||
        p->frame_size > (1u << 20))
        return -1;
    uint64_t chunk = 4ull * p->frame_size, nframes = (p->size + p->frame_size - 1) / p->frame_size;
    p->nchunks = (size_t)((p->size + chunk - 1) / chunk);
    if (!(p->chunks = calloc(p->nchunks, sizeof *p->chunks)))
        return -1;
    uint64_t stored = 0;
    for (size_t k = 0; k < p->nchunks; k++) {
        struct bundle_chunk *c = &p->chunks[k];
        c->offset = k * chunk;
        c->size = p->size - c->offset < chunk ? p->size - c->offset : chunk;
        c->stored_offset = stored;
        for (uint64_t f = c->offset / p->frame_size;
             f < nframes && f < (c->offset + c->size + p->frame_size - 1) / p->frame_size; f++)
            c->stored_size += frame_of(d, n, p->index_version, nframes, f);
        stored += c->stored_size;
    }
    p->stored_size = stored;
    return 0;
}

static void parse(const uint8_t *d, size_t n)
{
    struct bundle_payload p;
    struct block_index x;
    char err[UG_ERRBUF];
    if (shape(d, n, &p) != 0) {
        free(p.chunks);
        return;
    }
    if (block_index_parse(d, n, &p, &x, err) == UG_OK) {
        uint64_t sum = 0;
        for (uint64_t f = 0; f < x.nframes; f++)
            sum += block_index_frame(&x, f);
        for (uint64_t b = 0; b < x.nblocks; b++)
            sum ^= block_index_key(&x, b);
        if (sum == 42)
            abort(); /* keeps the reads from being optimised away; never true in practice */
    }
    free(p.chunks);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parse(data, size);
    /* As a device gets it: gzip, inflated to the size the (here: its own) header implies. */
    struct bundle_payload p;
    uint8_t *raw;
    size_t raw_len;
    char err[UG_ERRBUF];
    if (size > 18 && data[0] == 0x1f && data[1] == 0x8b) {
        memset(&p, 0, sizeof p);
        p.size = 1u << 20;
        p.block_size = 4096;
        p.frame_size = 16384;
        p.index_version = 1;
        if (block_index_inflate(data, size, &p, &raw, &raw_len, err) == UG_OK) {
            parse(raw, raw_len);
            free(raw);
        }
    }
    return 0;
}
