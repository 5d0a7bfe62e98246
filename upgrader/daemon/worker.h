/* SPDX-License-Identifier: MIT */
/* Runs one job at a time on a thread of its own: the engines (resync_run, upgrade_pass,
 * upgrade_boot, factory_reset, report_send) block, the loop must not. Progress and the
 * result come back to the loop through loop_post. The job's transfers run on the loop's
 * engine, which the loop drives while the thread waits (docs/transport.md "Who drives"). */
#ifndef UPGRADER_DAEMON_WORKER_H
#define UPGRADER_DAEMON_WORKER_H

#include <signal.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/log.h"
#include "daemon/jobs.h"
#include "daemon/loop.h"
#include "session/session.h"
#include "upgrade/upgrade_state.h"

/* What a job did, handed to the loop. */
struct worker_result {
    struct job job; /* a copy (its rule freed with the result) */
    ug_err rc;
    char err[UG_ERRBUF];      /* the failure's one line, "" on success */
    char summary[768];        /* the upgrade's summary, or the resync's last line */
    struct buf log;           /* the resync's lines */
    long retry_after;         /* a resync refused with Retry-After: its seconds */
    int rebooted;             /* the reboot command ran */
    int plan_continues;       /* boot: a catalog plan has hops left */
    int upgrade_rule_changed; /* resync: Upgrade_Rule or Upgrade_Enable differ from before */
};

/* How the loop hears from the worker; both run on the loop's thread. */
struct worker_callbacks {
    void (*progress)(void *ctx, const struct upgrade_status *status); /* at most 1/s */
    void (*done)(void *ctx, struct worker_result *r); /* r is the callee's: worker_result_free */
    void *ctx;
};

struct worker_config {
    const char *root;
    struct loop *loop;
    struct fetch_engine *engine;         /* the loop's */
    const volatile sig_atomic_t *cancel; /* the daemon's stop flag */
    session_calls_fn calls;              /* the daemon's call state */
    void *calls_ctx;
    const struct log_sink *log;
    struct worker_callbacks cb;
};

struct worker;

/* Creates the worker (no thread yet). */
ug_err worker_new(const struct worker_config *c, struct worker **out, char *err) UG_MUST_CHECK;
/* Joins a finished thread and frees the worker; only when not running. */
void worker_free(struct worker *w);
/* Starts j (copied) on a new thread; UG_ERR_OTHER when a job runs already. */
ug_err worker_start(struct worker *w, const struct job *j, char *err) UG_MUST_CHECK;
/* 1 from worker_start until its done callback has been delivered. */
int worker_running(const struct worker *w);
/* Frees a result the done callback received. */
void worker_result_free(struct worker_result *r);

#endif
