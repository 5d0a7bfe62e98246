/* SPDX-License-Identifier: MIT */
/* Jobs starting and ending: the next runnable job handed to the worker, and what each
 * result means for the jobs after it (the next resync, an upgrade, a deferred switch). */
#include "daemon/daemon_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/jsonfile.h"
#include "web/web.h"

static void on_wake(void *ctx)
{
    daemon_kick(ctx);
}

static void arm_wake(struct daemon *d, int64_t at)
{
    if (at < 0) {
        loop_timer_stop(d->loop, &d->wake);
        return;
    }
    int64_t delta = at * 1000 - daemon_now_ms();
    loop_timer_set(d->loop, &d->wake, loop_now_ms() + (delta > 0 ? delta : 0), on_wake, d);
}

static int start_job(struct daemon *d, struct job *j)
{
    char err[UG_ERRBUF];
    if (daemon_scheduled_origin(j) && strcmp(j->origin, "retry") != 0 &&
        !daemon_triggers_allow(d)) {
        j->due = daemon_now_s() + SCHED_TRIGGER_RECHECK_S;
        log_msg(d->log, LOG_LEVEL_INFO,
                "resync due, but no Resync_Trigger holds; looked at again in %d s",
                SCHED_TRIGGER_RECHECK_S);
        daemon_save_jobs(d);
        return 0;
    }
    if (worker_start(d->w, j, err) != UG_OK) {
        log_msg(d->log, LOG_LEVEL_ERROR, "%s not started: %s", job_kind_name(j->kind), err);
        return 0;
    }
    d->running = j->id;
    d->running_since = daemon_now_s();
    d->have_progress = 0;
    log_msg(d->log, LOG_LEVEL_INFO, "%s (%s) starts%s", job_kind_name(j->kind), j->origin,
            d->busy && j->kind == JOB_RESYNC ? ": forced during a call (Forced_Resync_Delay)" : "");
    return 1;
}

/* Starts the next runnable job when the worker is free, and arms the wake-up for the one
 * after. Called after every change: a job's end, a call's end, a request, a timer. */
void daemon_kick(struct daemon *d)
{
    if (d->stopping || d->rebooting || !d->w || worker_running(d->w)) {
        if (d->stopping && (!d->w || !worker_running(d->w)))
            loop_stop(d->loop);
        return;
    }
    int64_t wake = -1;
    for (int tries = 0; tries < 8; tries++) {
        struct job *j = jobs_next(&d->q, daemon_now_s(), d->busy, &wake);
        /* What would cut a call starts only once the user agent has just said it has none
         * (an event missed would otherwise go unnoticed): its answer kicks again. */
        if (j && !d->busy && job_waits_for_idle(j->kind) && !sip_confirm_idle(d->sip))
            return;
        if (!j || start_job(d, j))
            break;
    }
    arm_wake(d, worker_running(d->w) ? -1 : wake);
}

static json_object *result_json(const struct worker_result *r)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "rc", json_object_new_int(r->rc));
    jsonfile_set_string(o, "error", r->err);
    jsonfile_set_string(o, "summary", r->summary);
    jsonfile_set_string(o, "log", r->log.data ? r->log.data : "");
    return o;
}

static void after_resync(struct daemon *d, struct worker_result *r)
{
    int ok = r->rc == UG_OK;
    if (r->job.rule)
        return; /* an explicit RULE: the schedule follows the stored rules only */
    sched_record(&d->hist, ok);
    d->last_resync_end = daemon_now_ceil();
    d->last_resync_ok = ok;
    d->last_retry_after = r->retry_after;
    if (ok)
        daemon_schedule_resync(d,
                               sched_next(&d->sp, &d->hist, daemon_now_ceil(), daemon_utc_offset(),
                                          delay_rng_next, &d->rng),
                               "periodic");
    else
        daemon_schedule_resync(d,
                               sched_retry(&d->sp, &d->hist, daemon_now_ceil(), r->retry_after,
                                           daemon_utc_offset(), delay_rng_next, &d->rng),
                               "retry");
    if (!ok)
        return;
    /* The pass decides itself whether the rule asks for anything (acted-on memory, its
     * conditions, the retry delay): without news it fetches nothing. */
    if (daemon_param_set(d, "Upgrade_Rule") && daemon_param_yes(d, "Upgrade_Enable")) {
        struct job j = daemon_job_now(d, JOB_UPGRADE, "resync");
        daemon_queue(d, &j, NULL);
    }
    if (daemon_param_set(d, "Report_Rule")) {
        struct job j = daemon_job_now(d, JOB_REPORT, "resync");
        daemon_queue(d, &j, NULL);
    }
}

