/* SPDX-License-Identifier: MIT */
/* The pulled reader (fetch_open/fetch_read/fetch_close): a transfer whose body waits in a
 * bounded buffer, with a transfer thread driving the engine while the reader decodes. */
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "net/fetch_int.h"

struct fetch_reader {
    struct fetch_engine *own; /* the engine of this reader alone, or NULL */
    struct fetch_transfer *t;
    pthread_t thread;
    int thread_started, joined;
    int closing;             /* fetch_close: the transfer thread is to stop (under e->mu) */
    struct fetch_result res; /* what fetch_reader_result shows: never being written */
};

/* What fetch_read waits for: want bytes unread, a transfer held for room, or the end. */
struct fill {
    struct fetch_pull *p;
    size_t want;
};

/* fetch_open returns at the first body byte, or once the transfer is over. */
static int body_started(void *arg)
{
    struct fetch_transfer *t = arg;
    return (t->started && t->state != TS_ENDED) || t->state == TS_DONE;
}

static int reader_over(void *arg)
{
    struct fetch_reader *r = arg;
    return r->closing || r->t->state == TS_DONE;
}

static int fill_ready(struct fetch_pull *p, size_t want)
{
    size_t unread = p->len - p->pos;
    return unread >= want || p->ended || (p->held && unread);
}

static int fill_ready_locked(void *arg)
{
    struct fill *f = arg;
    pthread_mutex_lock(&f->p->mu);
    int ready = fill_ready(f->p, f->want);
    pthread_mutex_unlock(&f->p->mu);
    return ready;
}

/* The transfer thread: drives the engine (or waits for the thread that does) until its
 * transfer is over or the reader is closed. TFTP acknowledges a block only while libcurl
 * runs, so a reader busy decoding must not be the one running it (docs/install.md). */
