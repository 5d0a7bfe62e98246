/* SPDX-License-Identifier: MIT */
/* Unit tests of the read-back check (slots/readback.c): an image read back whole passes, a
 * byte the medium did not keep fails naming its chunk, a slot shorter than the image fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "upgrade/slots/readback.h"

#define CHUNK 4096

static uint8_t image[3 * CHUNK];
static struct bundle_chunk chunks[3];

static void write_slot(const char *path, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(image, 1, len, f), len);
    fclose(f);
}

static void test_readback(void **unused)
{
    (void)unused;
    char path[] = "/tmp/test_readback.XXXXXX", err[UG_ERRBUF];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    for (size_t i = 0; i < sizeof image; i++)
        image[i] = (uint8_t)(i * 7 + 3);
    for (int c = 0; c < 3; c++) {
        chunks[c].offset = (uint64_t)c * CHUNK;
        chunks[c].size = CHUNK;
        EVP_Digest(image + c * CHUNK, CHUNK, chunks[c].sha256, NULL, EVP_sha256(), NULL);
    }
    struct bundle_payload p = {.size = sizeof image, .chunks = chunks, .nchunks = 3};
    write_slot(path, sizeof image);
    assert_int_equal(slot_readback(&slot_file_backend, path, &p, err), UG_OK);
    image[CHUNK + 17] ^= 1; /* what the medium kept differs in chunk 1 */
    write_slot(path, sizeof image);
    assert_int_equal(slot_readback(&slot_file_backend, path, &p, err), UG_ERR_VERIFY);
    assert_non_null(strstr(err, "chunk 1 (bytes 4096-8191)"));
    image[CHUNK + 17] ^= 1;
    write_slot(path, 2 * CHUNK);
    assert_int_equal(slot_readback(&slot_file_backend, path, &p, err), UG_ERR_OTHER);
    assert_non_null(strstr(err, "ends before the image does"));
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_readback)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
