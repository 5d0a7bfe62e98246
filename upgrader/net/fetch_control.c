/* SPDX-License-Identifier: MIT */
/* A transfer's life on an engine: created, given to libcurl, paused, rate-limited, cancelled,
 * ended, reported and freed; asked for on any thread, carried out by the engine's driver. */
#include <stdlib.h>
#include <string.h>

#include "net/fetch_int.h"

/* The outcome is decided: the reader may see the end, the callbacks are queued. */
static void complete(struct fetch_engine *e, struct fetch_transfer *t)
{
    t->state = TS_ENDED;
    if (t->pull) {
        pthread_mutex_lock(&t->pull->mu);
        t->pull->ended = 1;
        pthread_cond_signal(&t->pull->readable);
        pthread_mutex_unlock(&t->pull->mu);
    }
    t->done_next = NULL;
    if (e->completed_tail)
        e->completed_tail->done_next = t;
    else
        e->completed = t;
    e->completed_tail = t;
    t->queued = 1;
}

static void dequeue(struct fetch_engine *e, struct fetch_transfer *t)
{
    struct fetch_transfer **p = &e->completed, *prev = NULL;
    while (*p && *p != t)
        prev = *p, p = &(*p)->done_next;
    if (!*p)
        return;
    *p = t->done_next;
    if (e->completed_tail == t)
        e->completed_tail = prev;
    t->queued = 0;
}

/* libcurl is done with t: out of its multi handle, the outcome decided, callbacks queued. */
void transfer_end(struct fetch_engine *e, struct fetch_transfer *t, CURLcode code)
{
    curl_multi_remove_handle(t->lane->multi, t->easy);
    t->code = code;
    transfer_finish(t);
    complete(e, t);
}

static void transfer_abort(struct fetch_engine *e, struct fetch_transfer *t, enum fetch_abort why)
{
    if (t->abort == ABORT_NONE)
        t->abort = why;
    transfer_end(e, t, CURLE_ABORTED_BY_CALLBACK);
}

/* Ends t before libcurl had it, with rc and the message in msg. */
static void transfer_refused(struct fetch_engine *e, struct fetch_transfer *t, ug_err rc,
                             const char *msg)
{
    t->rc = rc;
    fetch_copy_str(t->msg, sizeof t->msg, msg);
    complete(e, t);
}

/* Gives t to libcurl: from here on it may send. */
static void transfer_add(struct fetch_engine *e, struct fetch_transfer *t)
{
    char msg[UG_ERRBUF];
    if (curl_easy_setopt(t->easy, CURLOPT_SHARE, e->share) != CURLE_OK ||
        curl_multi_add_handle(t->lane->multi, t->easy) != CURLM_OK) {
        fetch_copy_str(t->res.reason, sizeof t->res.reason, "transfer failed");
        fetch_set_msg(msg, "%s: cannot start the transfer", t->display_url);
        transfer_refused(e, t, UG_ERR_OTHER, msg);
        return;
    }
    t->state = TS_RUNNING;
    t->rate_mark = fetch_now_ms();
    if (!t->is_http && t->timeout_ms)
        t->timeout_at = t->rate_mark + t->timeout_ms;
}

/* Takes t out of libcurl (cancelling it if it runs) and out of the engine; memory stays. */
void transfer_release(struct fetch_engine *e, struct fetch_transfer *t)
{
    if (t->state == TS_RUNNING)
        curl_multi_remove_handle(t->lane->multi, t->easy);
    if (t->queued)
        dequeue(e, t);
    struct fetch_transfer **p = &e->transfers;
    while (*p && *p != t)
        p = &(*p)->next;
    if (*p)
        *p = t->next;
    if (t->easy)
        curl_easy_cleanup(t->easy);
    t->easy = NULL;
    curl_slist_free_all(t->headers);
    t->headers = NULL;
    if (t->own.multi)
        curl_multi_cleanup(t->own.multi);
    t->own.multi = NULL;
    engine_lane_forget(e, &t->own);
    t->released = 1;
    engine_broadcast(e);
}

