/* SPDX-License-Identifier: MIT */
/* Test driver of the transport's engine (upgrader/net/fetch_loop.h): several fetches on one
 * engine in turn, or at once under a small epoll + timerfd loop; prints key=value lines. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "net/fetch.h"
#include "net/fetch_loop.h"

#define MAX_JOBS 8

static void usage(void)
{
    fprintf(stderr,
            "usage: engine_tool [--ca F] [--blksize N] [--timeout MS] COMMAND ...\n"
            "       engine_tool ... seq [--private] MODE URL OUT [MODE URL OUT]...\n"
            "         MODE push|buffer|pull; one engine for all, in turn (--private: one each)\n"
            "       engine_tool ... mix PULL_URL OUT BUFFER_URL OUT2\n"
            "         a pulled reader open, the reading thread fetches another file on the\n"
            "         same engine after its first read, then reads on\n"
            "       engine_tool ... loop [ACTIONS] URL OUT [URL OUT]...\n"
            "         all at once on an engine driven by an epoll + timerfd loop; ACTIONS on\n"
            "         the first transfer: --pause-at BYTES --pause-ms MS; --rate BPS\n"
            "         [--rate-after-ms MS --rate-to BPS]; --cancel-after-ms MS\n"
            "       engine_tool ... loop-pull [--stall-ms MS] URL OUT\n"
            "         the loop drives; a second thread reads through fetch_open/fetch_read,\n"
            "         stalling MS once after its first read\n");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct fetch_options base;

/* ---- seq: fetches in turn on one engine */

static ug_err file_sink(void *ctx, const void *data, size_t len, uint64_t offset, char *err)
{
    int fd = *(int *)ctx;
    if (pwrite(fd, data, len, (off_t)offset) != (ssize_t)len)
        return ug_fail(err, UG_ERR_OTHER, "cannot write output: %s", strerror(errno));
    return UG_OK;
}

static ug_err pull_to(struct fetch_options *o, int fd, struct fetch_result *res, char *err)
{
    struct fetch_reader *r = NULL;
    static char piece[65536];
    ug_err rc = fetch_open(o, &r, res, err);
    uint64_t off = 0;
    size_t got = 0;
    while (rc == UG_OK && (rc = fetch_read(r, piece, sizeof piece, &got, err)) == UG_OK && got)
        if (pwrite(fd, piece, got, (off_t)off) == (ssize_t)got)
            off += got;
        else
            rc = ug_fail(err, UG_ERR_OTHER, "cannot write output");
    if (r)
        *res = *fetch_reader_result(r);
    fetch_close(r);
    return rc;
}

static ug_err fetch_one(struct fetch_options *o, const char *mode, int fd, struct fetch_result *res,
                        char *err)
{
    if (strcmp(mode, "pull") == 0)
        return pull_to(o, fd, res, err);
    if (strcmp(mode, "push") == 0)
        return fetch_to_sink(o, file_sink, &fd, res, err);
    struct buf b = {0};
    ug_err rc = fetch_to_buffer(o, 64u << 20, &b, res, err);
    if (rc == UG_OK && b.len)
        rc = file_sink(&fd, b.data, b.len, 0, err);
    buf_free(&b);
    return rc;
}

