/* SPDX-License-Identifier: MIT */
/* Unit tests of the block index (bundle/blockindex.c): a well-formed index parses and reads
 * back; every disagreement with the signed payload description is refused; the gzip member
 * inflates to exactly its size; keys are SHA-256 prefixes; ext4 superblocks are read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "bundle/blockindex.h"

#define IMAGE  (40000u) /* not a whole number of blocks or frames */
#define BLOCK  1024u
#define FRAME  8192u
#define CHUNK  16384u
#define FRAMES 5u  /* 40000 / 8192, rounded up */
#define BLOCKS 40u /* 40000 / 1024, rounded up */

static struct bundle_chunk chunks[3];
static struct bundle_payload payload;
static uint8_t raw[BLOCK_INDEX_HEADER + 4 * FRAMES + 8 * BLOCKS];

/* A payload of three chunks (16 KiB, 16 KiB, the rest), frames of 100 + f stored bytes, and
 * block b's key 0x0102030405060700 + b. */
static void setup_index(void)
{
    uint64_t stored = 0;
    memset(&payload, 0, sizeof payload);
    for (size_t k = 0; k < 3; k++) {
        chunks[k].offset = k * CHUNK;
        chunks[k].size = k < 2 ? CHUNK : IMAGE - 2 * CHUNK;
        chunks[k].stored_offset = stored;
        chunks[k].stored_size = 0;
        for (uint64_t f = chunks[k].offset / FRAME; f * FRAME < chunks[k].offset + chunks[k].size;
             f++)
            chunks[k].stored_size += 100 + f;
        stored += chunks[k].stored_size;
    }
    payload = (struct bundle_payload){.size = IMAGE,
                                      .stored_size = stored,
                                      .chunks = chunks,
                                      .nchunks = 3,
                                      .block_size = BLOCK,
                                      .frame_size = FRAME};
    block_index_header(raw, IMAGE, BLOCK, FRAME, 1);
    for (uint32_t f = 0; f < FRAMES; f++) {
        uint32_t n = 100 + f;
        memcpy(raw + BLOCK_INDEX_HEADER + 4 * f, (uint8_t[]){(uint8_t)n, (uint8_t)(n >> 8), 0, 0},
               4);
    }
    for (uint32_t b = 0; b < BLOCKS; b++) {
        uint8_t *k = raw + BLOCK_INDEX_HEADER + 4 * FRAMES + 8 * b;
        for (int i = 0; i < 7; i++)
            k[i] = (uint8_t)(i + 1);
        k[7] = (uint8_t)b;
    }
}

static void test_parses(void **state)
{
    (void)state;
    struct block_index x;
    char err[UG_ERRBUF];
    setup_index();
    assert_int_equal(block_index_size(IMAGE, BLOCK, FRAME, 1), sizeof raw);
    assert_int_equal(block_index_parse(raw, sizeof raw, &payload, &x, err), UG_OK);
    assert_int_equal(x.nframes, FRAMES);
    assert_int_equal(x.nblocks, BLOCKS);
    assert_int_equal(block_index_frame(&x, 3), 103);
    assert_true(block_index_key(&x, 39) == 0x0102030405060727ull);
}

/* Version 2 (a manifest with "frames"): frame sizes as byte planes, 6-byte keys. */
static void test_version_2(void **state)
{
    (void)state;
    uint8_t v2[BLOCK_INDEX_HEADER + 4 * FRAMES + BLOCK_KEY_BYTES2 * BLOCKS] = {0};
    struct block_index x;
    char err[UG_ERRBUF];
    setup_index();
    payload.index_version = 2;
    block_index_header(v2, IMAGE, BLOCK, FRAME, 2);
    assert_memory_equal(v2, "UGBIDX2\n", 8);
    for (uint32_t f = 0; f < FRAMES; f++) {
        v2[BLOCK_INDEX_HEADER + f] = (uint8_t)(100 + f); /* plane 0; planes 1-3 stay 0 */
        if (f == 4) {                                    /* 300 + 4: 256 in plane 1 */
            v2[BLOCK_INDEX_HEADER + f] = 48;
            v2[BLOCK_INDEX_HEADER + FRAMES + f] = 1;
        }
    }
    chunks[2].stored_size += 200; /* the last chunk's frame 4 holds 304 bytes */
    for (uint32_t b = 0; b < BLOCKS; b++)
        memcpy(v2 + BLOCK_INDEX_HEADER + 4 * FRAMES + BLOCK_KEY_BYTES2 * b,
               (uint8_t[]){1, 2, 3, 4, 5, (uint8_t)b}, 6);
    assert_int_equal(block_index_size(IMAGE, BLOCK, FRAME, 2), sizeof v2);
    assert_int_equal(block_index_parse(v2, sizeof v2, &payload, &x, err), UG_OK);
    assert_int_equal(block_index_frame(&x, 3), 103);
    assert_int_equal(block_index_frame(&x, 4), 304);
    assert_true(block_index_key(&x, 39) == 0x0102030405270000ull);
    v2[BLOCK_INDEX_HEADER + 2 * FRAMES + 1] = 1; /* frame 1 gains 65536 bytes in plane 2 */
    assert_int_equal(block_index_parse(v2, sizeof v2, &payload, &x, err), UG_ERR_VERIFY);
    assert_non_null(strstr(err, "frames of chunk 0"));
    payload.index_version = 1; /* a version 1 manifest does not take it */
    assert_int_equal(block_index_parse(v2, sizeof v2, &payload, &x, err), UG_ERR_VERIFY);
}

