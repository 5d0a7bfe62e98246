/* SPDX-License-Identifier: MIT */
/* Unit tests of the DHCP server choice (dhcp.c): decoding what udhcpc and dhclient report
 * for options 66/150/159/160, the DHCP_Option_To_Use order, host:port splitting, the file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "resync/dhcp.h"

struct norm_case {
    int option;
    const char *value;
    ug_err rc;
    const char *out;
};

static const struct norm_case norm_cases[] = {
    {66, "10.0.0.1", UG_OK, "10.0.0.1"},
    {66, "tftp.example.com", UG_OK, "tftp.example.com"},
    {66, "127.0.0.1:6969", UG_OK, "127.0.0.1:6969"},
    {66, " tftp.example.com ", UG_OK, "tftp.example.com"},
    {66, "", UG_OK, ""},
    {66, "hex:7466747000", UG_OK, "tftp"}, /* NUL-terminated string */
    {66, "bad!host", UG_ERR_USAGE, ""},
    {66, "hex:zz", UG_ERR_USAGE, ""},
    {66, "hex:0a01", UG_ERR_USAGE, ""},         /* control bytes */
    {66, " Hex:6", UG_ERR_USAGE, ""},           /* hex after blanks too (was kept as "Hex:6") */
    {66, "hex:4845583a3639", UG_ERR_USAGE, ""}, /* decodes to "HEX:69", which reads as hex */
    {66, ",hex:74667470", UG_OK, "tftp"},
    {150, "hex:c0a80101", UG_OK, "192.168.1.1"},
    {150, "hex:0a0000010a000002", UG_OK, "10.0.0.1"}, /* a list: the first */
    {150, "hex:0a0000", UG_ERR_USAGE, ""},            /* not 4-byte aligned */
    {150, "10.1.1.1 10.1.1.2", UG_OK, "10.1.1.1"},    /* dhclient's array */
    {150, "10.1.1.1,10.1.1.2", UG_OK, "10.1.1.1"},
    /* Scheme, port and path are kept: a URL with a path (or a whole rule) is the rule. */
    {160, "http://prov.example.com/cfg/$PSN.xml", UG_OK, "http://prov.example.com/cfg/$PSN.xml"},
    {160, "https://prov.example.com:8443/x", UG_OK, "https://prov.example.com:8443/x"},
    {159, "hex:687474703a2f2f31302e302e302e392f", UG_OK,
     "http://10.0.0.9"}, /* "http://10.0.0.9/" */
    {66, "http://10.0.0.9:8080", UG_OK, "http://10.0.0.9:8080"},
    {66, "tftp.example.com/spa$PSN.cfg", UG_OK, "tftp.example.com/spa$PSN.cfg"},
    {160, "[--key $B] https://prov.example.com/$MA.cfg", UG_OK,
     "[--key $B] https://prov.example.com/$MA.cfg"},
    {160, "( \"$A\" ne \"done\" )? http://p.example.com/init.xml | http://p.example.com/$MA.xml",
     UG_OK, "( \"$A\" ne \"done\" )? http://p.example.com/init.xml | http://p.example.com/$MA.xml"},
    {160, "[--bogus x] http://p.example.com/a", UG_ERR_USAGE, ""},
    {160, "http://prov.example.com/a b", UG_OK, "http://prov.example.com/a"}, /* a list */
    {160, "http:///path", UG_ERR_USAGE, ""},
    {66, "[::1]:69", UG_OK, "[::1]:69"},
    {66, "host:0", UG_ERR_USAGE, ""},
    {66, "host:99999", UG_ERR_USAGE, ""},
};

static void test_normalise(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof norm_cases / sizeof norm_cases[0]; i++) {
        const struct norm_case *c = &norm_cases[i];
        char out[DHCP_SERVER_MAX], err[UG_ERRBUF] = "";
        ug_err rc = dhcp_normalise(c->option, c->value, out, sizeof out, err);
        if (rc != c->rc)
            fail_msg("option %d '%s': rc %d, expected %d (%s)", c->option, c->value, rc, c->rc,
                     err);
        if (rc == UG_OK && strcmp(out, c->out) != 0)
            fail_msg("option %d '%s': '%s', expected '%s'", c->option, c->value, out, c->out);
        if (rc != UG_OK && !err[0])
            fail_msg("option %d '%s': no message", c->option, c->value);
    }
}

