/* SPDX-License-Identifier: MIT */
/* The block index member of a bundle: its layout, its parser (which trusts nothing but the
 * signed manifest's description of the payload) and the block keys both sides compute. */
#include "bundle/blockindex.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/decompress.h"

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t div_up(uint64_t a, uint64_t b)
{
    return a / b + (a % b != 0);
}

unsigned block_index_key_bytes(int version)
{
    return version == 2 ? BLOCK_KEY_BYTES2 : BLOCK_KEY_BYTES;
}

uint64_t block_index_key_mask(int version)
{
    return ~0ull << (64 - 8 * block_index_key_bytes(version));
}

uint64_t block_index_size(uint64_t image_size, uint32_t block_size, uint32_t frame_size,
                          int version)
{
    return BLOCK_INDEX_HEADER + 4 * div_up(image_size, frame_size) +
           block_index_key_bytes(version) * div_up(image_size, block_size);
}

void block_index_header(uint8_t *out, uint64_t image_size, uint32_t block_size, uint32_t frame_size,
                        int version)
{
    memcpy(out, version == 2 ? BLOCK_INDEX_MAGIC2 : BLOCK_INDEX_MAGIC, 8);
    put32(out + 8, block_size);
    put32(out + 12, frame_size);
    put64(out + 16, image_size);
    put64(out + 24, div_up(image_size, frame_size));
    put64(out + 32, div_up(image_size, block_size));
}

ug_err block_index_check_chunk(const uint8_t *frames, const struct bundle_chunk *c, size_t k,
                               uint32_t frame_size, char *err)
{
    uint64_t sum = 0, n = div_up(c->offset + c->size, frame_size) - c->offset / frame_size;
    for (uint64_t f = 0; f < n; f++) {
        uint32_t len = get32(frames + 4 * f);
        if (len == 0)
            return ug_fail(err, UG_ERR_VERIFY, "block index: frame %llu of chunk %zu is empty",
                           (unsigned long long)f, k);
        sum += len;
    }
    if (sum != c->stored_size)
        return ug_fail(err, UG_ERR_VERIFY,
                       "block index: the frames of chunk %zu hold %llu bytes, not %llu", k,
                       (unsigned long long)sum, (unsigned long long)c->stored_size);
    return UG_OK;
}

ug_err block_index_check_header(const uint8_t *head, uint64_t len, const struct bundle_payload *p,
                                struct block_index *out, char *err)
{
    memset(out, 0, sizeof *out);
    if (len < BLOCK_INDEX_HEADER ||
        memcmp(head, p->index_version == 2 ? BLOCK_INDEX_MAGIC2 : BLOCK_INDEX_MAGIC, 8) != 0)
        return ug_fail(err, UG_ERR_VERIFY, "block index: not a block index of version %d",
                       p->index_version == 2 ? 2 : 1);
    out->version = p->index_version == 2 ? 2 : 1;
    out->key_bytes = block_index_key_bytes(out->version);
    out->block_size = get32(head + 8);
    out->frame_size = get32(head + 12);
    out->image_size = get64(head + 16);
    out->nframes = get64(head + 24);
    out->nblocks = get64(head + 32);
    if (out->block_size != p->block_size || out->frame_size != p->frame_size ||
        out->image_size != p->size)
        return ug_fail(err, UG_ERR_VERIFY, "block index: sizes differ from the signed manifest");
    /* The manifest parser checked the sizes; the counts follow from them alone. */
    if (out->nframes != div_up(p->size, p->frame_size) ||
        out->nblocks != div_up(p->size, p->block_size) ||
        len != block_index_size(p->size, p->block_size, p->frame_size, out->version))
        return ug_fail(err, UG_ERR_VERIFY, "block index: counts or length do not fit the image");
    return UG_OK;
}

