/* SPDX-License-Identifier: MIT */
/* Unit tests of the version order (version.c): dotted versions, SPA suffixes and Cisco
 * load names, table-driven, including the examples of docs/provisioning.md section 1.6. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/version.h"

struct order_case {
    const char *a, *b;
    int expected; /* sign of compare(a, b) */
};

static const struct order_case order_cases[] = {
    {"9.4.2", "10.0.0", -1},
    {"11.0.1", "11.0.10", -1},
    {"11.0.10", "11.0.9", 1},
    {"1.0", "1.0.0", 0},
    {"1.0.0", "1.0.0.1", -1},
    {"01.002.3", "1.2.3", 0},
    {"1.0.31(b)", "1.0.31(a)", 1},
    {"2.0.3(0412s)", "2.0.3", 1},
    {"sip88xx.11-0-1MPP-477", "sip88xx.11-0-1MPP-478", -1},
    {"sip88xx.11-0-0MPP-BN", "sip88xx.9-3-1-7MPP-BN", 1},
    {"sipyyyy.11-3-2MPP0002-256", "sipyyyy.11-3-2MPP0001-609", 1},
    {"sip88xx.11-1-1MSR-1dev.loads", "sip8845_65.11-1-1MSR-1dev.loads", 0},
    {"PHONEOS-8875.1-0-1-0001-1.loads", "PHONEOS-8875.1-0-1-0001-2.loads", -1},
    {"11-1-0MPP-19", "sip78xx.11-1-0MPP-19", 0},
    {"1.2.3a", "1.2.3b", -1},
    {"1.2.10a", "1.2.9z", 1},
    {"123456789012345678901234567.0", "123456789012345678901234568.0", -1},
};

static void test_order(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof order_cases / sizeof order_cases[0]; i++) {
        const struct order_case *c = &order_cases[i];
        int cmp = 99;
        char err[UG_ERRBUF];
        assert_int_equal(version_compare(c->a, c->b, &cmp, err), UG_OK);
        if (cmp != c->expected)
            fail_msg("compare(%s, %s) = %d, expected %d", c->a, c->b, cmp, c->expected);
        /* The order is antisymmetric. */
        assert_int_equal(version_compare(c->b, c->a, &cmp, err), UG_OK);
        assert_int_equal(cmp, -c->expected);
    }
}

static void test_formats(void **state)
{
    (void)state;
    struct version v;
    assert_int_equal(version_parse("9.4.2", &v), 0);
    assert_int_equal(v.format, VERSION_DOTTED);
    assert_int_equal(v.nfields, 3);
    assert_int_equal(version_parse("sip88xx.11-0-1MPP-477", &v), 0);
    assert_int_equal(v.format, VERSION_LOAD);
    assert_int_equal(v.nfields, 4);
    assert_string_equal(v.field[2].digits, "1");
    assert_string_equal(v.field[2].rest, "MPP");
}

static void test_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",        "abc",       "1..2",    "1.2.",     ".1",       "1.2 3",
        "1/2",     "v1.2",      "1.2.3(b", "1.2(b).3", "sip88xx.", "1.2.3.4.5.6.7.8.9.10.11.12.13",
        "7.6.2.a", "7.6.2.rc1", "7.x.2",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct version v;
        if (version_parse(bad[i], &v) == 0)
            fail_msg("'%s' parsed as a version", bad[i]);
    }
    int cmp;
    char err[UG_ERRBUF];
    assert_int_equal(version_compare("1.0", "x", &cmp, err), UG_ERR_USAGE);
    assert_string_equal(err, "'x' is not a version");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_invalid),
    };
    return cmocka_run_group_tests_name("version", tests, NULL, NULL);
}
