/* SPDX-License-Identifier: MIT */
/* Unit tests of the boot state's file backend (backends/bootstate_file.c) through the store
 * interface: the record byte for byte as documented, every single-byte corruption caught,
 * and saves cut by a power failure after every byte leaving the old state or the new one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "bootctl/backends/bootstate_file.h"
#include "bootctl/bootstate.h"

#define A BOOTSTATE_SLOT_A
#define B BOOTSTATE_SLOT_B

/* Power cut: while cut_armed, pwrite lets cut_budget more bytes reach the file and then
 * fails as a dead disk would. test_bootstate_file.wrap sends the backend's pwrite here. */
ssize_t __real_pwrite(int fd, const void *buf, size_t n, off_t off);
ssize_t __wrap_pwrite(int fd, const void *buf, size_t n, off_t off);
static int cut_armed;
static size_t cut_budget;

ssize_t __wrap_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    if (!cut_armed)
        return __real_pwrite(fd, buf, n, off);
    if (cut_budget == 0) {
        errno = EIO;
        return -1;
    }
    ssize_t w = __real_pwrite(fd, buf, n < cut_budget ? n : cut_budget, off);
    if (w > 0)
        cut_budget -= (size_t)w;
    return w;
}

static void sample_state(struct bootstate *st)
{
    char err[UG_ERRBUF];
    assert_int_equal(bootstate_init_fresh(st, "11.0.1", err), UG_OK);
    assert_int_equal(bootstate_set_version(st, B, "sip88xx.12-0-1MPP-77", err), UG_OK);
    assert_int_equal(bootstate_set_active(st, B, 4, err), UG_OK);
    int slot;
    assert_int_equal(bootstate_select_boot(st, &slot, err), UG_OK);
}

/* ---- the record ---- */

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* The sample state laid out by hand from docs/bootstate.md's table: what stores written by
 * every earlier version hold, so the encoder must produce it byte for byte. */
static void documented_record(uint64_t generation, uint8_t rec[BOOTSTATE_RECORD_SIZE])
{
    memset(rec, 0, BOOTSTATE_RECORD_SIZE);
    memcpy(rec, "\x55\x47\x42\x53", 4);
    put_le(rec + 4, 1, 2);
    put_le(rec + 6, 256, 2);
    put_le(rec + 8, generation, 8);
    rec[16] = 1;                             /* booted B */
    rec[17] = 0x01;                          /* fallback */
    memcpy(rec + 20, "\x0e\x00\x01\x00", 4); /* A: priority 14, no tries, successful */
    memcpy(rec + 24, "11.0.1", 6);
    memcpy(rec + 88, "\x0f\x03\x00\x00", 4); /* B: priority 15, 3 tries left, on trial */
    memcpy(rec + 92, "sip88xx.12-0-1MPP-77", 20);
    put_le(rec + 252, (uint32_t)crc32(0, rec, 252), 4);
}

static void test_record_matches_documented_layout(void **unused)
{
    (void)unused;
    struct bootstate st, back;
    sample_state(&st);
    st.fallback = true;
    uint8_t want[BOOTSTATE_RECORD_SIZE], rec[BOOTSTATE_RECORD_SIZE];
    documented_record(0x0102030405060708ull, want);
    bootstate_file_encode(&st, 0x0102030405060708ull, rec);
    assert_memory_equal(rec, want, sizeof rec);
    uint64_t gen = 0;
    memset(&back, 0, sizeof back);
    assert_int_equal(bootstate_file_decode(want, sizeof want, &back, &gen), BOOTSTATE_COPY_VALID);
    assert_true(gen == 0x0102030405060708ull);
    assert_true(bootstate_equal(&st, &back));
    assert_int_equal(bootstate_file_decode(rec, sizeof rec - 1, &back, &gen),
                     BOOTSTATE_COPY_MISSING);
    uint8_t zero[BOOTSTATE_RECORD_SIZE] = {0};
    assert_int_equal(bootstate_file_decode(zero, sizeof zero, &back, &gen), BOOTSTATE_COPY_MISSING);
}

/* Every way to flip one byte of a copy is caught (CRC32 finds every error burst of up
 * to 32 bits); 255 values at each of the 256 offsets. */
