/* SPDX-License-Identifier: MIT */
/* Unit tests of the codecs (decompress.c): every backend round-trips chunked data fed in odd
 * pieces through small output buffers, resets between streams, and refuses corrupt data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bundle/decompress.h"

static const struct {
    enum codec codec;
    const char *backend;
} backends[] = {
    {CODEC_GZIP, "zlib"},
#ifdef HAVE_ISAL
    {CODEC_GZIP, "isal"},
#endif
    {CODEC_ZSTD, "zstd"},
    {CODEC_NONE, "copy"},
};

static uint8_t *sample(size_t n, unsigned seed)
{
    uint8_t *p = malloc(n);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (i / 512) % 3 ? (uint8_t)("firmware "[i % 9]) : (uint8_t)(seed >> 16);
    }
    return p;
}

/* Decodes one stream of `len` bytes in pieces of `piece`; returns the bytes made. */
static size_t decode(struct decompressor *d, const uint8_t *in, size_t len, size_t piece,
                     uint8_t *out, size_t cap, int *ended)
{
    size_t made_total = 0, at = 0;
    uint8_t small[777];
    *ended = 0;
    for (int idle = 0; idle < 3;) {
        size_t n = len - at < piece ? len - at : piece, used, made;
        char err[UG_ERRBUF];
        assert_int_equal(
            decompress_step(d, in + at, n, &used, small, sizeof small, &made, ended, err), UG_OK);
        assert_true(made_total + made <= cap);
        memcpy(out + made_total, small, made);
        made_total += made;
        at += used;
        idle = used == 0 && made == 0 ? idle + 1 : 0;
        if (*ended)
            break;
    }
    return made_total;
}

static void test_round_trip(void **state)
{
    (void)state;
    const size_t n = 300000;
    uint8_t *plain = sample(n, 7), *back = malloc(n);
    for (size_t b = 0; b < sizeof backends / sizeof backends[0]; b++) {
        char err[UG_ERRBUF];
        size_t cap = compress_bound(backends[b].codec, n), len;
        uint8_t *packed = malloc(cap);
        assert_int_equal(compress_buffer(backends[b].codec, 0, plain, n, packed, cap, &len, err),
                         UG_OK);
        if (backends[b].codec != CODEC_NONE)
            assert_true(len < n / 2);
        struct decompressor *d;
        assert_int_equal(decompress_open(backends[b].codec, backends[b].backend, &d, err), UG_OK);
        assert_string_equal(decompress_backend(d), backends[b].backend);
        for (int round = 0; round < 2; round++) { /* the second stream after a reset */
            int ended;
            memset(back, 0, n);
            size_t got = decode(d, packed, len, round ? 4096 : 13, back, n, &ended);
            assert_int_equal(got, n);
            assert_memory_equal(back, plain, n);
            if (backends[b].codec != CODEC_NONE)
                assert_true(ended);
            assert_int_equal(decompress_reset(d, err), UG_OK);
        }
        if (backends[b].codec != CODEC_NONE) {
            /* A stream cut short never ends; a corrupted one is refused or never ends. */
            int ended;
            decode(d, packed, len / 2, 1000, back, n, &ended);
            assert_false(ended);
            assert_int_equal(decompress_reset(d, err), UG_OK);
            memset(packed + len / 3, 0x55, 64);
            size_t used, made;
            ug_err rc = UG_OK;
            size_t at = 0;
            ended = 0;
            while (rc == UG_OK && at < len && !ended) {
                rc = decompress_step(d, packed + at, len - at, &used, back, n, &made, &ended, err);
                at += used;
                if (rc == UG_OK && used == 0 && made == 0)
                    break;
            }
            if (rc == UG_OK)
                fail_msg("%s accepted corrupt data", backends[b].backend);
            assert_int_equal(rc, UG_ERR_UNUSABLE);
        }
        decompress_close(d);
        free(packed);
    }
    free(plain);
    free(back);
}

/* Flush frames: a chunk compressed as one gzip member flushed every frame decodes whole
 * with every backend, and each frame alone given the chunk's bytes before it (or going on
 * from the frame before); a frame with a byte more, or less, or cut short is refused. */
