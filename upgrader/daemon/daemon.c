/* SPDX-License-Identifier: MIT */
/* The daemon's wiring: the loop, the queue, the worker, the control socket, the call-state
 * sources and the schedule, and what each job's result means for the next ones. Everything
 * here runs on the loop's thread; only the worker's jobs block. */
#include "daemon/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/jsonfile.h"
#include "common/lock.h"
#include "daemon/control.h"
#include "daemon/jobs.h"
#include "daemon/loop.h"
#include "daemon/schedule.h"
#include "daemon/sip.h"
#include "daemon/worker.h"
#include "device/call.h"
#include "lang/cond.h"
#include "lang/paramdefs.h"
#include "session/session.h"
#include "upgrade/upgrade_state.h"
#include "web/web.h"

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
    struct web *web; /* NULL: off */
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

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Delays count from the next whole second: a job due at T runs once the clock reads T, so
 * "in 3 s" is never less than 3 s (a Retry-After is never cut short). */
static int64_t now_ceil(void)
{
    return (now_ms() + 999) / 1000;
}

static long utc_offset(void)
{
    time_t t = time(NULL);
    struct tm tm;
    return localtime_r(&t, &tm) ? tm.tm_gmtoff : 0;
}

static const char *param(void *ctx, const char *name)
{
    return params_value(&((struct daemon *)ctx)->s.params, name);
}

static int param_yes(struct daemon *d, const char *name)
{
    const char *v = param(d, name);
    return v && paramdefs_parse_bool(v) == 1;
}

static int param_set(struct daemon *d, const char *name)
{
    const char *v = param(d, name);
    return v && v[strspn(v, " \t")];
}

static void save_jobs(struct daemon *d)
{
    char err[UG_ERRBUF];
    if (jobs_save(&d->q, err) != UG_OK)
        log_msg(d->log, LOG_LEVEL_ERROR, "cannot keep the job queue: %s", err);
}

static void kick(struct daemon *d);

/* ---- call state */

static ug_err calls_hook(void *ctx, int *active, char *err)
{
    struct daemon *d = ctx;
    (void)err;
    *active = __atomic_load_n(&d->busy_atomic, __ATOMIC_SEQ_CST);
    return UG_OK;
}

/* Downloads during a call: paused, or held to Download_Rate_During_Call; full speed when idle. */
static void apply_hold(struct daemon *d)
{
    fetch_engine_hold(d->s.net, d->busy && !d->hold_rate, d->busy ? d->hold_rate : 0);
}

static void update_busy(struct daemon *d)
{
    int sip = d->sip && sip_busy(d->sip);
    int busy = d->file_calls > 0 || sip;
    __atomic_store_n(&d->busy_atomic, busy ? (d->file_calls > 0 ? d->file_calls : 1) : 0,
                     __ATOMIC_SEQ_CST);
    if (busy == d->busy)
        return;
    d->busy = busy;
    d->busy_since = now_s();
    apply_hold(d);
    if (busy && d->hold_rate)
        log_msg(d->log, LOG_LEVEL_INFO, "call up: downloads held to %llu bytes/s",
                (unsigned long long)d->hold_rate);
    else
        log_msg(d->log, LOG_LEVEL_INFO,
                busy ? "call up: downloads paused, reboots wait" : "idle: downloads at full speed");
    kick(d);
}

static void read_calls_file(struct daemon *d)
{
    char err[UG_ERRBUF];
    int n = 0;
    if (call_active_count(&d->s.folder, &n, err) != UG_OK) {
        log_msg(d->log, LOG_LEVEL_WARNING, "%s; counted as one call", err);
        n = 1; /* the safe side for a phone */
    }
    d->file_calls = n;
    update_busy(d);
}

static void on_sip_change(void *ctx)
{
    update_busy(ctx);
    kick(ctx); /* also after an answer that changed nothing: a job may wait for it */
}

/* ---- the schedule */

static struct job job_now(struct daemon *d, enum job_kind kind, const char *origin)
{
    struct job j = {0};
    j.kind = kind;
    snprintf(j.origin, sizeof j.origin, "%s", origin);
    j.queued = j.due = now_s();
    (void)d;
    return j;
}