void transfer_destroy(struct fetch_transfer *t)
{
    if (t->pull) {
        pthread_cond_destroy(&t->pull->readable);
        pthread_mutex_destroy(&t->pull->mu);
        free(t->pull->data);
        free(t->pull);
    }
    free(t->restricted);
    free(t);
}

/* libcurl resumes a paused transfer by delivering what it held at once. */
static void curl_resume(struct fetch_engine *e, struct fetch_transfer *t)
{
    t->curl_paused = 0;
    e->in_curl++;
    CURLcode c = curl_easy_pause(t->easy, CURLPAUSE_CONT);
    e->in_curl--;
    if (c != CURLE_OK)
        transfer_end(e, t, c);
}

/* Pauses or resumes t as asked by its owner, its reader's room and its rate. */
static void apply_pause(struct fetch_engine *e, struct fetch_transfer *t, int64_t now)
{
    if (t->throttle_until && now >= t->throttle_until)
        t->throttle_until = 0;
    int want = transfer_held(t) || (t->pull && t->pull->held) || t->throttle_until;
    if (!t->is_http) {
        engine_lane_suspend(e, t->lane, want);
        return;
    }
    /* Before the connection exists libcurl refuses; on_body then pauses at the first byte. */
    if (want && !t->curl_paused && curl_easy_pause(t->easy, CURLPAUSE_RECV) == CURLE_OK)
        t->curl_paused = 1;
    else if (!want && t->curl_paused)
        curl_resume(e, t);
}

/* A new rate counts from now: the bytes so far are not held against it. */
static void apply_rate(struct fetch_transfer *t, int64_t now)
{
    t->rate_dirty = 0;
    t->rate_mark = now;
    t->rate_mark_bytes = t->res.bytes;
    t->throttle_until = 0;
}

static void reader_room(struct fetch_transfer *t)
{
    struct fetch_pull *p = t->pull;
    pthread_mutex_lock(&p->mu);
    if (p->room)
        p->room = p->held = 0;
    pthread_mutex_unlock(&p->mu);
}

/* One transfer's part of a turn: what others asked for, its cancel flag, its rate. */
void transfer_service(struct fetch_engine *e, struct fetch_transfer *t, int dirty, int64_t now)
{
    if (t->want_free || (t->engine_frees && !t->delivering)) {
        int destroy = t->engine_frees;
        transfer_release(e, t);
        if (destroy)
            transfer_destroy(t);
        return;
    }
    if (t->state == TS_NEW && dirty)
        transfer_add(e, t);
    if (t->state != TS_RUNNING)
        return;
    if (t->want_cancel || (t->cancel && *t->cancel)) {
        transfer_abort(e, t, ABORT_CANCELLED);
        return;
    }
    if (t->timeout_at && t->own.suspended && now >= t->timeout_at) {
        transfer_end(e, t, CURLE_OPERATION_TIMEDOUT); /* libcurl's timer waits with the lane */
        return;
    }
    if (!dirty && !(t->throttle_until && now >= t->throttle_until))
        return;
    if (t->pull)
        reader_room(t);
    if (t->rate_dirty)
        apply_rate(t, now);
    if (t->state == TS_RUNNING)
        apply_pause(e, t, now);
}

static void deliver_one(struct fetch_transfer *t)
{
    if (t->progress && t->rc == UG_OK)
        t->progress(t->progress_ctx, t, t->res.bytes, t->res.bytes);
    if (t->done)
        t->done(t->ctx, t, t->rc, &t->res, t->rc == UG_OK ? "" : t->msg);
}

/* Runs the callbacks of ended transfers, with mu released (held once). */
void transfer_deliver_ended(struct fetch_engine *e)
{
    struct fetch_transfer *t;
    while ((t = e->completed)) {
        dequeue(e, t);
        t->delivering = 1;
        pthread_mutex_unlock(&e->mu);
        deliver_one(t);
        pthread_mutex_lock(&e->mu);
        t->delivering = 0;
        t->state = TS_DONE;
        engine_broadcast(e);
        if (t->engine_frees) {
            transfer_release(e, t);
            transfer_destroy(t);
        }
    }
}

