/* SPDX-License-Identifier: MIT */
/* Unit tests of the event loop (loop.c): timers fire in order and only when due, one wake-up
 * per timer; descriptors; work posted from another thread; signals; the transport engine
 * attached and driven by the loop. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/loop.h"
#include "net/fetch_loop.h"

struct record {
    struct loop *l;
    char order[16];
    int n;
    int64_t at[8];
};

static void mark(struct record *r, char c)
{
    r->at[r->n] = loop_now_ms();
    r->order[r->n++] = c;
}

static void fire_a(void *ctx)
{
    mark(ctx, 'a');
}
static void fire_b(void *ctx)
{
    mark(ctx, 'b');
}
static void fire_stop(void *ctx)
{
    struct record *r = ctx;
    mark(r, 's');
    loop_stop(r->l);
}

static void test_timers(void **state)
{
    (void)state;
    char err[UG_ERRBUF];
    struct record r = {0};
    assert_int_equal(loop_new(&r.l, err), UG_OK);
    struct loop_timer a = {0}, b = {0}, c = {0}, gone = {0};
    int64_t t0 = loop_now_ms();
    loop_timer_set(r.l, &c, t0 + 120, fire_stop, &r);
    loop_timer_set(r.l, &b, t0 + 80, fire_b, &r);
    loop_timer_set(r.l, &a, t0 + 40, fire_a, &r);
    loop_timer_set(r.l, &gone, t0 + 60, fire_a, &r);
    loop_timer_stop(r.l, &gone);
    /* Set again: replaces the first setting. */
    loop_timer_set(r.l, &b, t0 + 90, fire_b, &r);
    assert_int_equal(loop_run(r.l, err), UG_OK);
    assert_string_equal(r.order, "abs");
    assert_true(r.at[0] >= t0 + 40 && r.at[1] >= t0 + 90 && r.at[2] >= t0 + 120);
    /* Nothing polls: three timers, three wake-ups. */
    assert_int_equal(loop_wakeups(r.l), 3);
    /* A timer already due fires at once. */
    loop_timer_set(r.l, &a, 0, fire_stop, &r);
    assert_int_equal(loop_run(r.l, err), UG_OK);
    assert_string_equal(r.order, "abss");
    loop_free(r.l);
}

static void on_readable(void *ctx, int fd, unsigned events)
{
    struct record *r = ctx;
    char c;
    assert_true(events & LOOP_IN);
    assert_int_equal(read(fd, &c, 1), 1);
    mark(r, c);
    if (c == 'z')
        loop_stop(r->l);
}

static void *poster(void *arg)
{
    struct record *r = arg;
    char err[UG_ERRBUF];
    usleep(20000);
    assert_int_equal(loop_post(r->l, fire_a, r, err), UG_OK);
    assert_int_equal(loop_post(r->l, fire_b, r, err), UG_OK);
    assert_int_equal(loop_post(r->l, fire_stop, r, err), UG_OK);
    return NULL;
}

static void test_fds_and_posts(void **state)
{
    (void)state;
    char err[UG_ERRBUF];
    struct record r = {0};
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(loop_new(&r.l, err), UG_OK);
    assert_int_equal(loop_watch(r.l, p[0], LOOP_IN, on_readable, &r, err), UG_OK);
    assert_int_equal(write(p[1], "xz", 2), 2);
    assert_int_equal(loop_run(r.l, err), UG_OK);
    assert_string_equal(r.order, "xz");
    assert_int_equal(loop_watch(r.l, p[0], 0, NULL, NULL, err), UG_OK);
    assert_int_equal(write(p[1], "q", 1), 1); /* unwatched: never read */
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, poster, &r), 0);
    assert_int_equal(loop_run(r.l, err), UG_OK);
    pthread_join(th, NULL);
    assert_string_equal(r.order, "xzabs");
    close(p[0]);
    close(p[1]);
    loop_free(r.l);
}

static void on_signal(void *ctx, int signo)
{
    struct record *r = ctx;
    mark(r, signo == SIGHUP ? 'h' : 't');
    if (signo == SIGTERM)
        loop_stop(r->l);
}

static void test_signals(void **state)
{
    (void)state;
    char err[UG_ERRBUF];
    struct record r = {0};
    assert_int_equal(loop_new(&r.l, err), UG_OK);
    int sigs[] = {SIGHUP, SIGTERM};
    assert_int_equal(loop_signals(r.l, sigs, 2, on_signal, &r, err), UG_OK);
    kill(getpid(), SIGHUP);
    kill(getpid(), SIGTERM);
    assert_int_equal(loop_run(r.l, err), UG_OK);
    assert_string_equal(r.order, "ht");
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    loop_free(r.l);
}

static ug_err sink(void *ctx, const void *data, size_t len, uint64_t off, char *err)
{
    (void)ctx, (void)data, (void)len, (void)off, (void)err;
    return UG_OK;
}

static void on_done(void *ctx, struct fetch_transfer *t, ug_err rc, const struct fetch_result *res,
                    const char *msg)
{
    struct record *r = ctx;
    (void)t, (void)res;
    assert_int_equal(rc, UG_ERR_USAGE);
    assert_non_null(strstr(msg, "ftp://"));
    mark(r, 'd');
    loop_stop(r->l);
}

static void test_engine(void **state)
{
    (void)state;
    char err[UG_ERRBUF];
    struct record r = {0};
    struct fetch_engine *e;
    assert_int_equal(loop_new(&r.l, err), UG_OK);
    assert_int_equal(fetch_engine_new(&e, err), UG_OK);
    assert_int_equal(loop_attach_engine(r.l, e, err), UG_OK);
    struct fetch_options o;
    fetch_options_init(&o);
    o.url = "ftp://127.0.0.1/refused";
    struct fetch_transfer *t;
    assert_int_equal(fetch_transfer_start(e, &o, sink, on_done, &r, &t, err), UG_OK);
    /* The outcome arrives through the loop, never from inside the start. */
    assert_int_equal(r.n, 0);
    assert_int_equal(loop_run(r.l, err), UG_OK);
    assert_string_equal(r.order, "d");
    fetch_transfer_free(t);
    loop_detach_engine(r.l);
    fetch_engine_free(e);
    loop_free(r.l);
    fetch_global_cleanup();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timers),
        cmocka_unit_test(test_fds_and_posts),
        cmocka_unit_test(test_signals),
        cmocka_unit_test(test_engine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
