/* SPDX-License-Identifier: MIT */
/* Unit tests of the transport's engine (fetch_engine.c) where no real server adds anything:
 * argument and option checks, finished transfers, cancel flags, two threads on one engine,
 * and the loop protocol through a recording loop. Peers are local sockets: one that refuses
 * connections, one that accepts them (the kernel's backlog) and never answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/fetch.h"
#include "net/fetch_loop.h"

/* A TCP socket on 127.0.0.1: listening (connections complete, nothing answers) or not
 * (connections are refused). Writes its URL into url. */
static int local_peer(int listening, char *url, size_t urlsz)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    if (listening)
        assert_int_equal(listen(fd, 8), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    snprintf(url, urlsz, "http://127.0.0.1:%u/x", ntohs(a.sin_port));
    return fd;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static ug_err null_sink(void *ctx, const void *data, size_t len, uint64_t offset, char *err)
{
    (void)ctx, (void)data, (void)len, (void)offset, (void)err;
    return UG_OK;
}

struct done_log {
    int calls;
    ug_err rc;
    char msg[UG_ERRBUF];
    char reason[FETCH_REASON_MAX];
    int free_it;
};

static void on_done(void *ctx, struct fetch_transfer *t, ug_err rc, const struct fetch_result *res,
                    const char *msg)
{
    struct done_log *d = ctx;
    d->calls++;
    d->rc = rc;
    snprintf(d->msg, sizeof d->msg, "%s", msg);
    snprintf(d->reason, sizeof d->reason, "%s", res->reason);
    if (d->free_it)
        fetch_transfer_free(t);
}

static void test_start_arguments(void **state)
{
    (void)state;
    struct fetch_engine *e;
    struct fetch_transfer *t = (struct fetch_transfer *)&t;
    struct fetch_options o;
    char err[UG_ERRBUF];
    fetch_options_init(&o);
    o.url = "http://127.0.0.1/x";
    assert_int_equal(fetch_engine_new(&e, err), UG_OK);
    assert_int_equal(fetch_transfer_start(NULL, &o, null_sink, NULL, NULL, &t, err), UG_ERR_USAGE);
    assert_null(t);
    assert_int_equal(fetch_transfer_start(e, &o, NULL, NULL, NULL, &t, err), UG_ERR_USAGE);
    assert_int_equal(fetch_transfer_start(e, NULL, null_sink, NULL, NULL, &t, err), UG_ERR_USAGE);
    assert_int_equal(fetch_transfer_start(e, &o, null_sink, NULL, NULL, NULL, err), UG_ERR_USAGE);
    fetch_transfer_free(NULL);
    fetch_engine_free(e);
    fetch_engine_free(NULL);
}

/* Refusals are the transfer's outcome, through wait and the done callback, before any packet. */
static void test_refusals_are_outcomes(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        int blksize;
        uint64_t rate;
        const char *reason, *msg;
    } cases[] = {
        {"http://prov.example.com/a.cfg", 0, 0, "restricted domain", "Restricted_Access_Domains"},
        {"tftp://prov.example.net/a.cfg", 70000, 0, "", "TFTP block size 70000"},
        {"http://prov.example.net/a.cfg", 0, UINT64_MAX, "", "receive rate"},
    };
    struct fetch_engine *e;
    char err[UG_ERRBUF];
    assert_int_equal(fetch_engine_new(&e, err), UG_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fetch_options o;
        fetch_options_init(&o);
        o.url = cases[i].url;
        o.restricted_domains = "example.net";
        o.tftp_blksize = cases[i].blksize;
        o.max_recv_speed = cases[i].rate;
        struct done_log d = {0};
        struct fetch_transfer *t = NULL;
        struct fetch_result res;
        assert_int_equal(fetch_transfer_start(e, &o, null_sink, on_done, &d, &t, err), UG_OK);
        assert_int_equal(fetch_transfer_wait(t, &res, err), UG_ERR_USAGE);
        assert_int_equal(d.calls, 1);
        assert_int_equal(d.rc, UG_ERR_USAGE);
        assert_string_equal(res.reason, cases[i].reason);
        assert_non_null(strstr(err, cases[i].msg));
        assert_string_equal(d.msg, err);
        fetch_transfer_free(t);
    }
    fetch_engine_free(e);
}

/* A flag already raised: cancelled at once, and the peer never saw a connection. */
static void test_cancel_flag_raised_before_start(void **state)
{
    (void)state;
    char url[64], err[UG_ERRBUF], want[96];
    int peer = local_peer(1, url, sizeof url);
    volatile sig_atomic_t flag = 1;
    struct fetch_options o;
    fetch_options_init(&o);
    o.url = url;
    o.cancel = &flag;
    struct buf body = {0};
    struct fetch_result res;
    assert_int_equal(fetch_to_buffer(&o, 1024, &body, &res, err), UG_ERR_OTHER);
    snprintf(want, sizeof want, "%s: cancelled", url);
    assert_string_equal(err, want);
    assert_string_equal(res.reason, "cancelled");
    assert_int_equal(accept(peer, NULL, NULL), -1);
    assert_int_equal(errno, EAGAIN);
    close(peer);
}

