/* SPDX-License-Identifier: MIT */
/* Unit tests of the payload decoder (payload.c) on payloads built here chunk by chunk: each
 * codec and backend decodes to the image with the sink called in order at the right
 * offsets, whatever the size of the pieces fed; a resumed decode starts at its chunk; a
 * corrupted chunk, a wrong digest or size, truncation, extra bytes and a failing sink are
 * each caught and named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "bundle/decompress.h"
#include "bundle/payload.h"
#include "common/buf.h"

/* Chunks that are not a multiple of the decoder's 32 KiB ring slots, and a short last one. */
#define CHUNK   50000
#define NCHUNKS 6
#define SIZE    ((NCHUNKS - 1) * CHUNK + 777)
#define NAME    "http://fw.test/ug-phone-2.0.0.bundle"

static uint8_t image[SIZE];

/* A payload as a signed manifest describes it, and its stored bytes. */
struct built {
    struct bundle_payload p;
    struct bundle_chunk chunks[NCHUNKS];
    struct buf stored;
};

static void sha256(const void *data, size_t len, unsigned char out[32])
{
    unsigned int n = 0;
    assert_int_equal(EVP_Digest(data, len, out, &n, EVP_sha256(), NULL), 1);
}

static int setup(void **state)
{
    (void)state;
    /* Runs of text and of noise: the codecs have work, and chunks differ. */
    uint32_t seed = 12345;
    for (size_t i = 0; i < SIZE; i++) {
        seed = seed * 1103515245u + 12345u;
        image[i] = (i / 3000) % 2 ? (uint8_t)(seed >> 16) : (uint8_t) "payload decoder "[i % 16];
    }
    return 0;
}

static void build(enum codec codec, struct built *b)
{
    char err[UG_ERRBUF];
    memset(b, 0, sizeof *b);
    b->p.name = "rootfs.img";
    b->p.slot = "rootfs";
    b->p.compression = codec;
    b->p.size = SIZE;
    b->p.chunks = b->chunks;
    b->p.nchunks = NCHUNKS;
    sha256(image, SIZE, b->p.sha256);
    size_t cap = compress_bound(codec, CHUNK);
    uint8_t *out = malloc(cap);
    assert_non_null(out);
    for (size_t k = 0; k < NCHUNKS; k++) {
        struct bundle_chunk *c = &b->chunks[k];
        c->offset = k * CHUNK;
        c->size = k + 1 < NCHUNKS ? CHUNK : SIZE - c->offset;
        size_t n = 0;
        assert_int_equal(compress_buffer(codec, 0, image + c->offset, c->size, out, cap, &n, err),
                         UG_OK);
        c->stored_offset = b->stored.len;
        c->stored_size = n;
        sha256(image + c->offset, c->size, c->sha256);
        sha256(out, n, c->stored_sha256);
        assert_int_equal(buf_append(&b->stored, out, n), 0);
    }
    b->p.stored_size = b->stored.len;
    free(out);
}

/* What the sink saw. It runs on the decoder's writer thread, so it records rather than
 * asserts; the test looks once the decoder is closed. */
struct seen {
    struct buf data; /* the plain bytes, from `base` on */
    uint64_t base;   /* image offset of data[0] (a resumed decode starts later) */
    size_t verified[NCHUNKS + 1];
    size_t nverified;
    size_t ends;
    char disorder[200];     /* the first call out of order, "" when none */
    uint64_t fail_write_at; /* write() fails from this image offset on (0: never) */
};

static void disorder(struct seen *s, const char *what)
{
    if (!s->disorder[0])
        snprintf(s->disorder, sizeof s->disorder, "%s", what);
}

static ug_err s_write(void *ctx, const struct bundle_payload *p, uint64_t offset, const void *data,
                      size_t len, char *err)
{
    struct seen *s = ctx;
    if (offset != s->base + s->data.len)
        disorder(s, "a write that does not continue the last one");
    /* Chunk k's bytes come after chunk k-1 was verified, and before k is. */
    size_t chunk = (size_t)(offset / CHUNK);
    size_t last = (size_t)((offset + len - 1) / CHUNK);
    if (chunk != last)
        disorder(s, "a write across a chunk end");
    if (chunk != (s->nverified ? s->verified[s->nverified - 1] + 1 : s->base / CHUNK))
        disorder(s, "a write before the previous chunk was verified");
    if (s->fail_write_at && offset + len > s->fail_write_at)
        return ug_fail(err, UG_ERR_OTHER, "slot: write failed: No space left on device");
    (void)p;
    return buf_append(&s->data, data, len) == 0 ? UG_OK : ug_oom(err);
}

