/* SPDX-License-Identifier: MIT */
/* The daemon's resync schedule on real time: the scheduled resync queued, moved when a
 * resync ends or the parameters change, and held back by Resync_Trigger_1/2. The times
 * themselves come from schedule.c. */
#include "daemon/daemon_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/jsonfile.h"
#include "lang/cond.h"

struct job daemon_job_now(struct daemon *d, enum job_kind kind, const char *origin)
{
    struct job j = {0};
    j.kind = kind;
    snprintf(j.origin, sizeof j.origin, "%s", origin);
    j.queued = j.due = daemon_now_s();
    (void)d;
    return j;
}

void daemon_queue(struct daemon *d, const struct job *j, struct job **out)
{
    char err[UG_ERRBUF];
    if (jobs_add(&d->q, j, out, err) != UG_OK) {
        log_msg(d->log, LOG_LEVEL_ERROR, "cannot queue a %s: %s", job_kind_name(j->kind), err);
        if (out)
            *out = NULL;
    }
}

int daemon_scheduled_origin(const struct job *j)
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
void daemon_schedule_resync(struct daemon *d, int64_t due, const char *origin)
{
    struct job *j = NULL;
    for (size_t i = 0; i < d->q.n && !j; i++)
        if (daemon_scheduled_origin(&d->q.jobs[i]) && d->q.jobs[i].id != d->running)
            j = &d->q.jobs[i];
    if (due < 0) {
        if (j && !has_waiter(d, j->id))
            jobs_remove(&d->q, j->id);
        log_msg(d->log, LOG_LEVEL_INFO, "no resync scheduled (Resync_Periodic and Resync_At off)");
        return daemon_save_jobs(d);
    }
    if (j) {
        j->due = due;
        j->force_at = sched_force_at(&d->sp, due);
        snprintf(j->origin, sizeof j->origin, "%s", origin);
    } else {
        struct job n = daemon_job_now(d, JOB_RESYNC, origin);
        n.due = due;
        n.force_at = sched_force_at(&d->sp, due);
        daemon_queue(d, &n, NULL);
    }
    daemon_save_jobs(d);
    /* A due time already reached reads "in 0 s" (the clock's fraction rounded up). */
    int64_t in = due - daemon_now_ceil();
    log_msg(d->log, LOG_LEVEL_INFO, "next resync (%s) in %lld s", origin,
            (long long)(in > 0 ? in : 0));
}

/* After a parameter change: the scheduled resync re-planned from the last one's end. */
void daemon_replan(struct daemon *d)
{
    int64_t now = daemon_now_s(), due;
    if (!d->last_resync_end)
        due = sched_first(&d->sp, d->started, delay_rng_next, &d->rng);
    else if (d->last_resync_ok)
        due = sched_next(&d->sp, &d->hist, d->last_resync_end, daemon_utc_offset(), delay_rng_next,
                         &d->rng);
    else
        due = sched_retry(&d->sp, &d->hist, d->last_resync_end, d->last_retry_after,
                          daemon_utc_offset(), delay_rng_next, &d->rng);
    daemon_schedule_resync(d, due >= 0 && due < now ? now : due,
                           !d->last_resync_end ? "start"
                           : d->last_resync_ok ? "periodic"
                                               : "retry");
}

/* Resync_Trigger_1/2 (docs/provisioning.md 3.1): a scheduled resync runs only when one
 * holds; 1 when it may run. Malformed or failing conditions count as not holding. */
int daemon_triggers_allow(struct daemon *d)
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
        snprintf(tmr, sizeof tmr, "%lld",
                 (long long)(daemon_now_s() - jsonfile_get_int(last, "time", 0)));
        (void)!macro_set(&ctx, "PRVTMR", tmr, err);
    }
    if (jsonfile_load(session_path(&d->s, STATE_UPGRADE), &up, err) == UG_OK &&
        json_object_object_get_ex(up, "status", &st)) {
        snprintf(tmr, sizeof tmr, "%lld",
                 (long long)(daemon_now_s() - jsonfile_get_int(st, "last_time", 0)));
        (void)!macro_set(&ctx, "UPGTMR", tmr, err);
    }
    int allow = 0;
    for (int i = 1; i <= 2 && !allow; i++) {
        const char *name = i == 1 ? "Resync_Trigger_1" : "Resync_Trigger_2",
                   *v = daemon_param(d, name);
        int holds = 0;
        if (v && v[strspn(v, " \t")] && cond_eval(v, &ctx, &holds, err) == UG_OK)
            allow = holds;
    }
    json_object_put(rs);
    json_object_put(up);
    macro_free(&ctx);
    return allow;
}