/* Once ended, a transfer refuses pause and rate changes, ignores cancel, keeps its result. */
static void test_finished_transfer(void **state)
{
    (void)state;
    char url[64], err[UG_ERRBUF];
    int peer = local_peer(0, url, sizeof url);
    struct fetch_engine *e;
    struct fetch_transfer *t;
    struct fetch_options o;
    struct fetch_result res;
    struct done_log d = {0};
    fetch_options_init(&o);
    o.url = url;
    assert_int_equal(fetch_engine_new(&e, err), UG_OK);
    assert_int_equal(fetch_transfer_start(e, &o, null_sink, on_done, &d, &t, err), UG_OK);
    assert_int_equal(fetch_transfer_set_rate(t, UINT64_MAX, err), UG_ERR_USAGE);
    assert_int_equal(fetch_transfer_wait(t, &res, err), UG_ERR_UNREACHABLE);
    assert_string_equal(res.reason, "connection refused");
    assert_true(fetch_transfer_done(t));
    assert_int_equal(fetch_transfer_pause(t, 1, err), UG_ERR_USAGE);
    assert_non_null(strstr(err, "already finished"));
    assert_int_equal(fetch_transfer_set_rate(t, 1000, err), UG_ERR_USAGE);
    fetch_transfer_cancel(t);
    assert_int_equal(fetch_transfer_wait(t, &res, err), UG_ERR_UNREACHABLE);
    assert_string_equal(res.reason, "connection refused");
    assert_int_equal(d.calls, 1);
    fetch_transfer_free(t);
    fetch_engine_free(e);
    close(peer);
}

/* Two threads block on one engine: one drives, the other waits for it; each flag stops its
 * own transfer only, and the one left running is driven on after the driver has gone. */
struct blocker {
    struct fetch_engine *e;
    const char *url;
    volatile sig_atomic_t flag;
    ug_err rc;
    char err[UG_ERRBUF];
    volatile int returned;
};

static void *blocker_main(void *arg)
{
    struct blocker *b = arg;
    struct fetch_options o;
    struct buf body = {0};
    fetch_options_init(&o);
    o.url = b->url;
    o.engine = b->e;
    o.cancel = &b->flag;
    b->rc = fetch_to_buffer(&o, 1024, &body, NULL, b->err);
    b->returned = 1;
    return NULL;
}

static int wait_returned(struct blocker *b, double within_s)
{
    double until = now_s() + within_s;
    while (!b->returned && now_s() < until)
        usleep(5000);
    return b->returned;
}

static void test_two_threads_one_engine(void **state)
{
    (void)state;
    char url[64], err[UG_ERRBUF];
    int peer = local_peer(1, url, sizeof url);
    struct fetch_engine *e;
    assert_int_equal(fetch_engine_new(&e, err), UG_OK);
    struct blocker a = {.e = e, .url = url}, b = {.e = e, .url = url};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, blocker_main, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, blocker_main, &b), 0);
    usleep(300000);
    assert_false(a.returned || b.returned);
    b.flag = 1;
    assert_true(wait_returned(&b, 1.0));
    assert_int_equal(b.rc, UG_ERR_OTHER);
    assert_non_null(strstr(b.err, ": cancelled"));
    usleep(300000);
    assert_false(a.returned);
    a.flag = 1;
    assert_true(wait_returned(&a, 1.0));
    assert_int_equal(a.rc, UG_ERR_OTHER);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    fetch_engine_free(e);
    close(peer);
}

/* ---- the loop protocol, through a loop that records what the engine asks */

struct rec_loop {
    int fds[16], events[16];
    int n;
    long timer_ms; /* -1: none */
    double timer_at;
    int watch_calls, timer_calls;
};

static void rec_watch(void *ctx, int fd, int events)
{
    struct rec_loop *l = ctx;
    l->watch_calls++;
    for (int i = 0; i < l->n; i++)
        if (l->fds[i] == fd) {
            if (events)
                l->events[i] = events;
            else
                l->fds[i] = l->fds[--l->n], l->events[i] = l->events[l->n];
            return;
        }
    assert_true(events != 0 && l->n < 16);
    l->fds[l->n] = fd;
    l->events[l->n++] = events;
}

static void rec_timer(void *ctx, long ms)
{
    struct rec_loop *l = ctx;
    l->timer_calls++;
    l->timer_ms = ms;
    l->timer_at = now_s() + (ms < 0 ? 0 : ms / 1000.0);
}

static const struct fetch_loop_ops rec_ops = {rec_watch, rec_timer};