static void queue(struct daemon *d, const struct job *j, struct job **out)
{
    char err[UG_ERRBUF];
    if (jobs_add(&d->q, j, out, err) != UG_OK) {
        log_msg(d->log, LOG_LEVEL_ERROR, "cannot queue a %s: %s", job_kind_name(j->kind), err);
        if (out)
            *out = NULL;
    }
}

static int scheduled_origin(const struct job *j)
{
    return j->kind == JOB_RESYNC && !j->rule &&
           (!strcmp(j->origin, "start") || !strcmp(j->origin, "periodic") ||
            !strcmp(j->origin, "retry"));
}

static int has_waiter(const struct daemon *d, unsigned id)
{
    for (const struct waiter *w = d->waiters; w; w = w->next)
        if (w->job == id)
            return 1;
    return 0;
}

/* The scheduled resync (stored rules) at due; at the latest at due + Forced_Resync_Delay
 * during a call. One scheduled resync is queued at a time: it is moved, not added to. */
static void schedule_resync(struct daemon *d, int64_t due, const char *origin)
{
    struct job *j = NULL;
    for (size_t i = 0; i < d->q.n && !j; i++)
        if (scheduled_origin(&d->q.jobs[i]) && d->q.jobs[i].id != d->running)
            j = &d->q.jobs[i];
    if (due < 0) {
        if (j && !has_waiter(d, j->id))
            jobs_remove(&d->q, j->id);
        log_msg(d->log, LOG_LEVEL_INFO, "no resync scheduled (Resync_Periodic and Resync_At off)");
        return save_jobs(d);
    }
    if (j) {
        j->due = due;
        j->force_at = sched_force_at(&d->sp, due);
        snprintf(j->origin, sizeof j->origin, "%s", origin);
    } else {
        struct job n = job_now(d, JOB_RESYNC, origin);
        n.due = due;
        n.force_at = sched_force_at(&d->sp, due);
        queue(d, &n, NULL);
    }
    save_jobs(d);
    log_msg(d->log, LOG_LEVEL_INFO, "next resync (%s) in %lld s", origin,
            (long long)(due - now_ceil()));
}

/* After a parameter change: the scheduled resync re-planned from the last one's end. */
static void replan(struct daemon *d)
{
    int64_t now = now_s(), due;
    if (!d->last_resync_end)
        due = sched_first(&d->sp, d->started, delay_rng_next, &d->rng);
    else if (d->last_resync_ok)
        due =
            sched_next(&d->sp, &d->hist, d->last_resync_end, utc_offset(), delay_rng_next, &d->rng);
    else
        due = sched_retry(&d->sp, &d->hist, d->last_resync_end, d->last_retry_after, utc_offset(),
                          delay_rng_next, &d->rng);
    schedule_resync(d, due >= 0 && due < now ? now : due,
                    !d->last_resync_end ? "start"
                    : d->last_resync_ok ? "periodic"
                                        : "retry");
}

/* Parameters read again (SIGHUP, a change of DIR/params): timers re-armed, sources followed. */
static void reload(struct daemon *d, const char *why)
{
    char err[UG_ERRBUF];
    if (session_reload(&d->s, err) != UG_OK) {
        log_msg(d->log, LOG_LEVEL_ERROR, "parameters not re-read (%s): %s", why, err);
        return;
    }
    struct sched_params sp;
    sched_params_read(&sp, param, d);
    if (!sched_params_equal(&sp, &d->sp)) {
        d->sp = sp;
        log_msg(d->log, LOG_LEVEL_INFO, "resync schedule changed (%s): re-planned", why);
        replan(d);
    }
    const char *rate = param(d, "Download_Rate_During_Call");
    d->hold_rate = rate ? strtoull(rate, NULL, 10) : 0;
    apply_hold(d);
    sip_configure(d->sip, param_yes(d, "SIP_UA_Control_Enable"),
                  param(d, "SIP_UA_Control_Address"));
    kick(d);
}

/* Resync_Trigger_1/2 (docs/provisioning.md 3.1): a scheduled resync runs only when one
 * holds; 1 when it may run. Malformed or failing conditions count as not holding. */
