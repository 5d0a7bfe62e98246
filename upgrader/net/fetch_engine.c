/* SPDX-License-Identifier: MIT */
/* The engine: one libcurl multi handle for its whole life (so connections and TLS sessions
 * are reused), serviced through libcurl's socket and timer callbacks by one driver at a time. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "net/fetch_int.h"

/* ---- the sockets libcurl wants watched */

static struct fetch_watch *watch_find(struct fetch_engine *e, int fd)
{
    for (size_t i = 0; i < e->nwatches; i++)
        if (e->watches[i].fd == fd)
            return &e->watches[i];
    return NULL;
}

/* Makes what is watched match what is wanted (nothing while the lane rests), telling the
 * loop when attached; a detached driver builds its poll set from shown. */
static void watch_show(struct fetch_engine *e, struct fetch_watch *w)
{
    int events = w->lane && w->lane->suspended ? 0 : w->want;
    if (events == w->shown)
        return;
    w->shown = events;
    if (e->ops)
        e->ops->watch(e->loop, w->fd, events);
}

/* The table and the poll set grow together, so a turn never allocates. */
static int watch_grow(struct fetch_engine *e)
{
    size_t cap = e->watch_cap ? e->watch_cap * 2 : 8;
    struct fetch_watch *w = realloc(e->watches, cap * sizeof *w);
    if (!w)
        return -1;
    e->watches = w;
    struct pollfd *p = realloc(e->pfds, cap * sizeof *p);
    if (!p)
        return -1;
    e->pfds = p;
    e->watch_cap = cap;
    return 0;
}

static int watch_set(struct fetch_engine *e, int fd, struct fetch_lane *l, int events)
{
    struct fetch_watch *w = watch_find(e, fd);
    if (!w && !events)
        return 0;
    if (!w) {
        if (e->nwatches == e->watch_cap && watch_grow(e) != 0)
            return -1;
        w = &e->watches[e->nwatches++];
        w->fd = fd;
        w->shown = 0;
    }
    w->lane = l;
    w->want = events;
    watch_show(e, w);
    if (!events)
        *w = e->watches[--e->nwatches];
    return 0;
}

void engine_lane_forget(struct fetch_engine *e, struct fetch_lane *l)
{
    for (size_t i = e->nwatches; i-- > 0;)
        if (e->watches[i].lane == l)
            watch_set(e, e->watches[i].fd, l, 0);
}

void engine_lane_suspend(struct fetch_engine *e, struct fetch_lane *l, int on)
{
    if (l->suspended == on)
        return;
    l->suspended = on;
    for (size_t i = 0; i < e->nwatches; i++)
        if (e->watches[i].lane == l)
            watch_show(e, &e->watches[i]);
}

/* ---- libcurl's callbacks and lanes */

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    (void)socketp;
    struct fetch_lane *l = userp;
    int events = what == CURL_POLL_REMOVE ? 0 : what & (CURL_POLL_IN | CURL_POLL_OUT);
    /* CURL_POLL_IN and _OUT are 1 and 2, as FETCH_EV_IN and _OUT. */
    return watch_set(l->e, fd, l, events) == 0 ? 0 : -1;
}

static int on_curl_timer(CURLM *multi, long ms, void *userp)
{
    (void)multi;
    struct fetch_lane *l = userp;
    l->deadline = ms < 0 ? -1 : fetch_now_ms() + ms;
    return 0;
}

int engine_lane_init(struct fetch_lane *l, struct fetch_engine *e)
{
    l->e = e;
    l->deadline = -1;
    l->suspended = 0;
    if (!(l->multi = curl_multi_init()))
        return -1;
    if (curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket) != CURLM_OK ||
        curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l) != CURLM_OK ||
        curl_multi_setopt(l->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer) != CURLM_OK ||
        curl_multi_setopt(l->multi, CURLMOPT_TIMERDATA, l) != CURLM_OK)
        return -1;
    return 0;
}

/* ---- engine life */

