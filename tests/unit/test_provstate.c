/* SPDX-License-Identifier: MIT */
/* Unit tests of the provisioning state machine (provstate.c): every transition of
 * docs/provisioning.md 7.1, the LED pattern of each exit code, and $PRVST. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "resync/provstate.h"

struct transition {
    enum prov_state from;
    struct prov_outcome did;
    enum prov_state to;
};

static const struct transition transitions[] = {
    /* Nothing applied (a failure before any file, a 304, only skipped rules): no change. */
    {PROV_MFG_RESET, {0, 0, 0}, PROV_MFG_RESET},
    {PROV_SP_CUST, {0, 0, 0}, PROV_SP_CUST},
    {PROV_SEC_PRV_1, {0, 0, 1}, PROV_SEC_PRV_1},
    {PROV_SEC_PRV_2, {0, 0, 1}, PROV_SEC_PRV_2},
    /* A plain profile without a --key rule. */
    {PROV_MFG_RESET, {1, 0, 0}, PROV_SP_CUST},
    {PROV_SEC_PRV_2, {1, 0, 0}, PROV_SP_CUST},
    /* The per-device profile arms a --key rule: SEC-PRV-1. */
    {PROV_MFG_RESET, {1, 0, 1}, PROV_SEC_PRV_1},
    {PROV_SP_CUST, {1, 0, 1}, PROV_SEC_PRV_1},
    /* The armed rule fetched and decrypted its profile: SEC-PRV-2, also when it rotates the key. */
    {PROV_SEC_PRV_1, {1, 1, 1}, PROV_SEC_PRV_2},
    {PROV_SEC_PRV_1, {1, 1, 0}, PROV_SEC_PRV_2},
    {PROV_SEC_PRV_2, {1, 1, 1}, PROV_SEC_PRV_2},
    {PROV_MFG_RESET, {1, 1, 0}, PROV_SEC_PRV_2},
};

static void test_transitions(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof transitions / sizeof transitions[0]; i++) {
        const struct transition *t = &transitions[i];
        enum prov_state got = provstate_next(t->from, &t->did);
        if (got != t->to)
            fail_msg("case %zu: %s + {applied %d, used_key %d, armed %d} = %s, expected %s", i,
                     provstate_name(t->from), t->did.applied, t->did.used_key, t->did.armed_key,
                     provstate_name(got), provstate_name(t->to));
    }
}

static void test_names(void **state)
{
    (void)state;
    static const char *const names[] = {"MFG-RESET", "SP-CUST", "SEC-PRV-1", "SEC-PRV-2"};
    for (int i = 0; i < 4; i++) {
        assert_string_equal(provstate_name((enum prov_state)i), names[i]);
        assert_int_equal(provstate_parse(names[i]), i);
    }
    assert_int_equal(provstate_parse("sec-prv-1"), -1);
    assert_int_equal(provstate_parse(""), -1);
    assert_int_equal(provstate_parse(NULL), -1);
    assert_string_equal(provstate_name((enum prov_state)9), "unknown");
}

static void test_led(void **state)
{
    (void)state;
    static const struct {
        ug_err result;
        const char *led;
    } cases[] = {
        {UG_OK, "off"},
        {UG_ERR_UNREACHABLE, "slow-blink"},
        {UG_ERR_UNUSABLE, "fast-blink"},
        {UG_ERR_USAGE, "fast-blink"},
        {UG_ERR_OTHER, "fast-blink"},
        {UG_ERR_VERIFY, "fast-blink"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(provstate_led(cases[i].result), cases[i].led);
}

static void test_prvst(void **state)
{
    (void)state;
    assert_int_equal(provstate_prvst(0, UG_OK), 0);
    assert_int_equal(provstate_prvst(0, UG_ERR_UNUSABLE), 0);
    assert_int_equal(provstate_prvst(1, UG_OK), 1);
    assert_int_equal(provstate_prvst(1, UG_ERR_UNREACHABLE), 2);
    assert_int_equal(provstate_prvst(1, UG_ERR_USAGE), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transitions),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_led),
        cmocka_unit_test(test_prvst),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