static int triggers_allow(struct daemon *d)
{
    if (!d->sp.has_triggers)
        return 1;
    struct macro_context ctx;
    char err[UG_ERRBUF], tmr[32];
    if (session_macro_context(&d->s, &ctx, err) != UG_OK)
        return 1;
    json_object *rs = NULL, *up = NULL, *last = NULL, *st = NULL;
    if (jsonfile_load(session_path(&d->s, STATE_RESYNC), &rs, err) == UG_OK &&
        json_object_object_get_ex(rs, "last", &last)) {
        snprintf(tmr, sizeof tmr, "%lld", (long long)(now_s() - jsonfile_get_int(last, "time", 0)));
        (void)!macro_set(&ctx, "PRVTMR", tmr, err);
    }
    if (jsonfile_load(session_path(&d->s, STATE_UPGRADE), &up, err) == UG_OK &&
        json_object_object_get_ex(up, "status", &st)) {
        snprintf(tmr, sizeof tmr, "%lld",
                 (long long)(now_s() - jsonfile_get_int(st, "last_time", 0)));
        (void)!macro_set(&ctx, "UPGTMR", tmr, err);
    }
    int allow = 0;
    for (int i = 1; i <= 2 && !allow; i++) {
        const char *name = i == 1 ? "Resync_Trigger_1" : "Resync_Trigger_2", *v = param(d, name);
        int holds = 0;
        if (v && v[strspn(v, " \t")] && cond_eval(v, &ctx, &holds, err) == UG_OK)
            allow = holds;
    }
    json_object_put(rs);
    json_object_put(up);
    macro_free(&ctx);
    return allow;
}

/* ---- jobs starting and ending */

static void on_wake(void *ctx)
{
    kick(ctx);
}

static void arm_wake(struct daemon *d, int64_t at)
{
    if (at < 0) {
        loop_timer_stop(d->loop, &d->wake);
        return;
    }
    int64_t delta = at * 1000 - now_ms();
    loop_timer_set(d->loop, &d->wake, loop_now_ms() + (delta > 0 ? delta : 0), on_wake, d);
}

static int start_job(struct daemon *d, struct job *j)
{
    char err[UG_ERRBUF];
    if (scheduled_origin(j) && strcmp(j->origin, "retry") != 0 && !triggers_allow(d)) {
        j->due = now_s() + SCHED_TRIGGER_RECHECK_S;
        log_msg(d->log, LOG_LEVEL_INFO,
                "resync due, but no Resync_Trigger holds; looked at again in %d s",
                SCHED_TRIGGER_RECHECK_S);
        save_jobs(d);
        return 0;
    }
    if (worker_start(d->w, j, err) != UG_OK) {
        log_msg(d->log, LOG_LEVEL_ERROR, "%s not started: %s", job_kind_name(j->kind), err);
        return 0;
    }
    d->running = j->id;
    d->running_since = now_s();
    d->have_progress = 0;
    log_msg(d->log, LOG_LEVEL_INFO, "%s (%s) starts%s", job_kind_name(j->kind), j->origin,
            d->busy && j->kind == JOB_RESYNC ? ": forced during a call (Forced_Resync_Delay)" : "");
    return 1;
}

/* Starts the next runnable job when the worker is free, and arms the wake-up for the one
 * after. Called after every change: a job's end, a call's end, a request, a timer. */
