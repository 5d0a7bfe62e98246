/* SPDX-License-Identifier: MIT */
/* Unit tests of the syslog datagrams (syslog_udp.c): RFC 3164 and RFC 5424 layouts, field
 * clean-up and truncation, and one real datagram over a loopback UDP socket. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "net/syslog_udp.h"

static void test_rfc5424(void **state)
{
    (void)state;
    char out[SYSLOG_MAX_DATAGRAM + 1];
    /* 2024-03-05T06:07:08Z */
    size_t n =
        syslog_format(SYSLOG_RFC5424, SYSLOG_FACILITY_LOCAL0, SYSLOG_SEVERITY_INFO, 1709618828,
                      "phone-1", "upgrader", "CP-8841 -- Requesting resync", out, sizeof out);
    assert_string_equal(
        out, "<134>1 2024-03-05T06:07:08Z phone-1 upgrader - - - CP-8841 -- Requesting resync");
    assert_int_equal(n, strlen(out));
    syslog_format(SYSLOG_RFC5424, SYSLOG_FACILITY_LOCAL0, SYSLOG_SEVERITY_ERR, 0, "", "", "a\nb\tc",
                  out, sizeof out);
    assert_string_equal(out, "<131>1 1970-01-01T00:00:00Z - - - - - a b c");
}

static void test_rfc3164(void **state)
{
    (void)state;
    char out[SYSLOG_MAX_DATAGRAM + 1];
    setenv("TZ", "UTC", 1);
    tzset();
    syslog_format(SYSLOG_RFC3164, SYSLOG_FACILITY_LOCAL0, SYSLOG_SEVERITY_INFO, 1709618828,
                  "my host", "upgrader", "msg", out, sizeof out);
    /* Day padded with a space, not a zero; spaces in the host field would split it. */
    assert_string_equal(out, "<134>Mar  5 06:07:08 my_host upgrader: msg");
    syslog_format(SYSLOG_RFC3164, 1, SYSLOG_SEVERITY_NOTICE, 1700000000, "h", "a", "", out,
                  sizeof out);
    assert_string_equal(out, "<13>Nov 14 22:13:20 h a: ");
}

static void test_truncation(void **state)
{
    (void)state;
    char big[4000], out[64];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    size_t n = syslog_format(SYSLOG_RFC5424, 16, 6, 0, "h", "a", big, out, sizeof out);
    assert_int_equal(n, sizeof out - 1);
    assert_int_equal(strlen(out), sizeof out - 1);
    assert_int_equal(syslog_format(SYSLOG_RFC5424, 16, 6, 0, "h", "a", big, out, 0), 0);
}

static void test_send(void **state)
{
    (void)state;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(s >= 0);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s, (struct sockaddr *)&addr, sizeof addr), 0);
    socklen_t len = sizeof addr;
    assert_int_equal(getsockname(s, (struct sockaddr *)&addr, &len), 0);
    char server[64], err[UG_ERRBUF];
    snprintf(server, sizeof server, "127.0.0.1:%u", ntohs(addr.sin_port));
    assert_int_equal(syslog_send(server, "<134>hello", 10, err), UG_OK);
    char got[64] = "";
    ssize_t n = recv(s, got, sizeof got - 1, 0);
    assert_int_equal(n, 10);
    assert_string_equal(got, "<134>hello");
    close(s);
    assert_int_equal(syslog_send("127.0.0.1:0", "x", 1, err), UG_ERR_USAGE);
    assert_int_equal(syslog_send(":514", "x", 1, err), UG_ERR_USAGE);
    assert_int_equal(syslog_send("[::1", "x", 1, err), UG_ERR_USAGE);
    assert_int_equal(syslog_send("no-such-host.invalid", "x", 1, err), UG_ERR_UNREACHABLE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc5424),
        cmocka_unit_test(test_rfc3164),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_send),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
