/* SPDX-License-Identifier: MIT */
/* Unit tests of the boot state's grub backend (backends/bootstate_grub.c, grubenv.c): RAUC's
 * variables both ways, the grubenv block as GRUB lays it out, the booted slot from the
 * kernel command line, and saves cut by a power failure after every byte of both copies
 * leaving the old state or the new one, which the grub.cfg logic boots. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bootctl/backends/bootstate_grub.h"
#include "bootctl/booted.h"
#include "bootctl/bootstate.h"

#define A BOOTSTATE_SLOT_A
#define B BOOTSTATE_SLOT_B

/* Power cut: while cut_armed, pwrite lets cut_budget more bytes reach the files and then
 * fails as a dead disk would. test_bootstate_grub.wrap sends the backend's pwrite here. */
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

struct tmp {
    char dir[64];
    char path[128], path1[128];
    struct bootstate_store store;
};

static int tmp_setup(void **state)
{
    struct tmp *t = calloc(1, sizeof *t);
    char err[UG_ERRBUF];
    snprintf(t->dir, sizeof t->dir, "/tmp/test_bootstate_grub.XXXXXX");
    if (!mkdtemp(t->dir))
        return -1;
    snprintf(t->path, sizeof t->path, "%s/grubenv", t->dir);
    snprintf(t->path1, sizeof t->path1, "%s/grubenv.1", t->dir);
    if (bootstate_store_init(&t->store, "grub", t->path, err) != UG_OK)
        return -1;
    setenv(BOOTED_CMDLINE_ENV, "quiet", 1); /* this host's own command line names no slot */
    *state = t;
    return 0;
}

static int tmp_teardown(void **state)
{
    struct tmp *t = *state;
    char lock[160];
    cut_armed = 0;
    snprintf(lock, sizeof lock, "%s.lock", t->path);
    unlink(t->path);
    unlink(t->path1);
    unlink(lock);
    rmdir(t->dir);
    free(t);
    return 0;
}

static void write_env(const char *path, const char *vars)
{
    uint8_t block[GRUBENV_SIZE];
    memset(block, '#', sizeof block);
    size_t sig = strlen(GRUBENV_SIGNATURE), n = strlen(vars);
    memcpy(block, GRUBENV_SIGNATURE, sig);
    memcpy(block + sig, vars, n);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(block, 1, sizeof block, f), sizeof block);
    assert_int_equal(fclose(f), 0);
}

static void read_block(const char *path, uint8_t block[GRUBENV_SIZE])
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(block, 1, GRUBENV_SIZE, f), GRUBENV_SIZE);
    fclose(f);
}

/* ---- the block ---- */

static void test_block_as_grub_lays_it_out(void **unused)
{
    (void)unused;
    struct grubenv env = {0};
    uint8_t block[GRUBENV_SIZE];
    assert_int_equal(grubenv_set(&env, "ORDER", "B A"), 0);
    assert_int_equal(grubenv_set(&env, "odd", "a\\b"), 0);
    assert_int_equal(grubenv_encode(&env, block), 0);
    const char *want = GRUBENV_SIGNATURE "ORDER=B A\nodd=a\\\\b\n#";
    assert_memory_equal(block, want, strlen(want));
    assert_int_equal(block[GRUBENV_SIZE - 1], '#');
    struct grubenv back;
    assert_int_equal(grubenv_parse(block, sizeof block, &back), GRUBENV_OK);
    assert_string_equal(grubenv_get(&back, "odd"), "a\\b");
    assert_int_equal(grubenv_parse(block, 1000, &back), GRUBENV_BAD_SIZE);
    block[0] = 'X';
    assert_int_equal(grubenv_parse(block, sizeof block, &back), GRUBENV_BAD_SIGNATURE);
    /* A name set twice keeps its last value, as GRUB's load_env does. */
    memcpy(block, GRUBENV_SIGNATURE "A_OK=1\nA_OK=0\n", strlen(GRUBENV_SIGNATURE) + 14);
    assert_int_equal(grubenv_parse(block, sizeof block, &back), GRUBENV_OK);
    assert_string_equal(grubenv_get(&back, "A_OK"), "0");
}

/* Records as GRUB's reader takes them, each unlike a line-by-line reading: a name is every
 * byte up to the first '=' with no escapes (`UPGRADER_GEN\` is not the seal's name, and a
 * line without '=' runs into the next one); a comment's escaped newline continues it; a value
 * keeps its escaped newline; a record the block ends inside is not read. Written back, each
 * reads the same. */