static void kick(struct daemon *d)
{
    if (d->stopping || d->rebooting || !d->w || worker_running(d->w)) {
        if (d->stopping && (!d->w || !worker_running(d->w)))
            loop_stop(d->loop);
        return;
    }
    int64_t wake = -1;
    for (int tries = 0; tries < 8; tries++) {
        struct job *j = jobs_next(&d->q, now_s(), d->busy, &wake);
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

static void answer_waiters(struct daemon *d, unsigned job, json_object *reply)
{
    for (struct waiter **p = &d->waiters; *p;) {
        struct waiter *w = *p;
        if (w->job != job) {
            p = &w->next;
            continue;
        }
        *p = w->next;
        control_reply(w->conn, json_object_get(reply));
        free(w);
    }
    json_object_put(reply);
}

static void after_resync(struct daemon *d, struct worker_result *r)
{
    int ok = r->rc == UG_OK;
    if (r->job.rule)
        return; /* an explicit RULE: the schedule follows the stored rules only */
    sched_record(&d->hist, ok);
    d->last_resync_end = now_ceil();
    d->last_resync_ok = ok;
    d->last_retry_after = r->retry_after;
    if (ok)
        schedule_resync(
            d, sched_next(&d->sp, &d->hist, now_ceil(), utc_offset(), delay_rng_next, &d->rng),
            "periodic");
    else
        schedule_resync(d,
                        sched_retry(&d->sp, &d->hist, now_ceil(), r->retry_after, utc_offset(),
                                    delay_rng_next, &d->rng),
                        "retry");
    if (!ok)
        return;
    /* The pass decides itself whether the rule asks for anything (acted-on memory, its
     * conditions, the retry delay): without news it fetches nothing. */
    if (param_set(d, "Upgrade_Rule") && param_yes(d, "Upgrade_Enable")) {
        struct job j = job_now(d, JOB_UPGRADE, "resync");
        queue(d, &j, NULL);
    }
    if (param_set(d, "Report_Rule")) {
        struct job j = job_now(d, JOB_REPORT, "resync");
        queue(d, &j, NULL);
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
        struct job j = job_now(d, JOB_UPGRADE, "retry");
        j.due = latest->retry_after > now_s() ? latest->retry_after : now_s();
        queue(d, &j, NULL);
    }
    upgrade_state_free(&st);
}

static void after_upgrade(struct daemon *d, struct worker_result *r)
{
    if (r->rc == UG_ERR_DEFERRED) {
        struct job j = job_now(d, JOB_SWITCH, "deferred");
        queue(d, &j, NULL);
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
    if (param_yes(d, "Resync_After_Upgrade_Attempt") && !r->job.rule) {
        struct job j = job_now(d, JOB_RESYNC, "upgrade-attempt");
        j.force_at = sched_force_at(&d->sp, j.due);
        queue(d, &j, NULL);
    }
}

static void after_boot(struct daemon *d, struct worker_result *r)
{
    if (r->rc != UG_OK || !r->plan_continues)
        return;
    if (param_yes(d, "Resync_After_Upgrade_Attempt")) {
        struct job j = job_now(d, JOB_RESYNC, "between-hops");
        j.force_at = sched_force_at(&d->sp, j.due);
        queue(d, &j, NULL);
    }
    struct job j = job_now(d, JOB_UPGRADE, "next-hop");
    j.continuing = 1;
    queue(d, &j, NULL);
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

static void on_done(void *ctx, struct worker_result *r)
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
    save_jobs(d);
    web_event(session_path(&d->s, STATE_EVENTS), job_kind_name(r->job.kind), r->job.origin, r->rc,
              r->rc == UG_OK ? r->summary : r->err, d->log);
    answer_waiters(d, id, result_json(r));
    worker_result_free(r);
    kick(d);
}

static void on_progress(void *ctx, const struct upgrade_status *status)
{
    struct daemon *d = ctx;
    d->progress = *status;
    d->have_progress = 1;
}

/* ---- status and control requests */

static json_object *status_json(struct daemon *d)
{
    json_object *o = json_object_new_object(), *calls = json_object_new_object();
    int64_t now = now_s();
    jsonfile_set_int(o, "pid", getpid());
    jsonfile_set_int(o, "started", d->started);
    jsonfile_set_string(o, "state",
                        d->stopping    ? "stopping"
                        : d->rebooting ? "rebooting"
                        : d->running   ? "running"
                                       : "idle");
    json_object_object_add(o, "busy", json_object_new_boolean(d->busy));
    jsonfile_set_int(o, "busy_since", d->busy ? d->busy_since : 0);
    jsonfile_set_int(calls, "file", d->file_calls);
    json_object_object_add(calls, "sip", sip_to_json(d->sip));
    json_object_object_add(o, "calls", calls);
    char downloads[64];
    snprintf(downloads, sizeof downloads,
             !d->busy       ? "full speed"
             : d->hold_rate ? "held to %llu B/s"
                            : "paused",
             (unsigned long long)d->hold_rate);
    jsonfile_set_string(o, "downloads", downloads);
    struct job *run = d->running ? jobs_find(&d->q, d->running) : NULL;
    json_object *running = NULL;
    if (run && (running = json_object_new_object())) {
        jsonfile_set_string(running, "kind", job_kind_name(run->kind));
        jsonfile_set_string(running, "origin", run->origin);
        jsonfile_set_int(running, "since", d->running_since);
        if (d->have_progress) {
            jsonfile_set_string(running, "upgrade_state", upgrade_phase_name(d->progress.state));
            jsonfile_set_int(running, "bytes_done", (long long)d->progress.bytes_done);
            jsonfile_set_int(running, "bytes_total", (long long)d->progress.bytes_total);
        }
    }
    json_object_object_add(o, "running", running);
    json_object *jobs = jobs_to_json(&d->q, now, d->busy);
    for (size_t i = 0; run && i < json_object_array_length(jobs); i++) {
        json_object *j = json_object_array_get_idx(jobs, i);
        if (jsonfile_get_int(j, "id", 0) == run->id)
            jsonfile_set_string(j, "why", "running");
    }
    json_object_object_add(o, "jobs", jobs);
    jsonfile_set_int(o, "resync_failures_in_a_row", d->hist.failures);
    jsonfile_set_string(o, "web", web_url(d->web));
    return o;
}

static json_object *reply_rc(ug_err rc, const char *error)
{
    json_object *r = json_object_new_object();
    json_object_object_add(r, "rc", json_object_new_int(rc));
    jsonfile_set_string(r, "error", error);
    return r;
}

static void wait_for(struct daemon *d, struct control_conn *conn, const struct job *j)
{
    struct waiter *w = calloc(1, sizeof *w);
    if (!w) {
        control_reply(conn, reply_rc(UG_ERR_OTHER, "out of memory"));
        return;
    }
    w->conn = conn;
    w->job = j->id;
    w->next = d->waiters;
    d->waiters = w;
}

/* A resync, upgrade, reboot or reset asked through the socket: queued (merged into an equal
 * one), answered when it ends, or at once when it must wait for the call to end. */
static void request_job(struct daemon *d, struct control_conn *conn, json_object *req,
                        enum job_kind kind)
{
    struct job j = job_now(d, kind, "control");
    j.rule = (char *)jsonfile_get_string(req, "rule", NULL);
    j.force = (int)jsonfile_get_int(req, "force", 0);
    j.no_reboot = (int)jsonfile_get_int(req, "no_reboot", 0);
    j.timeout_ms = (long)jsonfile_get_int(req, "timeout_ms", 0);
    if (kind == JOB_RESYNC)
        j.force_at = sched_force_at(&d->sp, j.due);
    struct job *queued = NULL;
    queue(d, &j, &queued);
    if (!queued)
        return control_reply(conn, reply_rc(UG_ERR_OTHER, "cannot queue the job"));
    save_jobs(d);
    if (d->busy && job_waits_for_idle(kind) && queued->id != d->running) {
        char why[256], msg[UG_ERRBUF];
        jobs_why(queued, now_s(), 1, why, sizeof why);
        snprintf(msg, sizeof msg, "deferred: a call is active; the %s is queued (job %u) and %s",
                 job_kind_name(kind), queued->id, why);
        control_reply(conn, reply_rc(UG_ERR_DEFERRED, msg));
    } else {
        wait_for(d, conn, queued);
    }
    kick(d);
}

static void on_request(void *ctx, struct control_conn *conn, json_object *req)
{
    struct daemon *d = ctx;
    const char *cmd = jsonfile_get_string(req, "cmd", "");
    if (strcmp(cmd, "status") == 0) {
        json_object *r = reply_rc(UG_OK, "");
        json_object_object_add(r, "daemon", status_json(d));
        return control_reply(conn, r);
    }
    if (strcmp(cmd, "call") == 0) {
        read_calls_file(d); /* the command changed the file itself, durably */
        json_object *r = reply_rc(UG_OK, "");
        json_object_object_add(r, "busy", json_object_new_boolean(d->busy));
        return control_reply(conn, r);
    }
    if (d->stopping || d->rebooting)
        return control_reply(conn, reply_rc(UG_ERR_OTHER, d->stopping ? "the daemon is stopping"
                                                                      : "a reboot is under way"));
    static const struct {
        const char *name;
        enum job_kind kind;
    } kinds[] = {{"resync", JOB_RESYNC},
                 {"upgrade", JOB_UPGRADE},
                 {"reboot", JOB_REBOOT},
                 {"factory-reset", JOB_FACTORY_RESET}};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(cmd, kinds[i].name) == 0)
            return request_job(d, conn, req, kinds[i].kind);
    control_reply(conn, reply_rc(UG_ERR_USAGE, "unknown control command"));
}

/* ---- the web server's hooks (web/handler.h) */

static json_object *web_status_hook(void *ctx)
{
    return status_json(ctx);
}

/* A URL command: queued like a control request, answered at once with the job's id. */
static ug_err web_queue_hook(void *ctx, enum job_kind kind, const char *rule, struct web_queued *q,
                             char *err)
{
    struct daemon *d = ctx;
    if (d->stopping || d->rebooting)
        return ug_fail(err, UG_ERR_OTHER,
                       d->stopping ? "the daemon is stopping" : "a reboot is under way");
    struct job j = job_now(d, kind, "web"), *queued = NULL;
    j.rule = (char *)rule;
    if (kind == JOB_RESYNC)
        j.force_at = sched_force_at(&d->sp, j.due);
    queue(d, &j, &queued);
    if (!queued)
        return ug_fail(err, UG_ERR_OTHER, "cannot queue the job");
    q->id = queued->id;
    q->running = d->running == queued->id;
    save_jobs(d);
    kick(d);
    struct job *now = jobs_find(&d->q, q->id);
    if (d->running == q->id || !now)
        snprintf(q->why, sizeof q->why, "running");
    else
        jobs_why(now, now_s(), d->busy, q->why, sizeof q->why);
    return UG_OK;
}

/* The server is part of the daemon: with --listen a failure to start stops the daemon;
 * from the parameters alone it is logged and the daemon goes on without it. */
static ug_err start_web(struct daemon *d, char *err)
{
    struct web_config wc = {.root = d->o->root,
                            .listen = d->o->listen,
                            .loop = d->loop,
                            .engine = d->s.net,
                            .log = d->log,
                            .hooks = {web_status_hook, web_queue_hook, d}};
    ug_err rc = web_start(&wc, &d->web, err);
    if (rc == UG_OK || d->o->listen)
        return rc;
    log_msg(d->log, LOG_LEVEL_ERROR, "no web server: %s", err);
    return UG_OK;
}

/* ---- signals and changes of the folder */

static void on_signal(void *ctx, int signo)
{
    struct daemon *d = ctx;
    if (signo == SIGHUP)
        return reload(d, "SIGHUP");
    if (d->stopping)
        return;
    d->stopping = 1;
    d->cancel = 1;
    log_msg(d->log, LOG_LEVEL_INFO, "%s: stopping%s", signo == SIGTERM ? "SIGTERM" : "SIGINT",
            d->running ? " after the running job's current step" : "");
    for (struct waiter *w; (w = d->waiters);) {
        d->waiters = w->next;
        control_reply(w->conn, reply_rc(UG_ERR_OTHER, "the daemon is stopping; the job stays "
                                                      "queued for its next start"));
        free(w);
    }
    kick(d);
}

static void on_folder_change(void *ctx, int fd, unsigned events)
{
    struct daemon *d = ctx;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    int params = 0, calls = 0;
    (void)events;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            if (ev->len && strcmp(ev->name, "params") == 0)
                params = 1;
            if (ev->len && strcmp(ev->name, "calls") == 0)
                calls = 1;
            p += sizeof *ev + ev->len;
        }
    }
    if (calls)
        read_calls_file(d);
    if (params)
        reload(d, "parameters changed");
}

