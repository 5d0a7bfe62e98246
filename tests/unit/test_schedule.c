/* SPDX-License-Identifier: MIT */
/* Unit tests of the resync schedule (schedule.c): the parameters read as the phones read
 * them, the random delay at start, Resync_Periodic and its lists, Resync_At replacing it,
 * error retries by the delay list and Retry-After, the forced delay. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/schedule.h"

/* Parameters as NAME=VALUE strings, NULL-terminated. */
static const char *lookup(void *ctx, const char *name)
{
    for (const char **kv = ctx; *kv; kv++) {
        size_t n = strlen(name);
        if (strncmp(*kv, name, n) == 0 && (*kv)[n] == '=')
            return *kv + n + 1;
    }
    return NULL;
}

/* A generator that always draws its bound (the latest moment), or always 0. */
static uint32_t draw_max(void *ctx, uint32_t bound)
{
    (void)ctx;
    return bound;
}

static void read_params(struct sched_params *p, const char **kv)
{
    sched_params_read(p, lookup, kv);
}

static void test_defaults(void **state)
{
    (void)state;
    const char *kv[] = {NULL};
    struct sched_params p;
    read_params(&p, kv);
    assert_true(p.on_reset);
    assert_int_equal(p.random_delay_s, 40); /* 2 units of 20 s */
    assert_int_equal(p.periodic.count, 1);
    assert_int_equal(p.at_minute, -1);
    assert_int_equal(p.retry.count, 12);
    assert_int_equal(p.forced_delay_s, 14400);
    assert_false(p.has_triggers);
}

static void test_first(void **state)
{
    (void)state;
    struct sched_params p;
    const char *kv[] = {"Resync_Random_Delay=3", NULL};
    read_params(&p, kv);
    assert_int_equal(sched_first(&p, 1000, NULL, NULL), 1000);
    assert_int_equal(sched_first(&p, 1000, draw_max, NULL), 1060);
    struct delay_rng rng;
    delay_rng_seed(&rng, 7);
    for (int i = 0; i < 1000; i++) {
        int64_t t = sched_first(&p, 1000, delay_rng_next, &rng);
        assert_true(t >= 1000 && t <= 1060);
    }
    const char *off[] = {"Resync_On_Reset=No", "Resync_Periodic=300", NULL};
    read_params(&p, off);
    assert_int_equal(sched_first(&p, 1000, draw_max, NULL), 1300);
    const char *none[] = {"Resync_On_Reset=No", "Resync_Periodic=0", NULL};
    read_params(&p, none);
    assert_int_equal(sched_first(&p, 1000, NULL, NULL), -1);
}

static void test_periodic(void **state)
{
    (void)state;
    struct sched_params p;
    const char *kv[] = {"Resync_Periodic=3600+600", NULL};
    read_params(&p, kv);
    struct sched_history h = {0};
    sched_record(&h, 1);
    assert_int_equal(sched_next(&p, &h, 0, 0, NULL, NULL), 3600);
    assert_int_equal(sched_next(&p, &h, 0, 0, draw_max, NULL), 4200);
    const char *list[] = {"Resync_Periodic=60,120,300", NULL};
    read_params(&p, list);
    struct sched_history s = {0};
    int64_t expect[] = {60, 120, 300, 300};
    for (int i = 0; i < 4; i++) {
        sched_record(&s, 1);
        assert_int_equal(sched_next(&p, &s, 0, 0, NULL, NULL), expect[i]);
    }
    const char *off[] = {"Resync_Periodic=", NULL};
    read_params(&p, off);
    assert_int_equal(sched_next(&p, &s, 0, 0, NULL, NULL), -1);
}