static void test_records_read_as_grub_reads_them(void **unused)
{
    (void)unused;
    uint8_t block[GRUBENV_SIZE];
    memset(block, '#', sizeof block);
    const char *text = GRUBENV_SIGNATURE "UPGRADER_GEN\\=9=x\n"
                                         "stray\nA_OK=0\n"
                                         "# a note \\\nORDER=B A\n"
                                         "v=a\\\nb\\\\\n"
                                         "last=no newline";
    memcpy(block, text, strlen(text));
    struct grubenv env, back;
    assert_int_equal(grubenv_parse(block, sizeof block, &env), GRUBENV_OK);
    assert_int_equal(env.n, 3);
    assert_null(grubenv_get(&env, "UPGRADER_GEN"));
    assert_string_equal(grubenv_get(&env, "UPGRADER_GEN\\"), "9=x");
    assert_null(grubenv_get(&env, "A_OK"));
    assert_string_equal(grubenv_get(&env, "stray\nA_OK"), "0");
    assert_null(grubenv_get(&env, "ORDER"));
    assert_string_equal(grubenv_get(&env, "v"), "a\nb\\");
    assert_null(grubenv_get(&env, "last"));
    assert_int_equal(grubenv_encode(&env, block), 0);
    assert_int_equal(grubenv_parse(block, sizeof block, &back), GRUBENV_OK);
    assert_int_equal(back.n, 3);
    for (int i = 0; i < env.n; i++) {
        assert_string_equal(back.var[i].name, env.var[i].name);
        assert_string_equal(back.var[i].value, env.var[i].value);
    }
    /* A name GRUB could not read back is not written. */
    assert_int_equal(grubenv_set(&env, "a=b", "1"), 0);
    assert_int_equal(grubenv_encode(&env, block), -1);
}

/* ---- RAUC's variables ---- */

/* An environment RAUC's tools left (no seal): B installed and tried once, A booted from the
 * kernel command line: B is out of its try, so the boot of A is a fallback. */
static void test_rauc_environment_loads(void **state)
{
    struct tmp *t = *state;
    char err[UG_ERRBUF];
    write_env(t->path, "ORDER=B A\nA_OK=1\nA_TRY=0\nB_OK=1\nB_TRY=1\n");
    struct bootstate st;
    assert_int_equal(bootstate_store_load(&t->store, &st, err), UG_ERR_UNUSABLE);
    assert_non_null(strstr(err, "cannot tell which slot booted"));
    setenv(BOOTED_CMDLINE_ENV, "root=/dev/sda2 rauc.slot=A quiet", 1);
    assert_int_equal(bootstate_store_load(&t->store, &st, err), UG_OK);
    assert_int_equal(st.booted, A);
    assert_int_equal(st.slot[B].priority, 15);
    assert_int_equal(st.slot[A].priority, 14);
    assert_true(st.slot[A].successful);
    assert_false(bootstate_slot_bootable(&st.slot[B]));
    assert_true(st.fallback);
    assert_int_equal(st.health.copy[0], BOOTSTATE_COPY_VALID);
    assert_int_equal(st.health.copy[1], BOOTSTATE_COPY_MISSING);
    assert_int_equal(st.health.serving, 0);
    /* upgrader.slot= wins over rauc.slot=. */
    setenv(BOOTED_CMDLINE_ENV, "rauc.slot=A upgrader.slot=B", 1);
    assert_int_equal(bootstate_store_load(&t->store, &st, err), UG_OK);
    assert_int_equal(st.booted, B);
    assert_false(st.fallback);
    /* Values RAUC never writes are refused. */
    write_env(t->path, "ORDER=A C\nA_OK=1\n");
    assert_int_equal(bootstate_store_load(&t->store, &st, err), UG_ERR_UNUSABLE);
    assert_int_equal(st.health.copy[0], BOOTSTATE_COPY_BAD_FIELDS);
}

/* set-active, then the boot GRUB makes of it, then mark-good: RAUC's variables at each step,
 * other tools' variables kept, the seal on both copies. */