/* ---- start and end */

static ug_err write_pidfile(const char *path, char *err)
{
    char text[32];
    int n = snprintf(text, sizeof text, "%ld\n", (long)getpid());
    return fs_write_atomic(path, text, (size_t)n, 0644, err);
}

/* What a start queues: the boot-time step when a switched slot (or an unconfirmed one)
 * booted and the boot unit did not confirm it, a deferred switch, and the first resync. */
static void queue_start_jobs(struct daemon *d)
{
    struct upgrade_state st;
    char err[UG_ERRBUF];
    if (d->s.boot_valid &&
        upgrade_state_load(session_path(&d->s, STATE_UPGRADE), &st, err) == UG_OK) {
        enum upgrade_boot_action a = upgrade_decide_boot(&d->s.boot, &st.pending);
        if (a != BOOT_ACTION_NONE && a != BOOT_ACTION_KEEP_PENDING) {
            struct job j = job_now(d, JOB_BOOT, "start");
            queue(d, &j, NULL);
        } else if (a == BOOT_ACTION_KEEP_PENDING && st.pending.state == PENDING_VERIFIED) {
            struct job j = job_now(d, JOB_SWITCH, "start");
            queue(d, &j, NULL);
        }
        upgrade_state_free(&st);
    }
    replan(d);
}