static int run_seq(int argc, char **argv)
{
    int private = argc > 0 && strcmp(argv[0], "--private") == 0;
    argc -= private, argv += private;
    if (argc < 3 || argc % 3) {
        usage();
        return UG_ERR_USAGE;
    }
    char err[UG_ERRBUF] = "";
    struct fetch_engine *e = NULL;
    ug_err rc = private ? UG_OK : fetch_engine_new(&e, err);
    for (int i = 0; rc == UG_OK && i < argc; i += 3) {
        struct fetch_options o = base;
        o.url = argv[i + 1];
        o.engine = e;
        int fd = open(argv[i + 2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        struct fetch_result res = {0};
        rc = fd < 0 ? ug_fail(err, UG_ERR_OTHER, "%s: %s", argv[i + 2], strerror(errno))
                    : fetch_one(&o, argv[i], fd, &res, err);
        printf("fetch%d=%s bytes=%llu reason=%s\n", i / 3, argv[i], (unsigned long long)res.bytes,
               res.reason);
        if (fd >= 0)
            close(fd);
    }
    if (rc != UG_OK)
        fprintf(stderr, "engine_tool: %s\n", err);
    fetch_engine_free(e);
    return (int)rc;
}

/* mix: a pulled reader is open (its transfer thread drives the engine) when this thread,
 * the reader's, fetches another file into a buffer on the same engine, then reads on. */
static int run_mix(int argc, char **argv)
{
    if (argc != 4) {
        usage();
        return UG_ERR_USAGE;
    }
    char err[UG_ERRBUF] = "";
    static char piece[65536];
    struct fetch_engine *e = NULL;
    struct fetch_reader *r = NULL;
    struct fetch_options o = base;
    struct buf b = {0};
    uint64_t off = 0;
    size_t got = 0;
    int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ug_err rc = fd < 0 ? ug_fail(err, UG_ERR_OTHER, "%s: %s", argv[1], strerror(errno))
                       : fetch_engine_new(&e, err);
    o.engine = e;
    o.url = argv[0];
    if (rc == UG_OK)
        rc = fetch_open(&o, &r, NULL, err);
    for (int reads = 0;
         rc == UG_OK && (rc = fetch_read(r, piece, sizeof piece, &got, err)) == UG_OK && got;
         reads++) {
        if (pwrite(fd, piece, got, (off_t)off) != (ssize_t)got)
            rc = ug_fail(err, UG_ERR_OTHER, "cannot write output");
        off += got;
        if (reads == 0 && rc == UG_OK) {
            struct fetch_options o2 = base;
            o2.engine = e;
            o2.url = argv[2];
            int fd2 = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            rc = fetch_to_buffer(&o2, 64u << 20, &b, NULL, err);
            if (rc == UG_OK && (fd2 < 0 || write(fd2, b.data, b.len) != (ssize_t)b.len))
                rc = ug_fail(err, UG_ERR_OTHER, "%s: cannot write", argv[3]);
            printf("buffered_while_pulling=%zu pulled_so_far=%llu\n", b.len,
                   (unsigned long long)off);
            if (fd2 >= 0)
                close(fd2);
        }
    }
    printf("pulled=%llu\n", (unsigned long long)off);
    if (rc != UG_OK)
        fprintf(stderr, "engine_tool: %s\n", err);
    fetch_close(r);
    buf_free(&b);
    if (fd >= 0)
        close(fd);
    fetch_engine_free(e);
    return (int)rc;
}

/* ---- loop: an epoll + timerfd loop driving one engine */

struct job {
    struct fetch_transfer *t;
    int fd;
    uint64_t bytes;
    double first_byte, done_at;
    ug_err rc;
    char msg[UG_ERRBUF];
    int done;
};

struct loop {
    int ep, curl_timer, action_timer;
    struct fetch_engine *e;
    int watched[64]; /* fds registered with epoll, to choose ADD or MOD */
    size_t nwatched;
    unsigned long timer_sets, wakeups;
    double max_handler_ms, started;
    struct job jobs[MAX_JOBS];
    int njobs, ndone;
    /* actions on the first transfer */
    uint64_t pause_at;
    long pause_ms, rate_after_ms, cancel_after_ms;
    uint64_t rate_to;
    int paused;
    uint64_t bytes_at_pause, bytes_at_resume;
    unsigned long wakeups_at_pause, wakeups_at_resume;
};

static void arm(int tfd, long ms)
{
    struct itimerspec its = {{0, 0}, {0, 0}};
    if (ms >= 0) {
        its.it_value.tv_sec = ms / 1000;
        its.it_value.tv_nsec = (ms % 1000) * 1000000L + (ms == 0); /* 0 would disarm */
    }
    timerfd_settime(tfd, 0, &its, NULL);
}

static int watched_index(struct loop *l, int fd)
{
    for (size_t i = 0; i < l->nwatched; i++)
        if (l->watched[i] == fd)
            return (int)i;
    return -1;
}

static void loop_watch(void *ctx, int fd, int events)
{
    struct loop *l = ctx;
    int i = watched_index(l, fd);
    struct epoll_event ev = {0};
    ev.events = (events & FETCH_EV_IN ? EPOLLIN : 0) | (events & FETCH_EV_OUT ? EPOLLOUT : 0);
    ev.data.fd = fd;
    if (!events) {
        if (i >= 0) {
            epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
            l->watched[i] = l->watched[--l->nwatched];
        }
        return;
    }
    if (i >= 0) {
        epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev);
    } else if (l->nwatched < sizeof l->watched / sizeof l->watched[0]) {
        epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev);
        l->watched[l->nwatched++] = fd;
    }
}

