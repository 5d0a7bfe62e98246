/* SPDX-License-Identifier: MIT */
/* Unit tests of the boot state's uboot backend (backends/bootstate_uboot.c): RAUC's U-Boot
 * variables both ways (hex counters), a real redundant environment through libubootenv, and
 * a store cut after every byte of the copy it writes leaving the old state or the new one,
 * from which the boot script's walk of BOOT_ORDER finds a slot with boots left. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libuboot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bootctl/backends/bootstate_uboot.h"
#include "bootctl/booted.h"
#include "bootctl/bootstate.h"

#define A        BOOTSTATE_SLOT_A
#define B        BOOTSTATE_SLOT_B
#define ENV_SIZE 0x1000

/* ---- variables without a medium: a table ---- */

struct table {
    const char *name[16];
    char value[16][64];
    int n;
};

static const char *table_get(void *ctx, const char *name)
{
    struct table *t = ctx;
    for (int i = 0; i < t->n; i++)
        if (strcmp(t->name[i], name) == 0)
            return t->value[i];
    return NULL;
}

static int table_set(void *ctx, const char *name, const char *value)
{
    struct table *t = ctx;
    static char names[16][32];
    int i = 0;
    while (i < t->n && strcmp(t->name[i], name) != 0)
        i++;
    if (i == t->n) {
        snprintf(names[i], sizeof names[i], "%s", name);
        t->name[i] = names[i];
        t->n++;
    }
    snprintf(t->value[i], sizeof t->value[i], "%s", value ? value : "(unset)");
    return 0;
}

/* RAUC writes and reads the counters in hex; other boot names in BOOT_ORDER are skipped. */
static void test_rauc_hex_counters(void **unused)
{
    (void)unused;
    struct table t = {.n = 0};
    table_set(&t, "BOOT_ORDER", "R B A");
    table_set(&t, "BOOT_A_LEFT", "c");   /* 12: a good slot (at least the 3 of mark-good) */
    table_set(&t, "BOOT_B_LEFT", "0x2"); /* booted once since it was made primary */
    struct bootstate st = {0};
    assert_int_equal(bootstate_uboot_decode(table_get, &t, &st), BOOTSTATE_COPY_VALID);
    assert_int_equal(st.slot[B].priority, 15);
    assert_int_equal(st.slot[A].priority, 14);
    assert_true(st.slot[A].successful);
    assert_false(st.slot[B].successful);
    assert_int_equal(st.slot[B].tries, 2);
    assert_int_equal(st.booted, -1);
    table_set(&t, "BOOT_B_LEFT", "zz");
    assert_int_equal(bootstate_uboot_decode(table_get, &t, &st), BOOTSTATE_COPY_BAD_FIELDS);
    /* Out of BOOT_ORDER: no priority, whatever is left (RAUC's mark-bad). */
    table_set(&t, "BOOT_ORDER", "A");
    table_set(&t, "BOOT_B_LEFT", "3");
    assert_int_equal(bootstate_uboot_decode(table_get, &t, &st), BOOTSTATE_COPY_VALID);
    assert_int_equal(st.slot[B].priority, 0);
    struct table none = {.n = 0};
    assert_int_equal(bootstate_uboot_decode(table_get, &none, &st), BOOTSTATE_COPY_MISSING);
}

static void test_encode_in_rauc_words(void **unused)
{
    (void)unused;
    char err[UG_ERRBUF];
    struct bootstate st;
    assert_int_equal(bootstate_init_fresh(&st, "1.0.0", err), UG_OK);
    assert_int_equal(bootstate_set_version(&st, B, "2.0.0", err), UG_OK);
    assert_int_equal(bootstate_set_active(&st, B, 12 > 7 ? 7 : 3, err), UG_OK);
    struct table t = {.n = 0};
    assert_int_equal(bootstate_uboot_encode(&st, table_set, &t), 0);
    assert_string_equal(table_get(&t, "BOOT_ORDER"), "B A");
    assert_string_equal(table_get(&t, "BOOT_B_LEFT"), "7");
    assert_string_equal(table_get(&t, "BOOT_A_LEFT"), "3");
    assert_string_equal(table_get(&t, "UPGRADER_B_TRIAL"), "1");
    assert_string_equal(table_get(&t, "UPGRADER_BOOTED"), "A");
    assert_int_equal(bootstate_mark_bad(&st, B, err), UG_OK);
    assert_int_equal(bootstate_uboot_encode(&st, table_set, &t), 0);
    assert_string_equal(table_get(&t, "BOOT_ORDER"), "A");
    assert_string_equal(table_get(&t, "BOOT_B_LEFT"), "0");
}