static ug_err s_chunk(void *ctx, const struct bundle_payload *p, size_t chunk, char *err)
{
    struct seen *s = ctx;
    (void)err;
    if (s->base + s->data.len != p->chunks[chunk].offset + p->chunks[chunk].size)
        disorder(s, "a chunk verified before all its bytes were written");
    if (s->nverified <= NCHUNKS)
        s->verified[s->nverified++] = chunk;
    return UG_OK;
}

static ug_err s_end(void *ctx, const struct bundle_payload *p, char *err)
{
    (void)p, (void)err;
    ((struct seen *)ctx)->ends++;
    return UG_OK;
}

static const struct bundle_sink sink = {NULL, NULL, s_write, s_chunk, s_end};

/* Feeds stored[from..to) in pieces cycling through `pieces` (0-terminated; NULL: whole),
 * then finishes; returns the first failure. */
static ug_err run(const struct built *b, const char *backend, size_t first_chunk, size_t from,
                  size_t to, const size_t *pieces, struct seen *s, char *err)
{
    struct payload_decoder *d = NULL;
    s->base = b->p.chunks[first_chunk < NCHUNKS ? first_chunk : 0].offset;
    ug_err rc = payload_decoder_open(&b->p, first_chunk, backend, &sink, s, NAME, &d, err);
    for (size_t at = from, i = 0; rc == UG_OK && at < to; i++) {
        size_t n = pieces ? pieces[i] : to - at;
        if (pieces && !n) {
            i = 0;
            n = pieces[0];
        }
        if (n > to - at)
            n = to - at;
        rc = payload_decoder_feed(d, b->stored.data + at, n, err);
        at += n;
    }
    if (rc == UG_OK)
        rc = payload_decoder_finish(d, err);
    payload_decoder_close(d);
    return rc;
}

/* The whole image, in order, every chunk verified once, the end once. */
static void assert_complete(const struct seen *s, const char *what)
{
    if (s->disorder[0])
        fail_msg("%s: %s", what, s->disorder);
    if (s->data.len != SIZE || memcmp(s->data.data, image, SIZE) != 0)
        fail_msg("%s: %zu bytes decoded, not the image", what, s->data.len);
    if (s->nverified != NCHUNKS || s->ends != 1)
        fail_msg("%s: %zu chunks verified, %zu ends", what, s->nverified, s->ends);
    for (size_t k = 0; k < NCHUNKS; k++)
        assert_int_equal(s->verified[k], k);
}

static const struct {
    enum codec codec;
    const char *backend;
} codecs[] = {
    {CODEC_GZIP, NULL},   {CODEC_GZIP, "zlib"},
#ifdef HAVE_ISAL
    {CODEC_GZIP, "isal"},
#endif
    {CODEC_ZSTD, NULL},   {CODEC_ZSTD, "zstd"}, {CODEC_NONE, NULL}, {CODEC_NONE, "copy"},
};
#define NCODECS (sizeof codecs / sizeof codecs[0])

static void test_each_codec(void **state)
{
    (void)state;
    for (size_t i = 0; i < NCODECS; i++) {
        struct built b;
        struct seen s = {0};
        char err[UG_ERRBUF] = "", what[64];
        build(codecs[i].codec, &b);
        snprintf(what, sizeof what, "%s/%s", codec_name(codecs[i].codec),
                 codecs[i].backend ? codecs[i].backend : "default");
        if (run(&b, codecs[i].backend, 0, 0, b.stored.len, NULL, &s, err) != UG_OK)
            fail_msg("%s: %s", what, err);
        assert_complete(&s, what);
        buf_free(&s.data);
        buf_free(&b.stored);
    }
}

/* The transport hands over whatever it has: one byte, a TFTP block, a bit more than a ring
 * slot. The result is the same. */
