/* SPDX-License-Identifier: MIT */
/* Unit tests of the URL commands (routes.c): the command of each path, the whole query as
 * the rule, trailing inline credentials taken off (a rule's own '&' kept), malformed rules
 * and escapes refused, a bare host/file accepted as the rule syntax allows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "web/routes.h"

static struct param_table t;

static int setup(void **state)
{
    char err[UG_ERRBUF];
    (void)state;
    return paramdefs_load(&t, NULL, err) == UG_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    paramdefs_free(&t);
    return 0;
}

static ug_err parse(const char *path, const char *query, struct route *r)
{
    char err[UG_ERRBUF];
    return route_parse(path, query, &t, r, err);
}

static void test_commands(void **state)
{
    struct route r;
    (void)state;
    assert_int_equal(parse("/admin/upgrade", "http://fw.example/1.5.0.bundle", &r), UG_OK);
    assert_int_equal(r.command, ROUTE_JOB);
    assert_int_equal(r.kind, JOB_UPGRADE);
    assert_string_equal(r.rule, "http://fw.example/1.5.0.bundle");
    route_free(&r);
    assert_int_equal(parse("/admin/resync", NULL, &r), UG_OK);
    assert_int_equal(r.kind, JOB_RESYNC);
    assert_null(r.rule); /* the stored rules */
    route_free(&r);
    assert_int_equal(parse("/admin/resync", "10.0.0.5/phone.xml", &r), UG_OK);
    assert_string_equal(r.rule, "10.0.0.5/phone.xml"); /* TFTP, as in a Profile_Rule */
    route_free(&r);
    assert_int_equal(parse("/admin/resync", "[--key%20$A]%20https://s/p.xml", &r), UG_OK);
    assert_string_equal(r.rule, "[--key $A] https://s/p.xml");
    route_free(&r);
    assert_int_equal(parse("/admin/reboot", "whatever", &r), UG_OK);
    assert_int_equal(r.kind, JOB_REBOOT);
    assert_null(r.rule);
    route_free(&r);
    assert_int_equal(parse("/admin/factory-reset", NULL, &r), UG_OK);
    assert_true(r.post_only);
    route_free(&r);
    assert_int_equal(parse("/admin/status", NULL, &r), UG_OK);
    assert_int_equal(r.command, ROUTE_STATUS);
    route_free(&r);
    assert_int_equal(parse("/admin/upgradex", "x", &r), UG_OK);
    assert_int_equal(r.command, ROUTE_NONE);
    route_free(&r);
}

static void test_inline_credentials(void **state)
{
    struct route r;
    (void)state;
    assert_int_equal(
        parse("/admin/upgrade", "http://s/fw?a=1&b=2&xuser=admin&xpassword=p%26w%20d", &r), UG_OK);
    assert_string_equal(r.rule, "http://s/fw?a=1&b=2");
    assert_string_equal(r.xuser, "admin");
    assert_string_equal(r.xpassword, "p&w d");
    route_free(&r);
    assert_int_equal(parse("/admin/resync", "xpassword=x&xuser=admin", &r), UG_OK);
    assert_null(r.rule);
    assert_string_equal(r.xuser, "admin");
    route_free(&r);
    /* Not at the end: part of the rule, which then has to be a valid one. */
    assert_int_equal(parse("/admin/upgrade", "xuser=admin&http://s/x.bundle", &r), UG_ERR_USAGE);
    route_free(&r);
}

static void test_refused(void **state)
{
    struct route r;
    (void)state;
    static const char *const bad[][2] = {
        {"/admin/upgrade", NULL},         /* an upgrade names what */
        {"/admin/upgrade", "%20"},        /* blank */
        {"/admin/upgrade", "/fw.bundle"}, /* no server */
        {"/admin/resync", "http://a b c"},
        {"/admin/resync", "http://s/%zz"},  /* a bad escape */
        {"/admin/resync", "http://s/%00x"}, /* a NUL */
        {"/admin/resync", "http://s/x&xuser=%G1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(parse(bad[i][0], bad[i][1], &r), UG_ERR_USAGE);
        route_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commands),
        cmocka_unit_test(test_inline_credentials),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
