/* SPDX-License-Identifier: MIT */
/* Unit tests of delay lists (delay.c): parsing, the last element repeating, the random
 * part drawn from a seeded source, and malformed lists with their column. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lang/delay.h"

struct pick_case {
    const char *list;
    unsigned attempt;
    uint64_t expected; /* with no random source */
};

static const struct pick_case picks[] = {
    {"60,120,240", 0, 60},
    {"60,120,240", 1, 120},
    {"60,120,240", 2, 240},
    {"60,120,240", 3, 240},
    {"60,120,240", 1000, 240},
    {"3600", 0, 3600},
    {"3600", 7, 3600},
    {"1800, 3600 ,7200,14400+3600", 3, 14400},
    {"1800,3600,7200,14400+3600", 9, 14400},
    {"", 0, 0},
    {"0", 0, 0},
    {"0", 5, 0},
    {" ", 0, 0},
    {"60,120,240,480,960,1920,3840,7680,15360,30720,61440,86400", 11, 86400},
    {"60,120,240,480,960,1920,3840,7680,15360,30720,61440,86400", 4, 960},
    {"4294967295", 0, 4294967295u},
};

static void test_pick(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof picks / sizeof picks[0]; i++) {
        struct delay_list l;
        char err[UG_ERRBUF];
        if (delay_parse(picks[i].list, &l, err) != UG_OK)
            fail_msg("'%s': %s", picks[i].list, err);
        uint64_t got = delay_pick(&l, picks[i].attempt, NULL, NULL);
        if (got != picks[i].expected)
            fail_msg("'%s'[%u] = %llu, expected %llu", picks[i].list, picks[i].attempt,
                     (unsigned long long)got, (unsigned long long)picks[i].expected);
    }
}

static void test_parse_fields(void **state)
{
    (void)state;
    struct delay_list l;
    char err[UG_ERRBUF];
    assert_int_equal(delay_parse("60,120,240+30", &l, err), UG_OK);
    assert_int_equal(l.count, 3);
    assert_int_equal(l.item[2].seconds, 240);
    assert_int_equal(l.item[2].random, 30);
    assert_int_equal(l.item[0].random, 0);
    assert_int_equal(delay_parse("3600+600", &l, err), UG_OK);
    assert_int_equal(l.count, 1);
    assert_int_equal(l.item[0].random, 600);
    /* A lone 0 disables, but 0 inside a list is a real zero delay. */
    assert_int_equal(delay_parse("0,60", &l, err), UG_OK);
    assert_int_equal(l.count, 2);
    assert_int_equal(delay_parse("0+30", &l, err), UG_OK);
    assert_int_equal(l.count, 1);
}

static void test_random(void **state)
{
    (void)state;
    struct delay_list l;
    char err[UG_ERRBUF];
    assert_int_equal(delay_parse("100+50,1000+0,20+10", &l, err), UG_OK);
    struct delay_rng a, b;
    delay_rng_seed(&a, 1234);
    delay_rng_seed(&b, 1234);
    int seen_low = 0, seen_high = 0, seen[11] = {0};
    for (int k = 0; k < 2000; k++) {
        uint64_t d0 = delay_pick(&l, 0, delay_rng_next, &a);
        assert_true(d0 >= 100 && d0 <= 150);
        seen_low |= d0 < 110;
        seen_high |= d0 > 140;
        /* The same seed gives the same sequence. */
        assert_int_equal(delay_pick(&l, 0, delay_rng_next, &b), d0);
        assert_int_equal(delay_pick(&l, 1, delay_rng_next, &a), 1000);
        delay_pick(&l, 1, delay_rng_next, &b);
        uint64_t d2 = delay_pick(&l, 5, delay_rng_next, &a);
        assert_true(d2 >= 20 && d2 <= 30);
        seen[d2 - 20] = 1;
        delay_pick(&l, 5, delay_rng_next, &b);
    }
    assert_true(seen_low && seen_high);
    for (int v = 0; v <= 10; v++)
        if (!seen[v])
            fail_msg("20+10 never gave %d in 2000 draws", 20 + v);
    /* Another seed, another sequence. */
    struct delay_rng c;
    delay_rng_seed(&c, 99);
    delay_rng_seed(&a, 1234);
    int differ = 0;
    for (int k = 0; k < 20; k++)
        differ |= delay_pick(&l, 0, delay_rng_next, &a) != delay_pick(&l, 0, delay_rng_next, &c);
    assert_true(differ);
}

struct bad_case {
    const char *list;
    const char *message;
};

static const struct bad_case bad[] = {
    {"abc", "delay list 'abc': column 1: expected a number of seconds"},
    {"60,,120", "delay list '60,,120': column 4: expected a number of seconds"},
    {"60,", "delay list '60,': column 4: expected a number of seconds"},
    {"60+", "delay list '60+': column 4: expected a number after '+'"},
    {"60 120", "delay list '60 120': column 4: expected ',' or the end"},
    {"-5", "delay list '-5': column 1: expected a number of seconds"},
    {"60;120", "delay list '60;120': column 3: expected ',' or the end"},
    {"4294967296", "delay list '4294967296': column 1: expected a number of seconds"},
    {"1.5", "delay list '1.5': column 2: expected ',' or the end"},
};

static void test_malformed(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct delay_list l;
        char err[UG_ERRBUF] = "";
        assert_int_equal(delay_parse(bad[i].list, &l, err), UG_ERR_USAGE);
        if (strcmp(err, bad[i].message) != 0)
            fail_msg("'%s': message '%s', expected '%s'", bad[i].list, err, bad[i].message);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pick),
        cmocka_unit_test(test_parse_fields),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