static void test_every_single_byte_corruption_detected(void **unused)
{
    (void)unused;
    struct bootstate st, back;
    sample_state(&st);
    uint8_t rec[BOOTSTATE_RECORD_SIZE];
    bootstate_file_encode(&st, 42, rec);
    for (size_t at = 0; at < sizeof rec; at++) {
        for (unsigned x = 1; x < 256; x++) {
            uint8_t bad[BOOTSTATE_RECORD_SIZE];
            memcpy(bad, rec, sizeof bad);
            bad[at] ^= (uint8_t)x;
            uint64_t gen;
            enum bootstate_copy_status s = bootstate_file_decode(bad, sizeof bad, &back, &gen);
            if (s == BOOTSTATE_COPY_VALID)
                fail_msg("byte %zu xor %u went undetected", at, x);
        }
    }
}

/* A writer that computes a correct CRC over wrong values is still refused. */
static void test_out_of_range_fields_refused(void **unused)
{
    (void)unused;
    static const struct {
        size_t at;
        uint8_t value;
    } cases[] = {
        {16, 2},            /* booted slot */
        {17, 0x02},         /* unknown flag */
        {20, 16},           /* A priority */
        {21, 8},            /* A tries */
        {22, 2},            /* A successful */
        {88 + 4 + 63, 'x'}, /* B version without its NUL */
        {88 + 4, 0x07},     /* B version with a control character */
        {200, 1},           /* reserved tail */
        {8, 0},             /* generation 0 (the sample uses 1 in byte 8 only) */
    };
    struct bootstate st, back;
    sample_state(&st);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t rec[BOOTSTATE_RECORD_SIZE];
        bootstate_file_encode(&st, 1, rec);
        rec[cases[i].at] = cases[i].value;
        uint32_t crc = (uint32_t)crc32(0, rec, BOOTSTATE_RECORD_SIZE - 4);
        for (int b = 0; b < 4; b++)
            rec[BOOTSTATE_RECORD_SIZE - 4 + b] = (uint8_t)(crc >> (8 * b));
        uint64_t gen;
        if (bootstate_file_decode(rec, sizeof rec, &back, &gen) != BOOTSTATE_COPY_BAD_FIELDS)
            fail_msg("case %zu: byte %zu = %u accepted", i, cases[i].at, cases[i].value);
    }
}

/* ---- the store ---- */

struct tmp {
    char dir[64];
    char path[128];
    struct bootstate_store store;
};

static int tmp_setup(void **state)
{
    struct tmp *t = calloc(1, sizeof *t);
    char err[UG_ERRBUF];
    snprintf(t->dir, sizeof t->dir, "/tmp/test_bootstate_file.XXXXXX");
    if (!mkdtemp(t->dir))
        return -1;
    snprintf(t->path, sizeof t->path, "%s/bootenv", t->dir);
    if (bootstate_store_init(&t->store, "file", t->path, err) != UG_OK)
        return -1;
    *state = t;
    return 0;
}

static int tmp_teardown(void **state)
{
    struct tmp *t = *state;
    cut_armed = 0;
    unlink(t->path);
    rmdir(t->dir);
    free(t);
    return 0;
}

static void read_whole(const char *path, uint8_t *data, size_t cap, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    *len = fread(data, 1, cap, f);
    fclose(f);
}

