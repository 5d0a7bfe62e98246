/* SPDX-License-Identifier: MIT */
/* When the next resync is due, as Cisco's phones keep it (docs/daemon.md "Schedules"):
 * pure functions of the parameters, the history and the time given, with random numbers
 * from the generator given. No I/O and no clock: the daemon and the fleet bench both call
 * these, one on real time, the other on simulated time. */
#ifndef UPGRADER_DAEMON_SCHEDULE_H
#define UPGRADER_DAEMON_SCHEDULE_H

#include <stdint.h>

#include "lang/delay.h"

/* Seconds a blocked trigger waits before the conditions are looked at again. */
#define SCHED_TRIGGER_RECHECK_S 60
/* Resync_Random_Delay counts in units of this many seconds. */
#define SCHED_RANDOM_UNIT_S     20
/* The narrowest Resync_At window (below 600 the phones take 0..600 s). */
#define SCHED_AT_MIN_WINDOW_S   600

/* The schedule's parameters, read once from the store (sched_params_read). */
struct sched_params {
    int on_reset;               /* Resync_On_Reset */
    uint32_t random_delay_s;    /* Resync_Random_Delay x 20 s */
    struct delay_list periodic; /* Resync_Periodic; count 0: off */
    int at_minute;              /* Resync_At__HHmm_ as minutes after midnight (0..1440); -1: none */
    uint32_t at_window_s;       /* Resync_At_Random_Delay, rounded to minutes */
    struct delay_list retry;    /* Resync_Error_Retry_Delay; count 0: no retry */
    uint32_t forced_delay_s;    /* Forced_Resync_Delay */
    int has_triggers;           /* Resync_Trigger_1 or _2 is set */
};

/* What the schedule remembers between resyncs. */
struct sched_history {
    unsigned successes; /* successful resyncs in a row (0 after a failure) */
    unsigned failures;  /* failed resyncs in a row (0 after a success) */
};

/* Reads the parameters through get (a parameter's value by name, NULL if unknown); a value
 * that does not parse counts as its default would (off for the lists). */
void sched_params_read(struct sched_params *p, const char *(*get)(void *ctx, const char *name),
                       void *ctx);
/* 1 when a and b schedule the same (a parameter change that needs no re-arming). */
int sched_params_equal(const struct sched_params *a, const struct sched_params *b);

/* The first resync after start at time now (Unix seconds): now plus up to
 * Resync_Random_Delay when Resync_On_Reset; else the periodic (or daily) one; -1: none. */
int64_t sched_first(const struct sched_params *p, int64_t now, delay_random_fn rnd, void *rctx);
/* The regular resync after one that ended at `now`: the next Resync_At window (local time:
 * utc_offset_s east of UTC) when it is valid, else Resync_Periodic's interval for the
 * successes so far (the list's k-th element after the k-th success in a row); -1: none. */
int64_t sched_next(const struct sched_params *p, const struct sched_history *h, int64_t now,
                   long utc_offset_s, delay_random_fn rnd, void *rctx);
/* The retry after the h->failures-th failure in a row ending at now
 * (Resync_Error_Retry_Delay), or a server's Retry-After when that is later; with no retry
 * list, the regular schedule as after a success. */
int64_t sched_retry(const struct sched_params *p, const struct sched_history *h, int64_t now,
                    long retry_after_s, long utc_offset_s, delay_random_fn rnd, void *rctx);
/* The latest a resync due at `due` waits for the lines to go idle: due + Forced_Resync_Delay
 * (the "cap" reading: it then runs even during a call). */
int64_t sched_force_at(const struct sched_params *p, int64_t due);
/* Records a resync's outcome in the history. */
void sched_record(struct sched_history *h, int success);
/* Resync_At__HHmm_ as minutes after midnight; -1 for empty or invalid (then ignored). */
int sched_parse_hhmm(const char *text);

#endif