static void test_odd_pieces(void **state)
{
    (void)state;
    static const size_t cycles[][6] = {
        {1, 0},
        {511, 1468, 3, 0},
        {32769, 7, 65536, 0},
    };
    static const enum codec kinds[] = {CODEC_GZIP, CODEC_ZSTD, CODEC_NONE};
    for (size_t k = 0; k < 3; k++) {
        struct built b;
        build(kinds[k], &b);
        for (size_t c = 0; c < sizeof cycles / sizeof cycles[0]; c++) {
            /* Byte by byte is slow under ASan: that cycle takes the gzip payload only. */
            if (c == 0 && kinds[k] != CODEC_GZIP)
                continue;
            struct seen s = {0};
            char err[UG_ERRBUF] = "", what[64];
            snprintf(what, sizeof what, "%s in pieces of %zu, ...", codec_name(kinds[k]),
                     cycles[c][0]);
            if (run(&b, NULL, 0, 0, b.stored.len, cycles[c], &s, err) != UG_OK)
                fail_msg("%s: %s", what, err);
            assert_complete(&s, what);
            buf_free(&s.data);
        }
        buf_free(&b.stored);
    }
}

/* A resumed transfer: the stored bytes from chunk k on, the sink written from chunk k's
 * offset, chunks k.. verified. */
static void test_resume_at_chunk(void **state)
{
    (void)state;
    struct built b;
    build(CODEC_ZSTD, &b);
    for (size_t k = 1; k < NCHUNKS; k++) {
        struct seen s = {0};
        char err[UG_ERRBUF] = "";
        if (run(&b, NULL, k, b.chunks[k].stored_offset, b.stored.len, NULL, &s, err) != UG_OK)
            fail_msg("from chunk %zu: %s", k, err);
        if (s.disorder[0])
            fail_msg("from chunk %zu: %s", k, s.disorder);
        assert_int_equal(s.data.len, SIZE - b.chunks[k].offset);
        assert_memory_equal(s.data.data, image + b.chunks[k].offset, s.data.len);
        assert_int_equal(s.nverified, NCHUNKS - k);
        assert_int_equal(s.verified[0], k);
        assert_int_equal(s.ends, 1);
        buf_free(&s.data);
    }
    /* Every chunk done already: nothing to feed, the payload ends. */
    struct seen s = {0};
    char err[UG_ERRBUF] = "";
    assert_int_equal(run(&b, NULL, NCHUNKS, 0, 0, NULL, &s, err), UG_OK);
    assert_int_equal(s.ends, 1);
    /* A chunk the payload does not have is refused at once. */
    struct payload_decoder *d = NULL;
    assert_int_equal(payload_decoder_open(&b.p, NCHUNKS + 1, NULL, &sink, &s, NAME, &d, err),
                     UG_ERR_USAGE);
    assert_null(d);
    assert_non_null(strstr(err, "no chunk 7"));
    buf_free(&b.stored);
}

enum damage {
    FLIP_STORED,     /* a stored byte of chunk 2 changed in transit */
    WRONG_PLAIN_SHA, /* the manifest's plain digest of chunk 1 is not the bytes' */
    PLAIN_TOO_LONG,  /* chunk 3 decodes to more than the manifest says */
    PLAIN_TOO_SHORT, /* chunk 3 decodes to less */
    UNDECODABLE,     /* chunk 0's stored bytes match their digest but are no stream */
};

/* Each damage is caught at its chunk, named with the file, payload and chunk; the chunks
 * before it were verified, the payload never ends. */
