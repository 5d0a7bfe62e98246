/* SPDX-License-Identifier: MIT */
/* Driving the transport's engine from an outside event loop (libcurl's socket and timer
 * callbacks behind a small interface), and transfers that report their end by callback. */
#ifndef UPGRADER_FETCH_LOOP_H
#define UPGRADER_FETCH_LOOP_H

#include "net/fetch.h"

/* Events of a watched file descriptor, both ways. */
#define FETCH_EV_IN  1
#define FETCH_EV_OUT 2
#define FETCH_EV_ERR 4 /* from the loop only: error or hang-up */

/* What the engine asks of the loop. Both are called on the loop's thread, from inside the
 * engine's functions, and must not call back into the engine. */
struct fetch_loop_ops {
    /* Watch fd for events (FETCH_EV_IN | FETCH_EV_OUT) and then call fetch_engine_on_socket;
     * events 0: stop watching it. A second call for the same fd replaces the first. */
    void (*watch)(void *loop, int fd, int events);
    /* Call fetch_engine_on_timer once, ms milliseconds from now (0: at once); ms < 0: no
     * timer. Replaces the timer set before. */
    void (*timer)(void *loop, long ms);
};

/* Called once on the loop's thread when a transfer has ended (rc, result, one-line message;
 * msg is "" on success). t stays valid until fetch_transfer_free, which may be called here. */
typedef void (*fetch_done_fn)(void *ctx, struct fetch_transfer *t, ug_err rc,
                              const struct fetch_result *res, const char *msg);

/* Hands e to a loop: from now on only the calling thread (the loop's) drives it. The engine
 * must have no transfer. UG_ERR_USAGE if it has, or is attached already. */
ug_err fetch_engine_attach(struct fetch_engine *e, const struct fetch_loop_ops *ops, void *loop,
                           char *err) UG_MUST_CHECK;
/* Takes e back from its loop (no transfer may be left): every watch and the timer dropped. */
ug_err fetch_engine_detach(struct fetch_engine *e, char *err) UG_MUST_CHECK;
/* The loop saw events (FETCH_EV_*) on a watched fd. Never blocks. */
void fetch_engine_on_socket(struct fetch_engine *e, int fd, int events);
/* The loop's timer set through ops->timer expired. Never blocks. */
void fetch_engine_on_timer(struct fetch_engine *e);

/* Starts a transfer on e (o->engine is not consulted) that pushes the body to sink (which
 * must not block on an attached engine) and ends through done (NULL: none), both with ctx.
 * Fails only on bad arguments or lack of memory: a refused URL, like any failure of the
 * transfer, is reported through done, before any packet. */
ug_err fetch_transfer_start(struct fetch_engine *e, const struct fetch_options *o,
                            fetch_sink_fn sink, fetch_done_fn done, void *ctx,
                            struct fetch_transfer **t, char *err) UG_MUST_CHECK;
/* Until t has ended (after its done callback): drives e when this thread may, else waits for
 * the thread that does. Returns its outcome, message in err; res (may be NULL) filled. */
ug_err fetch_transfer_wait(struct fetch_transfer *t, struct fetch_result *res,
                           char *err) UG_MUST_CHECK;
/* 1 once t has ended and its done callback has run. */
int fetch_transfer_done(const struct fetch_transfer *t);
/* Cancels t if it still runs (without a done callback) and frees it; NULL is fine. */
void fetch_transfer_free(struct fetch_transfer *t);

#endif