static ug_err open_parts(struct daemon *d, char *err)
{
    struct session_options so = {.log = d->log};
    ug_err rc = session_open(d->o->root, &so, &d->s, err);
    if (rc != UG_OK)
        return rc;
    if ((rc = lock_take(session_path(&d->s, STATE_DAEMON_LOCK), LOCK_TRY_ONCE,
                        "another daemon of this state folder", &d->lock_fd, err)) != UG_OK)
        return rc;
    if (d->o->pidfile && (rc = write_pidfile(d->o->pidfile, err)) != UG_OK)
        return rc;
    if ((rc = loop_new(&d->loop, err)) != UG_OK ||
        (rc = loop_attach_engine(d->loop, d->s.net, err)) != UG_OK ||
        (rc = jobs_open(&d->q, session_path(&d->s, STATE_JOBS), err)) != UG_OK)
        return rc;
    static const int signals[] = {SIGTERM, SIGINT, SIGHUP};
    struct worker_config wc = {.root = d->o->root,
                               .loop = d->loop,
                               .engine = d->s.net,
                               .cancel = &d->cancel,
                               .calls = calls_hook,
                               .calls_ctx = d,
                               .log = d->log,
                               .cb = {on_progress, on_done, d}};
    if ((rc = loop_signals(d->loop, signals, 3, on_signal, d, err)) != UG_OK ||
        (rc = worker_new(&wc, &d->w, err)) != UG_OK ||
        (rc = sip_new(d->loop, d->log, on_sip_change, d, &d->sip, err)) != UG_OK ||
        (rc = control_listen(d->loop, session_path(&d->s, STATE_CONTROL), on_request, d, &d->ctl,
                             err)) != UG_OK ||
        (rc = start_web(d, err)) != UG_OK)
        return rc;
    d->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (d->inotify_fd < 0 ||
        inotify_add_watch(d->inotify_fd, d->s.folder.root, IN_MOVED_TO | IN_CLOSE_WRITE) < 0)
        return ug_fail(err, UG_ERR_OTHER, "%s: cannot watch the folder: %s", d->s.folder.root,
                       strerror(errno));
    return loop_watch(d->loop, d->inotify_fd, LOOP_IN, on_folder_change, d, err);
}