static void test_agent_steps_in_rauc_variables(void **state)
{
    struct tmp *t = *state;
    char err[UG_ERRBUF];
    assert_int_equal(bootstate_store_create(&t->store, "1.0.0", err), UG_OK);
    struct bootstate st;
    assert_int_equal(bootstate_store_load(&t->store, &st, err), UG_OK);
    assert_int_equal(st.booted, A);
    assert_true(st.slot[A].successful);
    assert_true(st.health.generation[0] == 1 && st.health.generation[1] == 1);

    assert_int_equal(bootstate_set_version(&st, B, "2.0.0", err), UG_OK);
    assert_int_equal(bootstate_set_active(&st, B, 3, err), UG_OK);
    assert_int_equal(bootstate_store_save(&t->store, &st, err), UG_OK);
    uint8_t block[GRUBENV_SIZE];
    struct grubenv env;
    read_block(t->path, block);
    assert_int_equal(grubenv_parse(block, sizeof block, &env), GRUBENV_OK);
    assert_string_equal(grubenv_get(&env, "ORDER"), "B A");
    assert_string_equal(grubenv_get(&env, "B_OK"), "1");
    assert_string_equal(grubenv_get(&env, "B_TRY"), "0");
    assert_string_equal(grubenv_get(&env, "UPGRADER_B_TRIAL"), "1");
    assert_string_equal(env.var[0].name, "UPGRADER_GEN");
    assert_string_equal(env.var[env.n - 1].name, "UPGRADER_SEAL");
    assert_string_equal(grubenv_get(&env, "UPGRADER_GEN"), "2");

    /* Not yet booted: B is on trial with its one try, and A's boot is no fallback. */
    assert_int_equal(bootstate_store_load(&t->store, &st, err), UG_OK);
    assert_int_equal(st.slot[B].tries, 1);
    assert_false(st.slot[B].successful);
    assert_false(st.fallback);
    assert_int_equal(bootstate_primary(&st), B);

    /* GRUB boots B: B_TRY=1 and the booted slot, written in place by save_env. */
    write_env(t->path, "UPGRADER_GEN=2\nORDER=B A\nA_OK=1\nA_TRY=0\nUPGRADER_A_TRIAL=0\n"
                       "UPGRADER_A_VERSION=1.0.0\nB_OK=1\nB_TRY=1\nUPGRADER_B_TRIAL=1\n"
                       "UPGRADER_B_VERSION=2.0.0\nUPGRADER_BOOTED=B\nsaved_entry=keep me\n"
                       "UPGRADER_SEAL=2\n");
    assert_int_equal(bootstate_store_load(&t->store, &st, err), UG_OK);
    assert_int_equal(st.booted, B);
    assert_false(st.slot[B].successful);
    assert_int_equal(bootstate_mark_good(&st, err), UG_OK);
    assert_int_equal(bootstate_store_save(&t->store, &st, err), UG_OK);
    read_block(t->path, block);
    assert_int_equal(grubenv_parse(block, sizeof block, &env), GRUBENV_OK);
    assert_string_equal(grubenv_get(&env, "B_TRY"), "0");
    assert_string_equal(grubenv_get(&env, "UPGRADER_B_TRIAL"), "0");
    assert_string_equal(grubenv_get(&env, "saved_entry"), "keep me");
    assert_string_equal(grubenv_get(&env, "UPGRADER_SEAL"), "3");
    assert_int_equal(bootstate_store_load(&t->store, &st, err), UG_OK);
    assert_true(st.slot[B].successful);
    assert_string_equal(st.slot[B].version, "2.0.0");
}

/* A copy whose generation and seal differ is torn; the other copy serves. */
static void test_torn_copy_is_not_read(void **state)
{
    struct tmp *t = *state;
    char err[UG_ERRBUF];
    write_env(t->path1, "UPGRADER_GEN=5\nORDER=A B\nA_OK=1\nUPGRADER_BOOTED=A\nUPGRADER_SEAL=5\n");
    write_env(t->path, "UPGRADER_GEN=6\nORDER=B A\nA_OK=1\nB_OK=1\nUPGRADER_BOOTED=A\n"
                       "UPGRADER_SEAL=5\n");
    struct bootstate st;
    assert_int_equal(bootstate_store_load(&t->store, &st, err), UG_OK);
    assert_int_equal(st.health.copy[0], BOOTSTATE_COPY_TORN);
    assert_int_equal(st.health.serving, 1);
    assert_int_equal(st.slot[B].priority, 0);
    /* The next save repairs both copies above every generation seen. */
    assert_int_equal(bootstate_store_save(&t->store, &st, err), UG_OK);
    assert_int_equal(bootstate_store_load(&t->store, &st, err), UG_OK);
    assert_true(st.health.copy[0] == BOOTSTATE_COPY_VALID && st.health.generation[0] == 6);
}