static void write_whole(const char *path, const uint8_t *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

#define FILE_MAX (2 * BOOTSTATE_FILE_COPY_OFFSET)

/* A store an earlier version wrote (two hand-laid records) loads, newest copy serving. */
static void test_existing_store_loads(void **state)
{
    struct tmp *t = *state;
    char err[UG_ERRBUF];
    static uint8_t file[BOOTSTATE_FILE_COPY_OFFSET + BOOTSTATE_RECORD_SIZE];
    documented_record(7, file);
    documented_record(8, file + BOOTSTATE_FILE_COPY_OFFSET);
    file[BOOTSTATE_FILE_COPY_OFFSET + 17] = 0; /* copy 1 without fallback: fix its CRC */
    put_le(file + BOOTSTATE_FILE_COPY_OFFSET + 252,
           (uint32_t)crc32(0, file + BOOTSTATE_FILE_COPY_OFFSET, 252), 4);
    write_whole(t->path, file, sizeof file);
    struct bootstate st;
    assert_int_equal(bootstate_store_load(&t->store, &st, err), UG_OK);
    assert_int_equal(st.health.copies, 2);
    assert_int_equal(st.health.serving, 1);
    assert_true(st.health.generation[0] == 7 && st.health.generation[1] == 8);
    assert_false(st.fallback);
    assert_int_equal(st.booted, B);
    assert_string_equal(st.slot[B].version, "sip88xx.12-0-1MPP-77");
}

static void test_store_round_trip_and_generations(void **state)
{
    struct tmp *t = *state;
    char err[UG_ERRBUF];
    struct bootstate st;
    assert_ptr_equal(t->store.backend, &bootstate_file_backend);
    assert_int_equal(bootstate_store_load(&t->store, &st, err), UG_ERR_UNUSABLE);
    assert_non_null(strstr(err, "missing"));
    assert_int_equal(st.health.serving, -1);
    assert_int_equal(st.health.copies, 2);

    assert_int_equal(bootstate_store_create(&t->store, "1.2.3", err), UG_OK);
    struct stat sb;
    assert_int_equal(stat(t->path, &sb), 0);
    assert_int_equal(sb.st_size, BOOTSTATE_FILE_COPY_OFFSET + BOOTSTATE_RECORD_SIZE);
    assert_int_equal(bootstate_store_load(&t->store, &st, err), UG_OK);
    assert_string_equal(st.slot[A].version, "1.2.3");
    assert_int_equal(st.health.copy[0], BOOTSTATE_COPY_VALID);
    assert_int_equal(st.health.copy[1], BOOTSTATE_COPY_VALID);
    assert_int_equal(st.health.serving, 1);
    assert_true(st.health.generation[1] == 2);

    /* Each save goes to the older copy: the copies take turns. */
    for (int k = 0; k < 4; k++) {
        assert_int_equal(bootstate_set_active(&st, k % 2 ? A : B, 3, err), UG_OK);
        int expect_copy = 1 - st.health.serving;
        assert_int_equal(bootstate_store_save(&t->store, &st, err), UG_OK);
        assert_int_equal(st.health.serving, expect_copy);
        struct bootstate back;
        assert_int_equal(bootstate_store_load(&t->store, &back, err), UG_OK);
        assert_true(bootstate_equal(&st, &back));
        assert_int_equal(back.health.serving, expect_copy);
        assert_true(back.health.generation[expect_copy] == (uint64_t)k + 3);
    }

    /* create empties the store: a fresh state, not one outranked by old generations. */
    assert_int_equal(bootstate_store_create(&t->store, "9.9", err), UG_OK);
    assert_int_equal(bootstate_store_load(&t->store, &st, err), UG_OK);
    assert_string_equal(st.slot[A].version, "9.9");
    assert_int_equal(st.slot[B].priority, 0);
    assert_true(st.health.generation[1] == 2);
}

/* A copy at generation 2^64-1 (planted, or worn out) cannot be outranked by one more: the
 * count starts again, both copies rewritten, and every later change is the one served. */
static void test_generation_at_its_end(void **state)
{
    struct tmp *t = *state;
    char err[UG_ERRBUF];
    struct bootstate st;
    assert_int_equal(bootstate_store_create(&t->store, "1.0", err), UG_OK);
    assert_int_equal(bootstate_store_load(&t->store, &st, err), UG_OK);
    static uint8_t file[BOOTSTATE_FILE_COPY_OFFSET + BOOTSTATE_RECORD_SIZE];
    size_t len;
    read_whole(t->path, file, sizeof file, &len);
    bootstate_file_encode(&st, UINT64_MAX, file); /* copy 0 at the end of the count */
    write_whole(t->path, file, len);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(bootstate_store_load(&t->store, &st, err), UG_OK);
        assert_int_equal(bootstate_set_active(&st, k % 2 ? A : B, 3, err), UG_OK);
        assert_int_equal(bootstate_store_save(&t->store, &st, err), UG_OK);
        struct bootstate back;
        assert_int_equal(bootstate_store_load(&t->store, &back, err), UG_OK);
        if (!bootstate_equal(&st, &back))
            fail_msg("change %d lost to the copy at generation 2^64-1", k);
        assert_int_equal(back.health.copy[0], BOOTSTATE_COPY_VALID);
        assert_int_equal(back.health.copy[1], BOOTSTATE_COPY_VALID);
        assert_true(back.health.generation[back.health.serving] < 10);
    }
}

/* Saves a change with the write cut after every byte offset from 0 to 256: the store then
 * holds the state before (served by the untouched copy) or after, never a third. */
