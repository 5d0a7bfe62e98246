/* SPDX-License-Identifier: MIT */
/* The daemon's one event loop: epoll over file descriptors, timers kept sorted behind one
 * timerfd armed to the nearest deadline, signals through a signalfd, and work posted from
 * other threads through an eventfd. It also drives the transport engine (net/fetch_loop.h). */
#ifndef UPGRADER_DAEMON_LOOP_H
#define UPGRADER_DAEMON_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "net/fetch.h"

/* Events of a watched descriptor. */
#define LOOP_IN  1u
#define LOOP_OUT 2u
#define LOOP_ERR 4u /* reported only: an error or a hang-up */

struct loop;

typedef void (*loop_fd_fn)(void *ctx, int fd, unsigned events);
typedef void (*loop_fn)(void *ctx);
typedef void (*loop_signal_fn)(void *ctx, int signo);

/* A timer the caller owns (zero it once); the loop links it while it is set. */
struct loop_timer {
    int64_t due; /* loop_now_ms() clock */
    loop_fn fn;
    void *ctx;
    struct loop_timer *next;
    int set;
};

/* Creates a loop (epoll, timerfd, eventfd). */
ug_err loop_new(struct loop **out, char *err) UG_MUST_CHECK;
/* Frees it; detach the engine and stop watching first. Posted work not yet run is dropped. */
void loop_free(struct loop *l);
/* Milliseconds on the monotonic clock, the timers' clock. */
int64_t loop_now_ms(void);

/* Watches fd for events (LOOP_IN | LOOP_OUT) and calls fn when ready; 0 stops watching. */
ug_err loop_watch(struct loop *l, int fd, unsigned events, loop_fd_fn fn, void *ctx,
                  char *err) UG_MUST_CHECK;
/* Sets t (fn, ctx) to fire once at due (loop_now_ms clock), replacing an earlier setting. */
void loop_timer_set(struct loop *l, struct loop_timer *t, int64_t due, loop_fn fn, void *ctx);
/* Unsets t; nothing if it is not set. */
void loop_timer_stop(struct loop *l, struct loop_timer *t);
/* Blocks the signals and delivers them through fn on the loop (a signalfd). */
ug_err loop_signals(struct loop *l, const int *signals, size_t n, loop_signal_fn fn, void *ctx,
                    char *err) UG_MUST_CHECK;
/* From any thread: runs fn(ctx) on the loop's thread, in the order posted. */
ug_err loop_post(struct loop *l, loop_fn fn, void *ctx, char *err) UG_MUST_CHECK;
/* Runs until loop_stop; the thread calling it is the loop's. */
ug_err loop_run(struct loop *l, char *err) UG_MUST_CHECK;
/* Makes loop_run return after the current callback. */
void loop_stop(struct loop *l);
/* Times loop_run woke from its wait (each a wake-up of the process), for tests and benches. */
uint64_t loop_wakeups(const struct loop *l);

/* Drives e from this loop from now on (fetch_engine_attach, on the loop's thread). */
ug_err loop_attach_engine(struct loop *l, struct fetch_engine *e, char *err) UG_MUST_CHECK;
/* Hands e back (no transfer may be left on it). */
void loop_detach_engine(struct loop *l);

#endif