static int engine_init(struct fetch_engine *e)
{
    e->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (e->wake_fd < 0 || watch_set(e, e->wake_fd, NULL, FETCH_EV_IN) != 0 ||
        engine_lane_init(&e->shared, e) != 0)
        return -1;
    /* A connection the server closed meanwhile costs a new one; a TLS session kept here
     * makes its handshake the short one. */
    if (!(e->share = curl_share_init()) ||
        curl_share_setopt(e->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK ||
        curl_share_setopt(e->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK)
        return -1;
    return 0;
}

ug_err fetch_engine_new(struct fetch_engine **out, char *err)
{
    *out = NULL;
    ug_err rc = fetch_global_init(err);
    if (rc != UG_OK)
        return rc;
    struct fetch_engine *e = calloc(1, sizeof *e);
    if (!e)
        return ug_oom(err);
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&e->mu, &attr);
    pthread_mutexattr_destroy(&attr);
    pthread_cond_init(&e->cv, NULL);
    e->armed = -1;
    if (engine_init(e) != 0) {
        fetch_engine_free(e);
        return ug_fail(err, UG_ERR_OTHER, "cannot create the transfer engine: %s",
                       errno ? strerror(errno) : "libcurl refused");
    }
    *out = e;
    return UG_OK;
}

void fetch_engine_free(struct fetch_engine *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&e->mu);
    while (e->transfers) { /* a caller's bug: they keep their memory, lose their engine */
        struct fetch_transfer *t = e->transfers;
        transfer_release(e, t);
        t->e = NULL;
    }
    if (e->ops) {
        for (size_t i = 0; i < e->nwatches; i++)
            if (e->watches[i].shown)
                e->ops->watch(e->loop, e->watches[i].fd, 0);
        if (e->armed >= 0)
            e->ops->timer(e->loop, -1);
        e->ops = NULL;
    }
    pthread_mutex_unlock(&e->mu);
    if (e->shared.multi)
        curl_multi_cleanup(e->shared.multi); /* closes the cached connections */
    if (e->share)
        curl_share_cleanup(e->share);
    if (e->wake_fd >= 0)
        close(e->wake_fd);
    free(e->watches);
    free(e->pfds);
    pthread_cond_destroy(&e->cv);
    pthread_mutex_destroy(&e->mu);
    free(e);
}

/* ---- who drives: libcurl is called by one thread at a time, always under mu */

int engine_may_drive(const struct fetch_engine *e)
{
    pthread_t self = pthread_self();
    if (e->ops)
        return pthread_equal(self, e->loop_thread);
    return !e->drive_depth || pthread_equal(self, e->driver);
}

/* Takes the driver's role if this thread may: 1 (detached, counted), 2 (the loop's
 * thread, always the driver), 0 (another thread drives). */
int engine_claim(struct fetch_engine *e)
{
    if (!engine_may_drive(e))
        return 0;
    if (e->ops)
        return 2;
    e->driver = pthread_self();
    e->drive_depth++;
    return 1;
}

void engine_unclaim(struct fetch_engine *e, int kind)
{
    if (kind == 1 && --e->drive_depth == 0)
        engine_broadcast(e); /* a waiting thread may drive now */
}

void engine_broadcast(struct fetch_engine *e)
{
    if (e->waiters)
        pthread_cond_broadcast(&e->cv);
}

static void engine_rearm(struct fetch_engine *e);

void engine_poke(struct fetch_engine *e)
{
    e->dirty = 1;
    if (engine_may_drive(e)) { /* the driver, or nobody yet: seen at its next step */
        if (e->ops)
            engine_rearm(e);
        return;
    }
    if (!e->wake_pending) {
        uint64_t one = 1;
        e->wake_pending = write(e->wake_fd, &one, sizeof one) == (ssize_t)sizeof one;
    }
}

/* Collects the transfers libcurl finished on a lane; a failed multi call ends them all. */
static void lane_collect(struct fetch_engine *e, struct fetch_lane *l, CURLMcode mc)
{
    CURLMsg *m;
    int queued;
    while ((m = curl_multi_info_read(l->multi, &queued))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        char *priv = NULL;
        CURLcode code = m->data.result;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
        struct fetch_transfer *t = (struct fetch_transfer *)(void *)priv;
        if (t && t->state == TS_RUNNING)
            transfer_end(e, t, code);
    }
    if (mc == CURLM_OK)
        return;
    for (struct fetch_transfer *t = e->transfers; t; t = t->next)
        if (t->lane == l && t->state == TS_RUNNING)
            transfer_end(e, t, mc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY : CURLE_FAILED_INIT);
}

