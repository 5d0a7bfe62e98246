/* SPDX-License-Identifier: MIT */
/* Unit tests of the SIP user agent's call state (sip.c): netstrings and listcalls answers
 * parsed, and against a fake ctrl_tcp port served by the test: unknown counts as busy, a
 * call event makes it busy at once, the answer to listcalls decides, a lost connection is
 * busy again until the reconnect is answered. */
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/sip.h"

static void test_netstring(void **state)
{
    (void)state;
    const char *p;
    size_t n, used;
    assert_int_equal(sip_netstring("5:hello,3:abc,", 14, &p, &n, &used), 1);
    assert_int_equal(n, 5);
    assert_memory_equal(p, "hello", 5);
    assert_int_equal(used, 8);
    assert_int_equal(sip_netstring("5:hel", 5, &p, &n, &used), 0);
    assert_int_equal(sip_netstring("12", 2, &p, &n, &used), 0);
    assert_int_equal(sip_netstring("5:hello;", 8, &p, &n, &used), -1);
    assert_int_equal(sip_netstring("x:", 2, &p, &n, &used), -1);
    assert_int_equal(sip_netstring("99999999:", 9, &p, &n, &used), -1);
    assert_int_equal(sip_listcalls_count("\n--- Active calls (0) ---\n\n"), 0);
    assert_int_equal(sip_listcalls_count("--- Active calls (2) ---\n> [line 1] ..."), 2);
    assert_int_equal(sip_listcalls_count("command not found (listcalls)"), -1);
    assert_int_equal(sip_listcalls_count(NULL), -1);
}

struct fake {
    struct loop *l;
    struct sip *s;
    int listen_fd, conn_fd;
    int changes;
    char got[512];
    struct loop_timer t;
};

static void on_change(void *ctx)
{
    ((struct fake *)ctx)->changes++;
}

static void on_accept(void *ctx, int fd, unsigned events)
{
    struct fake *f = ctx;
    (void)events;
    if (f->conn_fd >= 0)
        close(f->conn_fd);
    f->conn_fd = accept(fd, NULL, NULL);
}

static void slice_end(void *ctx)
{
    loop_stop(((struct fake *)ctx)->l);
}

/* Runs the loop until pred holds, in slices of 10 ms, at most 3 s: the client's connect,
 * its request and its reading all happen on the loop, in whatever order the kernel gives. */
static int run_until(struct fake *f, int (*pred)(struct fake *))
{
    char err[UG_ERRBUF];
    int64_t end = loop_now_ms() + 3000;
    while (!pred(f)) {
        if (loop_now_ms() > end)
            return 0;
        loop_timer_set(f->l, &f->t, loop_now_ms() + 10, slice_end, f);
        assert_int_equal(loop_run(f->l, err), UG_OK);
        loop_timer_stop(f->l, &f->t);
    }
    return 1;
}

static int accepted(struct fake *f)
{
    return f->conn_fd >= 0;
}

static int asked(struct fake *f)
{
    struct pollfd p = {.fd = f->conn_fd, .events = POLLIN};
    return f->conn_fd >= 0 && poll(&p, 1, 0) == 1;
}

static int busy(struct fake *f)
{
    return sip_busy(f->s);
}

static int idle(struct fake *f)
{
    return !sip_busy(f->s);
}

/* The source's count of calls in status: 1 once an answer said so. */
static int one_call(struct fake *f)
{
    json_object *j = sip_to_json(f->s), *calls = NULL;
    int n = json_object_object_get_ex(j, "calls", &calls) ? json_object_get_int(calls) : -1;
    json_object_put(j);
    return n == 1;
}

static void send_ns(struct fake *f, const char *json)
{
    char line[512];
    int n = snprintf(line, sizeof line, "%zu:%s,", strlen(json), json);
    assert_int_equal(write(f->conn_fd, line, (size_t)n), n);
}

/* Waits for the client's listcalls and answers with n calls. */
static void answer(struct fake *f, int n)
{
    assert_true(run_until(f, asked));
    ssize_t r = read(f->conn_fd, f->got, sizeof f->got - 1);
    assert_true(r > 0);
    f->got[r] = '\0';
    assert_non_null(strstr(f->got, "\"listcalls\""));
    char json[200];
    snprintf(json, sizeof json,
             "{\"response\":true,\"ok\":true,\"data\":\"\\n--- Active calls (%d) ---\\n\","
             "\"token\":\"x\"}",
             n);
    send_ns(f, json);
}

