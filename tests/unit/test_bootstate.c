/* SPDX-License-Identifier: MIT */
/* Unit tests of the boot state (bootstate.c): the selection logic as table-driven stories,
 * the record format, and the store under power cuts at every byte and single-byte corruption. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "bootctl/bootstate.h"

#define A BOOTSTATE_SLOT_A
#define B BOOTSTATE_SLOT_B

/* ---- selection logic: each story is a list of steps from a starting state ---- */

enum op {
    END,
    SET_ACTIVE,
    BOOT,
    MARK_GOOD,
    MARK_BAD
};

struct step {
    enum op op;
    int slot;       /* SET_ACTIVE, MARK_BAD: the slot; BOOT: the slot expected (-1: none) */
    unsigned tries; /* SET_ACTIVE */
    ug_err rc;      /* expected result */
    bool fallback;  /* BOOT: expected fallback flag */
};

struct slot_expect {
    unsigned priority, tries;
    bool successful;
};

struct story {
    const char *name;
    bool explicit_start;         /* false: the factory state */
    struct slot_expect start[2]; /* used when explicit_start */
    int start_booted;
    struct step steps[12];
    struct slot_expect end[2];
    int end_booted;
};

/* Step constructors, so the stories read as what happens. */
#define ACTIVE(s, n, rc)            \
    {                               \
        SET_ACTIVE, s, n, rc, false \
    }
#define BOOTS(s, fb)          \
    {                         \
        BOOT, s, 0, UG_OK, fb \
    }
#define NO_BOOT                          \
    {                                    \
        BOOT, -1, 0, UG_ERR_OTHER, false \
    }
#define GOOD(rc)                   \
    {                              \
        MARK_GOOD, 0, 0, rc, false \
    }
#define BAD(s, rc)                \
    {                             \
        MARK_BAD, s, 0, rc, false \
    }
#define DONE                    \
    {                           \
        END, 0, 0, UG_OK, false \
    }

static const struct story stories[] = {
    {"first boot: the factory slot A boots, nothing to use up",
     false,
     {{0}},
     0,
     {BOOTS(A, false), BOOTS(A, false), DONE},
     {{15, 0, true}, {0, 0, false}},
     A},
    {"successful upgrade: B boots on a try, is marked good, stays",
     false,
     {{0}},
     0,
     {ACTIVE(B, 3, UG_OK), BOOTS(B, false), GOOD(UG_OK), BOOTS(B, false), BOOTS(B, false), DONE},
     {{14, 0, true}, {15, 0, true}},
     B},
    {"new slot fails twice, the third boot falls back to A",
     false,
     {{0}},
     0,
     {ACTIVE(B, 2, UG_OK), BOOTS(B, false), BOOTS(B, false), BOOTS(A, true), BOOTS(A, true), DONE},
     {{14, 0, true}, {15, 0, false}},
     A},
    {"the agent gives up on B after the rollback: no longer a fallback",
     false,
     {{0}},
     0,
     {ACTIVE(B, 1, UG_OK), BOOTS(B, false), BOOTS(A, true), BAD(B, UG_OK), BOOTS(A, false), DONE},
     {{14, 0, true}, {0, 0, false}},
     A},
    {"mark-bad of a slot on trial: the next boot takes A at once",
     false,
     {{0}},
     0,
     {ACTIVE(B, 3, UG_OK), BOOTS(B, false), BAD(B, UG_OK), BOOTS(A, false), DONE},
     {{14, 0, true}, {0, 0, false}},
     A},
    {"mark-good after mark-bad is refused",
     false,
     {{0}},
     0,
     {ACTIVE(B, 3, UG_OK), BOOTS(B, false), BAD(B, UG_OK), GOOD(UG_ERR_OTHER), DONE},
     {{14, 0, true}, {0, 0, false}},
     B},
    {"mark-bad of the old slot after an upgrade: B alone",
     false,
     {{0}},
     0,
     {ACTIVE(B, 3, UG_OK), BOOTS(B, false), GOOD(UG_OK), BAD(A, UG_OK), BOOTS(B, false), DONE},
     {{0, 0, false}, {15, 0, true}},
     B},
    {"upgrade back to A after B became good",
     false,
     {{0}},
     0,
     {ACTIVE(B, 3, UG_OK), BOOTS(B, false), GOOD(UG_OK), ACTIVE(A, 2, UG_OK), BOOTS(A, false),
      BOOTS(A, false), BOOTS(B, true), DONE},
     {{15, 0, false}, {14, 0, true}},
     B},
    {"equal priorities, both successful: A",
     true,
     {{5, 0, true}, {5, 0, true}},
     B,
     {BOOTS(A, false), DONE},
     {{5, 0, true}, {5, 0, true}},
     A},
    {"equal priorities, both on trial: A, and A's try is used",
     true,
     {{5, 2, false}, {5, 2, false}},
     B,
     {BOOTS(A, false), BOOTS(A, false), BOOTS(B, true), DONE},
     {{5, 0, false}, {5, 1, false}},
     B},
    {"equal priorities, A out of tries: B, as a fallback",
     true,
     {{5, 0, false}, {5, 0, true}},
     A,
     {BOOTS(B, true), DONE},
     {{5, 0, false}, {5, 0, true}},
     B},
    {"higher priority wins over A",
     true,
     {{3, 0, true}, {4, 0, true}},
     A,
     {BOOTS(B, false), DONE},
     {{3, 0, true}, {4, 0, true}},
     B},
    {"both unbootable: no slot, state unchanged",
     false,
     {{0}},
     0,
     {ACTIVE(B, 1, UG_OK), BAD(A, UG_OK), BOOTS(B, false), NO_BOOT, NO_BOOT, DONE},
     {{0, 0, false}, {15, 0, false}},
     B},
    {"both marked bad: no slot",
     false,
     {{0}},
     0,
     {BAD(A, UG_OK), BAD(B, UG_OK), NO_BOOT, DONE},
     {{0, 0, false}, {0, 0, false}},
     A},
    {"priority 0 with tries left is not bootable",
     true,
     {{0, 3, false}, {0, 0, true}},
     A,
     {NO_BOOT, DONE},
     {{0, 3, false}, {0, 0, true}},
     A},
    {"bad tries and slots are refused, state unchanged",
     false,
     {{0}},
     0,
     {ACTIVE(B, 0, UG_ERR_USAGE), ACTIVE(B, 8, UG_ERR_USAGE), ACTIVE(2, 3, UG_ERR_USAGE),
      BAD(-1, UG_ERR_USAGE), DONE},
     {{15, 0, true}, {0, 0, false}},
     A},
};