static void test_flush_frames(void **state)
{
    (void)state;
    enum {
        FRAME = 4096,
        FRAMES = 9,
        CHUNK = FRAME * FRAMES - 100
    };
    uint8_t *plain = sample(CHUNK, 7), *packed = malloc(FRAMES * (FRAME + 256)), out[FRAME + 1];
    size_t at[FRAMES + 1] = {0}, n;
    char err[UG_ERRBUF];
    struct compressor *c;
    assert_int_equal(compressor_open(CODEC_GZIP, 6, &c, err), UG_OK);
    for (size_t f = 0; f < FRAMES; f++) {
        size_t len = f + 1 == FRAMES ? CHUNK - f * FRAME : FRAME;
        assert_int_equal(compressor_frame(c, plain + f * FRAME, len, f == 0, f + 1 == FRAMES,
                                          packed + at[f], FRAME + 256, &n, err),
                         UG_OK);
        at[f + 1] = at[f] + n;
    }
    compressor_close(c);
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
        struct decompressor *d;
        int ended;
        if (backends[i].codec != CODEC_GZIP)
            continue;
        uint8_t *whole = malloc(CHUNK);
        assert_int_equal(decompress_open(CODEC_GZIP, backends[i].backend, &d, err), UG_OK);
        assert_int_equal(decode(d, packed, at[FRAMES], 1000, whole, CHUNK, &ended), CHUNK);
        assert_true(ended);
        assert_memory_equal(whole, plain, CHUNK);
        decompress_close(d);
        free(whole);
    }
    struct frame_inflater *fi;
    assert_int_equal(frame_inflater_open(&fi, err), UG_OK);
    for (size_t f = 0; f < FRAMES; f++) {
        size_t len = f + 1 == FRAMES ? CHUNK - f * FRAME : FRAME;
        int first = f == 0, last = f + 1 == FRAMES;
        assert_int_equal(frame_inflate(fi, packed + at[f], at[f + 1] - at[f], first, last, plain,
                                       f * FRAME, out, len, err),
                         UG_OK);
        assert_memory_equal(out, plain + f * FRAME, len);
        if (!last) { /* and the next one, going on from this one */
            size_t next = f + 2 == FRAMES ? CHUNK - (f + 1) * FRAME : FRAME;
            assert_int_equal(frame_inflate_next(fi, packed + at[f + 1], at[f + 2] - at[f + 1],
                                                f + 2 == FRAMES, out, next, err),
                             UG_OK);
            assert_memory_equal(out, plain + (f + 1) * FRAME, next);
        }
        /* Wrong lengths, a cut frame, a missing history: refused, never a wrong byte. */
        assert_int_equal(frame_inflate(fi, packed + at[f], at[f + 1] - at[f], first, last, plain,
                                       f * FRAME, out, len - 1, err),
                         UG_ERR_UNUSABLE);
        assert_int_equal(frame_inflate(fi, packed + at[f], at[f + 1] - at[f] - 1, first, last,
                                       plain, f * FRAME, out, len, err),
                         UG_ERR_UNUSABLE);
        if (f > 0 && frame_inflate(fi, packed + at[f], at[f + 1] - at[f], 0, last, NULL, 0, out,
                                   len, err) == UG_OK)
            assert_memory_not_equal(out, plain + f * FRAME, len);
    }
    frame_inflater_close(fi);
    free(plain);
    free(packed);
}

static void test_names(void **state)
{
    (void)state;
    enum codec c;
    assert_int_equal(codec_parse("gzip", &c), 0);
    assert_int_equal(c, CODEC_GZIP);
    assert_int_equal(codec_parse("zstd", &c), 0);
    assert_int_equal(c, CODEC_ZSTD);
    assert_int_equal(codec_parse("xz", &c), -1);
    assert_string_equal(codec_name(CODEC_NONE), "none");
    struct decompressor *d;
    char err[UG_ERRBUF];
    assert_int_equal(decompress_open(CODEC_ZSTD, "zlib", &d, err), UG_ERR_USAGE);
    assert_int_equal(decompress_open(CODEC_GZIP, NULL, &d, err), UG_OK);
#ifdef HAVE_ISAL
    assert_string_equal(decompress_backend(d), "isal"); /* the fastest is the default */
#endif
    decompress_close(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_flush_frames),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