static void test_power_cut_at_every_byte(void **state)
{
    struct tmp *t = *state;
    char err[UG_ERRBUF];

    /* Two rounds, so that the cut write lands once on each copy. */
    assert_int_equal(bootstate_store_create(&t->store, "1.0.0", err), UG_OK);
    for (int round = 0; round < 2; round++) {
        struct bootstate old_st, new_st;
        assert_int_equal(bootstate_store_load(&t->store, &old_st, err), UG_OK);
        int target = 1 - old_st.health.serving;
        new_st = old_st;
        assert_int_equal(bootstate_set_version(&new_st, B, round ? "3.0.0" : "2.0.0", err), UG_OK);
        assert_int_equal(bootstate_set_active(&new_st, B, 2, err), UG_OK);
        assert_false(bootstate_equal(&old_st, &new_st));

        uint8_t before[FILE_MAX];
        size_t before_len;
        read_whole(t->path, before, sizeof before, &before_len);
        int saw_old = 0, saw_new = 0;
        for (size_t limit = 0; limit <= BOOTSTATE_RECORD_SIZE; limit++) {
            write_whole(t->path, before, before_len);
            cut_armed = 1;
            cut_budget = limit;
            struct bootstate saving = new_st;
            ug_err rc = bootstate_store_save(&t->store, &saving, err);
            cut_armed = 0;
            assert_int_equal(rc, limit < BOOTSTATE_RECORD_SIZE ? UG_ERR_OTHER : UG_OK);
            if (rc != UG_OK)
                assert_non_null(strstr(err, "boot state not saved"));
            struct bootstate got;
            assert_int_equal(bootstate_store_load(&t->store, &got, err), UG_OK);
            if (bootstate_equal(&got, &old_st)) {
                saw_old++;
                /* The old state is served by the copy the write did not touch. */
                assert_int_equal(got.health.serving, 1 - target);
            } else if (bootstate_equal(&got, &new_st)) {
                saw_new++;
                assert_int_equal(got.health.serving, target);
            } else {
                fail_msg("round %d, cut after %zu bytes: a third state", round, limit);
            }
            /* Until the CRC is written in full the torn copy cannot pass for the new one. */
            if (limit < BOOTSTATE_RECORD_SIZE - 4 && !bootstate_equal(&got, &old_st))
                fail_msg("round %d, cut after %zu bytes: torn copy accepted", round, limit);
        }
        assert_true(saw_old >= BOOTSTATE_RECORD_SIZE - 4);
        assert_true(saw_new >= 1);
        /* The store now holds the new state (the last pass wrote it all). */
    }
}

/* A save onto a store with no valid copy writes both; cut anywhere in the two writes, the
 * store holds no valid state (as before) or the new one. */
static void test_power_cut_writing_both_copies(void **state)
{
    struct tmp *t = *state;
    char err[UG_ERRBUF];
    static uint8_t ruined[FILE_MAX];
    memset(ruined, 0x5a, sizeof ruined);
    struct bootstate new_st;
    sample_state(&new_st);
    for (size_t limit = 0; limit <= 2 * BOOTSTATE_RECORD_SIZE; limit++) {
        write_whole(t->path, ruined, sizeof ruined);
        cut_armed = 1;
        cut_budget = limit;
        struct bootstate saving = new_st;
        ug_err rc = bootstate_store_save(&t->store, &saving, err);
        cut_armed = 0;
        assert_int_equal(rc, limit < 2 * BOOTSTATE_RECORD_SIZE ? UG_ERR_OTHER : UG_OK);
        struct bootstate got;
        rc = bootstate_store_load(&t->store, &got, err);
        if (limit < BOOTSTATE_RECORD_SIZE) {
            assert_int_equal(rc, UG_ERR_UNUSABLE);
            continue;
        }
        assert_int_equal(rc, UG_OK);
        if (!bootstate_equal(&got, &new_st))
            fail_msg("cut after %zu bytes: a third state", limit);
        /* Copy 0 is whole and flushed before copy 1 is begun. */
        assert_int_equal(got.health.copy[0], BOOTSTATE_COPY_VALID);
    }
}

