/* SPDX-License-Identifier: MIT */
/* Unit tests of the catalog parser (catalog.c): every field missing or of the wrong type,
 * URL resolution, sorting, and the version keys the planner compares. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "upgrade/catalog.h"

#define SHA "\"sha256\": \"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\""
#define GOOD_FIELDS                                                          \
    "\"version\": \"2.0.0\", \"bundle\": \"b/2.bundle\", \"size\": 42, " SHA \
    ", \"min_from\": \"1.0\""

/* One release object made of `fields`, wrapped in a catalog. */
static ug_err parse_release_text(const char *fields, struct catalog *c, char *err)
{
    char json[2048];
    snprintf(json, sizeof json, "{\"product\": \"P\", \"releases\": [{%s}]}", fields);
    return catalog_parse(json, strlen(json), "http://example.com/fw/catalog.json", c, err);
}

struct field_case {
    const char *fields;
    const char *must_mention; /* the field the message names */
};

static const struct field_case bad_fields[] = {
    /* missing, one at a time */
    {"\"bundle\": \"b\", \"size\": 1, " SHA ", \"min_from\": \"1.0\"", "'version' is missing"},
    {"\"version\": \"2.0\", \"size\": 1, " SHA ", \"min_from\": \"1.0\"", "'bundle' is missing"},
    {"\"version\": \"2.0\", \"bundle\": \"b\", " SHA ", \"min_from\": \"1.0\"",
     "'size' is missing"},
    {"\"version\": \"2.0\", \"bundle\": \"b\", \"size\": 1, \"min_from\": \"1.0\"",
     "'sha256' is missing"},
    {"\"version\": \"2.0\", \"bundle\": \"b\", \"size\": 1, " SHA, "'min_from' is missing"},
    /* wrong types */
    {"\"version\": 2, \"bundle\": \"b\", \"size\": 1, " SHA ", \"min_from\": \"1.0\"", "'version'"},
    {"\"version\": \"two\", \"bundle\": \"b\", \"size\": 1, " SHA ", \"min_from\": \"1.0\"",
     "'version' is not a version"},
    {"\"version\": \"sip88xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.11-0-1MPP-477\", "
     "\"bundle\": \"b\", \"size\": 1, " SHA ", \"min_from\": \"1.0\"",
     "'version' is longer than the boot state records"},
    {"\"version\": \"2.0\", \"bundle\": [], \"size\": 1, " SHA ", \"min_from\": \"1.0\"",
     "'bundle'"},
    {"\"version\": \"2.0\", \"bundle\": \"\", \"size\": 1, " SHA ", \"min_from\": \"1.0\"",
     "'bundle'"},
    {"\"version\": \"2.0\", \"bundle\": \"b\", \"size\": \"1\", " SHA ", \"min_from\": \"1.0\"",
     "'size'"},
    {"\"version\": \"2.0\", \"bundle\": \"b\", \"size\": -1, " SHA ", \"min_from\": \"1.0\"",
     "'size'"},
    {"\"version\": \"2.0\", \"bundle\": \"b\", \"size\": 1.5, " SHA ", \"min_from\": \"1.0\"",
     "'size'"},
    {"\"version\": \"2.0\", \"bundle\": \"b\", \"size\": null, " SHA ", \"min_from\": \"1.0\"",
     "'size'"},
    {"\"version\": \"2.0\", \"bundle\": \"b\", \"size\": 1, \"sha256\": \"abc\", \"min_from\": \"1.0\"",
     "'sha256'"},
    {"\"version\": \"2.0\", \"bundle\": \"b\", \"size\": 1, \"sha256\": 7, \"min_from\": \"1.0\"",
     "'sha256'"},
    {"\"version\": \"2.0\", \"bundle\": \"b\", \"size\": 1, " SHA ", \"min_from\": 1.0",
     "'min_from'"},
    {"\"version\": \"2.0\", \"bundle\": \"b\", \"size\": 1, " SHA ", \"min_from\": \"x\"",
     "'min_from' is not a version"},
    {GOOD_FIELDS ", \"max_from\": 3", "'max_from'"},
    {GOOD_FIELDS ", \"max_from\": \"3..1\"", "'max_from' is not a version"},
    {GOOD_FIELDS ", \"hardware\": \"1.0\"", "'hardware'"},
    {GOOD_FIELDS ", \"hardware\": [1]", "'hardware'"},
    {GOOD_FIELDS ", \"hardware\": []", "'hardware'"},
    {GOOD_FIELDS ", \"withdrawn\": \"yes\"", "'withdrawn'"},
    {GOOD_FIELDS ", \"withdrawn\": 1", "'withdrawn'"},
};