static void lane_action(struct fetch_engine *e, struct fetch_lane *l, curl_socket_t fd, int ev)
{
    int running = 0;
    e->in_curl++;
    CURLMcode mc = curl_multi_socket_action(l->multi, fd, ev, &running);
    e->in_curl--;
    lane_collect(e, l, mc);
}

static void lane_due(struct fetch_engine *e, struct fetch_lane *l, int64_t now)
{
    if (l->multi && !l->suspended && l->deadline >= 0 && l->deadline <= now) {
        l->deadline = -1;
        lane_action(e, l, CURL_SOCKET_TIMEOUT, 0);
    }
}

/* Everything due: requests, cancel flags, ended rests, libcurl's timers. */
static void engine_service(struct fetch_engine *e)
{
    int64_t now = fetch_now_ms();
    int dirty = e->dirty;
    e->dirty = 0;
    for (struct fetch_transfer *t = e->transfers, *next; t; t = next) {
        next = t->next;
        transfer_service(e, t, dirty, now);
    }
    if (now >= e->cancel_check)
        e->cancel_check = now + FETCH_CANCEL_CHECK_MS;
    lane_due(e, &e->shared, now);
    for (struct fetch_transfer *t = e->transfers; t; t = t->next)
        if (t->lane == &t->own && t->state == TS_RUNNING)
            lane_due(e, t->lane, now);
}

/* The loop (or poll) saw events on fd. */
static void engine_socket(struct fetch_engine *e, int fd, int events)
{
    if (fd == e->wake_fd) {
        uint64_t n;
        if (read(e->wake_fd, &n, sizeof n) < 0 && errno != EAGAIN)
            return;
        e->wake_pending = 0;
        e->dirty = 1;
        return;
    }
    struct fetch_watch *w = watch_find(e, fd);
    if (!w || !w->lane || w->lane->suspended)
        return;
    /* As libcurl's own poll does: an error or a hang-up is read to find out which. */
    int ev = (events & (FETCH_EV_IN | FETCH_EV_ERR) ? CURL_CSELECT_IN : 0) |
             (events & FETCH_EV_OUT ? CURL_CSELECT_OUT : 0);
    lane_action(e, w->lane, fd, ev);
}

/* ---- time and turns */

static int64_t earliest(int64_t a, int64_t b)
{
    return a < 0 ? b : b < 0 ? a : a < b ? a : b;
}

/* When the driver must act next, whatever happens on the sockets; -1: never. */
static int64_t engine_deadline(struct fetch_engine *e, int64_t now)
{
    if (e->completed || e->dirty)
        return now;
    int64_t d = e->shared.deadline;
    for (struct fetch_transfer *t = e->transfers; t; t = t->next) {
        if (t->state != TS_RUNNING)
            continue;
        if (t->cancel)
            d = earliest(d, e->cancel_check);
        if (t->throttle_until)
            d = earliest(d, t->throttle_until);
        if (t->lane != &t->own)
            continue;
        if (!t->own.suspended)
            d = earliest(d, t->own.deadline);
        else if (t->timeout_at) /* its timers wait with the lane, not the overall timeout */
            d = earliest(d, t->timeout_at);
    }
    return d;
}

/* Sets the loop's timer; one set later than needed is left to fire early (on_timer then
 * arms the exact one), which spares a system call for each of libcurl's moves. */
static void engine_rearm(struct fetch_engine *e)
{
    int64_t now = fetch_now_ms(), d = engine_deadline(e, now);
    if (d < 0) {
        if (e->armed >= 0)
            e->ops->timer(e->loop, -1);
        e->armed = -1;
        return;
    }
    if (e->armed >= 0 && e->armed <= d)
        return;
    e->armed = d;
    e->ops->timer(e->loop, d <= now ? 0 : (long)(d - now));
}

static int poll_events(short revents)
{
    return (revents & (POLLIN | POLLERR | POLLHUP) ? FETCH_EV_IN : 0) |
           (revents & POLLOUT ? FETCH_EV_OUT : 0) | (revents & POLLNVAL ? FETCH_EV_ERR : 0);
}

/* One turn of a thread driving on its own: waits on the sockets until the next deadline
 * (never longer, never shorter), then services what is due. Under mu, held once. */
