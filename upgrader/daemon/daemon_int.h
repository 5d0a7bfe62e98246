/* SPDX-License-Identifier: MIT */
/* Inside the daemon: its state and what its parts (daemon.c, daemon_schedule.c,
 * daemon_jobs.c, daemon_requests.c, daemon_web.c) call of each other. Only those files include this;
 * everything here runs on the loop's thread. */
#ifndef UPGRADER_DAEMON_DAEMON_INT_H
#define UPGRADER_DAEMON_DAEMON_INT_H

#include <signal.h>
#include <stdint.h>

#include <json-c/json.h>

#include "common/error.h"
#include "common/log.h"
#include "daemon/control.h"
#include "daemon/daemon.h"
#include "daemon/jobs.h"
#include "daemon/loop.h"
#include "daemon/schedule.h"
#include "daemon/sip.h"
#include "daemon/worker.h"
#include "lang/delay.h"
#include "session/session.h"
#include "upgrade/upgrade_state.h"

struct web;

/* A control client waiting for the end of a job. */
struct waiter {
    struct control_conn *conn;
    unsigned job;
    struct waiter *next;
};

struct daemon {
    const struct daemon_options *o;
    const struct log_sink *log;
    struct loop *loop;
    struct session s; /* the loop's: parameters for the schedule; its engine is the loop's */
    int lock_fd, inotify_fd;
    struct job_queue q;
    struct worker *w;
    struct control *ctl;
    struct sip *sip;
    struct web *web; /* the web server, NULL: off */
    struct loop_timer wake;
    volatile sig_atomic_t cancel; /* the worker's sessions stop at their next step */
    int stopping, rebooting;
    int file_calls; /* the calls file (upgrader call start|end) */
    int busy;
    int busy_atomic; /* busy, for the worker thread (__atomic) */
    int64_t busy_since;
    uint64_t hold_rate; /* Download_Rate_During_Call */
    struct sched_params sp;
    struct sched_history hist;
    int64_t last_resync_end; /* 0: none since start */
    int last_resync_ok;
    long last_retry_after;
    struct delay_rng rng;
    int64_t started;
    unsigned running; /* the running job's id, 0: none */
    int64_t running_since;
    int have_progress;
    struct upgrade_status progress;
    struct waiter *waiters;
};

/* Clocks: Unix seconds, Unix milliseconds, and seconds rounded up (a delay counted from the
 * next whole second is never cut short). */
int64_t daemon_now_s(void);
int64_t daemon_now_ms(void);
int64_t daemon_now_ceil(void);
/* Seconds east of UTC of local time now (for Resync_At). */
long daemon_utc_offset(void);
/* A parameter's value (ctx: the daemon), NULL if unknown; the schedule's getter. */
const char *daemon_param(void *ctx, const char *name);
/* 1 when the parameter reads Yes. */
int daemon_param_yes(struct daemon *d, const char *name);
/* 1 when the parameter holds more than blanks. */
int daemon_param_set(struct daemon *d, const char *name);
/* Writes the queue to jobs.json, logging a failure. */
void daemon_save_jobs(struct daemon *d);
/* Re-reads DIR/calls (upgrader call start|end) and follows the busy state. */
void daemon_read_calls_file(struct daemon *d);

/* A job of kind queued now, due now. */
struct job daemon_job_now(struct daemon *d, enum job_kind kind, const char *origin);
/* Queues j (merged into an equal one); *out (may be NULL) the job, NULL on failure. */
void daemon_queue(struct daemon *d, const struct job *j, struct job **out);
/* 1 for the resync the schedule keeps (start, periodic, retry; stored rules). */
int daemon_scheduled_origin(const struct job *j);
/* Moves (or queues) the scheduled resync to due (-1: none). */
void daemon_schedule_resync(struct daemon *d, int64_t due, const char *origin);
/* Re-plans the scheduled resync from the last one's end (after a parameter change). */
void daemon_replan(struct daemon *d);
/* 1 when no Resync_Trigger is set or one holds. */
int daemon_triggers_allow(struct daemon *d);

/* Starts the next runnable job when the worker is free; arms the wake-up for the next. */
void daemon_kick(struct daemon *d);
/* The worker's callbacks. */
void daemon_on_done(void *ctx, struct worker_result *r);
void daemon_on_progress(void *ctx, const struct upgrade_status *status);

/* The control socket's handler. */
void daemon_on_request(void *ctx, struct control_conn *conn, json_object *req);
/* A reply {"rc", "error"}. */
json_object *daemon_reply_rc(ug_err rc, const char *error);
/* The daemon's part of the status document (its jobs, call state, web address). */
json_object *daemon_status_json(struct daemon *d);
/* Starts the web server (daemon_web.c): with --listen a failure stops the daemon; from the
 * parameters alone it is logged and the daemon goes on without it. */
ug_err daemon_start_web(struct daemon *d, char *err);
/* Answers every client waiting for job with reply (taking the reference). */
void daemon_answer_waiters(struct daemon *d, unsigned job, json_object *reply);

#endif