/* One turn of the recording loop: poll what was asked, for as long as the timer allows. */
static void rec_turn(struct rec_loop *l, struct fetch_engine *e, double max_s)
{
    struct pollfd p[16];
    for (int i = 0; i < l->n; i++) {
        p[i].fd = l->fds[i];
        p[i].events = (short)((l->events[i] & FETCH_EV_IN ? POLLIN : 0) |
                              (l->events[i] & FETCH_EV_OUT ? POLLOUT : 0));
    }
    double wait = l->timer_ms < 0 ? max_s : l->timer_at - now_s();
    if (wait > max_s)
        wait = max_s;
    int n = l->n, ready = poll(p, (nfds_t)n, wait > 0 ? (int)(wait * 1000) : 0);
    for (int i = 0; ready > 0 && i < n; i++)
        if (p[i].revents)
            fetch_engine_on_socket(e, p[i].fd,
                                   (p[i].revents & POLLIN ? FETCH_EV_IN : 0) |
                                       (p[i].revents & POLLOUT ? FETCH_EV_OUT : 0) |
                                       (p[i].revents & (POLLERR | POLLHUP) ? FETCH_EV_ERR : 0));
    if (l->timer_ms >= 0 && now_s() >= l->timer_at) {
        l->timer_ms = -1;
        fetch_engine_on_timer(e);
    }
}

static void test_outside_loop(void **state)
{
    (void)state;
    char url[64], err[UG_ERRBUF];
    int peer = local_peer(1, url, sizeof url);
    struct rec_loop l = {.timer_ms = -1};
    struct fetch_engine *e;
    struct fetch_transfer *t;
    struct fetch_options o;
    struct done_log d = {0};
    fetch_options_init(&o);
    o.url = url;
    assert_int_equal(fetch_engine_new(&e, err), UG_OK);
    assert_int_equal(fetch_engine_detach(e, err), UG_ERR_USAGE);
    assert_int_equal(fetch_engine_attach(e, &rec_ops, &l, err), UG_OK);
    assert_int_equal(fetch_engine_attach(e, &rec_ops, &l, err), UG_ERR_USAGE);
    assert_int_equal(l.n, 1); /* the engine's own wake-up eventfd */
    assert_int_equal(fetch_transfer_start(e, &o, null_sink, on_done, &d, &t, err), UG_OK);
    assert_int_equal(l.timer_ms, 0); /* a new transfer is taken up at once */
    assert_int_equal(fetch_engine_detach(e, err), UG_ERR_USAGE);
    /* Connected and asked: only the answer is awaited. The loop is woken for libcurl's own
     * timers alone (7.88 asks about twice a second here); a 100 ms poll would make 15. */
    double until = now_s() + 2;
    while (now_s() < until && !(l.n == 2 && l.events[1] == FETCH_EV_IN))
        rec_turn(&l, e, 0.1);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.events[1], FETCH_EV_IN);
    int timers = l.timer_calls;
    for (until = now_s() + 1.5; now_s() < until;)
        rec_turn(&l, e, 1.5);
    assert_true(l.timer_calls - timers <= 8);
    assert_int_equal(d.calls, 0);
    fetch_transfer_cancel(t);
    for (until = now_s() + 1; d.calls == 0 && now_s() < until;)
        rec_turn(&l, e, 0.1);
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.rc, UG_ERR_OTHER);
    assert_string_equal(d.reason, "cancelled");
    assert_int_equal(l.n, 1); /* the transfer's socket is no longer watched */
    fetch_transfer_free(t);
    assert_int_equal(fetch_engine_detach(e, err), UG_OK);
    assert_int_equal(l.n, 0);
    fetch_engine_free(e);
    close(peer);
}

/* A done callback may free its transfer; the engine lets go of it after the callback. */
static void test_free_in_done_callback(void **state)
{
    (void)state;
    char url[64], err[UG_ERRBUF];
    int peer = local_peer(0, url, sizeof url);
    struct rec_loop l = {.timer_ms = -1};
    struct fetch_engine *e;
    struct fetch_transfer *t;
    struct fetch_options o;
    struct done_log d = {.free_it = 1};
    fetch_options_init(&o);
    o.url = url;
    assert_int_equal(fetch_engine_new(&e, err), UG_OK);
    assert_int_equal(fetch_engine_attach(e, &rec_ops, &l, err), UG_OK);
    assert_int_equal(fetch_transfer_start(e, &o, null_sink, on_done, &d, &t, err), UG_OK);
    for (double until = now_s() + 2; d.calls == 0 && now_s() < until;)
        rec_turn(&l, e, 0.1);
    assert_int_equal(d.calls, 1);
    assert_string_equal(d.reason, "connection refused");
    assert_int_equal(fetch_engine_detach(e, err), UG_OK); /* no transfer left */
    fetch_engine_free(e);
    close(peer);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_arguments),
        cmocka_unit_test(test_refusals_are_outcomes),
        cmocka_unit_test(test_cancel_flag_raised_before_start),
        cmocka_unit_test(test_finished_transfer),
        cmocka_unit_test(test_two_threads_one_engine),
        cmocka_unit_test(test_outside_loop),
        cmocka_unit_test(test_free_in_done_callback),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fetch_global_cleanup();
    return rc;
}