static void start_state(const struct story *s, struct bootstate *st)
{
    char err[UG_ERRBUF];
    assert_int_equal(bootstate_init_fresh(st, "1.0.0", err), UG_OK);
    if (!s->explicit_start)
        return;
    for (int i = 0; i < 2; i++) {
        st->slot[i].priority = s->start[i].priority;
        st->slot[i].tries = s->start[i].tries;
        st->slot[i].successful = s->start[i].successful;
    }
    st->booted = s->start_booted;
}

static void test_selection_stories(void **unused)
{
    (void)unused;
    for (size_t i = 0; i < sizeof stories / sizeof stories[0]; i++) {
        const struct story *s = &stories[i];
        struct bootstate st;
        start_state(s, &st);
        for (int k = 0; s->steps[k].op != END; k++) {
            const struct step *p = &s->steps[k];
            char err[UG_ERRBUF] = "";
            struct bootstate before = st;
            ug_err rc = UG_OK;
            int slot = -1;
            switch (p->op) {
            case SET_ACTIVE:
                rc = bootstate_set_active(&st, p->slot, p->tries, err);
                break;
            case BOOT:
                rc = bootstate_select_boot(&st, &slot, err);
                break;
            case MARK_GOOD:
                rc = bootstate_mark_good(&st, err);
                break;
            case MARK_BAD:
                rc = bootstate_mark_bad(&st, p->slot, err);
                break;
            case END:
                break;
            }
            if (rc != p->rc)
                fail_msg("%s, step %d: result %d, expected %d (%s)", s->name, k, rc, p->rc, err);
            if (rc != UG_OK) {
                if (!err[0])
                    fail_msg("%s, step %d: failed without a message", s->name, k);
                if (!bootstate_equal(&before, &st))
                    fail_msg("%s, step %d: a refused step changed the state", s->name, k);
                continue;
            }
            if (p->op == BOOT &&
                (slot != p->slot || st.booted != p->slot || st.fallback != p->fallback))
                fail_msg("%s, step %d: booted %c fallback %d, expected %c fallback %d", s->name, k,
                         bootstate_slot_letter(slot), st.fallback, bootstate_slot_letter(p->slot),
                         p->fallback);
        }
        for (int n = 0; n < 2; n++) {
            const struct slot_expect *e = &s->end[n];
            const struct bootstate_slot *got = &st.slot[n];
            if (got->priority != e->priority || got->tries != e->tries ||
                got->successful != e->successful)
                fail_msg(
                    "%s: slot %c ends with priority %u tries %u successful %d, expected %u %u %d",
                    s->name, bootstate_slot_letter(n), got->priority, got->tries, got->successful,
                    e->priority, e->tries, e->successful);
        }
        if (st.booted != s->end_booted)
            fail_msg("%s: booted %c, expected %c", s->name, bootstate_slot_letter(st.booted),
                     bootstate_slot_letter(s->end_booted));
    }
}

