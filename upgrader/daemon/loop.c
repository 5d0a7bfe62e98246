/* SPDX-License-Identifier: MIT */
/* The event loop: plain epoll + timerfd + signalfd + eventfd, no library (docs/architecture.md
 * says why). Nothing here wakes the process but a ready descriptor or the nearest timer. */
#include "daemon/loop.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "net/fetch_loop.h"

#define LOOP_BATCH 16

struct watch {
    loop_fd_fn fn;
    void *ctx;
    unsigned events; /* 0: not watched */
};

struct post {
    loop_fn fn;
    void *ctx;
    struct post *next;
};

struct loop {
    int ep, tfd, efd, sfd;
    struct watch *watches; /* indexed by fd */
    int nwatches;
    struct loop_timer *timers; /* sorted by due */
    int64_t armed;             /* what the timerfd is set to; -1: disarmed */
    pthread_mutex_t mu;        /* guards posts */
    struct post *posts, *posts_tail;
    loop_signal_fn on_signal;
    void *signal_ctx;
    int stop;
    uint64_t wakeups;
    struct fetch_engine *engine;
    struct loop_timer engine_timer;
};

int64_t loop_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int ep_ctl(struct loop *l, int op, int fd, unsigned events)
{
    struct epoll_event ev = {0};
    ev.events = (events & LOOP_IN ? EPOLLIN : 0) | (events & LOOP_OUT ? EPOLLOUT : 0);
    ev.data.fd = fd;
    return epoll_ctl(l->ep, op, fd, &ev);
}

static int grow_watches(struct loop *l, int fd)
{
    if (fd < l->nwatches)
        return 0;
    int n = l->nwatches ? l->nwatches : 16;
    while (n <= fd)
        n *= 2;
    struct watch *w = realloc(l->watches, (size_t)n * sizeof *w);
    if (!w)
        return -1;
    memset(w + l->nwatches, 0, (size_t)(n - l->nwatches) * sizeof *w);
    l->watches = w;
    l->nwatches = n;
    return 0;
}

ug_err loop_watch(struct loop *l, int fd, unsigned events, loop_fd_fn fn, void *ctx, char *err)
{
    if (fd < 0 || grow_watches(l, fd) != 0)
        return fd < 0 ? ug_fail(err, UG_ERR_USAGE, "loop: bad descriptor") : ug_oom(err);
    struct watch *w = &l->watches[fd];
    events &= LOOP_IN | LOOP_OUT;
    int op = !events ? EPOLL_CTL_DEL : w->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (!events && !w->events)
        return UG_OK;
    if (ep_ctl(l, op, fd, events) != 0 && !(op == EPOLL_CTL_DEL && errno == EBADF))
        return ug_fail(err, UG_ERR_OTHER, "loop: cannot watch descriptor %d: %s", fd,
                       strerror(errno));
    w->fn = fn;
    w->ctx = ctx;
    w->events = events;
    return UG_OK;
}