ug_err block_index_parse(const void *data, size_t len, const struct bundle_payload *p,
                         struct block_index *out, char *err)
{
    const uint8_t *b = data;
    ug_err rc = block_index_check_header(b, len, p, out, err);
    if (rc != UG_OK)
        return rc;
    out->frame_sizes = b + BLOCK_INDEX_HEADER;
    out->keys = out->frame_sizes + 4 * out->nframes;
    for (size_t k = 0; k < p->nchunks && rc == UG_OK; k++) {
        const struct bundle_chunk *c = &p->chunks[k];
        uint64_t sum = 0, f0 = c->offset / p->frame_size;
        for (uint64_t f = f0; f < div_up(c->offset + c->size, p->frame_size); f++) {
            uint32_t len = block_index_frame(out, f);
            if (len == 0)
                return ug_fail(err, UG_ERR_VERIFY, "block index: frame %llu of chunk %zu is empty",
                               (unsigned long long)(f - f0), k);
            sum += len;
        }
        if (sum != c->stored_size)
            rc = ug_fail(err, UG_ERR_VERIFY,
                         "block index: the frames of chunk %zu hold %llu bytes, not %llu", k,
                         (unsigned long long)sum, (unsigned long long)c->stored_size);
    }
    return rc;
}

ug_err block_index_inflate(const void *stored, size_t len, const struct bundle_payload *p,
                           uint8_t **raw, size_t *raw_len, char *err)
{
    uint64_t want = block_index_size(p->size, p->block_size, p->frame_size, p->index_version);
    struct decompressor *dec = NULL;
    size_t used = 0, made = 0;
    int ended = 0;
    *raw = NULL;
    *raw_len = 0;
    if (want > SIZE_MAX / 2 || !(*raw = malloc((size_t)want)))
        return ug_oom(err);
    ug_err rc = decompress_open(CODEC_GZIP, NULL, &dec, err);
    if (rc == UG_OK)
        rc = decompress_step(dec, stored, len, &used, *raw, (size_t)want, &made, &ended, err);
    decompress_close(dec);
    if (rc == UG_OK && (!ended || used != len || made != want))
        rc = ug_fail(err, UG_ERR_UNUSABLE, "block index: inflates to %zu bytes, not %llu", made,
                     (unsigned long long)want);
    if (rc != UG_OK) {
        free(*raw);
        *raw = NULL;
        return rc;
    }
    *raw_len = made;
    return UG_OK;
}

uint32_t block_index_frame(const struct block_index *x, uint64_t f)
{
    if (x->version != 2)
        return get32(x->frame_sizes + 4 * f);
    const uint8_t *p = x->frame_sizes + f;
    uint64_t n = x->nframes;
    return (uint32_t)p[0] | (uint32_t)p[n] << 8 | (uint32_t)p[2 * n] << 16 |
           (uint32_t)p[3 * n] << 24;
}

uint64_t block_index_key(const struct block_index *x, uint64_t b)
{
    return block_key_of_digest(x->keys + x->key_bytes * b, x->key_bytes);
}

uint64_t block_key_of_digest(const unsigned char *digest, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++)
        v = v << 8 | (i < n ? digest[i] : 0);
    return v;
}

uint64_t block_key(const void *data, size_t len)
{
    unsigned char d[32];
    if (EVP_Digest(data, len, d, NULL, EVP_sha256(), NULL) != 1)
        return 0; /* never matches a real key in practice; the chunk digest decides anyway */
    return block_key_of_digest(d, 8);
}

uint64_t fs_size_of_image(const uint8_t *head, size_t len)
{
    uint32_t bs = block_size_of_image(head, len);
    if (!bs || len < 1024 + 0x154)
        return 0;
    uint64_t blocks = get32(head + 1024 + 4);
    if (get32(head + 1024 + 0x60) & 0x80) /* INCOMPAT_64BIT: the high half counts too */
        blocks |= (uint64_t)get32(head + 1024 + 0x150) << 32;
    return blocks * bs;
}

uint32_t block_size_of_image(const uint8_t *head, size_t len)
{
    /* ext2/3/4: the superblock at 1024, magic 0xEF53 at +56, log2(block size) - 10 at +24. */
    if (len < 1024 + 60 || head[1024 + 56] != 0x53 || head[1024 + 57] != 0xEF)
        return 0;
    uint32_t log = get32(head + 1024 + 24);
    return log <= 6 ? 1024u << log : 0;
}