static void fake_open(struct fake *f, char *addr, size_t addrsz)
{
    char err[UG_ERRBUF];
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    socklen_t alen = sizeof a;
    f->conn_fd = -1;
    f->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(bind(f->listen_fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(f->listen_fd, 4), 0);
    assert_int_equal(getsockname(f->listen_fd, (struct sockaddr *)&a, &alen), 0);
    snprintf(addr, addrsz, "127.0.0.1:%d", ntohs(a.sin_port));
    assert_int_equal(loop_new(&f->l, err), UG_OK);
    assert_int_equal(loop_watch(f->l, f->listen_fd, LOOP_IN, on_accept, f, err), UG_OK);
    assert_int_equal(sip_new(f->l, &log_stderr, on_change, f, &f->s, err), UG_OK);
}

static void fake_close(struct fake *f)
{
    sip_free(f->s);
    if (f->conn_fd >= 0)
        close(f->conn_fd);
    close(f->listen_fd);
    loop_free(f->l);
}

/* Off counts idle; on, unknown counts busy until the first answer; the answer decides. */
static void test_connect(void **state)
{
    (void)state;
    struct fake f = {0};
    char addr[64];
    fake_open(&f, addr, sizeof addr);
    assert_false(sip_busy(f.s)); /* off */
    assert_true(sip_confirm_idle(f.s));
    sip_configure(f.s, 1, addr);
    assert_true(sip_busy(f.s)); /* on, state unknown */
    assert_false(sip_known(f.s));
    assert_false(sip_confirm_idle(f.s));
    assert_true(run_until(&f, accepted));
    assert_true(sip_busy(f.s)); /* connected, not yet answered */
    answer(&f, 1);              /* a call is up already */
    assert_true(run_until(&f, one_call));
    assert_true(sip_known(f.s));
    assert_true(sip_busy(f.s));
    json_object *j = sip_to_json(f.s);
    assert_non_null(strstr(json_object_to_json_string(j), "\"connected\""));
    json_object_put(j);
    sip_configure(f.s, 0, "");
    assert_false(sip_busy(f.s));
    fake_close(&f);
}

/* A call event makes it busy at once; CALL_CLOSED is believed only through listcalls. */
static void test_call_events(void **state)
{
    (void)state;
    struct fake f = {0};
    char addr[64];
    fake_open(&f, addr, sizeof addr);
    sip_configure(f.s, 1, addr);
    assert_true(run_until(&f, accepted));
    answer(&f, 0);
    assert_true(run_until(&f, idle));
    assert_true(sip_confirm_idle(f.s)); /* a fresh answer */
    int before = f.changes;
    send_ns(&f, "{\"event\":true,\"class\":\"other\",\"type\":\"CALL_REMOTE_SDP\",\"id\":\"1\"}");
    assert_true(run_until(&f, busy));
    assert_true(f.changes > before);
    answer(&f, 1);
    send_ns(&f, "{\"event\":true,\"class\":\"call\",\"type\":\"CALL_CLOSED\",\"id\":\"1\"}");
    assert_true(run_until(&f, asked)); /* the count is asked for again */
    assert_true(sip_busy(f.s));        /* and until then the call counts */
    answer(&f, 0);
    assert_true(run_until(&f, idle));
    fake_close(&f);
}

/* A lost connection is busy until the reconnect is answered. */
static void test_lost(void **state)
{
    (void)state;
    struct fake f = {0};
    char addr[64];
    fake_open(&f, addr, sizeof addr);
    sip_configure(f.s, 1, addr);
    assert_true(run_until(&f, accepted));
    answer(&f, 0);
    assert_true(run_until(&f, idle));
    close(f.conn_fd);
    f.conn_fd = -1;
    assert_true(run_until(&f, busy));
    json_object *j = sip_to_json(f.s);
    assert_non_null(strstr(json_object_to_json_string(j), "\"lost\""));
    json_object_put(j);
    assert_true(run_until(&f, accepted)); /* the reconnect after the backoff */
    assert_true(sip_busy(f.s));
    answer(&f, 0);
    assert_true(run_until(&f, idle));
    fake_close(&f);
}

/* Garbage on the port ends the connection: busy again, as when it is lost. */
static void test_garbage(void **state)
{
    (void)state;
    struct fake f = {0};
    char addr[64];
    fake_open(&f, addr, sizeof addr);
    sip_configure(f.s, 1, addr);
    assert_true(run_until(&f, accepted));
    answer(&f, 0);
    assert_true(run_until(&f, idle));
    assert_int_equal(write(f.conn_fd, "HTTP/1.0 200 OK\r\n", 17), 17);
    assert_true(run_until(&f, busy));
    fake_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_netstring),
                                       cmocka_unit_test(test_connect),
                                       cmocka_unit_test(test_call_events),
                                       cmocka_unit_test(test_lost), cmocka_unit_test(test_garbage)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