static struct fetch_pull *pull_new(size_t cap)
{
    struct fetch_pull *p = calloc(1, sizeof *p);
    if (!p || !(p->data = malloc(cap))) {
        free(p);
        return NULL;
    }
    p->cap = cap;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->readable, NULL);
    return p;
}

/* Sets t up; a refusal (or a cancel flag already raised) becomes its outcome at once. */
static void transfer_prepare(struct fetch_engine *e, struct fetch_transfer *t,
                             const struct fetch_options *o)
{
    char msg[UG_ERRBUF] = "";
    ug_err rc = transfer_setup(t, o, msg);
    if (rc == UG_OK && !t->is_http) {
        t->lane = &t->own;
        if (engine_lane_init(&t->own, e) != 0)
            rc = ug_fail(msg, UG_ERR_OTHER, "%s: cannot create a libcurl handle", t->display_url);
    }
    if (rc != UG_OK) {
        transfer_refused(e, t, rc, msg);
    } else if (t->cancel && *t->cancel) {
        t->abort = ABORT_CANCELLED;
        transfer_finish(t);
        complete(e, t);
    }
}

ug_err transfer_create(struct fetch_engine *e, const struct fetch_options *o, fetch_sink_fn sink,
                       fetch_done_fn done, void *ctx, size_t pull_cap, struct fetch_transfer **out,
                       char *err)
{
    *out = NULL;
    struct fetch_transfer *t = calloc(1, sizeof *t);
    if (!t || (pull_cap && !(t->pull = pull_new(pull_cap)))) {
        free(t);
        return ug_oom(err);
    }
    t->e = e;
    t->sink = sink;
    t->done = done;
    t->ctx = ctx;
    t->lane = &e->shared;
    t->own.deadline = -1;
    pthread_mutex_lock(&e->mu);
    transfer_prepare(e, t, o);
    t->next = e->transfers;
    e->transfers = t;
    engine_poke(e);
    pthread_mutex_unlock(&e->mu);
    *out = t;
    return UG_OK;
}

ug_err fetch_transfer_start(struct fetch_engine *e, const struct fetch_options *o,
                            fetch_sink_fn sink, fetch_done_fn done, void *ctx,
                            struct fetch_transfer **t, char *err)
{
    if (!t)
        return ug_fail(err, UG_ERR_USAGE, "fetch_transfer_start: nowhere to put the transfer");
    *t = NULL;
    if (!e || !o || !sink)
        return ug_fail(err, UG_ERR_USAGE, "fetch_transfer_start: no engine, options or sink");
    return transfer_create(e, o, sink, done, ctx, 0, t, err);
}

int transfer_is_done(void *arg)
{
    return ((struct fetch_transfer *)arg)->state == TS_DONE;
}

ug_err transfer_blocking_ok(struct fetch_engine *e, const struct fetch_transfer *t, char *err)
{
    if (e->in_curl && engine_may_drive(e))
        return ug_fail(err, UG_ERR_OTHER,
                       "%s: a blocking fetch cannot run inside a transfer's callback",
                       t->display_url);
    return UG_OK;
}

ug_err fetch_transfer_wait(struct fetch_transfer *t, struct fetch_result *res, char *err)
{
    struct fetch_engine *e = t->e;
    if (!e)
        return ug_fail(err, UG_ERR_OTHER, "%s: its engine was freed", t->display_url);
    pthread_mutex_lock(&e->mu);
    ug_err rc = transfer_blocking_ok(e, t, err);
    if (rc == UG_OK && !t->delivering)
        engine_wait(e, transfer_is_done, t);
    if (rc == UG_OK) {
        rc = t->rc;
        if (rc != UG_OK)
            ug_fail(err, rc, "%s", t->msg);
        if (res)
            *res = t->res;
    }
    pthread_mutex_unlock(&e->mu);
    return rc;
}

int fetch_transfer_done(const struct fetch_transfer *t)
{
    if (!t->e)
        return 1;
    pthread_mutex_lock(&t->e->mu);
    int done = t->state == TS_DONE;
    pthread_mutex_unlock(&t->e->mu);
    return done;
}