static void test_damage(void **state)
{
    (void)state;
    static const struct {
        enum damage how;
        enum codec codec;
        size_t chunk;
        ug_err rc;
        const char *says;
    } cases[] = {
        {FLIP_STORED, CODEC_GZIP, 2, UG_ERR_VERIFY, "does not match its signed digest"},
        {FLIP_STORED, CODEC_ZSTD, 2, UG_ERR_VERIFY, "does not match its signed digest"},
        {FLIP_STORED, CODEC_NONE, 2, UG_ERR_VERIFY, "does not match its signed digest"},
        {WRONG_PLAIN_SHA, CODEC_GZIP, 1, UG_ERR_VERIFY, "SHA-256 of the decoded bytes"},
        {WRONG_PLAIN_SHA, CODEC_NONE, 1, UG_ERR_VERIFY, "SHA-256 of the decoded bytes"},
        {PLAIN_TOO_LONG, CODEC_ZSTD, 3, UG_ERR_UNUSABLE, "decodes to more than"},
        {PLAIN_TOO_SHORT, CODEC_GZIP, 3, UG_ERR_VERIFY, "the manifest says"},
        {UNDECODABLE, CODEC_GZIP, 0, UG_ERR_UNUSABLE, "chunk 0"},
        {UNDECODABLE, CODEC_ZSTD, 0, UG_ERR_UNUSABLE, "chunk 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct built b;
        build(cases[i].codec, &b);
        struct bundle_chunk *c = &b.chunks[cases[i].chunk];
        switch (cases[i].how) {
        case FLIP_STORED:
            b.stored.data[c->stored_offset + c->stored_size / 2] ^= 0x10;
            break;
        case WRONG_PLAIN_SHA:
            c->sha256[31] ^= 0x01;
            break;
        case PLAIN_TOO_LONG:
            c->size -= 1;
            break;
        case PLAIN_TOO_SHORT:
            c->size += 1;
            break;
        case UNDECODABLE:
            memset(b.stored.data + c->stored_offset, 'x', c->stored_size);
            sha256(b.stored.data + c->stored_offset, c->stored_size, c->stored_sha256);
            break;
        }
        struct seen s = {0};
        char err[UG_ERRBUF] = "", chunk[32];
        snprintf(chunk, sizeof chunk, "chunk %zu", cases[i].chunk);
        ug_err rc = run(&b, NULL, 0, 0, b.stored.len, NULL, &s, err);
        if (rc != cases[i].rc || !strstr(err, cases[i].says) || !strstr(err, chunk) ||
            !strstr(err, NAME) || !strstr(err, "rootfs.img"))
            fail_msg("case %zu (%s): rc %d '%s', expected %d with '%s' and '%s'", i,
                     codec_name(cases[i].codec), rc, err, cases[i].rc, cases[i].says, chunk);
        if (s.nverified != cases[i].chunk || s.ends != 0)
            fail_msg("case %zu: %zu chunks verified, %zu ends", i, s.nverified, s.ends);
        buf_free(&s.data);
        buf_free(&b.stored);
    }
}

/* The stored bytes end early: at a chunk end or inside one, the payload is truncated. */
static void test_truncated(void **state)
{
    (void)state;
    struct built b;
    build(CODEC_GZIP, &b);
    const size_t ends[] = {0, b.chunks[3].stored_offset, b.chunks[3].stored_offset + 100,
                           b.stored.len - 1};
    const size_t in_chunk[] = {0, 3, 3, NCHUNKS - 1};
    for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++) {
        struct seen s = {0};
        char err[UG_ERRBUF] = "", want[64];
        snprintf(want, sizeof want, "truncated (ends in chunk %zu of %d)", in_chunk[i], NCHUNKS);
        ug_err rc = run(&b, NULL, 0, 0, ends[i], NULL, &s, err);
        if (rc != UG_ERR_UNUSABLE || !strstr(err, want) || !strstr(err, NAME))
            fail_msg("cut at %zu: rc %d '%s', expected '%s'", ends[i], rc, err, want);
        assert_int_equal(s.nverified, in_chunk[i]);
        assert_int_equal(s.ends, 0);
        buf_free(&s.data);
    }
    buf_free(&b.stored);
}

/* Bytes beyond the signed size are refused, not decoded. */
static void test_longer_than_signed(void **state)
{
    (void)state;
    struct built b;
    build(CODEC_ZSTD, &b);
    assert_int_equal(buf_append(&b.stored, "extra", 5), 0);
    struct seen s = {0};
    char err[UG_ERRBUF] = "";
    assert_int_equal(run(&b, NULL, 0, 0, b.stored.len, NULL, &s, err), UG_ERR_VERIFY);
    assert_non_null(strstr(err, "longer than its signed"));
    assert_int_equal(s.ends, 0);
    buf_free(&s.data);
    buf_free(&b.stored);
}

/* The sink's failure (a full disk) ends the decode with its own code and message. */
static void test_sink_failure(void **state)
{
    (void)state;
    struct built b;
    build(CODEC_GZIP, &b);
    struct seen s = {.fail_write_at = 2 * CHUNK + 1};
    char err[UG_ERRBUF] = "";
    assert_int_equal(run(&b, NULL, 0, 0, b.stored.len, NULL, &s, err), UG_ERR_OTHER);
    assert_non_null(strstr(err, "No space left on device"));
    assert_true(s.nverified <= 2);
    assert_int_equal(s.ends, 0);
    buf_free(&s.data);
    buf_free(&b.stored);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_codec),      cmocka_unit_test(test_odd_pieces),
        cmocka_unit_test(test_resume_at_chunk), cmocka_unit_test(test_damage),
        cmocka_unit_test(test_truncated),       cmocka_unit_test(test_longer_than_signed),
        cmocka_unit_test(test_sink_failure),
    };
    return cmocka_run_group_tests_name("payload", tests, setup, NULL);
}