static void test_choose(void **state)
{
    (void)state;
    struct dhcp_servers s;
    memset(&s, 0, sizeof s);
    char out[DHCP_SERVER_MAX];
    assert_int_equal(dhcp_choose(&s, "66,160,159,150", out, sizeof out), 0);
    assert_string_equal(out, "");
    snprintf(s.option150, sizeof s.option150, "10.0.0.150");
    snprintf(s.option160, sizeof s.option160, "prov160");
    assert_int_equal(dhcp_choose(&s, "66,160,159,150,60,43,125", out, sizeof out), 160);
    assert_string_equal(out, "prov160");
    snprintf(s.option66, sizeof s.option66, "tftp66");
    assert_int_equal(dhcp_choose(&s, "66,160,159,150,60,43,125", out, sizeof out), 66);
    assert_string_equal(out, "tftp66");
    assert_int_equal(dhcp_choose(&s, "150,66", out, sizeof out), 150);
    assert_string_equal(out, "10.0.0.150");
    assert_int_equal(dhcp_choose(&s, "", out, sizeof out), 66); /* empty: the default order */
    assert_int_equal(dhcp_choose(&s, NULL, out, sizeof out), 66);
    assert_int_equal(dhcp_choose(&s, "60,43", out, sizeof out), 0); /* options not recorded */
    assert_int_equal(dhcp_choose(&s, " 159 , 150", out, sizeof out), 150);
}

static void test_split(void **state)
{
    (void)state;
    char host[64];
    int port = -1;
    assert_int_equal(dhcp_split_server("10.0.0.1", host, sizeof host, &port), 0);
    assert_string_equal(host, "10.0.0.1");
    assert_int_equal(port, 0);
    assert_int_equal(dhcp_split_server("tftp.example:6969", host, sizeof host, &port), 0);
    assert_string_equal(host, "tftp.example");
    assert_int_equal(port, 6969);
    assert_int_equal(dhcp_split_server("[fe80::1]:69", host, sizeof host, &port), 0);
    assert_string_equal(host, "fe80::1");
    assert_int_equal(port, 69);
    assert_int_equal(dhcp_split_server("[fe80::1]", host, sizeof host, &port), 0);
    assert_int_equal(port, 0);
    assert_int_equal(dhcp_split_server("fe80::1", host, sizeof host, &port), -1);
    assert_int_equal(dhcp_split_server(":69", host, sizeof host, &port), -1);
    assert_int_equal(dhcp_split_server("h:", host, sizeof host, &port), -1);
    assert_int_equal(dhcp_split_server("[fe80::1", host, sizeof host, &port), -1);
}

static void test_record_and_load(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_dhcp.XXXXXX", err[UG_ERRBUF];
    assert_non_null(mkdtemp(dir));
    struct dhcp_servers s, back;
    struct state_folder folder;
    assert_int_equal(state_folder_open(dir, &folder, err), UG_OK);
    assert_int_equal(dhcp_load(&folder, &back, err), UG_OK); /* no file: nothing known */
    assert_string_equal(back.option66, "");
    memset(&s, 0, sizeof s);
    snprintf(s.option66, sizeof s.option66, "10.0.0.66");
    snprintf(s.option159, sizeof s.option159, "prov:8080");
    assert_int_equal(dhcp_record(&folder, &s, err), UG_OK);
    assert_int_equal(dhcp_load(&folder, &back, err), UG_OK);
    assert_string_equal(back.option66, "10.0.0.66");
    assert_string_equal(back.option150, "");
    assert_string_equal(back.option159, "prov:8080");
    /* A new lease replaces the record as a whole. */
    memset(&s, 0, sizeof s);
    snprintf(s.option150, sizeof s.option150, "10.0.0.150");
    assert_int_equal(dhcp_record(&folder, &s, err), UG_OK);
    assert_int_equal(dhcp_load(&folder, &back, err), UG_OK);
    assert_string_equal(back.option66, "");
    assert_string_equal(back.option150, "10.0.0.150");
    const char *path = state_path(&folder, STATE_DHCP);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("[1, 2]", f);
    fclose(f);
    /* damaged: said, not guessed, and no reason to stop a resync (the next lease rewrites it) */
    assert_int_equal(dhcp_load(&folder, &back, err), UG_OK);
    assert_non_null(strstr(back.damaged, "dhcp.json: not a JSON object"));
    assert_string_equal(back.option150, "");
    unlink(path);
    state_folder_close(&folder);
    rmdir(dir);
}