static void refused(const uint8_t *data, size_t len, const char *says)
{
    struct block_index x;
    char err[UG_ERRBUF] = "";
    if (block_index_parse(data, len, &payload, &x, err) != UG_ERR_VERIFY)
        fail_msg("accepted, expected a refusal saying %s", says);
    if (!strstr(err, says))
        fail_msg("'%s' does not say '%s'", err, says);
}

static void test_refusals(void **state)
{
    (void)state;
    uint8_t bad[sizeof raw];
    setup_index();
    refused(raw, 10, "not a block index");
    refused(raw, sizeof raw - 1, "counts or length");
    memcpy(bad, raw, sizeof raw);
    bad[0] = 'X';
    refused(bad, sizeof bad, "not a block index");
    memcpy(bad, raw, sizeof raw);
    bad[9] = 0x08; /* block size 2048 */
    refused(bad, sizeof bad, "differ from the signed manifest");
    memcpy(bad, raw, sizeof raw);
    bad[BLOCK_INDEX_HEADER + 4] += 1; /* frame 1 one byte longer: chunk 0 no longer adds up */
    refused(bad, sizeof bad, "frames of chunk 0");
    memcpy(bad, raw, sizeof raw);
    memset(bad + BLOCK_INDEX_HEADER + 8, 0, 4); /* frame 2 empty */
    refused(bad, sizeof bad, "empty");
    memcpy(bad, raw, sizeof raw);
    bad[24] = 9; /* nframes */
    refused(bad, sizeof bad, "counts");
}

static void test_inflate(void **state)
{
    (void)state;
    uint8_t gz[1024], *out = NULL;
    size_t out_len = 0;
    char err[UG_ERRBUF];
    setup_index();
    z_stream z = {0};
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = raw;
    z.avail_in = sizeof raw;
    z.next_out = gz;
    z.avail_out = sizeof gz;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t n = sizeof gz - z.avail_out;
    deflateEnd(&z);
    assert_int_equal(block_index_inflate(gz, n, &payload, &out, &out_len, err), UG_OK);
    assert_int_equal(out_len, sizeof raw);
    assert_memory_equal(out, raw, sizeof raw);
    free(out);
    /* Cut short, or for an image of another size: refused, nothing left allocated. */
    assert_int_equal(block_index_inflate(gz, n - 5, &payload, &out, &out_len, err),
                     UG_ERR_UNUSABLE);
    assert_null(out);
    payload.size = IMAGE - BLOCK;
    assert_int_equal(block_index_inflate(gz, n, &payload, &out, &out_len, err), UG_ERR_UNUSABLE);
    assert_null(out);
}

static void test_keys_and_superblocks(void **state)
{
    (void)state;
    uint8_t block[4096] = {0}, d[32];
    EVP_Digest(block, sizeof block, d, NULL, EVP_sha256(), NULL);
    uint64_t want = 0;
    for (int i = 0; i < 8; i++)
        want = want << 8 | d[i];
    assert_true(block_key(block, sizeof block) == want);
    assert_true(block_key_of_digest(d, 8) == want);
    assert_true(block_key_of_digest(d, 6) == (want & block_index_key_mask(2)));
    assert_true(block_index_key_mask(2) == 0xffffffffffff0000ull);

    static uint8_t head[2048];
    assert_int_equal(block_size_of_image(head, sizeof head), 0);
    assert_int_equal(fs_size_of_image(head, sizeof head), 0);
    head[1024 + 56] = 0x53;
    head[1024 + 57] = 0xEF;
    head[1024 + 24] = 2; /* 4 KiB blocks */
    head[1024 + 4] = 0x00;
    head[1024 + 5] = 0x01; /* 256 blocks */
    assert_int_equal(block_size_of_image(head, sizeof head), 4096);
    assert_int_equal(fs_size_of_image(head, sizeof head), 256 * 4096);
    assert_int_equal(block_size_of_image(head, 1000), 0); /* too short to hold it */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parses),
        cmocka_unit_test(test_version_2),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_inflate),
        cmocka_unit_test(test_keys_and_superblocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
