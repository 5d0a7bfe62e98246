/* Unit tests of the pure parts of the transport (fetch.c): credential stripping, the
 * Restricted_Access_Domains match, URL checks and the outcome classification table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <string.h>

#include "fetch.h"

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
        char out[FETCH_URL_MAX];
        fetch_url_for_display(cases[i].in, out, sizeof out);
        if (strcmp(out, cases[i].out) != 0)
            fail_msg("display(%s) = '%s', expected '%s'", cases[i].in, out, cases[i].out);
    }
    char tiny[8];
    fetch_url_for_display("http://user:secret@h/abcdef", tiny, sizeof tiny);
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
        int got = fetch_domain_allowed(cases[i].host, cases[i].list);
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
        {"tftp://10.0.0.1/a.bundle", 1}, {"TFTP://h/a", 1}, {"10.0.0.1/a.bundle", 1},
        {"prov.example.com:6969/a/b.cfg", 1}, {"host/path/x://y", 1},
        {"http://h/a", 0}, {"https://h/a", 0}, {"HTTP://h/a", 0}, {"ftp://h/a", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (fetch_url_is_tftp(cases[i].url) != cases[i].tftp)
            fail_msg("fetch_url_is_tftp(%s) != %d", cases[i].url, cases[i].tftp);
    assert_int_equal(fetch_url_is_tftp(NULL), 0);
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
        char out[FETCH_URL_MAX] = "", err[UG_ERRBUF] = "";
        ug_err rc = fetch_check_url(cases[i].url, cases[i].restricted, out, sizeof out, err);
        if (rc != cases[i].rc)
            fail_msg("check(%s) = %d (%s), expected %d", cases[i].url, rc, err, cases[i].rc);
        if (rc == UG_OK && cases[i].normalized && strcmp(out, cases[i].normalized) != 0)
            fail_msg("check(%s) wrote '%s', expected '%s'", cases[i].url, out,
                     cases[i].normalized);
        if (rc != UG_OK && strstr(err, "pw@"))
            fail_msg("message shows credentials: %s", err);
    }
    char err[UG_ERRBUF], out[FETCH_URL_MAX];
    assert_int_equal(fetch_check_url("http://user:topsecret@h.example.org/x", "example.com",
                                     out, sizeof out, err),
                     UG_ERR_USAGE);
    assert_null(strstr(err, "topsecret"));
    assert_non_null(strstr(err, "Restricted_Access_Domains"));
}

static void test_classify(void **state)
{
    (void)state;
    static const struct {
        int curl_code;
        long status;
        ug_err rc;
        int not_found;
        const char *reason;
    } cases[] = {
        {CURLE_OK, 200, UG_OK, 0, "ok"},
        {CURLE_OK, 206, UG_OK, 0, "ok"},
        {CURLE_OK, 0, UG_OK, 0, "ok"},
        {CURLE_OK, 304, UG_OK, 0, "not modified"},
        {CURLE_HTTP_RETURNED_ERROR, 404, UG_ERR_UNUSABLE, 1, "file not found"},
        {CURLE_HTTP_RETURNED_ERROR, 410, UG_ERR_UNUSABLE, 1, "file not found"},
        {CURLE_HTTP_RETURNED_ERROR, 401, UG_ERR_UNUSABLE, 0, "access denied (http 401)"},
        {CURLE_HTTP_RETURNED_ERROR, 403, UG_ERR_UNUSABLE, 0, "access denied (http 403)"},
        {CURLE_HTTP_RETURNED_ERROR, 400, UG_ERR_UNUSABLE, 0, "http error 400"},
        {CURLE_HTTP_RETURNED_ERROR, 500, UG_ERR_UNUSABLE, 0, "http error 500"},
        {CURLE_HTTP_RETURNED_ERROR, 503, UG_ERR_UNUSABLE, 0, "http error 503"},
        {CURLE_HTTP_RETURNED_ERROR, 302, UG_ERR_UNUSABLE, 0, "http error 302"},
        {CURLE_COULDNT_RESOLVE_HOST, 0, UG_ERR_UNREACHABLE, 0, "host not found"},
        {CURLE_COULDNT_CONNECT, 0, UG_ERR_UNREACHABLE, 0, "connection refused"},
        {CURLE_OPERATION_TIMEDOUT, 0, UG_ERR_UNREACHABLE, 0, "timed out"},
        {CURLE_SSL_CONNECT_ERROR, 0, UG_ERR_UNREACHABLE, 0, "tls handshake failed"},
        {CURLE_PEER_FAILED_VERIFICATION, 0, UG_ERR_UNREACHABLE, 0, "certificate verify failed"},
        {CURLE_GOT_NOTHING, 0, UG_ERR_UNREACHABLE, 0, "connection lost"},
        {CURLE_RECV_ERROR, 0, UG_ERR_UNREACHABLE, 0, "connection lost"},
        {CURLE_PARTIAL_FILE, 200, UG_ERR_UNREACHABLE, 0, "connection lost"},
        {CURLE_TFTP_NOTFOUND, 0, UG_ERR_UNUSABLE, 1, "file not found"},
        {CURLE_REMOTE_FILE_NOT_FOUND, 0, UG_ERR_UNUSABLE, 1, "file not found"},
        {CURLE_TFTP_PERM, 0, UG_ERR_UNUSABLE, 0, "access denied"},
        {CURLE_TFTP_ILLEGAL, 0, UG_ERR_UNUSABLE, 0, "tftp error"},
        {CURLE_TFTP_UNKNOWNID, 0, UG_ERR_UNUSABLE, 0, "tftp error"},
        {CURLE_FILESIZE_EXCEEDED, 200, UG_ERR_UNUSABLE, 0, "file too large"},
        {CURLE_TOO_MANY_REDIRECTS, 302, UG_ERR_UNUSABLE, 0, "too many redirects"},
        {CURLE_WEIRD_SERVER_REPLY, 0, UG_ERR_UNUSABLE, 0, "bad server reply"},
        {CURLE_UNSUPPORTED_PROTOCOL, 0, UG_ERR_USAGE, 0, "bad url"},
        {CURLE_URL_MALFORMAT, 0, UG_ERR_USAGE, 0, "bad url"},
        {CURLE_SSL_CACERT_BADFILE, 0, UG_ERR_OTHER, 0, "local tls files unusable"},
        {CURLE_SSL_CERTPROBLEM, 0, UG_ERR_OTHER, 0, "local tls files unusable"},
        {CURLE_OUT_OF_MEMORY, 0, UG_ERR_OTHER, 0, "out of memory"},
        {CURLE_FAILED_INIT, 0, UG_ERR_OTHER, 0, "transfer failed"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int nf = -1;
        char reason[FETCH_REASON_MAX];
        ug_err rc = fetch_classify(cases[i].curl_code, cases[i].status, &nf, reason,
                                   sizeof reason);
        if (rc != cases[i].rc || nf != cases[i].not_found ||
            strcmp(reason, cases[i].reason) != 0)
            fail_msg("classify(%d, %ld) = %d/%d/'%s', expected %d/%d/'%s'",
                     cases[i].curl_code, cases[i].status, rc, nf, reason, cases[i].rc,
                     cases[i].not_found, cases[i].reason);
    }
}

static void test_user_agent(void **state)
{
    (void)state;
    char ua[256];
    fetch_user_agent(ua, sizeof ua, "CP-8841-3PCC", "11.0.1", "88012BA01234", "000e08abcdef");
    assert_string_equal(ua, "upgrader/11.0.1 (CP-8841-3PCC; 88012BA01234; 000e08abcdef)");
    fetch_user_agent(ua, sizeof ua, NULL, "", "S\r\nX-Evil: 1", NULL);
    assert_string_equal(ua, "upgrader/- (-; S??X-Evil: 1; -)");
}

static void test_options_defaults(void **state)
{
    (void)state;
    struct fetch_options o;
    memset(&o, 0x5a, sizeof o);
    fetch_options_init(&o);
    assert_null(o.url);
    assert_int_equal(o.method, FETCH_GET);
    assert_int_equal(o.max_redirects, FETCH_DEFAULT_MAX_REDIRECTS);
    assert_int_equal(o.connect_timeout_ms, FETCH_DEFAULT_CONNECT_TIMEOUT_MS);
    assert_int_equal(o.low_speed_time_s, FETCH_DEFAULT_LOW_SPEED_TIME_S);
    assert_int_equal(o.timeout_ms, 0);
    assert_int_equal(o.tftp_blksize, 0);
}

/* Refusals come before libcurl is asked to do anything, so they need no server. */
static void test_refused_before_transfer(void **state)
{
    (void)state;
    struct fetch_options o;
    fetch_options_init(&o);
    o.url = "http://admin:hunter2@prov.example.com/a.cfg";
    o.restricted_domains = "example.net";
    struct buf out = {0};
    struct fetch_result res;
    char err[UG_ERRBUF];
    assert_int_equal(fetch_to_buffer(&o, 1024, &out, &res, err), UG_ERR_USAGE);
    assert_string_equal(res.reason, "restricted domain");
    assert_null(strstr(err, "hunter2"));
    assert_null(out.data);
    struct fetch_reader *r = (struct fetch_reader *)&o;
    o.url = "gopher://prov.example.net/a.cfg";
    assert_int_equal(fetch_open(&o, &r, &res, err), UG_ERR_USAGE);
    assert_null(r);
    assert_string_equal(res.reason, "bad url");
    o.url = "tftp://prov.example.net/a.cfg";
    o.method = FETCH_POST;
    assert_int_equal(fetch_to_buffer(&o, 1024, &out, &res, err), UG_ERR_USAGE);
    o.method = FETCH_GET;
    o.tftp_blksize = 70000;
    assert_int_equal(fetch_to_buffer(&o, 1024, &out, &res, err), UG_ERR_USAGE);
    o.tftp_blksize = 0;
    o.url = "http://prov.example.net/a.cfg";
    o.if_none_match = "\"x\"\r\nX-Injected: 1";
    assert_int_equal(fetch_to_buffer(&o, 1024, &out, &res, err), UG_ERR_USAGE);
    fetch_close(NULL);
    fetch_global_cleanup();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_display_url),      cmocka_unit_test(test_domain_allowed),
        cmocka_unit_test(test_check_url),        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_user_agent),       cmocka_unit_test(test_options_defaults),
        cmocka_unit_test(test_refused_before_transfer), cmocka_unit_test(test_url_is_tftp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