static void close_parts(struct daemon *d)
{
    for (struct waiter *w; (w = d->waiters);) {
        d->waiters = w->next;
        free(w);
    }
    web_stop(d->web);
    control_close(d->ctl); /* closes the waiters' connections too */
    sip_free(d->sip);
    worker_free(d->w);
    if (d->inotify_fd >= 0)
        close(d->inotify_fd);
    if (d->loop) {
        loop_timer_stop(d->loop, &d->wake);
        loop_detach_engine(d->loop);
    }
    loop_free(d->loop);
    jobs_close(&d->q);
    if (d->o->pidfile && d->lock_fd >= 0)
        unlink(d->o->pidfile);
    lock_release(&d->lock_fd);
    session_close(&d->s);
}

ug_err daemon_run(const struct daemon_options *o, char *err)
{
    struct daemon *d = calloc(1, sizeof *d);
    if (!d)
        return ug_oom(err);
    d->o = o;
    d->log = o->log ? o->log : &log_stderr;
    d->lock_fd = d->inotify_fd = -1;
    d->started = now_s();
    delay_rng_seed(&d->rng, (uint64_t)d->started ^ ((uint64_t)getpid() << 32));
    ug_err rc = open_parts(d, err);
    if (rc == UG_OK) {
        sched_params_read(&d->sp, param, d);
        log_msg(d->log, LOG_LEVEL_INFO, "daemon started on %s (pid %ld)", o->root, (long)getpid());
        queue_start_jobs(d);
        reload(d, "start"); /* call-state sources, the download hold */
        read_calls_file(d);
        kick(d);
        rc = loop_run(d->loop, err);
        log_msg(d->log, LOG_LEVEL_INFO, "daemon stopped; %zu job%s queued", d->q.n,
                d->q.n == 1 ? "" : "s");
    }
    close_parts(d);
    free(d);
    return rc;
}