/* Copies at generation 2^64-1 cannot be outranked by one more: the count starts again at
 * 1 and the change is what both copies hold, sealed. */
static void test_generation_at_its_end(void **state)
{
    struct tmp *t = *state;
    char err[UG_ERRBUF];
    const char *vars = "UPGRADER_GEN=18446744073709551615\nORDER=A B\nA_OK=1\nA_TRY=0\n"
                       "UPGRADER_BOOTED=A\nUPGRADER_SEAL=18446744073709551615\n";
    write_env(t->path, vars);
    write_env(t->path1, vars);
    struct bootstate st, back;
    assert_int_equal(bootstate_store_load(&t->store, &st, err), UG_OK);
    assert_int_equal(bootstate_set_active(&st, B, 3, err), UG_OK);
    assert_int_equal(bootstate_store_save(&t->store, &st, err), UG_OK);
    assert_int_equal(bootstate_store_load(&t->store, &back, err), UG_OK);
    assert_int_equal(back.health.copy[0], BOOTSTATE_COPY_VALID);
    assert_int_equal(back.health.copy[1], BOOTSTATE_COPY_VALID);
    assert_int_equal(back.slot[B].priority, st.slot[B].priority);
    assert_true(back.health.generation[0] == 1);
}

/* ---- the bootloader's side: images/grub/upgrader-ab.cfg, step by step ---- */

struct grub_choice {
    int copy;      /* the copy the script loads, -1: none (factory defaults) */
    char slot;     /* what it boots */
    int first_try; /* found an OK slot with TRY=0, without the retry-everything pass */
    char vars[64]; /* ORDER and the four flags it read */
};

/* Seal check of one file as the script does it; the generation, or -1 (not usable). */
static long long grub_copy_gen(const char *path)
{
    uint8_t block[GRUBENV_SIZE + 1];
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t n = fread(block, 1, sizeof block, f);
    fclose(f);
    struct grubenv env;
    if (grubenv_parse(block, n, &env) != GRUBENV_OK)
        return -1;
    const char *gen = grubenv_get(&env, "UPGRADER_GEN"), *seal = grubenv_get(&env, "UPGRADER_SEAL");
    if (!gen && !seal)
        return 0;
    return gen && seal && gen[0] && strcmp(gen, seal) == 0 ? atoll(gen) : -1;
}

static const char *var_or(const struct grubenv *env, const char *name, const char *dflt)
{
    const char *v = grubenv_get(env, name);
    return v ? v : dflt;
}

static void grub_choose(const struct tmp *t, struct grub_choice *c)
{
    long long g1 = grub_copy_gen(t->path1), g0 = grub_copy_gen(t->path);
    c->copy = g0 < 0 ? (g1 > 0 ? 1 : -1) : (g1 > g0 ? 1 : 0);
    struct grubenv env = {0};
    if (c->copy >= 0) {
        uint8_t block[GRUBENV_SIZE];
        read_block(c->copy ? t->path1 : t->path, block);
        assert_int_equal(grubenv_parse(block, sizeof block, &env), GRUBENV_OK);
    }
    const char *order = var_or(&env, "ORDER", "A B");
    const char *ok[2] = {var_or(&env, "A_OK", c->copy < 0 ? "1" : "0"), var_or(&env, "B_OK", "0")};
    const char *try[2] = {var_or(&env, "A_TRY", "0"), var_or(&env, "B_TRY", "0")};
    snprintf(c->vars, sizeof c->vars, "%s %s%s %s%s", order, ok[0], try[0], ok[1], try[1]);
    c->slot = 0;
    c->first_try = 0;
    for (const char *p = order; *p && !c->slot; p++)
        if ((*p == 'A' || *p == 'B') && strcmp(ok[*p - 'A'], "1") == 0 &&
            strcmp(try[*p - 'A'], "0") == 0)
            c->slot = *p, c->first_try = 1;
    for (const char *p = order; *p && !c->slot; p++)
        if ((*p == 'A' || *p == 'B') && strcmp(ok[*p - 'A'], "1") == 0)
            c->slot = *p;
}

static void restore(const struct tmp *t, const uint8_t *b0, const uint8_t *b1)
{
    FILE *f = fopen(t->path, "r+b");
    assert_non_null(f);
    assert_int_equal(fwrite(b0, 1, GRUBENV_SIZE, f), GRUBENV_SIZE);
    fclose(f);
    f = fopen(t->path1, "r+b");
    assert_non_null(f);
    assert_int_equal(fwrite(b1, 1, GRUBENV_SIZE, f), GRUBENV_SIZE);
    fclose(f);
}