static void loop_timer(void *ctx, long ms)
{
    struct loop *l = ctx;
    l->timer_sets++;
    arm(l->curl_timer, ms);
}

static const struct fetch_loop_ops ops = {loop_watch, loop_timer};

static struct loop *the_loop;

static ug_err job_sink(void *ctx, const void *data, size_t len, uint64_t offset, char *err)
{
    struct job *j = ctx;
    struct loop *l = the_loop;
    if (l->paused == 1)
        l->bytes_at_resume += len; /* must stay 0: nothing arrives while paused */
    if (!j->bytes)
        j->first_byte = now_s() - l->started;
    j->bytes += len;
    if (j == &l->jobs[0] && l->pause_at && !l->paused && j->bytes >= l->pause_at) {
        char e2[UG_ERRBUF];
        if (fetch_transfer_pause(j->t, 1, e2) != UG_OK)
            return ug_fail(err, UG_ERR_OTHER, "pause refused: %s", e2);
        l->paused = 1;
        l->bytes_at_pause = j->bytes;
        l->wakeups_at_pause = l->wakeups;
        arm(l->action_timer, l->pause_ms);
    }
    return file_sink(&j->fd, data, len, offset, err);
}

static void job_done(void *ctx, struct fetch_transfer *t, ug_err rc, const struct fetch_result *res,
                     const char *msg)
{
    struct job *j = ctx;
    (void)t;
    (void)res;
    j->rc = rc;
    snprintf(j->msg, sizeof j->msg, "%s", msg);
    j->done_at = now_s() - the_loop->started;
    j->done = 1;
    the_loop->ndone++;
}

/* The action timer: ends the pause, or changes the rate, or cancels (the first transfer). */
static void on_action(struct loop *l)
{
    char err[UG_ERRBUF];
    struct job *j = &l->jobs[0];
    if (l->paused == 1) {
        l->paused = 2;
        l->wakeups_at_resume = l->wakeups;
        if (fetch_transfer_pause(j->t, 0, err) != UG_OK)
            fprintf(stderr, "engine_tool: resume: %s\n", err);
    } else if (l->rate_after_ms >= 0) {
        l->rate_after_ms = -1;
        if (fetch_transfer_set_rate(j->t, l->rate_to, err) != UG_OK)
            fprintf(stderr, "engine_tool: rate: %s\n", err);
    } else if (l->cancel_after_ms >= 0) {
        l->cancel_after_ms = -1;
        fetch_transfer_cancel(j->t);
    }
}

static void loop_event(struct loop *l, struct epoll_event *ev)
{
    uint64_t n;
    double t0 = now_s();
    int fd = ev->data.fd;
    if (fd == l->curl_timer) {
        if (read(fd, &n, sizeof n) > 0)
            fetch_engine_on_timer(l->e);
    } else if (fd == l->action_timer) {
        if (read(fd, &n, sizeof n) > 0)
            on_action(l);
    } else {
        int events = (ev->events & EPOLLIN ? FETCH_EV_IN : 0) |
                     (ev->events & EPOLLOUT ? FETCH_EV_OUT : 0) |
                     (ev->events & (EPOLLERR | EPOLLHUP) ? FETCH_EV_ERR : 0);
        fetch_engine_on_socket(l->e, fd, events);
    }
    double ms = (now_s() - t0) * 1000;
    if (ms > l->max_handler_ms)
        l->max_handler_ms = ms;
}

/* Runs until every job is done and stop() says so, or 120 s passed. */
static int loop_run(struct loop *l, int (*stop)(void *), void *arg)
{
    struct epoll_event evs[16];
    while (!(l->ndone == l->njobs && (!stop || stop(arg)))) {
        if (now_s() - l->started > 120)
            return -1;
        int n = epoll_wait(l->ep, evs, 16, 1000);
        l->wakeups += n > 0;
        for (int i = 0; i < n; i++)
            loop_event(l, &evs[i]);
    }
    return 0;
}