/* The retry of a failed pass, at its release's retry time (Upgrade_Error_Retry_Delay). */
static void schedule_upgrade_retry(struct daemon *d, const struct worker_result *r)
{
    struct upgrade_state st;
    char err[UG_ERRBUF];
    if (upgrade_state_load(session_path(&d->s, STATE_UPGRADE), &st, err) != UG_OK)
        return;
    const struct upgrade_failure *latest = NULL;
    for (int i = 0; i < st.nfailures; i++)
        if (!latest || st.failures[i].time > latest->time)
            latest = &st.failures[i];
    if (latest && !r->job.rule) {
        struct job j = daemon_job_now(d, JOB_UPGRADE, "retry");
        j.due = latest->retry_after > daemon_now_s() ? latest->retry_after : daemon_now_s();
        daemon_queue(d, &j, NULL);
    }
    upgrade_state_free(&st);
}

static void after_upgrade(struct daemon *d, struct worker_result *r)
{
    if (r->rc == UG_ERR_DEFERRED) {
        struct job j = daemon_job_now(d, JOB_SWITCH, "deferred");
        daemon_queue(d, &j, NULL);
        log_msg(d->log, LOG_LEVEL_INFO, "the switch to the verified slot waits for idle");
        return;
    }
    if (r->rebooted) {
        d->rebooting = 1;
        log_msg(d->log, LOG_LEVEL_INFO, "reboot requested: no further job starts");
        return;
    }
    if (r->rc == UG_OK || d->stopping)
        return;
    schedule_upgrade_retry(d, r);
    /* docs/provisioning.md 4.2: after each attempt, a resync lets the provider change it. */
    if (daemon_param_yes(d, "Resync_After_Upgrade_Attempt") && !r->job.rule) {
        struct job j = daemon_job_now(d, JOB_RESYNC, "upgrade-attempt");
        j.force_at = sched_force_at(&d->sp, j.due);
        daemon_queue(d, &j, NULL);
    }
}

static void after_boot(struct daemon *d, struct worker_result *r)
{
    if (r->rc != UG_OK || !r->plan_continues)
        return;
    if (daemon_param_yes(d, "Resync_After_Upgrade_Attempt")) {
        struct job j = daemon_job_now(d, JOB_RESYNC, "between-hops");
        j.force_at = sched_force_at(&d->sp, j.due);
        daemon_queue(d, &j, NULL);
    }
    struct job j = daemon_job_now(d, JOB_UPGRADE, "next-hop");
    j.continuing = 1;
    daemon_queue(d, &j, NULL);
}

static void log_result(struct daemon *d, const struct worker_result *r)
{
    if (r->rc == UG_OK)
        log_msg(d->log, LOG_LEVEL_INFO, "%s (%s): %s", job_kind_name(r->job.kind), r->job.origin,
                r->summary[0] ? r->summary : "done");
    else
        log_msg(d->log, r->rc == UG_ERR_DEFERRED ? LOG_LEVEL_INFO : LOG_LEVEL_WARNING,
                "%s (%s): %s (exit %d)", job_kind_name(r->job.kind), r->job.origin, r->err, r->rc);
}

void daemon_on_done(void *ctx, struct worker_result *r)
{
    struct daemon *d = ctx;
    unsigned id = d->running;
    d->running = 0;
    log_result(d, r);
    /* Stopped by SIGTERM: the job stays queued and runs again at the next start. A reboot
     * or reset refused by a call stays too. */
    int keep = (d->stopping && r->rc != UG_OK) ||
               (r->rc == UG_ERR_DEFERRED &&
                (r->job.kind == JOB_REBOOT || r->job.kind == JOB_FACTORY_RESET));
    if (!keep)
        jobs_remove(&d->q, id);
    if (r->job.kind == JOB_RESYNC && !d->stopping)
        after_resync(d, r);
    else if (r->job.kind == JOB_UPGRADE || r->job.kind == JOB_SWITCH)
        after_upgrade(d, r);
    else if (r->job.kind == JOB_BOOT)
        after_boot(d, r);
    else if (r->job.kind == JOB_REBOOT && r->rebooted)
        d->rebooting = 1;
    daemon_save_jobs(d);
    web_event(session_path(&d->s, STATE_EVENTS), job_kind_name(r->job.kind), r->job.origin, r->rc,
              r->rc == UG_OK ? r->summary : r->err, d->log);
    daemon_answer_waiters(d, id, result_json(r));
    worker_result_free(r);
    daemon_kick(d);
}

void daemon_on_progress(void *ctx, const struct upgrade_status *status)
{
    struct daemon *d = ctx;
    d->progress = *status;
    d->have_progress = 1;
}