/* For every allowed N: exactly N boots of the new slot, then the old one as a fallback. */
static void test_tries_are_counted(void **unused)
{
    (void)unused;
    char err[UG_ERRBUF];
    for (unsigned n = 1; n <= BOOTSTATE_TRIES_MAX; n++) {
        struct bootstate st;
        assert_int_equal(bootstate_init_fresh(&st, "1.0.0", err), UG_OK);
        assert_int_equal(bootstate_set_active(&st, B, n, err), UG_OK);
        int slot;
        for (unsigned k = 0; k < n; k++) {
            assert_int_equal(bootstate_select_boot(&st, &slot, err), UG_OK);
            assert_int_equal(slot, B);
            assert_int_equal(st.slot[B].tries, n - k - 1);
        }
        assert_int_equal(bootstate_select_boot(&st, &slot, err), UG_OK);
        assert_int_equal(slot, A);
        assert_true(st.fallback);
    }
}

static void test_slot_letters_and_versions(void **unused)
{
    (void)unused;
    assert_int_equal(bootstate_slot_from_letter("A"), A);
    assert_int_equal(bootstate_slot_from_letter("b"), B);
    assert_int_equal(bootstate_slot_from_letter("C"), -1);
    assert_int_equal(bootstate_slot_from_letter("AB"), -1);
    assert_int_equal(bootstate_slot_from_letter(""), -1);
    assert_int_equal(bootstate_slot_letter(B), 'B');

    struct bootstate st;
    char err[UG_ERRBUF];
    char longest[BOOTSTATE_VERSION_MAX];
    memset(longest, '7', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0';
    assert_int_equal(bootstate_init_fresh(&st, longest, err), UG_OK);
    assert_string_equal(st.slot[A].version, longest);
    char too_long[BOOTSTATE_VERSION_MAX + 1];
    memset(too_long, '7', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = '\0';
    assert_int_equal(bootstate_set_version(&st, B, too_long, err), UG_ERR_USAGE);
    assert_int_equal(bootstate_set_version(&st, B, "1.0\n", err), UG_ERR_USAGE);
    assert_int_equal(bootstate_set_version(&st, B, "2.0.0", err), UG_OK);
    assert_string_equal(st.slot[B].version, "2.0.0");
    assert_string_equal(st.slot[A].version, longest);
}

/* ---- the record ---- */

static void sample_state(struct bootstate *st)
{
    char err[UG_ERRBUF];
    assert_int_equal(bootstate_init_fresh(st, "11.0.1", err), UG_OK);
    assert_int_equal(bootstate_set_version(st, B, "sip88xx.12-0-1MPP-77", err), UG_OK);
    assert_int_equal(bootstate_set_active(st, B, 4, err), UG_OK);
    int slot;
    assert_int_equal(bootstate_select_boot(st, &slot, err), UG_OK);
}

static void test_record_round_trip(void **unused)
{
    (void)unused;
    struct bootstate st, back;
    sample_state(&st);
    st.fallback = true;
    uint8_t rec[BOOTSTATE_RECORD_SIZE];
    bootstate_encode(&st, 0x0102030405060708ull, rec);
    assert_memory_equal(rec, "UGBS", 4);
    uint64_t gen = 0;
    memset(&back, 0, sizeof back);
    assert_int_equal(bootstate_decode(rec, sizeof rec, &back, &gen), BOOTSTATE_COPY_VALID);
    assert_true(gen == 0x0102030405060708ull);
    assert_true(bootstate_equal(&st, &back));
    assert_int_equal(rec[8], 0x08); /* little-endian, as docs/bootstate.md says */
    assert_int_equal(bootstate_decode(rec, sizeof rec - 1, &back, &gen), BOOTSTATE_COPY_MISSING);
    uint8_t zero[BOOTSTATE_RECORD_SIZE] = {0};
    assert_int_equal(bootstate_decode(zero, sizeof zero, &back, &gen), BOOTSTATE_COPY_MISSING);
}

/* Every way to flip one byte of a copy is caught (CRC32 finds every error burst of up
 * to 32 bits); 255 values at each of the 256 offsets. */
static void test_every_single_byte_corruption_detected(void **unused)
{
    (void)unused;
    struct bootstate st, back;
    sample_state(&st);
    uint8_t rec[BOOTSTATE_RECORD_SIZE];
    bootstate_encode(&st, 42, rec);
    for (size_t at = 0; at < sizeof rec; at++) {
        for (unsigned x = 1; x < 256; x++) {
            uint8_t bad[BOOTSTATE_RECORD_SIZE];
            memcpy(bad, rec, sizeof bad);
            bad[at] ^= (uint8_t)x;
            uint64_t gen;
            enum bootstate_copy_status s = bootstate_decode(bad, sizeof bad, &back, &gen);
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
        bootstate_encode(&st, 1, rec);
        rec[cases[i].at] = cases[i].value;
        uint32_t crc = (uint32_t)crc32(0, rec, BOOTSTATE_RECORD_SIZE - 4);
        for (int b = 0; b < 4; b++)
            rec[BOOTSTATE_RECORD_SIZE - 4 + b] = (uint8_t)(crc >> (8 * b));
        uint64_t gen;
        if (bootstate_decode(rec, sizeof rec, &back, &gen) != BOOTSTATE_COPY_BAD_FIELDS)
            fail_msg("case %zu: byte %zu = %u accepted", i, cases[i].at, cases[i].value);
    }
}

/* ---- the store ---- */

struct tmp {
    char dir[64];
    char path[128];
};

static int tmp_setup(void **state)
{
    struct tmp *t = calloc(1, sizeof *t);
    snprintf(t->dir, sizeof t->dir, "/tmp/test_bootstate.XXXXXX");
    if (!mkdtemp(t->dir))
        return -1;
    snprintf(t->path, sizeof t->path, "%s/bootenv", t->dir);
    *state = t;
    return 0;
}

static int tmp_teardown(void **state)
{
    struct tmp *t = *state;
    char lock[160];
    snprintf(lock, sizeof lock, "%s%s", t->path, BOOTSTATE_LOCK_SUFFIX);
    unlink(lock);
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

static void test_store_round_trip_and_generations(void **state)
{
    struct tmp *t = *state;
    char err[UG_ERRBUF];
    struct bootstate st;
    assert_int_equal(bootstate_load(t->path, &st, err), UG_ERR_UNUSABLE);
    assert_non_null(strstr(err, "missing"));
    assert_int_equal(st.health.serving, -1);

    assert_int_equal(bootstate_create(t->path, "1.2.3", err), UG_OK);
    assert_int_equal(bootstate_load(t->path, &st, err), UG_OK);
    assert_string_equal(st.slot[A].version, "1.2.3");
    assert_int_equal(st.health.copy[0], BOOTSTATE_COPY_VALID);
    assert_int_equal(st.health.copy[1], BOOTSTATE_COPY_VALID);
    assert_int_equal(st.health.serving, 1);
    assert_true(st.health.generation[1] == 2);

    /* Each save goes to the older copy: the copies take turns. */
    for (int k = 0; k < 4; k++) {
        assert_int_equal(bootstate_set_active(&st, k % 2 ? A : B, 3, err), UG_OK);
        int expect_copy = 1 - st.health.serving;
        assert_int_equal(bootstate_save(t->path, &st, err), UG_OK);
        struct bootstate back;
        assert_int_equal(bootstate_load(t->path, &back, err), UG_OK);
        assert_true(bootstate_equal(&st, &back));
        assert_int_equal(back.health.serving, expect_copy);
        assert_true(back.health.generation[expect_copy] == (uint64_t)k + 3);
    }

    /* create empties the store: a fresh state, not one outranked by old generations. */
    assert_int_equal(bootstate_create(t->path, "9.9", err), UG_OK);
    assert_int_equal(bootstate_load(t->path, &st, err), UG_OK);
    assert_string_equal(st.slot[A].version, "9.9");
    assert_int_equal(st.slot[B].priority, 0);
    assert_true(st.health.generation[1] == 2);
}

/* Power cut: the write of the copy stops after `limit` bytes and nothing is flushed. */
static size_t cut_limit;
static ug_err cut_write_copy(void *handle, int n, const uint8_t *rec, size_t len, char *err)
{
    size_t k = len < cut_limit ? len : cut_limit;
    ug_err rc = bootstate_file_backend.write_copy(handle, n, rec, k, err);
    if (rc == UG_OK && k < len)
        return ug_fail(err, UG_ERR_OTHER, "power cut after %zu bytes", k);
    return rc;
}

static void test_power_cut_at_every_byte(void **state)
{
    struct tmp *t = *state;
    char err[UG_ERRBUF];
    struct bootstate_backend cut = bootstate_file_backend;
    cut.write_copy = cut_write_copy;

    /* Two rounds, so that the cut write lands once on each copy. */
    assert_int_equal(bootstate_create(t->path, "1.0.0", err), UG_OK);
    for (int round = 0; round < 2; round++) {
        struct bootstate old_st, new_st;
        assert_int_equal(bootstate_load(t->path, &old_st, err), UG_OK);
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
            cut_limit = limit;
            ug_err rc = bootstate_save_via(&cut, t->path, &new_st, err);
            assert_int_equal(rc, limit < BOOTSTATE_RECORD_SIZE ? UG_ERR_OTHER : UG_OK);
            struct bootstate got;
            assert_int_equal(bootstate_load(t->path, &got, err), UG_OK);
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

/* One copy damaged at any byte: the other serves, and the next save repairs it. */
static void test_one_copy_corrupt_other_serves(void **state)
{
    struct tmp *t = *state;
    char err[UG_ERRBUF];
    struct bootstate older, newer;
    assert_int_equal(bootstate_create(t->path, "1.0.0", err), UG_OK);
    assert_int_equal(bootstate_load(t->path, &older, err), UG_OK);
    newer = older;
    assert_int_equal(bootstate_set_active(&newer, B, 3, err), UG_OK);
    assert_int_equal(bootstate_save(t->path, &newer, err), UG_OK);
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
            assert_int_equal(bootstate_load(t->path, &got, err), UG_OK);
            if (!bootstate_equal(&got, expect) || got.health.serving != 1 - victim ||
                got.health.copy[victim] == BOOTSTATE_COPY_VALID)
                fail_msg("copy %d byte %zu corrupt: wrong state or copy served", victim, at);
        }
        /* The next write goes to the damaged copy and leaves the store whole again. */
        struct bootstate st;
        assert_int_equal(bootstate_load(t->path, &st, err), UG_OK);
        assert_int_equal(bootstate_mark_bad(&st, A, err), UG_OK);
        assert_int_equal(bootstate_save(t->path, &st, err), UG_OK);
        assert_int_equal(st.health.serving, victim);
        struct bootstate back;
        assert_int_equal(bootstate_load(t->path, &back, err), UG_OK);
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
    assert_int_equal(bootstate_create(t->path, "1.0.0", err), UG_OK);
    uint8_t data[FILE_MAX];
    size_t len;
    read_whole(t->path, data, sizeof data, &len);
    data[30] ^= 1;                                        /* copy 0: CRC */
    memcpy(data + BOOTSTATE_FILE_COPY_OFFSET, "XXXX", 4); /* copy 1: magic */
    write_whole(t->path, data, len);
    struct bootstate st;
    assert_int_equal(bootstate_load(t->path, &st, err), UG_ERR_UNUSABLE);
    assert_string_equal(strstr(err, "no valid boot state"),
                        "no valid boot state (copy 0 bad-crc, copy 1 bad-magic)");
    assert_int_equal(st.health.copy[0], BOOTSTATE_COPY_BAD_CRC);
    assert_int_equal(st.health.copy[1], BOOTSTATE_COPY_BAD_MAGIC);
    assert_int_equal(st.health.serving, -1);

    /* A save onto a store with nothing valid writes both copies. */
    assert_int_equal(bootstate_init_fresh(&st, "", err), UG_OK);
    assert_int_equal(bootstate_save(t->path, &st, err), UG_OK);
    assert_int_equal(bootstate_load(t->path, &st, err), UG_OK);
    assert_int_equal(st.health.copy[0], BOOTSTATE_COPY_VALID);
    assert_int_equal(st.health.copy[1], BOOTSTATE_COPY_VALID);

    /* A file cut short in copy 1: copy 1 is missing, copy 0 serves. */
    assert_int_equal(truncate(t->path, BOOTSTATE_FILE_COPY_OFFSET + 100), 0);
    assert_int_equal(bootstate_load(t->path, &st, err), UG_OK);
    assert_int_equal(st.health.copy[1], BOOTSTATE_COPY_MISSING);
    assert_int_equal(st.health.serving, 0);
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Another process holds the lock: a short wait gives up with a clear error, a long one gets
 * the lock once the holder is done; the holder's death releases it too. */
static void test_lock_serialises_processes(void **state)
{
    struct tmp *t = *state;
    char err[UG_ERRBUF];
    int fd = -1;
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t holder = fork();
    assert_true(holder >= 0);
    if (holder == 0) {
        int mine = -1;
        char e[UG_ERRBUF];
        if (bootstate_lock(t->path, 0, &mine, e) != UG_OK)
            _exit(1);
        if (write(ready[1], "x", 1) != 1)
            _exit(1);
        usleep(400000);
        _exit(0); /* exiting releases the lock: no unlock needed after a crash either */
    }
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    double t0 = seconds_now();
    assert_int_equal(bootstate_lock(t->path, 50, &fd, err), UG_ERR_OTHER);
    assert_int_equal(fd, -1);
    assert_non_null(strstr(err, "another process is changing the boot state"));
    assert_non_null(strstr(err, BOOTSTATE_LOCK_SUFFIX));
    assert_int_equal(bootstate_lock(t->path, 5000, &fd, err), UG_OK);
    assert_true(fd >= 0);
    assert_true(seconds_now() - t0 >= 0.3); /* it waited for the holder */
    int status = 0;
    assert_int_equal(waitpid(holder, &status, 0), holder);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* Held here, so not free for a second descriptor of this process either. */
    int second = -1;
    assert_int_equal(bootstate_lock(t->path, 0, &second, err), UG_ERR_OTHER);
    bootstate_unlock(&fd);
    assert_int_equal(fd, -1);
    bootstate_unlock(&fd); /* twice is harmless */
    assert_int_equal(bootstate_lock(t->path, 0, &second, err), UG_OK);
    bootstate_unlock(&second);
    close(ready[0]);
    close(ready[1]);
}

static void test_lock_refusals(void **state)
{
    struct tmp *t = *state;
    char err[UG_ERRBUF], path[256];
    int fd = 7;
    snprintf(path, sizeof path, "%s/no-such-folder/bootenv", t->dir);
    assert_int_equal(bootstate_lock(path, 0, &fd, err), UG_ERR_OTHER);
    assert_int_equal(fd, -1);
    assert_non_null(strstr(err, "cannot open"));
    char *long_path = malloc(5000);
    assert_non_null(long_path);
    memset(long_path, 'a', 4999);
    long_path[4999] = '\0';
    assert_int_equal(bootstate_lock(long_path, 0, &fd, err), UG_ERR_USAGE);
    free(long_path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selection_stories),
        cmocka_unit_test(test_tries_are_counted),
        cmocka_unit_test(test_slot_letters_and_versions),
        cmocka_unit_test(test_record_round_trip),
        cmocka_unit_test(test_every_single_byte_corruption_detected),
        cmocka_unit_test(test_out_of_range_fields_refused),
        cmocka_unit_test_setup_teardown(test_store_round_trip_and_generations, tmp_setup,
                                        tmp_teardown),
        cmocka_unit_test_setup_teardown(test_power_cut_at_every_byte, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_one_copy_corrupt_other_serves, tmp_setup,
                                        tmp_teardown),
        cmocka_unit_test_setup_teardown(test_both_copies_bad, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_lock_serialises_processes, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_lock_refusals, tmp_setup, tmp_teardown),
    };
    return cmocka_run_group_tests_name("bootstate", tests, NULL, NULL);
}