/* Takes t out of its engine on the driver: now if this thread may drive, else through the
 * driver. 0 when t is inside one of its callbacks: the engine frees it once they return. */
static int transfer_let_go(struct fetch_engine *e, struct fetch_transfer *t)
{
    if (engine_may_drive(e) && (t->delivering || e->in_curl)) {
        t->engine_frees = 1;
        engine_poke(e);
        return 0;
    }
    while (t->delivering) { /* its done callback runs on the driver */
        e->waiters++;
        pthread_cond_wait(&e->cv, &e->mu);
        e->waiters--;
    }
    int kind = engine_claim(e);
    if (kind) {
        transfer_release(e, t);
        engine_unclaim(e, kind);
        return 1;
    }
    t->want_free = 1;
    engine_poke(e);
    while (!t->released) {
        e->waiters++;
        pthread_cond_wait(&e->cv, &e->mu);
        e->waiters--;
    }
    return 1;
}

void fetch_transfer_free(struct fetch_transfer *t)
{
    if (!t)
        return;
    struct fetch_engine *e = t->e;
    if (e) {
        pthread_mutex_lock(&e->mu);
        int gone = transfer_let_go(e, t);
        pthread_mutex_unlock(&e->mu);
        if (!gone)
            return;
    }
    transfer_destroy(t);
}

/* Records a request on a transfer that is still running; UG_ERR_USAGE once it has ended. */
static ug_err transfer_ask(struct fetch_transfer *t, int *field, int value, const uint64_t *rate,
                           char *err)
{
    struct fetch_engine *e = t->e;
    if (!e)
        return ug_fail(err, UG_ERR_USAGE, "%s: the transfer has already finished", t->display_url);
    ug_err rc = UG_OK;
    pthread_mutex_lock(&e->mu);
    if (t->state >= TS_ENDED) {
        rc = ug_fail(err, UG_ERR_USAGE, "%s: the transfer has already finished", t->display_url);
    } else {
        *field = value;
        if (rate)
            t->rate = *rate;
        engine_poke(e);
    }
    pthread_mutex_unlock(&e->mu);
    return rc;
}

ug_err fetch_transfer_pause(struct fetch_transfer *t, int on, char *err)
{
    return transfer_ask(t, &t->want_pause, on != 0, NULL, err);
}

ug_err fetch_transfer_set_rate(struct fetch_transfer *t, uint64_t bytes_per_s, char *err)
{
    if (bytes_per_s > (uint64_t)INT64_MAX)
        return ug_fail(err, UG_ERR_USAGE, "%s: receive rate %llu is too large", t->display_url,
                       (unsigned long long)bytes_per_s);
    return transfer_ask(t, &t->rate_dirty, 1, &bytes_per_s, err);
}

uint64_t transfer_rate(const struct fetch_transfer *t)
{
    uint64_t hold = t->e ? t->e->hold_rate : 0;
    return hold && (!t->rate || hold < t->rate) ? hold : t->rate;
}

int transfer_held(const struct fetch_transfer *t)
{
    return t->want_pause || (t->e && t->e->hold_pause);
}

void fetch_engine_hold(struct fetch_engine *e, int pause, uint64_t bytes_per_s)
{
    if (bytes_per_s > (uint64_t)INT64_MAX)
        bytes_per_s = (uint64_t)INT64_MAX;
    pthread_mutex_lock(&e->mu);
    e->hold_pause = pause != 0;
    e->hold_rate = pause ? 0 : bytes_per_s;
    /* Each running transfer counts its rate afresh from now and re-decides its pause. */
    for (struct fetch_transfer *t = e->transfers; t; t = t->next)
        if (t->state < TS_ENDED)
            t->rate_dirty = 1;
    engine_poke(e);
    pthread_mutex_unlock(&e->mu);
}

void fetch_transfer_cancel(struct fetch_transfer *t)
{
    char ignored[UG_ERRBUF];
    (void)transfer_ask(t, &t->want_cancel, 1, NULL, ignored);
}