/* One copy damaged at any byte: the other serves, and the next save repairs it. */
static void test_one_copy_corrupt_other_serves(void **state)
{
    struct tmp *t = *state;
    char err[UG_ERRBUF];
    struct bootstate older, newer;
    assert_int_equal(bootstate_store_create(&t->store, "1.0.0", err), UG_OK);
    assert_int_equal(bootstate_store_load(&t->store, &older, err), UG_OK);
    newer = older;
    assert_int_equal(bootstate_set_active(&newer, B, 3, err), UG_OK);
    assert_int_equal(bootstate_store_save(&t->store, &newer, err), UG_OK);
    int newest = newer.health.serving;

    uint8_t good[FILE_MAX];
    size_t len;
    read_whole(t->path, good, sizeof good, &len);
    for (int victim = 0; victim < 2; victim++) {
        const struct bootstate *expect = victim == newest ? &older : &newer;
        for (size_t at = 0; at < BOOTSTATE_RECORD_SIZE; at++) {
            uint8_t bad[FILE_MAX];
            memcpy(bad, good, len);
            bad[(size_t)victim * BOOTSTATE_FILE_COPY_OFFSET + at] ^= 0x5a;
            write_whole(t->path, bad, len);
            struct bootstate got;
            assert_int_equal(bootstate_store_load(&t->store, &got, err), UG_OK);
            if (!bootstate_equal(&got, expect) || got.health.serving != 1 - victim ||
                got.health.copy[victim] == BOOTSTATE_COPY_VALID)
                fail_msg("copy %d byte %zu corrupt: wrong state or copy served", victim, at);
        }
        /* The next write goes to the damaged copy and leaves the store whole again. */
        struct bootstate st;
        assert_int_equal(bootstate_store_load(&t->store, &st, err), UG_OK);
        assert_int_equal(bootstate_mark_bad(&st, A, err), UG_OK);
        assert_int_equal(bootstate_store_save(&t->store, &st, err), UG_OK);
        assert_int_equal(st.health.serving, victim);
        struct bootstate back;
        assert_int_equal(bootstate_store_load(&t->store, &back, err), UG_OK);
        assert_int_equal(back.health.copy[0], BOOTSTATE_COPY_VALID);
        assert_int_equal(back.health.copy[1], BOOTSTATE_COPY_VALID);
        assert_true(bootstate_equal(&back, &st));
        write_whole(t->path, good, len);
    }
}

static void test_both_copies_bad(void **state)
{
    struct tmp *t = *state;
    char err[UG_ERRBUF];
    assert_int_equal(bootstate_store_create(&t->store, "1.0.0", err), UG_OK);
    uint8_t data[FILE_MAX];
    size_t len;
    read_whole(t->path, data, sizeof data, &len);
    data[30] ^= 1;                                        /* copy 0: CRC */
    memcpy(data + BOOTSTATE_FILE_COPY_OFFSET, "XXXX", 4); /* copy 1: magic */
    write_whole(t->path, data, len);
    struct bootstate st;
    assert_int_equal(bootstate_store_load(&t->store, &st, err), UG_ERR_UNUSABLE);
    assert_string_equal(strstr(err, "no valid boot state"),
                        "no valid boot state (copy 0 bad-crc, copy 1 bad-magic)");
    assert_int_equal(st.health.copy[0], BOOTSTATE_COPY_BAD_CRC);
    assert_int_equal(st.health.copy[1], BOOTSTATE_COPY_BAD_MAGIC);
    assert_int_equal(st.health.serving, -1);

    /* A save onto a store with nothing valid writes both copies. */
    assert_int_equal(bootstate_init_fresh(&st, "", err), UG_OK);
    assert_int_equal(bootstate_store_save(&t->store, &st, err), UG_OK);
    assert_int_equal(bootstate_store_load(&t->store, &st, err), UG_OK);
    assert_int_equal(st.health.copy[0], BOOTSTATE_COPY_VALID);
    assert_int_equal(st.health.copy[1], BOOTSTATE_COPY_VALID);

    /* A file cut short in copy 1: copy 1 is missing, copy 0 serves. */
    assert_int_equal(truncate(t->path, BOOTSTATE_FILE_COPY_OFFSET + 100), 0);
    assert_int_equal(bootstate_store_load(&t->store, &st, err), UG_OK);
    assert_int_equal(st.health.copy[1], BOOTSTATE_COPY_MISSING);
    assert_int_equal(st.health.serving, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_matches_documented_layout),
        cmocka_unit_test(test_every_single_byte_corruption_detected),
        cmocka_unit_test(test_out_of_range_fields_refused),
        cmocka_unit_test_setup_teardown(test_existing_store_loads, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_generation_at_its_end, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_store_round_trip_and_generations, tmp_setup,
                                        tmp_teardown),
        cmocka_unit_test_setup_teardown(test_power_cut_at_every_byte, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_power_cut_writing_both_copies, tmp_setup,
                                        tmp_teardown),
        cmocka_unit_test_setup_teardown(test_one_copy_corrupt_other_serves, tmp_setup,
                                        tmp_teardown),
        cmocka_unit_test_setup_teardown(test_both_copies_bad, tmp_setup, tmp_teardown),
    };
    return cmocka_run_group_tests_name("bootstate_file", tests, NULL, NULL);
}
