/* SPDX-License-Identifier: MIT */
/* Unit tests of units.c: byte counts with K/M/G suffixes, and every malformed form refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/units.h"

static void test_sizes(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        uint64_t bytes;
    } good[] = {
        {"1", 1},
        {"4096", 4096},
        {"64K", 65536},
        {"64k", 65536},
        {"8M", 8u << 20},
        {"2G", 2ull << 30},
        {"17179869183G", 17179869183ull << 30},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint64_t n = 0;
        assert_int_equal(units_parse_size(good[i].text, &n), 0);
        assert_true(n == good[i].bytes);
    }
    static const char *const bad[] = {"",
                                      "0",
                                      "-1",
                                      "+5",
                                      " 5",
                                      "5 ",
                                      "5T",
                                      "5MB",
                                      "M",
                                      "18446744073709551616",
                                      "17179869184G",
                                      "1.5M"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t n = 0;
        if (units_parse_size(bad[i], &n) == 0)
            fail_msg("'%s' was accepted as a size", bad[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_sizes)};
    return cmocka_run_group_tests_name("units", tests, NULL, NULL);
}
