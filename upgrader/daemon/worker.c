/* SPDX-License-Identifier: MIT */
/* The worker thread: one job at a time, on a session of its own that borrows the loop's
 * transport engine, the daemon's cancel flag and its call state. Modelled on RAUC's install
 * thread: the loop stays free, and hears of progress and the end through posted messages. */
#include "daemon/worker.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "resync/factory_reset.h"
#include "resync/report.h"
#include "resync/resync.h"
#include "upgrade/upgrade.h"

struct worker {
    struct worker_config c;
    pthread_t thread;
    int joinable; /* a thread was started and not yet joined */
    int running;  /* loop side: from start to the delivered result */
    struct worker_result *r;
    time_t last_progress;
    enum upgrade_phase last_phase;
};

struct progress_post {
    struct worker *w;
    struct upgrade_status status;
};

static void deliver_progress(void *ctx)
{
    struct progress_post *p = ctx;
    if (p->w->c.cb.progress)
        p->w->c.cb.progress(p->w->c.cb.ctx, &p->status);
    free(p);
}

/* On the worker thread, from the upgrade pass: handed to the loop at most once a second and
 * at each change of state, never per block. */
static void on_progress(void *ctx, const struct upgrade_status *status)
{
    struct worker *w = ctx;
    time_t now = time(NULL);
    if (now == w->last_progress && status->state == w->last_phase)
        return;
    w->last_progress = now;
    w->last_phase = status->state;
    struct progress_post *p = malloc(sizeof *p);
    char ignored[UG_ERRBUF];
    if (!p)
        return;
    p->w = w;
    p->status = *status;
    if (loop_post(w->c.loop, deliver_progress, p, ignored) != UG_OK)
        free(p);
}

static ug_err run_resync(struct session *s, struct worker_result *r)
{
    struct resync_options o;
    struct resync_report rep;
    resync_options_init(&o);
    o.rule = r->job.rule;
    o.timeout_ms = r->job.timeout_ms;
    const char *before = params_value(&s->params, "Upgrade_Rule");
    const char *enable = params_value(&s->params, "Upgrade_Enable");
    char *rule_before = strdup(before ? before : ""), *enable_before = strdup(enable ? enable : "");
    ug_err rc = resync_run(s, &o, &rep, r->err);
    r->log = rep.log; /* taken over */
    r->retry_after = rep.retry_after;
    if (rep.reason[0])
        snprintf(r->summary, sizeof r->summary, "resync %s (%s): state %s%s%s",
                 rc == UG_OK ? "ok" : "failed", rep.reason, provstate_name(rep.state),
                 rc == UG_OK ? "" : ", LED ", rc == UG_OK ? "" : rep.led);
    const char *after = params_value(&s->params, "Upgrade_Rule");
    const char *en_after = params_value(&s->params, "Upgrade_Enable");
    r->upgrade_rule_changed = !rule_before || !enable_before ||
                              strcmp(rule_before, after ? after : "") != 0 ||
                              strcmp(enable_before, en_after ? en_after : "") != 0;
    free(rule_before);
    free(enable_before);
    return rc;
}

static ug_err run_upgrade(struct worker *w, struct session *s, struct worker_result *r)
{
    struct upgrade_options o = {0};
    struct upgrade_outcome out;
    o.rule = r->job.rule;
    o.force = r->job.force;
    o.no_reboot = r->job.no_reboot;
    o.continuing = r->job.continuing;
    o.progress = on_progress;
    o.progress_ctx = w;
    ug_err rc = r->job.kind == JOB_BOOT ? upgrade_boot(s, &o, &out, r->err)
                                        : upgrade_pass(s, &o, &out, r->err);
    snprintf(r->summary, sizeof r->summary, "%s", out.summary);
    r->plan_continues = out.plan_continues;
    /* The pass runs the reboot command itself once it switched. */
    r->rebooted = rc == UG_OK && !o.no_reboot && strstr(out.summary, "rebooting into") != NULL;
    return rc;
}