static void test_resync_at(void **state)
{
    (void)state;
    assert_int_equal(sched_parse_hhmm("0000"), 0);
    assert_int_equal(sched_parse_hhmm("2400"), 1440);
    assert_int_equal(sched_parse_hhmm("0230"), 150);
    assert_int_equal(sched_parse_hhmm("2401"), -1);
    assert_int_equal(sched_parse_hhmm("1260"), -1);
    assert_int_equal(sched_parse_hhmm("230"), -1);
    assert_int_equal(sched_parse_hhmm(""), -1);
    struct sched_params p;
    const char *kv[] = {"Resync_At__HHmm_=0230", "Resync_Periodic=60", "Resync_At_Random_Delay=0",
                        NULL};
    read_params(&p, kv);
    assert_int_equal(p.at_window_s, 600);
    int64_t day = 20000 * 86400LL; /* a midnight, UTC */
    /* A valid Resync_At replaces the periodic resync: next 02:30, not now + 60. */
    assert_int_equal(sched_next(&p, NULL, day + 60, 0, NULL, NULL), day + 150 * 60);
    /* Past today's: tomorrow's. The window is drawn from. */
    assert_int_equal(sched_next(&p, NULL, day + 3 * 3600, 0, draw_max, NULL),
                     day + 86400 + 150 * 60 + 600);
    /* Local time one hour east of UTC: 02:30 local is 01:30 UTC. */
    assert_int_equal(sched_next(&p, NULL, day, 3600, NULL, NULL), day + 90 * 60);
    const char *win[] = {"Resync_At__HHmm_=0230", "Resync_At_Random_Delay=1000", NULL};
    read_params(&p, win);
    assert_int_equal(p.at_window_s, 1020); /* (1000 + 30) / 60 minutes */
    const char *bad[] = {"Resync_At__HHmm_=2500", "Resync_Periodic=60", NULL};
    read_params(&p, bad);
    assert_int_equal(sched_next(&p, NULL, day, 0, NULL, NULL), day + 60); /* ignored */
}

static void test_retry(void **state)
{
    (void)state;
    struct sched_params p;
    const char *kv[] = {"Resync_Error_Retry_Delay=30,60,120", "Resync_Periodic=3600", NULL};
    read_params(&p, kv);
    struct sched_history h = {0};
    int64_t expect[] = {30, 60, 120, 120};
    for (int i = 0; i < 4; i++) {
        sched_record(&h, 0);
        assert_int_equal(sched_retry(&p, &h, 0, 0, 0, NULL, NULL), expect[i]);
    }
    /* A server's Retry-After counts when it is later than the list's delay. */
    assert_int_equal(sched_retry(&p, &h, 0, 500, 0, NULL, NULL), 500);
    assert_int_equal(sched_retry(&p, &h, 0, 5, 0, NULL, NULL), 120);
    /* A success starts the list again. */
    sched_record(&h, 1);
    sched_record(&h, 0);
    assert_int_equal(sched_retry(&p, &h, 0, 0, 0, NULL, NULL), 30);
    /* No retry list: the regular schedule. */
    const char *none[] = {"Resync_Error_Retry_Delay=0", "Resync_Periodic=3600", NULL};
    read_params(&p, none);
    assert_int_equal(sched_retry(&p, &h, 0, 0, 0, NULL, NULL), 3600);
}

static void test_forced_and_equal(void **state)
{
    (void)state;
    struct sched_params a, b;
    const char *kv[] = {"Forced_Resync_Delay=90", "Resync_Trigger_1=$PRVTMR ge 600", NULL};
    read_params(&a, kv);
    assert_int_equal(sched_force_at(&a, 1000), 1090);
    assert_true(a.has_triggers);
    read_params(&b, kv);
    assert_true(sched_params_equal(&a, &b));
    const char *other[] = {"Forced_Resync_Delay=91", "Resync_Trigger_1=$PRVTMR ge 600", NULL};
    read_params(&b, other);
    assert_false(sched_params_equal(&a, &b));
    /* A value that does not parse counts as the default. */
    const char *bad[] = {"Forced_Resync_Delay=soon", "Resync_Periodic=x", NULL};
    read_params(&b, bad);
    assert_int_equal(b.forced_delay_s, 14400);
    assert_int_equal(b.periodic.count, 1);
    assert_int_equal(b.periodic.item[0].seconds, 3600);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults), cmocka_unit_test(test_first),
        cmocka_unit_test(test_periodic), cmocka_unit_test(test_resync_at),
        cmocka_unit_test(test_retry),    cmocka_unit_test(test_forced_and_equal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