static void *transfer_main(void *arg)
{
    struct fetch_reader *r = arg;
    struct fetch_engine *e = r->t->e;
    pthread_mutex_lock(&e->mu);
    engine_wait(e, reader_over, r);
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

/* Starts transfer_main, on o->transfer_cpu alone if asked and possible (docs/install.md:
 * a lock-step transfer must not wait behind the decoder); anywhere otherwise. */
static int start_transfer_thread(struct fetch_reader *r, const struct fetch_options *o)
{
    if (o->pin_transfer && o->transfer_cpu >= 0 && o->transfer_cpu < CPU_SETSIZE) {
        pthread_attr_t attr;
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(o->transfer_cpu, &one);
        int started = pthread_attr_init(&attr) == 0;
        if (started) {
            started = pthread_attr_setaffinity_np(&attr, sizeof one, &one) == 0 &&
                      pthread_create(&r->thread, &attr, transfer_main, r) == 0;
            pthread_attr_destroy(&attr);
        }
        if (started) {
            r->t->res.transfer_cpu = o->transfer_cpu;
            return 0;
        }
    }
    return pthread_create(&r->thread, NULL, transfer_main, r);
}

/* Waits for the body (or the end); then, unless an outside loop drives the engine, hands
 * the rest of the transfer to a thread of its own. Under e->mu. */
static ug_err reader_begin(struct fetch_reader *r, const struct fetch_options *o, char *err)
{
    struct fetch_transfer *t = r->t;
    struct fetch_engine *e = t->e;
    ug_err rc = transfer_blocking_ok(e, t, err);
    if (rc != UG_OK)
        return rc;
    engine_wait(e, body_started, t);
    if (t->state == TS_DONE) {
        if (t->rc != UG_OK)
            return ug_fail(err, t->rc, "%s", t->msg);
    } else {
        transfer_collect_info(t);
        if (!e->ops) {
            if (start_transfer_thread(r, o) != 0)
                return ug_fail(err, UG_ERR_OTHER, "%s: cannot start the transfer thread",
                               t->display_url);
            r->thread_started = 1;
        }
    }
    r->res = t->res;
    return UG_OK;
}

ug_err fetch_open(const struct fetch_options *o, struct fetch_reader **reader,
                  struct fetch_result *res, char *err)
{
    *reader = NULL;
    struct fetch_reader *r = calloc(1, sizeof *r);
    if (!r)
        return ug_oom(err);
    r->res.transfer_cpu = -1;
    struct fetch_engine *e = o->engine;
    ug_err rc = e ? UG_OK : fetch_engine_new(&r->own, err);
    if (rc == UG_OK)
        rc = transfer_create(e ? e : r->own, o, NULL, NULL, NULL, FETCH_PULL_BUFFER, &r->t, err);
    if (rc == UG_OK) {
        e = r->t->e;
        pthread_mutex_lock(&e->mu);
        rc = reader_begin(r, o, err);
        if (rc != UG_OK && res)
            *res = r->t->res;
        pthread_mutex_unlock(&e->mu);
    } else if (res) {
        *res = r->res;
    }
    if (rc != UG_OK) {
        fetch_close(r);
        return rc;
    }
    *reader = r;
    return UG_OK;
}

/* Until want bytes are unread (or the transfer holds, or ended): a reader with a transfer
 * thread, or off the loop's thread, sleeps; one on the loop's thread drives the engine. The
 * transfer thread holds the engine's lock while libcurl runs, so a reader that has one never
 * takes it here. */
static ug_err reader_fill(struct fetch_reader *r, size_t want, char *err)
{
    struct fill f = {r->t->pull, want};
    struct fetch_engine *e = r->t->e;
    int drive = 0;
    ug_err rc = UG_OK;
    if (!r->thread_started) {
        pthread_mutex_lock(&e->mu);
        drive = engine_may_drive(e);
        if (drive && (rc = transfer_blocking_ok(e, r->t, err)) == UG_OK)
            engine_wait(e, fill_ready_locked, &f);
        pthread_mutex_unlock(&e->mu);
        if (drive || rc != UG_OK)
            return rc;
    }
    pthread_mutex_lock(&f.p->mu);
    while (!fill_ready(f.p, want)) {
        f.p->wants = want;
        f.p->reader_waiting = 1;
        pthread_cond_wait(&f.p->readable, &f.p->mu);
        f.p->reader_waiting = 0;
    }
    pthread_mutex_unlock(&f.p->mu);
    return UG_OK;
}

/* Copies up to len unread bytes; a held transfer is resumed once half the buffer is free. */
static size_t reader_take(struct fetch_reader *r, void *buf, size_t len)
{
    struct fetch_pull *p = r->t->pull;
    pthread_mutex_lock(&p->mu);
    size_t n = p->len - p->pos;
    if (n > len)
        n = len;
    memcpy(buf, p->data + p->pos, n);
    p->pos += n;
    int ask = p->held && !p->room && p->len - p->pos <= FETCH_PULL_BUFFER / 2;
    if (ask)
        p->room = 1;
    pthread_mutex_unlock(&p->mu);
    if (ask) {
        pthread_mutex_lock(&r->t->e->mu);
        engine_poke(r->t->e);
        pthread_mutex_unlock(&r->t->e->mu);
    }
    return n;
}

/* The body is over: the transfer thread is joined, the totals and the outcome final. */
static ug_err reader_end(struct fetch_reader *r, char *err)
{
    struct fetch_transfer *t = r->t;
    struct fetch_engine *e = t->e;
    if (r->thread_started && !r->joined) {
        pthread_join(r->thread, NULL);
        r->joined = 1;
    }
    pthread_mutex_lock(&e->mu);
    engine_wait(e, transfer_is_done, t);
    r->res = t->res;
    ug_err rc = t->rc;
    if (rc != UG_OK)
        ug_fail(err, rc, "%s", t->msg);
    pthread_mutex_unlock(&e->mu);
    return rc;
}

ug_err fetch_read(struct fetch_reader *r, void *buf, size_t len, size_t *got, char *err)
{
    *got = 0;
    if (!r->t->e)
        return ug_fail(err, UG_ERR_OTHER, "%s: its engine was freed", r->t->display_url);
    size_t want = len < FETCH_PULL_BUFFER / 2 ? len : FETCH_PULL_BUFFER / 2;
    ug_err rc = reader_fill(r, want, err);
    if (rc != UG_OK)
        return rc;
    *got = reader_take(r, buf, len);
    return *got ? UG_OK : reader_end(r, err);
}

const struct fetch_result *fetch_reader_result(const struct fetch_reader *r)
{
    return &r->res;
}

void fetch_close(struct fetch_reader *r)
{
    if (!r)
        return;
    struct fetch_engine *e = r->t ? r->t->e : NULL;
    if (r->thread_started && !r->joined && e) {
        pthread_mutex_lock(&e->mu);
        r->closing = 1;
        engine_poke(e);      /* wakes the thread from its poll ... */
        engine_broadcast(e); /* ... or from waiting for another driver */
        pthread_mutex_unlock(&e->mu);
        pthread_join(r->thread, NULL);
        r->joined = 1;
    }
    fetch_transfer_free(r->t);
    fetch_engine_free(r->own);
    free(r);
}
