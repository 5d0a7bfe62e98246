/* SPDX-License-Identifier: MIT */
/* Unit tests of the pure parts of the transport (fetch.c, fetch_transfer.c): the outcome
 * classification table, the user agent, the option defaults and the refusals before any
 * transfer. The engine has its own (test_fetch_engine.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <string.h>

#include "net/fetch.h"

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
        ug_err rc = fetch_classify(cases[i].curl_code, cases[i].status, &nf, reason, sizeof reason);
        if (rc != cases[i].rc || nf != cases[i].not_found || strcmp(reason, cases[i].reason) != 0)
            fail_msg("classify(%d, %ld) = %d/%d/'%s', expected %d/%d/'%s'", cases[i].curl_code,
                     cases[i].status, rc, nf, reason, cases[i].rc, cases[i].not_found,
                     cases[i].reason);
    }
}

static void test_user_agent(void **state)
{
    (void)state;
    char ua[256];
    /* The phones' own form, which provisioning servers such as Wazo's match. */
    fetch_user_agent(ua, sizeof ua, "CP-8841-3PCC", "11.0.1", "000e08abcdef");
    assert_string_equal(ua, "Cisco-CP-8841-3PCC/11.0.1 (000e08abcdef)");
    fetch_user_agent(ua, sizeof ua, NULL, "", "S\r\nX-Evil: 1");
    assert_string_equal(ua, "Cisco--/- (S??X-Evil: 1)");
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
    /* No shared engine (one per call, as before engines), no cancel flag, rate or progress. */
    assert_null(o.engine);
    assert_null(o.cancel);
    assert_int_equal(o.max_recv_speed, 0);
    assert_null(o.progress);
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
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_user_agent),
        cmocka_unit_test(test_options_defaults),
        cmocka_unit_test(test_refused_before_transfer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