/* The switch to a new slot, cut after every byte of the two 1024-byte writes: the store then
 * holds the old state or the new one, never a third; the script reads the same one and
 * boots a slot that is OK with its try unused. */
static void test_power_cut_at_every_byte(void **state)
{
    struct tmp *t = *state;
    char err[UG_ERRBUF];
    assert_int_equal(bootstate_store_create(&t->store, "1.0.0", err), UG_OK);
    for (int round = 0; round < 2; round++) {
        struct bootstate old_st, new_st, want_new;
        assert_int_equal(bootstate_store_load(&t->store, &old_st, err), UG_OK);
        new_st = old_st;
        int slot = round ? A : B;
        assert_int_equal(bootstate_set_version(&new_st, slot, round ? "3.0.0-long-name" : "2", err),
                         UG_OK);
        assert_int_equal(bootstate_set_active(&new_st, slot, 3, err), UG_OK);
        uint8_t b0[GRUBENV_SIZE], b1[GRUBENV_SIZE];
        read_block(t->path, b0);
        read_block(t->path1, b1);
        struct grub_choice old_c, new_c;
        grub_choose(t, &old_c);
        struct bootstate saving = new_st;
        assert_int_equal(bootstate_store_save(&t->store, &saving, err), UG_OK);
        assert_int_equal(bootstate_store_load(&t->store, &want_new, err), UG_OK);
        grub_choose(t, &new_c);
        assert_false(bootstate_equal(&old_st, &want_new));
        int saw_old = 0, saw_new = 0;
        for (size_t limit = 0; limit <= 2 * GRUBENV_SIZE; limit++) {
            restore(t, b0, b1);
            cut_armed = 1;
            cut_budget = limit;
            saving = new_st;
            ug_err rc = bootstate_store_save(&t->store, &saving, err);
            cut_armed = 0;
            assert_int_equal(rc, limit < 2 * GRUBENV_SIZE ? UG_ERR_OTHER : UG_OK);
            struct bootstate got;
            assert_int_equal(bootstate_store_load(&t->store, &got, err), UG_OK);
            struct grub_choice c;
            grub_choose(t, &c);
            assert_true(c.first_try);
            if (bootstate_equal(&got, &old_st)) {
                if (saw_new)
                    fail_msg("round %d, cut after %zu bytes: old state after a new one", round,
                             limit);
                saw_old++;
                assert_string_equal(c.vars, old_c.vars);
                assert_int_equal(c.slot, old_c.slot);
            } else if (bootstate_equal(&got, &want_new)) {
                saw_new++;
                assert_string_equal(c.vars, new_c.vars);
                assert_int_equal(c.slot, new_c.slot);
            } else {
                fail_msg("round %d, cut after %zu bytes: a third state", round, limit);
            }
        }
        /* The switch happens once copy 1's variables are all written (its `#` padding is the
         * same before and after); before that, the old state. */
        if (saw_old < 150 || saw_old > GRUBENV_SIZE)
            fail_msg("round %d: old state for %d cuts", round, saw_old);
        assert_true(saw_new >= GRUBENV_SIZE + 1);
    }
}

static void test_cmdline_parsing(void **unused)
{
    (void)unused;
    char v[64];
    assert_int_equal(booted_from_cmdline("BOOT_IMAGE=/vmlinuz root=/dev/vda2 upgrader.slot=B"), B);
    assert_int_equal(booted_from_cmdline("rauc.slot=a"), A);
    assert_int_equal(booted_from_cmdline("rauc.slot=R upgrader.slot="), -1);
    assert_int_equal(booted_from_cmdline("xupgrader.slot=A"), -1);
    booted_cmdline_value("a=1 root=\"PARTLABEL=slot b\" c", "root", v, sizeof v);
    assert_string_equal(v, "PARTLABEL=slot b");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block_as_grub_lays_it_out),
        cmocka_unit_test(test_records_read_as_grub_reads_them),
        cmocka_unit_test(test_cmdline_parsing),
        cmocka_unit_test_setup_teardown(test_rauc_environment_loads, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_agent_steps_in_rauc_variables, tmp_setup,
                                        tmp_teardown),
        cmocka_unit_test_setup_teardown(test_torn_copy_is_not_read, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_generation_at_its_end, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_power_cut_at_every_byte, tmp_setup, tmp_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
