/* SPDX-License-Identifier: MIT */
/* Unit tests of the URL policy (url.c): credential stripping, the default tftp scheme,
 * the Restricted_Access_Domains match and the checks of URLs and redirect targets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "net/url.h"

static void test_display_url(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"http://user:secret@prov.example.com/a.cfg", "http://prov.example.com/a.cfg"},
        {"https://user@prov.example.com:8443/x?y=1", "https://prov.example.com:8443/x?y=1"},
        {"http://prov.example.com/p@th/a.cfg", "http://prov.example.com/p@th/a.cfg"},
        {"http://prov.example.com/a.cfg?mail=a@b", "http://prov.example.com/a.cfg?mail=a@b"},
        {"http://u:p@ss@host/x", "http://host/x"},
        {"u:pw@10.0.0.1/spa.cfg", "10.0.0.1/spa.cfg"},
        {"tftp://10.0.0.1/spa$MA.cfg", "tftp://10.0.0.1/spa$MA.cfg"},
        {"http://host/a://b@c", "http://host/a://b@c"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[URL_MAX];
        url_for_display(cases[i].in, out, sizeof out);
        if (strcmp(out, cases[i].out) != 0)
            fail_msg("display(%s) = '%s', expected '%s'", cases[i].in, out, cases[i].out);
    }
    char tiny[8];
    url_for_display("http://user:secret@h/abcdef", tiny, sizeof tiny);
    assert_string_equal(tiny, "http://");
}

static void test_domain_allowed(void **state)
{
    (void)state;
    static const struct {
        const char *host, *list;
        int allowed;
    } cases[] = {
        {"prov.example.com", NULL, 1},
        {"prov.example.com", "", 1},
        {"prov.example.com", " , ", 1},
        {"prov.example.com", "example.com", 1},
        {"example.com", "example.com", 1},
        {"EXAMPLE.com", "example.COM", 1},
        {"a.b.example.com", "example.com", 1},
        {"prov.example.com.", "example.com", 1},
        {"badexample.com", "example.com", 0},
        {"example.com.evil.net", "example.com", 0},
        {"example.co", "example.com", 0},
        {"com", "example.com", 0},
        {"prov.example.net", "example.com, example.net", 1},
        {"prov.example.org", "example.com,example.net", 0},
        {"x.example.com", "*.example.com", 1},
        {"x.example.com", ".example.com", 1},
        {"10.0.0.1", "10.0.0.1", 1},
        {"110.0.0.1", "10.0.0.1", 0},
        {"10.0.0.1", "0.0.1", 0},
        {"::1", "::1", 1},
        {"::1", "0:0:0:0:0:0:0:1", 0 /* addresses compare as written */},
        {"", "example.com", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = url_domain_allowed(cases[i].host, cases[i].list);
        if (got != cases[i].allowed)
            fail_msg("allowed(%s, %s) = %d, expected %d", cases[i].host,
                     cases[i].list ? cases[i].list : "NULL", got, cases[i].allowed);
    }
}