static int loop_open(struct loop *l, char *err)
{
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    l->curl_timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    l->action_timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (l->ep < 0 || l->curl_timer < 0 || l->action_timer < 0)
        return ug_fail(err, UG_ERR_OTHER, "epoll/timerfd: %s", strerror(errno));
    struct epoll_event ev = {.events = EPOLLIN};
    ev.data.fd = l->curl_timer;
    epoll_ctl(l->ep, EPOLL_CTL_ADD, l->curl_timer, &ev);
    ev.data.fd = l->action_timer;
    epoll_ctl(l->ep, EPOLL_CTL_ADD, l->action_timer, &ev);
    l->started = now_s();
    the_loop = l;
    ug_err rc = fetch_engine_new(&l->e, err);
    return rc == UG_OK ? fetch_engine_attach(l->e, &ops, l, err) : rc;
}

static void loop_report(struct loop *l)
{
    for (int i = 0; i < l->njobs; i++)
        printf("job%d rc=%d bytes=%llu first_byte=%.3f done=%.3f msg=%s\n", i, l->jobs[i].rc,
               (unsigned long long)l->jobs[i].bytes, l->jobs[i].first_byte, l->jobs[i].done_at,
               l->jobs[i].msg);
    printf("max_handler_ms=%.1f\nwakeups=%lu\ntimer_sets=%lu\n", l->max_handler_ms, l->wakeups,
           l->timer_sets);
    if (l->pause_at)
        printf("paused_at=%llu\ndelivered_while_paused=%llu\nwakeups_while_paused=%lu\n",
               (unsigned long long)l->bytes_at_pause, (unsigned long long)l->bytes_at_resume,
               l->wakeups_at_resume - l->wakeups_at_pause);
}

static int parse_actions(struct loop *l, int *argc, char ***argv)
{
    static const struct option opts[] = {
        {"pause-at", 1, 0, 'p'}, {"pause-ms", 1, 0, 'm'},
        {"rate", 1, 0, 'r'},     {"rate-after-ms", 1, 0, 'a'},
        {"rate-to", 1, 0, 't'},  {"cancel-after-ms", 1, 0, 'c'},
        {"stall-ms", 1, 0, 's'}, {0, 0, 0, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(*argc, *argv, "", opts, NULL)) != -1) {
        long v = strtol(optarg, NULL, 10);
        switch (c) {
        case 'p':
            l->pause_at = (uint64_t)v;
            break;
        case 'm':
        case 's':
            l->pause_ms = v;
            break;
        case 'r':
            base.max_recv_speed = (uint64_t)v;
            break;
        case 'a':
            l->rate_after_ms = v;
            break;
        case 't':
            l->rate_to = (uint64_t)v;
            break;
        case 'c':
            l->cancel_after_ms = v;
            break;
        default:
            return -1;
        }
    }
    *argc -= optind, *argv += optind;
    return 0;
}