/* Arms the timerfd to the first timer (absolute, monotonic); only when that changed. */
static void rearm(struct loop *l)
{
    int64_t due = l->timers ? l->timers->due : -1;
    if (due == l->armed)
        return;
    struct itimerspec its = {0};
    if (due >= 0) {
        /* 0 would disarm: a timer already due fires one nanosecond after boot, at once. */
        int64_t at = due > 0 ? due : 0;
        its.it_value.tv_sec = at / 1000;
        its.it_value.tv_nsec = (long)(at % 1000) * 1000000 + (at ? 0 : 1);
    }
    if (timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
        l->armed = due;
}

static void unlink_timer(struct loop *l, struct loop_timer *t)
{
    for (struct loop_timer **p = &l->timers; *p; p = &(*p)->next) {
        if (*p == t) {
            *p = t->next;
            break;
        }
    }
    t->set = 0;
    t->next = NULL;
}

void loop_timer_set(struct loop *l, struct loop_timer *t, int64_t due, loop_fn fn, void *ctx)
{
    if (t->set)
        unlink_timer(l, t);
    t->due = due;
    t->fn = fn;
    t->ctx = ctx;
    struct loop_timer **p = &l->timers;
    while (*p && (*p)->due <= due)
        p = &(*p)->next;
    t->next = *p;
    *p = t;
    t->set = 1;
    rearm(l);
}

void loop_timer_stop(struct loop *l, struct loop_timer *t)
{
    if (!t->set)
        return;
    unlink_timer(l, t);
    rearm(l);
}

static void run_timers(struct loop *l)
{
    uint64_t n;
    if (read(l->tfd, &n, sizeof n) < 0 && errno != EAGAIN)
        return;
    l->armed = -1;
    int64_t now = loop_now_ms();
    /* One at a time from the head: a callback may set or stop any timer, itself included. */
    while (!l->stop && l->timers && l->timers->due <= now) {
        struct loop_timer *t = l->timers;
        unlink_timer(l, t);
        t->fn(t->ctx);
    }
    rearm(l);
}

ug_err loop_post(struct loop *l, loop_fn fn, void *ctx, char *err)
{
    struct post *p = malloc(sizeof *p);
    if (!p)
        return ug_oom(err);
    p->fn = fn;
    p->ctx = ctx;
    p->next = NULL;
    pthread_mutex_lock(&l->mu);
    if (l->posts_tail)
        l->posts_tail->next = p;
    else
        l->posts = p;
    l->posts_tail = p;
    pthread_mutex_unlock(&l->mu);
    uint64_t one = 1;
    if (write(l->efd, &one, sizeof one) < 0 && errno != EAGAIN)
        return ug_fail(err, UG_ERR_OTHER, "loop: cannot wake the loop: %s", strerror(errno));
    return UG_OK;
}

static void run_posts(struct loop *l)
{
    uint64_t n;
    if (read(l->efd, &n, sizeof n) < 0 && errno != EAGAIN)
        return;
    pthread_mutex_lock(&l->mu);
    struct post *p = l->posts;
    l->posts = l->posts_tail = NULL;
    pthread_mutex_unlock(&l->mu);
    while (p) {
        struct post *next = p->next;
        p->fn(p->ctx);
        free(p);
        p = next;
    }
}

static void run_signals(struct loop *l)
{
    struct signalfd_siginfo si;
    while (read(l->sfd, &si, sizeof si) == (ssize_t)sizeof si)
        if (l->on_signal)
            l->on_signal(l->signal_ctx, (int)si.ssi_signo);
}

ug_err loop_signals(struct loop *l, const int *signals, size_t n, loop_signal_fn fn, void *ctx,
                    char *err)
{
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < n; i++)
        sigaddset(&set, signals[i]);
    /* Blocked in every thread started after this, so only the signalfd sees them. */
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0 ||
        (l->sfd = signalfd(l->sfd, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
        return ug_fail(err, UG_ERR_OTHER, "loop: cannot take signals: %s", strerror(errno));
    l->on_signal = fn;
    l->signal_ctx = ctx;
    return ep_ctl(l, EPOLL_CTL_ADD, l->sfd, LOOP_IN) == 0 || errno == EEXIST
               ? UG_OK
               : ug_fail(err, UG_ERR_OTHER, "loop: cannot watch signals: %s", strerror(errno));
}

ug_err loop_new(struct loop **out, char *err)
{
    struct loop *l = calloc(1, sizeof *l);
    *out = NULL;
    if (!l)
        return ug_oom(err);
    pthread_mutex_init(&l->mu, NULL);
    l->armed = -1;
    l->sfd = -1;
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    l->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (l->ep < 0 || l->tfd < 0 || l->efd < 0 || ep_ctl(l, EPOLL_CTL_ADD, l->tfd, LOOP_IN) != 0 ||
        ep_ctl(l, EPOLL_CTL_ADD, l->efd, LOOP_IN) != 0) {
        ug_fail(err, UG_ERR_OTHER, "loop: cannot create: %s", strerror(errno));
        loop_free(l);
        return UG_ERR_OTHER;
    }
    *out = l;
    return UG_OK;
}

void loop_free(struct loop *l)
{
    if (!l)
        return;
    for (int fd = 0; fd < 3; fd++) {
        int which = fd == 0 ? l->ep : fd == 1 ? l->tfd : l->efd;
        if (which >= 0)
            close(which);
    }
    if (l->sfd >= 0)
        close(l->sfd);
    for (struct post *p = l->posts, *next; p; p = next) {
        next = p->next;
        free(p);
    }
    free(l->watches);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

static void dispatch(struct loop *l, const struct epoll_event *ev)
{
    int fd = ev->data.fd;
    if (fd == l->tfd)
        return run_timers(l);
    if (fd == l->efd)
        return run_posts(l);
    if (fd == l->sfd)
        return run_signals(l);
    if (fd >= l->nwatches || !l->watches[fd].events)
        return; /* stopped by an earlier callback of this batch */
    unsigned events = (ev->events & EPOLLIN ? LOOP_IN : 0) |
                      (ev->events & EPOLLOUT ? LOOP_OUT : 0) |
                      (ev->events & (EPOLLERR | EPOLLHUP) ? LOOP_ERR : 0);
    struct watch w = l->watches[fd];
    w.fn(w.ctx, fd, events);
}

ug_err loop_run(struct loop *l, char *err)
{
    struct epoll_event evs[LOOP_BATCH];
    l->stop = 0;
    while (!l->stop) {
        int n = epoll_wait(l->ep, evs, LOOP_BATCH, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return ug_fail(err, UG_ERR_OTHER, "loop: epoll_wait: %s", strerror(errno));
        l->wakeups++;
        for (int i = 0; i < n && !l->stop; i++)
            dispatch(l, &evs[i]);
    }
    return UG_OK;
}

void loop_stop(struct loop *l)
{
    l->stop = 1;
}

uint64_t loop_wakeups(const struct loop *l)
{
    return l->wakeups;
}

/* ---- the transport engine on this loop */

static void engine_fd(void *ctx, int fd, unsigned events)
{
    struct loop *l = ctx;
    fetch_engine_on_socket(l->engine, fd,
                           (events & LOOP_IN ? FETCH_EV_IN : 0) |
                               (events & LOOP_OUT ? FETCH_EV_OUT : 0) |
                               (events & LOOP_ERR ? FETCH_EV_ERR : 0));
}

static void engine_timer(void *ctx)
{
    struct loop *l = ctx;
    fetch_engine_on_timer(l->engine);
}

static void op_watch(void *ctx, int fd, int events)
{
    struct loop *l = ctx;
    char ignored[UG_ERRBUF];
    /* Only lack of memory can fail here; the transfer then times out on its own. */
    (void)!loop_watch(l, fd,
                      (events & FETCH_EV_IN ? LOOP_IN : 0) | (events & FETCH_EV_OUT ? LOOP_OUT : 0),
                      engine_fd, l, ignored);
}

static void op_timer(void *ctx, long ms)
{
    struct loop *l = ctx;
    if (ms < 0)
        loop_timer_stop(l, &l->engine_timer);
    else
        loop_timer_set(l, &l->engine_timer, loop_now_ms() + ms, engine_timer, l);
}

static const struct fetch_loop_ops engine_ops = {op_watch, op_timer};

ug_err loop_attach_engine(struct loop *l, struct fetch_engine *e, char *err)
{
    l->engine = e;
    ug_err rc = fetch_engine_attach(e, &engine_ops, l, err);
    if (rc != UG_OK)
        l->engine = NULL;
    return rc;
}

void loop_detach_engine(struct loop *l)
{
    char ignored[UG_ERRBUF];
    if (l->engine)
        (void)!fetch_engine_detach(l->engine, ignored);
    l->engine = NULL;
}