static void engine_turn(struct fetch_engine *e)
{
    int64_t now = fetch_now_ms(), d = engine_deadline(e, now);
    int timeout = d < 0 ? -1 : d <= now ? 0 : d - now > INT_MAX ? INT_MAX : (int)(d - now);
    nfds_t n = 0;
    for (size_t i = 0; i < e->nwatches; i++) {
        if (!e->watches[i].shown)
            continue;
        e->pfds[n].fd = e->watches[i].fd;
        e->pfds[n].events = (short)((e->watches[i].shown & FETCH_EV_IN ? POLLIN : 0) |
                                    (e->watches[i].shown & FETCH_EV_OUT ? POLLOUT : 0));
        e->pfds[n++].revents = 0;
    }
    pthread_mutex_unlock(&e->mu);
    int ready = poll(e->pfds, n, timeout); /* EINTR (a signal) just ends the wait */
    pthread_mutex_lock(&e->mu);
    for (nfds_t i = 0; ready > 0 && i < n; i++)
        if (e->pfds[i].revents)
            engine_socket(e, e->pfds[i].fd, poll_events(e->pfds[i].revents));
    engine_service(e);
    transfer_deliver_ended(e);
    if (e->ops)
        engine_rearm(e);
}

void engine_wait(struct fetch_engine *e, int (*pred)(void *arg), void *arg)
{
    while (!pred(arg)) {
        int kind = engine_claim(e);
        if (!kind) {
            e->waiters++;
            pthread_cond_wait(&e->cv, &e->mu);
            e->waiters--;
            continue;
        }
        while (!pred(arg))
            engine_turn(e);
        engine_unclaim(e, kind);
    }
}

/* ---- the outside loop */

ug_err fetch_engine_attach(struct fetch_engine *e, const struct fetch_loop_ops *ops, void *loop,
                           char *err)
{
    if (!e || !ops || !ops->watch || !ops->timer)
        return ug_fail(err, UG_ERR_USAGE, "fetch_engine_attach: no engine or loop operations");
    ug_err rc = UG_OK;
    pthread_mutex_lock(&e->mu);
    if (e->ops)
        rc = ug_fail(err, UG_ERR_USAGE, "the transfer engine is attached to a loop already");
    else if (e->transfers || e->drive_depth)
        rc = ug_fail(err, UG_ERR_USAGE, "the transfer engine has transfers: attach it first");
    if (rc == UG_OK) {
        e->ops = ops;
        e->loop = loop;
        e->loop_thread = pthread_self();
        e->armed = -1;
        for (size_t i = 0; i < e->nwatches; i++)
            if (e->watches[i].shown)
                ops->watch(loop, e->watches[i].fd, e->watches[i].shown);
        engine_rearm(e);
    }
    pthread_mutex_unlock(&e->mu);
    return rc;
}

ug_err fetch_engine_detach(struct fetch_engine *e, char *err)
{
    ug_err rc = UG_OK;
    pthread_mutex_lock(&e->mu);
    if (!e->ops || !engine_may_drive(e))
        rc =
            ug_fail(err, UG_ERR_USAGE, "the transfer engine is not attached to this thread's loop");
    else if (e->transfers)
        rc = ug_fail(err, UG_ERR_USAGE, "the transfer engine still has transfers");
    if (rc == UG_OK) {
        for (size_t i = 0; i < e->nwatches; i++)
            if (e->watches[i].shown)
                e->ops->watch(e->loop, e->watches[i].fd, 0);
        if (e->armed >= 0)
            e->ops->timer(e->loop, -1);
        e->ops = NULL;
        e->armed = -1;
    }
    pthread_mutex_unlock(&e->mu);
    return rc;
}

/* Shared end of the loop's two entries: what is due, the callbacks, the next timer. */
static void loop_step(struct fetch_engine *e)
{
    engine_service(e);
    transfer_deliver_ended(e);
    engine_rearm(e);
}

void fetch_engine_on_socket(struct fetch_engine *e, int fd, int events)
{
    pthread_mutex_lock(&e->mu);
    if (e->ops && engine_may_drive(e) && !e->in_curl) {
        engine_socket(e, fd, events);
        loop_step(e);
    }
    pthread_mutex_unlock(&e->mu);
}

void fetch_engine_on_timer(struct fetch_engine *e)
{
    pthread_mutex_lock(&e->mu);
    if (e->ops && engine_may_drive(e) && !e->in_curl) {
        e->armed = -1;
        loop_step(e);
    }
    pthread_mutex_unlock(&e->mu);
}