/* ---- a real redundant environment in a file ---- */

struct tmp {
    char dir[64], env[128], config[128];
    struct bootstate_store store;
};

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void read_file(const char *path, void *data, size_t len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(data, 1, len, f), len);
    fclose(f);
}

static int tmp_setup(void **state)
{
    struct tmp *t = calloc(1, sizeof *t);
    char err[UG_ERRBUF], text[300];
    static uint8_t zero[2 * ENV_SIZE];
    snprintf(t->dir, sizeof t->dir, "/tmp/test_bootstate_uboot.XXXXXX");
    if (!mkdtemp(t->dir))
        return -1;
    snprintf(t->env, sizeof t->env, "%s/uboot.env", t->dir);
    snprintf(t->config, sizeof t->config, "%s/fw_env.config", t->dir);
    write_file(t->env, zero, sizeof zero);
    snprintf(text, sizeof text, "%s 0x0000 0x%x\n%s 0x%x 0x%x\n", t->env, ENV_SIZE, t->env,
             ENV_SIZE, ENV_SIZE);
    write_file(t->config, text, strlen(text));
    if (bootstate_store_init(&t->store, "uboot", t->config, err) != UG_OK)
        return -1;
    setenv(BOOTED_CMDLINE_ENV, "quiet", 1);
    *state = t;
    return 0;
}

static int tmp_teardown(void **state)
{
    struct tmp *t = *state;
    char lock[160];
    snprintf(lock, sizeof lock, "%s.lock", t->config);
    unlink(t->env);
    unlink(t->config);
    unlink(lock);
    rmdir(t->dir);
    free(t);
    return 0;
}

static void test_store_through_libubootenv(void **state)
{
    struct tmp *t = *state;
    char err[UG_ERRBUF];
    struct bootstate st;
    assert_int_equal(bootstate_store_load(&t->store, &st, err), UG_ERR_UNUSABLE);
    assert_int_equal(st.health.copy[0], BOOTSTATE_COPY_BAD_CRC);
    assert_int_equal(bootstate_store_create(&t->store, "1.0.0", err), UG_OK);
    assert_int_equal(bootstate_store_load(&t->store, &st, err), UG_OK);
    assert_int_equal(st.booted, A);
    assert_string_equal(st.slot[A].version, "1.0.0");
    assert_int_equal(st.health.copies, 2);
    int first = st.health.serving;
    assert_int_equal(bootstate_set_active(&st, B, 2, err), UG_OK);
    assert_int_equal(bootstate_store_save(&t->store, &st, err), UG_OK);
    struct bootstate back;
    assert_int_equal(bootstate_store_load(&t->store, &back, err), UG_OK);
    assert_int_equal(back.health.serving, 1 - first); /* the other copy took the write */
    assert_true(back.health.copy[0] == BOOTSTATE_COPY_VALID &&
                back.health.copy[1] == BOOTSTATE_COPY_VALID);
    assert_int_equal(back.slot[B].tries, 2);
    assert_false(back.fallback);
    /* U-Boot booted B twice without mark-good: out of boots, A booted: a fallback. */
    setenv(BOOTED_CMDLINE_ENV, "root=/dev/mmcblk0p2 rauc.slot=A", 1);
    back.slot[B].tries = 0;
    assert_int_equal(bootstate_store_save(&t->store, &back, err), UG_OK);
    assert_int_equal(bootstate_store_load(&t->store, &back, err), UG_OK);
    assert_true(back.fallback);
}