static void test_url_is_tftp(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        int tftp;
    } cases[] = {
        {"tftp://10.0.0.1/a.bundle", 1},
        {"TFTP://h/a", 1},
        {"10.0.0.1/a.bundle", 1},
        {"prov.example.com:6969/a/b.cfg", 1},
        {"host/path/x://y", 1},
        {"http://h/a", 0},
        {"https://h/a", 0},
        {"HTTP://h/a", 0},
        {"ftp://h/a", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (url_is_tftp(cases[i].url) != cases[i].tftp)
            fail_msg("url_is_tftp(%s) != %d", cases[i].url, cases[i].tftp);
    assert_int_equal(url_is_tftp(NULL), 0);
}

static void test_check_url(void **state)
{
    (void)state;
    static const struct {
        const char *url, *restricted;
        ug_err rc;
        const char *normalized;
    } cases[] = {
        {"10.0.0.1/spa.cfg", NULL, UG_OK, "tftp://10.0.0.1/spa.cfg"},
        {"prov.example.com:6969/a/b.cfg", NULL, UG_OK, "tftp://prov.example.com:6969/a/b.cfg"},
        {"http://prov.example.com/a.cfg", NULL, UG_OK, "http://prov.example.com/a.cfg"},
        {"HTTPS://prov.example.com/a.cfg", "example.com", UG_OK, "HTTPS://prov.example.com/a.cfg"},
        {"http://prov.example.com/a.cfg", "example.net", UG_ERR_USAGE, NULL},
        {"http://u:pw@prov.example.com/a.cfg", "example.com", UG_OK, NULL},
        {"10.0.0.1/spa.cfg", "example.com", UG_ERR_USAGE, NULL},
        {"ftp://prov.example.com/a.cfg", NULL, UG_ERR_USAGE, NULL},
        {"file:///etc/passwd", NULL, UG_ERR_USAGE, NULL},
        {"http://", NULL, UG_ERR_USAGE, NULL},
        {"http://:80/a", NULL, UG_ERR_USAGE, NULL},
        {"http://host/a b", NULL, UG_ERR_USAGE, NULL},
        {"http://host/a\r\nX: y", NULL, UG_ERR_USAGE, NULL},
        {"", NULL, UG_ERR_USAGE, NULL},
        {"http://[::1]:8080/a", "::1", UG_OK, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[URL_MAX] = "", err[UG_ERRBUF] = "";
        ug_err rc = url_check(cases[i].url, cases[i].restricted, out, sizeof out, NULL, err);
        if (rc != cases[i].rc)
            fail_msg("check(%s) = %d (%s), expected %d", cases[i].url, rc, err, cases[i].rc);
        if (rc == UG_OK && cases[i].normalized && strcmp(out, cases[i].normalized) != 0)
            fail_msg("check(%s) wrote '%s', expected '%s'", cases[i].url, out, cases[i].normalized);
        if (rc != UG_OK && strstr(err, "pw@"))
            fail_msg("message shows credentials: %s", err);
    }
    char err[UG_ERRBUF], out[URL_MAX];
    const char *why = NULL;
    assert_int_equal(url_check("http://user:topsecret@h.example.org/x", "example.com", out,
                               sizeof out, &why, err),
                     UG_ERR_USAGE);
    assert_null(strstr(err, "topsecret"));
    assert_non_null(strstr(err, "Restricted_Access_Domains"));
    assert_string_equal(why, "restricted domain");
    assert_int_equal(url_check("gopher://h.example.com/x", NULL, out, sizeof out, &why, err),
                     UG_ERR_USAGE);
    assert_string_equal(why, "bad url");
}

static void test_check_redirect(void **state)
{
    (void)state;
    static const struct {
        const char *url, *restricted;
        ug_err rc;
    } cases[] = {
        {"http://prov.example.com/a.cfg", NULL, UG_OK},
        {"https://prov.example.com/a.cfg", "example.com", UG_OK},
        {"https://evil.example.net/a.cfg", "example.com", UG_ERR_USAGE},
        {"tftp://prov.example.com/a.cfg", NULL, UG_ERR_USAGE /* redirects stay on http(s) */},
        {"file:///etc/passwd", NULL, UG_ERR_USAGE},
        {"http://", NULL, UG_ERR_USAGE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[UG_ERRBUF] = "";
        ug_err rc = url_check_redirect(cases[i].url, cases[i].restricted, err);
        if (rc != cases[i].rc)
            fail_msg("redirect(%s) = %d (%s), expected %d", cases[i].url, rc, err, cases[i].rc);
    }
}

static void test_host(void **state)
{
    (void)state;
    static const struct {
        const char *url, *host;
    } cases[] = {
        {"tftp://10.0.0.1/spa.cfg", "10.0.0.1"},
        {"http://u:pw@prov.example.com:8080/a", "prov.example.com"},
        {"https://[::1]:8443/a", "[::1]"},
        {"http://", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char host[64] = "", err[UG_ERRBUF] = "";
        ug_err rc = url_host(cases[i].url, host, sizeof host, err);
        if (cases[i].host ? rc != UG_OK || strcmp(host, cases[i].host) != 0 : rc == UG_OK)
            fail_msg("host(%s) = %d '%s' (%s)", cases[i].url, rc, host, err);
    }
    char tiny[8], err[UG_ERRBUF];
    assert_int_equal(url_host("http://u:secret@prov.example.com/a", tiny, sizeof tiny, err),
                     UG_ERR_USAGE);
    assert_null(strstr(err, "secret"));
    assert_int_equal(url_host("http://", tiny, sizeof tiny, NULL), UG_ERR_USAGE);
}

/* url_split reads a URL as the transport will: the odd forms where a hand-written parser and
 * libcurl parted ways are read libcurl's way, or refused. */
static void test_split(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        const char *scheme, *host; /* scheme NULL: refused, and host is how the message ends */
        int port;
        const char *path;
    } cases[] = {
        {"10.0.0.1/spa.cfg", "tftp", "10.0.0.1", 69, "/spa.cfg"},
        {"prov.example.com:6969/a/b.cfg", "tftp", "prov.example.com", 6969, "/a/b.cfg"},
        {"http://prov.example.com/a.cfg?x=1#f", "http", "prov.example.com", 80, "/a.cfg?x=1#f"},
        {"HTTPS://Prov.Example.com/a", "https", "Prov.Example.com", 443, "/a"},
        {"tftp://h:69/a%20b/$MA/../c?", "tftp", "h", 69, "/a%20b/$MA/../c?"},
        {"http://h", "http", "h", 80, "/"},
        {"http://h:/a", "http", "h", 80, "/a"},
        {"http://u:pw@h:8080/a", "http", "h", 8080, "/a"},
        /* numeric IPv4 forms, normalized as libcurl contacts them */
        {"http://0x7f.1/p", "http", "127.0.0.1", 80, "/p"},
        {"http://2130706433:8080/p", "http", "127.0.0.1", 8080, "/p"},
        {"http://127.1/p", "http", "127.0.0.1", 80, "/p"},
        {"http://0177.0.0.1/p", "http", "127.0.0.1", 80, "/p"},
        /* IPv6 literals: without brackets, as libcurl writes them, a zone kept */
        {"http://[0:0:0:0:0:0:0:1]/p", "http", "::1", 80, "/p"},
        {"https://[::1]:8443/p", "https", "::1", 8443, "/p"},
        {"http://[fe80::1%25eth0]/p", "http", "fe80::1%eth0", 80, "/p"},
        /* escapes decoded: this is the host that is looked up */
        {"http://%65vil.com/p", "http", "evil.com", 80, "/p"},
        /* "://" after the path starts is no scheme; '?' and '#' end the host too */
        {"prov.example.com/cfg?u=http://x/y", "tftp", "prov.example.com", 69, "/cfg?u=http://x/y"},
        {"http://h?x=@y/p", "http", "h", 80, "/?x=@y/p"},
        {"http://h#@evil/p", "http", "h", 80, "/#@evil/p"},
        /* refused */
        {"ftp://h/a", NULL, "scheme 'ftp' is not tftp, http or https", 0, NULL},
        {"file:///etc/passwd", NULL, "scheme 'file' is not tftp, http or https", 0, NULL},
        {"http://h:+80/p", NULL, "(Port number was not a decimal number between 0 and 65535)", 0,
         NULL},
        {"http://h:65536/p", NULL, "(Port number was not a decimal number between 0 and 65535)", 0,
         NULL},
        {"http://[zz]/p", NULL, "(Bad IPv6 address)", 0, NULL},
        {"http://[1.2.3.4]/p", NULL, "(Bad IPv6 address)", 0, NULL},
        {"http://h$x/p", NULL, "(Bad hostname)", 0, NULL},
        /* libcurl skips a third slash: the host is "p" (rules read "scheme:///path" as the
         * default server, and hand the transport a URL that names it) */
        {"http:///p", "http", "p", 80, "/"},
        {"http://h/a b", NULL, "(Bad path)", 0, NULL},
        {"http://", NULL, "", 0, NULL},
        {"", NULL, "empty URL", 0, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct url_parts p;
        char err[UG_ERRBUF] = "";
        ug_err rc = url_split(cases[i].url, &p, err);
        if (!cases[i].scheme) {
            size_t n = strlen(err), m = strlen(cases[i].host);
            if (rc != UG_ERR_USAGE || n < m || strcmp(err + n - m, cases[i].host) != 0)
                fail_msg("split(%s) = %d '%s', expected a refusal ending '%s'", cases[i].url, rc,
                         err, cases[i].host);
            continue;
        }
        if (rc != UG_OK || strcmp(p.scheme, cases[i].scheme) != 0 ||
            strcmp(p.host, cases[i].host) != 0 || p.port != cases[i].port ||
            strcmp(p.path, cases[i].path) != 0)
            fail_msg("split(%s) = %d (%s) %s %s %d %s, expected %s %s %d %s", cases[i].url, rc, err,
                     p.scheme, p.host, p.port, p.path, cases[i].scheme, cases[i].host,
                     cases[i].port, cases[i].path);
    }
    /* The message never repeats the URL, so never its password either; a host too long to
     * keep is refused, not cut. */
    struct url_parts p;
    char err[UG_ERRBUF], url[400];
    assert_int_equal(url_split("http://admin:s3cret@h:99999/a", &p, err), UG_ERR_USAGE);
    assert_null(strstr(err, "s3cret"));
    memset(url, 'a', sizeof url);
    memcpy(url, "http://", 7);
    memcpy(url + sizeof url - 3, "/a", 3); /* a host of 390 letters */
    assert_int_equal(url_split(url, &p, err), UG_ERR_USAGE);
    assert_string_equal(err, "host longer than 255 bytes");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_display_url),    cmocka_unit_test(test_domain_allowed),
        cmocka_unit_test(test_check_url),      cmocka_unit_test(test_url_is_tftp),
        cmocka_unit_test(test_check_redirect), cmocka_unit_test(test_host),
        cmocka_unit_test(test_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