static void test_every_field(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_fields / sizeof bad_fields[0]; i++) {
        struct catalog c;
        char err[UG_ERRBUF] = "";
        ug_err rc = parse_release_text(bad_fields[i].fields, &c, err);
        if (rc != UG_ERR_USAGE || !strstr(err, bad_fields[i].must_mention) ||
            !strstr(err, "release 0"))
            fail_msg("case %zu: rc %d, message '%s' lacks '%s'", i, rc, err,
                     bad_fields[i].must_mention);
        assert_null(c.releases);
    }
}

static void test_good_release(void **state)
{
    (void)state;
    struct catalog c;
    char err[UG_ERRBUF] = "";
    assert_int_equal(parse_release_text(GOOD_FIELDS
                                        ", \"unknown\": {\"x\": 1}, \"withdrawn\": true, "
                                        "\"max_from\": null, \"hardware\": [\"1.0\", \"2.0\"]",
                                        &c, err),
                     UG_OK);
    assert_string_equal(c.product, "P");
    assert_int_equal(c.nreleases, 1);
    const struct catalog_release *r = &c.releases[0];
    assert_string_equal(r->version, "2.0.0");
    assert_string_equal(r->bundle_url, "http://example.com/fw/b/2.bundle");
    assert_int_equal(r->size, 42);
    assert_string_equal(r->sha256,
                        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
    assert_null(r->max_from);
    assert_true(r->withdrawn);
    assert_true(catalog_release_fits(r, "2.0"));
    assert_false(catalog_release_fits(r, "3.0"));
    assert_true(catalog_release_fits(r, NULL));
    catalog_free(&c);
}

static void test_top_level(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "[]",
        "{",
        "{\"product\": \"P\"}",
        "{\"releases\": []}",
        "{\"product\": 1, \"releases\": []}",
        "{\"product\": \"P\", \"releases\": {}}",
        "{\"product\": \"P\", \"releases\": [1]}",
        "{\"product\": \"P\", \"releases\": []} trailing",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct catalog c;
        char err[UG_ERRBUF] = "";
        if (catalog_parse(bad[i], strlen(bad[i]), "cat.json", &c, err) != UG_ERR_USAGE)
            fail_msg("'%s' was accepted", bad[i]);
        assert_non_null(strstr(err, "cat.json"));
    }
    struct catalog c;
    char err[UG_ERRBUF];
    const char *empty = "{\"product\": \"P\", \"releases\": []}";
    assert_int_equal(catalog_parse(empty, strlen(empty), NULL, &c, err), UG_OK);
    assert_int_equal(c.nreleases, 0);
    catalog_free(&c);
}