/* What the boot script does: the first slot of BOOT_ORDER with boots left (hex), read as
 * libubootenv (and U-Boot) read the redundant environment. 0 when none. */
static char script_choice(const char *config)
{
    struct uboot_ctx *ctx;
    char pick = 0;
    assert_int_equal(libuboot_initialize(&ctx, NULL), 0);
    assert_int_equal(libuboot_read_config(ctx, config), 0);
    if (libuboot_open(ctx) == 0) {
        char *order = libuboot_get_env(ctx, "BOOT_ORDER");
        for (char *p = order; p && *p && !pick; p++) {
            char name[] = "BOOT_x_LEFT";
            name[5] = *p;
            char *left = (*p == 'A' || *p == 'B') ? libuboot_get_env(ctx, name) : NULL;
            if (left && strtoul(left, NULL, 16) > 0)
                pick = *p;
            free(left);
        }
        free(order);
    }
    libuboot_close(ctx);
    libuboot_exit(ctx);
    return pick;
}

/* The switch to B, its one write of the redundant copy cut after every byte: the store holds
 * the old state or the new one, and the script boots A (old) or B (new). */
static void test_power_cut_at_every_byte(void **state)
{
    struct tmp *t = *state;
    char err[UG_ERRBUF];
    static uint8_t before[2 * ENV_SIZE], after[2 * ENV_SIZE], torn[2 * ENV_SIZE];
    assert_int_equal(bootstate_store_create(&t->store, "1.0.0", err), UG_OK);
    struct bootstate old_st, new_st;
    assert_int_equal(bootstate_store_load(&t->store, &old_st, err), UG_OK);
    read_file(t->env, before, sizeof before);
    new_st = old_st;
    assert_int_equal(bootstate_set_version(&new_st, B, "2.0.0", err), UG_OK);
    assert_int_equal(bootstate_set_active(&new_st, B, 3, err), UG_OK);
    assert_int_equal(bootstate_store_save(&t->store, &new_st, err), UG_OK);
    assert_int_equal(bootstate_store_load(&t->store, &new_st, err), UG_OK);
    read_file(t->env, after, sizeof after);
    /* libubootenv wrote one copy only: the one not serving before. */
    int target = memcmp(before, after, ENV_SIZE) != 0 ? 0 : 1;
    assert_memory_equal(before + (1 - target) * ENV_SIZE, after + (1 - target) * ENV_SIZE,
                        ENV_SIZE);
    int saw_old = 0, saw_new = 0;
    for (size_t k = 0; k <= ENV_SIZE; k++) {
        memcpy(torn, before, sizeof torn);
        memcpy(torn + target * ENV_SIZE, after + target * ENV_SIZE, k);
        write_file(t->env, torn, sizeof torn);
        struct bootstate got;
        assert_int_equal(bootstate_store_load(&t->store, &got, err), UG_OK);
        char pick = script_choice(t->config);
        if (bootstate_equal(&got, &old_st) && pick == 'A') {
            assert_false(saw_new);
            saw_old++;
        } else if (bootstate_equal(&got, &new_st) && pick == 'B') {
            saw_new++;
        } else {
            fail_msg("cut after %zu bytes: a third state (script picks '%c')", k,
                     pick ? pick : '-');
        }
    }
    /* The CRC leads the copy: until every variable after it is written it fails. Past them
     * libubootenv writes whatever its buffer held (zeros, or a sanitizer's fill), so the new
     * state shows from there or only with the whole copy. */
    if (saw_old < 100 || saw_new < 1)
        fail_msg("old state for %d cuts, new for %d", saw_old, saw_new);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rauc_hex_counters),
        cmocka_unit_test(test_encode_in_rauc_words),
        cmocka_unit_test_setup_teardown(test_store_through_libubootenv, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_power_cut_at_every_byte, tmp_setup, tmp_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