/* A reboot asked for by itself: only when idle, as the switch checks before it. */
static ug_err run_reboot(struct session *s, struct worker_result *r)
{
    int calls = 0;
    ug_err rc = session_calls_active(s, &calls, r->err);
    if (rc == UG_OK && calls)
        return ug_fail(r->err, UG_ERR_DEFERRED, "%d call%s active: the reboot waits", calls,
                       calls == 1 ? "" : "s");
    if (rc == UG_OK && (rc = session_reboot(s, r->err)) == UG_OK) {
        r->rebooted = 1;
        snprintf(r->summary, sizeof r->summary, "rebooting");
    }
    return rc;
}

static ug_err run_report(struct session *s, struct worker_result *r)
{
    int sent = 0;
    char url[FETCH_URL_MAX];
    ug_err rc = report_send(s, &sent, url, r->err);
    if (rc == UG_OK)
        snprintf(r->summary, sizeof r->summary, sent ? "report sent to %s" : "no report to send",
                 url);
    return rc;
}

static ug_err run_job(struct worker *w, struct session *s, struct worker_result *r)
{
    switch (r->job.kind) {
    case JOB_RESYNC:
        return run_resync(s, r);
    case JOB_BOOT:
    case JOB_SWITCH:
    case JOB_UPGRADE:
        return run_upgrade(w, s, r);
    case JOB_REBOOT:
        return run_reboot(s, r);
    case JOB_FACTORY_RESET:
        return factory_reset(s, r->err);
    case JOB_REPORT:
        return run_report(s, r);
    case JOB_KIND_COUNT:
        break;
    }
    return ug_fail(r->err, UG_ERR_USAGE, "unknown job");
}

static void deliver_done(void *ctx)
{
    struct worker *w = ctx;
    struct worker_result *r = w->r;
    w->r = NULL;
    pthread_join(w->thread, NULL);
    w->joinable = 0;
    w->running = 0;
    w->c.cb.done(w->c.cb.ctx, r);
}

static void *thread_main(void *arg)
{
    struct worker *w = arg;
    struct worker_result *r = w->r;
    struct session s;
    struct session_options o = {.log = w->c.log,
                                .cancel = w->c.cancel,
                                .engine = w->c.engine,
                                .calls = w->c.calls,
                                .calls_ctx = w->c.calls_ctx};
    /* A session per job: everything read afresh, as a command would. */
    r->rc = session_open(w->c.root, &o, &s, r->err);
    if (r->rc == UG_OK)
        r->rc = run_job(w, &s, r);
    session_close(&s);
    if (r->rc == UG_OK)
        r->err[0] = '\0';
    char ignored[UG_ERRBUF];
    /* Posting fails only without memory for one small node: then the loop never hears,
     * so keep trying; the daemon cannot go on without the result. */
    while (loop_post(w->c.loop, deliver_done, w, ignored) != UG_OK) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

ug_err worker_new(const struct worker_config *c, struct worker **out, char *err)
{
    struct worker *w = calloc(1, sizeof *w);
    if (!w)
        return ug_oom(err);
    w->c = *c;
    *out = w;
    return UG_OK;
}

void worker_free(struct worker *w)
{
    if (!w)
        return;
    if (w->joinable)
        pthread_join(w->thread, NULL);
    if (w->r)
        worker_result_free(w->r);
    free(w);
}

int worker_running(const struct worker *w)
{
    return w->running;
}

void worker_result_free(struct worker_result *r)
{
    if (!r)
        return;
    free(r->job.rule);
    buf_free(&r->log);
    free(r);
}

ug_err worker_start(struct worker *w, const struct job *j, char *err)
{
    if (w->running)
        return ug_fail(err, UG_ERR_OTHER, "a job is running already");
    struct worker_result *r = calloc(1, sizeof *r);
    if (!r)
        return ug_oom(err);
    r->job = *j;
    if (j->rule && !(r->job.rule = strdup(j->rule))) {
        free(r);
        return ug_oom(err);
    }
    w->r = r;
    w->last_progress = 0;
    if (pthread_create(&w->thread, NULL, thread_main, w) != 0) {
        w->r = NULL;
        worker_result_free(r);
        return ug_fail(err, UG_ERR_OTHER, "cannot start the worker thread");
    }
    w->joinable = 1;
    w->running = 1;
    return UG_OK;
}