/* What a recorded value gives a resync: a server, its scheme, a rule. */
static void test_default_of(void **state)
{
    (void)state;
    struct dhcp_default d;
    dhcp_default_of("http://prov.example.com:8080/cisco/$PSN.xml", 160, &d);
    assert_int_equal(d.option, 160);
    assert_string_equal(d.scheme, "http");
    assert_string_equal(d.server, "prov.example.com:8080");
    assert_string_equal(d.rule, "http://prov.example.com:8080/cisco/$PSN.xml");
    dhcp_default_of("https://prov.example.com", 66, &d);
    assert_string_equal(d.scheme, "https");
    assert_string_equal(d.server, "prov.example.com");
    assert_string_equal(d.rule, "");
    dhcp_default_of("10.0.0.66", 66, &d);
    assert_string_equal(d.scheme, "");
    assert_string_equal(d.server, "10.0.0.66");
    assert_string_equal(d.rule, "");
    dhcp_default_of("[--key k] HTTPS://p.example.com/a.cfg", 160, &d);
    assert_string_equal(d.scheme, "https");
    assert_string_equal(d.server, "p.example.com");
    assert_string_equal(d.rule, "[--key k] HTTPS://p.example.com/a.cfg");
    /* DHCP's rule stands for the factory Profile_Rule only. */
    dhcp_default_of("http://p.example.com/$PSN.xml", 160, &d);
    assert_string_equal(dhcp_profile_rule(&d, "/$PSN.xml", "/$PSN.xml"),
                        "http://p.example.com/$PSN.xml");
    assert_string_equal(dhcp_profile_rule(&d, "https://own.example.com/x", "/$PSN.xml"),
                        "https://own.example.com/x");
    /* A rule without a server gets DHCP's server, port and (when it names none) scheme. */
    struct rule_url u;
    char err[UG_ERRBUF];
    dhcp_default_of("http://10.0.0.9:8080", 66, &d);
    assert_int_equal(rule_parse_url("/0123.xml", "sentinel.invalid", 0, &u, err), UG_OK);
    assert_int_equal(dhcp_use_default(&d, &u, err), UG_OK);
    assert_string_equal(u.text, "http://10.0.0.9:8080/0123.xml");
    rule_url_free(&u);
    dhcp_default_of("https://10.0.0.9", 66, &d);
    assert_int_equal(rule_parse_url("/0123.xml", "sentinel.invalid", 0, &u, err), UG_OK);
    assert_int_equal(dhcp_use_default(&d, &u, err), UG_OK);
    assert_string_equal(u.text, "https://10.0.0.9:443/0123.xml");
    rule_url_free(&u);
    assert_int_equal(rule_parse_url("tftp:///0123.xml", "sentinel.invalid", 0, &u, err), UG_OK);
    assert_int_equal(dhcp_use_default(&d, &u, err), UG_OK); /* the rule's own scheme wins */
    assert_string_equal(u.text, "tftp://10.0.0.9:69/0123.xml");
    rule_url_free(&u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalise),       cmocka_unit_test(test_default_of),
        cmocka_unit_test(test_choose),          cmocka_unit_test(test_split),
        cmocka_unit_test(test_record_and_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