static int run_loop(int argc, char **argv)
{
    static struct loop l;
    char err[UG_ERRBUF] = "";
    l.rate_after_ms = l.cancel_after_ms = -1;
    if (parse_actions(&l, &argc, &argv) != 0 || argc < 2 || argc % 2 || argc / 2 > MAX_JOBS) {
        usage();
        return UG_ERR_USAGE;
    }
    ug_err rc = loop_open(&l, err);
    for (int i = 0; rc == UG_OK && i < argc; i += 2, l.njobs++) {
        struct job *j = &l.jobs[l.njobs];
        struct fetch_options o = base;
        o.url = argv[i];
        if ((j->fd = open(argv[i + 1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
            rc = ug_fail(err, UG_ERR_OTHER, "%s: %s", argv[i + 1], strerror(errno));
        else
            rc = fetch_transfer_start(l.e, &o, job_sink, job_done, j, &j->t, err);
        base.max_recv_speed = 0; /* --rate is the first transfer's */
    }
    if (rc == UG_OK && l.rate_after_ms >= 0)
        arm(l.action_timer, l.rate_after_ms);
    if (rc == UG_OK && l.cancel_after_ms >= 0)
        arm(l.action_timer, l.cancel_after_ms);
    if (rc == UG_OK && loop_run(&l, NULL, NULL) != 0)
        rc = ug_fail(err, UG_ERR_OTHER, "the loop did not finish within 120 s");
    loop_report(&l);
    for (int i = 0; i < l.njobs; i++) {
        if (rc == UG_OK && l.jobs[i].rc != UG_OK)
            rc = ug_fail(err, l.jobs[i].rc, "%s", l.jobs[i].msg);
        fetch_transfer_free(l.jobs[i].t);
        close(l.jobs[i].fd);
    }
    if (rc != UG_OK)
        fprintf(stderr, "engine_tool: %s\n", err);
    fetch_engine_free(l.e);
    return (int)rc;
}

/* ---- loop-pull: the loop drives, another thread pulls */

struct puller {
    struct fetch_options o;
    const char *out;
    long stall_ms;
    ug_err rc;
    char err[UG_ERRBUF];
    uint64_t bytes;
    volatile int finished;
};

static void *puller_main(void *arg)
{
    struct puller *p = arg;
    struct fetch_reader *r = NULL;
    static char piece[65536];
    int fd = open(p->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    p->rc = fd < 0 ? ug_fail(p->err, UG_ERR_OTHER, "%s: %s", p->out, strerror(errno))
                   : fetch_open(&p->o, &r, NULL, p->err);
    size_t got = 0;
    while (p->rc == UG_OK && (p->rc = fetch_read(r, piece, sizeof piece, &got, p->err)) == UG_OK &&
           got) {
        if (pwrite(fd, piece, got, (off_t)p->bytes) != (ssize_t)got)
            p->rc = ug_fail(p->err, UG_ERR_OTHER, "cannot write output");
        if (!p->bytes && p->stall_ms) { /* the buffer fills: the transfer must pause */
            struct timespec d = {p->stall_ms / 1000, (p->stall_ms % 1000) * 1000000L};
            nanosleep(&d, NULL);
        }
        p->bytes += got;
    }
    fetch_close(r);
    if (fd >= 0)
        close(fd);
    p->finished = 1;
    return NULL;
}

static int puller_done(void *arg)
{
    return ((struct puller *)arg)->finished;
}

static int run_loop_pull(int argc, char **argv)
{
    static struct loop l;
    static struct puller p;
    char err[UG_ERRBUF] = "";
    if (parse_actions(&l, &argc, &argv) != 0 || argc != 2) {
        usage();
        return UG_ERR_USAGE;
    }
    ug_err rc = loop_open(&l, err);
    pthread_t th;
    if (rc == UG_OK) {
        p.o = base;
        p.o.url = argv[0];
        p.o.engine = l.e;
        p.out = argv[1];
        p.stall_ms = l.pause_ms;
        if (pthread_create(&th, NULL, puller_main, &p) != 0)
            rc = ug_fail(err, UG_ERR_OTHER, "cannot start the reading thread");
    }
    if (rc == UG_OK) {
        /* The reader's wake-ups reach the loop through the engine's eventfd: wait for it. */
        if (loop_run(&l, puller_done, &p) != 0)
            rc = ug_fail(err, UG_ERR_OTHER, "the loop did not finish within 120 s");
        pthread_join(th, NULL);
        if (rc == UG_OK && (rc = p.rc) != UG_OK)
            snprintf(err, sizeof err, "%s", p.err);
    }
    printf("bytes=%llu\n", (unsigned long long)p.bytes);
    loop_report(&l);
    if (rc != UG_OK)
        fprintf(stderr, "engine_tool: %s\n", err);
    fetch_engine_free(l.e);
    return (int)rc;
}

int main(int argc, char **argv)
{
    fetch_options_init(&base);
    int i = 1;
    for (; i + 1 < argc && argv[i][0] == '-' && argv[i][1] == '-'; i += 2)
        if (strcmp(argv[i], "--ca") == 0)
            base.ca_file = argv[i + 1];
        else if (strcmp(argv[i], "--blksize") == 0)
            base.tftp_blksize = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--timeout") == 0)
            base.timeout_ms = atol(argv[i + 1]);
        else
            break;
    int rc = UG_ERR_USAGE;
    if (i < argc && strcmp(argv[i], "seq") == 0)
        rc = run_seq(argc - i - 1, argv + i + 1);
    else if (i < argc && strcmp(argv[i], "mix") == 0)
        rc = run_mix(argc - i - 1, argv + i + 1);
    else if (i < argc && strcmp(argv[i], "loop") == 0)
        rc = run_loop(argc - i, argv + i);
    else if (i < argc && strcmp(argv[i], "loop-pull") == 0)
        rc = run_loop_pull(argc - i, argv + i);
    else
        usage();
    fetch_global_cleanup();
    return rc;
}
