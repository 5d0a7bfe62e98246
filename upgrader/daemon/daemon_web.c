/* SPDX-License-Identifier: MIT */
/* The daemon's side of its web server: the two hooks it lends the server (its status
 * document, and queueing a URL command's job) and starting it. */
#include "daemon/daemon_int.h"

#include <stdio.h>

#include "web/web.h"

static json_object *web_status_hook(void *ctx)
{
    return daemon_status_json(ctx);
}

/* A URL command: queued like a control request, answered at once with the job's id. */
static ug_err web_queue_hook(void *ctx, enum job_kind kind, const char *rule, struct web_queued *q,
                             char *err)
{
    struct daemon *d = ctx;
    if (d->stopping || d->rebooting)
        return ug_fail(err, UG_ERR_OTHER,
                       d->stopping ? "the daemon is stopping" : "a reboot is under way");
    struct job j = daemon_job_now(d, kind, "web"), *queued = NULL;
    j.rule = (char *)rule;
    if (kind == JOB_RESYNC)
        j.force_at = sched_force_at(&d->sp, j.due);
    daemon_queue(d, &j, &queued);
    if (!queued)
        return ug_fail(err, UG_ERR_OTHER, "cannot queue the job");
    q->id = queued->id;
    q->running = d->running == queued->id;
    daemon_save_jobs(d);
    daemon_kick(d);
    struct job *now = jobs_find(&d->q, q->id);
    if (d->running == q->id || !now)
        snprintf(q->why, sizeof q->why, "running");
    else
        jobs_why(now, daemon_now_s(), d->busy, q->why, sizeof q->why);
    return UG_OK;
}

ug_err daemon_start_web(struct daemon *d, char *err)
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