static void test_resolve(void **state)
{
    (void)state;
    static const struct {
        const char *base, *ref, *expected;
    } cases[] = {
        {"http://h/fw/catalog.json", "x.bundle", "http://h/fw/x.bundle"},
        {"http://h/fw/catalog.json#12.0.0", "sub/x.bundle", "http://h/fw/sub/x.bundle"},
        {"http://h/fw/catalog.json", "/abs/x.bundle", "http://h/abs/x.bundle"},
        {"http://h/fw/catalog.json", "../x.bundle", "http://h/x.bundle"},
        {"https://h:8443/a/b/c.json?k=v", "x", "https://h:8443/a/b/x"},
        {"tftp://10.0.0.1/fw/c.json", "x.bundle", "tftp://10.0.0.1/fw/x.bundle"},
        {"http://h/fw/catalog.json", "https://cdn/x.bundle", "https://cdn/x.bundle"},
        {"manifests/catalog.json", "bundles/x.bundle", "manifests/bundles/x.bundle"},
        {"catalog.json", "x.bundle", "x.bundle"},
        {"/srv/fw/catalog.json", "/other/x.bundle", "/other/x.bundle"},
        {"/srv/fw/catalog.json", "http://h/x", "http://h/x"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = NULL;
        char err[UG_ERRBUF];
        assert_int_equal(catalog_resolve_url(cases[i].base, cases[i].ref, &out, err), UG_OK);
        if (strcmp(out, cases[i].expected) != 0)
            fail_msg("resolve(%s, %s) = %s, expected %s", cases[i].base, cases[i].ref, out,
                     cases[i].expected);
        free(out);
    }
}

/* The planner relies on key order being exactly version_compare() order. */
static void test_key_order(void **state)
{
    (void)state;
    static const char *const versions[] = {
        "0",
        "0.0.0",
        "0.1",
        "1",
        "1.0",
        "1.0.0",
        "1.0.0.1",
        "1.0.1",
        "1.0.10",
        "1.0.9",
        "1.2.3a",
        "1.2.3b",
        "1.2.10a",
        "1.2.9z",
        "9.4.2",
        "10.0.0",
        "11.0.1",
        "11.0.10",
        "1.0.31(a)",
        "1.0.31(b)",
        "2.0.3",
        "2.0.3(0412s)",
        "sip88xx.11-0-1MPP-477",
        "sip88xx.11-0-1MPP-478",
        "11-0-1MPP-477",
        "sip88xx.9-3-1-7MPP-BN",
        "sipyyyy.11-3-2MPP0002-256",
        "sipyyyy.11-3-2MPP0001-609",
        "1.1a",
        "1.1ab",
        "1.0a",
        "01.002.3",
        "1.2.3",
        "123456789012345678901234567.0",
        "123456789012345678901234568.0",
        "1.0.0.0.0.0.1",
    };
    size_t n = sizeof versions / sizeof versions[0];
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            struct version_key a, b;
            int want;
            char err[UG_ERRBUF];
            assert_int_equal(version_key_make(versions[i], &a), 0);
            assert_int_equal(version_key_make(versions[j], &b), 0);
            assert_int_equal(version_compare(versions[i], versions[j], &want, err), UG_OK);
            int got = version_key_compare(&a, &b);
            if (got != want)
                fail_msg("key order of %s vs %s is %d, version order %d", versions[i], versions[j],
                         got, want);
            free(a.bytes);
            free(b.bytes);
        }
    }
    struct version_key k;
    assert_int_equal(version_key_make("not.a.version", &k), -1);
}

static void test_sorted_and_indexed(void **state)
{
    (void)state;
    const char *json =
        "{\"product\": \"P\", \"releases\": ["
        "{\"version\": \"10.0\", \"bundle\": \"c\", \"size\": 3, " SHA ", \"min_from\": \"9.0\"},"
        "{\"version\": \"9.4.2\", \"bundle\": \"b\", \"size\": 2, " SHA
        ", \"min_from\": \"1.0\", \"max_from\": \"9.4.2\"},"
        "{\"version\": \"1.0\", \"bundle\": \"a\", \"size\": 1, " SHA ", \"min_from\": \"0.1\"},"
        "{\"version\": \"9.4.2\", \"bundle\": \"b2\", \"size\": 5, " SHA
        ", \"min_from\": \"11.0\"}]}";
    struct catalog c;
    char err[UG_ERRBUF];
    assert_int_equal(catalog_parse(json, strlen(json), "/x/c.json", &c, err), UG_OK);
    assert_int_equal(c.nreleases, 4);
    assert_string_equal(c.releases[0].version, "1.0");
    assert_string_equal(c.releases[1].bundle_url, "/x/b"); /* equal versions keep file order */
    assert_string_equal(c.releases[2].bundle_url, "/x/b2");
    assert_string_equal(c.releases[3].version, "10.0");
    /* 10.0 installs over 9.4.2 (both) and 10.0 itself; 9.4.2 over 1.0..9.4.2. */
    assert_int_equal(c.releases[3].first_over, 1);
    assert_int_equal(c.releases[3].last_over, 3);
    assert_int_equal(c.releases[1].first_over, 0);
    assert_int_equal(c.releases[1].last_over, 2);
    /* min_from above every version: installs over nothing. */
    assert_true(c.releases[2].first_over > c.releases[2].last_over);
    catalog_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_field), cmocka_unit_test(test_good_release),
        cmocka_unit_test(test_top_level),   cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_key_order),   cmocka_unit_test(test_sorted_and_indexed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
