/* SPDX-License-Identifier: MIT */
/* Unit tests of the device's block tables (upgrade/localindex.c): every non-zero block found
 * by its key, zero blocks and unknown keys not; the cache used while the slot is unchanged,
 * rebuilt when it changed (size, time, version, block size) or is damaged; forget. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/blockindex.h"
#include "upgrade/localindex.h"

#define BS     512
#define BLOCKS 70000 /* more than two runs of the external sort, several keys a bucket */

static char dir[64], slot_path[128], cache[128];

/* Block b holds its number (so every block differs), but every seventh is zeros. */
static void fill(uint8_t *block, uint32_t b, uint32_t salt)
{
    memset(block, 0, BS);
    if (b % 7 != 3)
        snprintf((char *)block, BS, "block %u of release %u", b, salt);
}

static void write_slot(uint32_t salt)
{
    FILE *f = fopen(slot_path, "wb");
    uint8_t block[BS];
    assert_non_null(f);
    for (uint32_t b = 0; b < BLOCKS; b++) {
        fill(block, b, salt);
        assert_int_equal(fwrite(block, 1, BS, f), BS);
    }
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/test_localindex.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(slot_path, sizeof slot_path, "%s/slot-a.img", dir);
    snprintf(cache, sizeof cache, "%s/blocks-a.idx", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(slot_path);
    unlink(cache);
    rmdir(dir);
    return 0;
}

static struct local_index *open_index(const char *version, int want_built)
{
    struct local_slot s = {&slot_file_backend, slot_path, version, cache};
    struct local_index *x = NULL;
    int built = -1;
    char err[UG_ERRBUF];
    if (local_index_open(&s, BS, &x, &built, err) != UG_OK)
        fail_msg("local_index_open: %s", err);
    assert_int_equal(built, want_built);
    return x;
}

static void test_finds_every_block(void **state)
{
    (void)state;
    uint8_t block[BS];
    uint64_t at = 0;
    write_slot(1);
    struct local_index *x = open_index("1.0.0", 1);
    assert_int_equal(local_index_count(x), BLOCKS - (BLOCKS + 3) / 7);
    for (uint32_t b = 0; b < BLOCKS; b++) {
        fill(block, b, 1);
        int found = local_index_find(x, block_key(block, BS), ~0ull, &at);
        if (b % 7 == 3) {
            assert_false(found); /* zero blocks are made, never looked up */
        } else {
            assert_true(found);
            assert_int_equal(at, b);
            /* A version 2 index's key: the leading 48 bits find the same block. */
            uint64_t mask = block_index_key_mask(2);
            assert_true(local_index_find(x, block_key(block, BS) & mask, mask, &at));
            assert_int_equal(at, b);
        }
    }
    fill(block, 5, 2);
    assert_false(local_index_find(x, block_key(block, BS), ~0ull, &at));
    local_index_close(x);
}

static void test_cache_and_staleness(void **state)
{
    (void)state;
    uint8_t block[BS];
    uint64_t at;
    write_slot(1);
    local_index_close(open_index("1.0.0", 1));
    local_index_close(open_index("1.0.0", 0)); /* unchanged: the cache */
    local_index_close(open_index("1.1.0", 1)); /* another release named: rebuilt */
    /* New content, its time set back to the cached one: the table is trusted, and finds the
     * old keys only (the install re-hashes every block it copies, which catches this). */
    struct stat st;
    assert_int_equal(stat(slot_path, &st), 0);
    write_slot(2);
    struct timespec ts[2] = {st.st_atim, st.st_mtim};
    assert_int_equal(utimensat(AT_FDCWD, slot_path, ts, 0), 0);
    struct local_index *x = open_index("1.1.0", 0);
    fill(block, 8, 2);
    assert_false(local_index_find(x, block_key(block, BS), ~0ull, &at));
    local_index_close(x);
    /* A changed time: rebuilt, and now the new blocks are found. */
    ts[1].tv_sec += 10;
    assert_int_equal(utimensat(AT_FDCWD, slot_path, ts, 0), 0);
    x = open_index("1.1.0", 1);
    fill(block, 8, 2);
    assert_true(local_index_find(x, block_key(block, BS), ~0ull, &at));
    assert_int_equal(at, 8);
    local_index_close(x);
    /* A damaged cache is rebuilt, not read. */
    FILE *f = fopen(cache, "r+b");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    fputc(0, f);
    fclose(f);
    local_index_close(open_index("1.1.0", 1));
    /* Forgotten: gone, and gone again is fine. */
    char err[UG_ERRBUF];
    assert_int_equal(local_index_forget(cache, err), UG_OK);
    assert_int_equal(access(cache, F_OK), -1);
    assert_int_equal(local_index_forget(cache, err), UG_OK);
}

static void test_missing_slot(void **state)
{
    (void)state;
    struct local_slot s = {&slot_file_backend, "/nonexistent/slot", "", cache};
    struct local_index *x = NULL;
    int built;
    char err[UG_ERRBUF];
    assert_int_not_equal(local_index_open(&s, BS, &x, &built, err), UG_OK);
    assert_null(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_finds_every_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_and_staleness, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_slot, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
