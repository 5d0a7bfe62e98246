/* SPDX-License-Identifier: MIT */
/* Control requests to the running daemon: status, calls, and jobs queued for a client that
 * waits for their end. */
#include "daemon/daemon_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/jsonfile.h"
#include "web/web.h"

void daemon_answer_waiters(struct daemon *d, unsigned job, json_object *reply)
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

json_object *daemon_status_json(struct daemon *d)
{
    json_object *o = json_object_new_object(), *calls = json_object_new_object();
    int64_t now = daemon_now_s();
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

json_object *daemon_reply_rc(ug_err rc, const char *error)
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
        control_reply(conn, daemon_reply_rc(UG_ERR_OTHER, "out of memory"));
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
    struct job j = daemon_job_now(d, kind, "control");
    j.rule = (char *)jsonfile_get_string(req, "rule", NULL);
    j.force = (int)jsonfile_get_int(req, "force", 0);
    j.no_reboot = (int)jsonfile_get_int(req, "no_reboot", 0);
    j.timeout_ms = (long)jsonfile_get_int(req, "timeout_ms", 0);
    if (kind == JOB_RESYNC)
        j.force_at = sched_force_at(&d->sp, j.due);
    struct job *queued = NULL;
    daemon_queue(d, &j, &queued);
    if (!queued)
        return control_reply(conn, daemon_reply_rc(UG_ERR_OTHER, "cannot queue the job"));
    daemon_save_jobs(d);
    if (d->busy && job_waits_for_idle(kind) && queued->id != d->running) {
        char why[256], msg[UG_ERRBUF];
        jobs_why(queued, daemon_now_s(), 1, why, sizeof why);
        snprintf(msg, sizeof msg, "deferred: a call is active; the %s is queued (job %u) and %s",
                 job_kind_name(kind), queued->id, why);
        control_reply(conn, daemon_reply_rc(UG_ERR_DEFERRED, msg));
    } else {
        wait_for(d, conn, queued);
    }
    daemon_kick(d);
}

void daemon_on_request(void *ctx, struct control_conn *conn, json_object *req)
{
    struct daemon *d = ctx;
    const char *cmd = jsonfile_get_string(req, "cmd", "");
    if (strcmp(cmd, "status") == 0) {
        json_object *r = daemon_reply_rc(UG_OK, "");
        json_object_object_add(r, "daemon", daemon_status_json(d));
        return control_reply(conn, r);
    }
    if (strcmp(cmd, "call") == 0) {
        daemon_read_calls_file(d); /* the command changed the file itself, durably */
        json_object *r = daemon_reply_rc(UG_OK, "");
        json_object_object_add(r, "busy", json_object_new_boolean(d->busy));
        return control_reply(conn, r);
    }
    if (d->stopping || d->rebooting)
        return control_reply(conn,
                             daemon_reply_rc(UG_ERR_OTHER, d->stopping ? "the daemon is stopping"
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
    control_reply(conn, daemon_reply_rc(UG_ERR_USAGE, "unknown control command"));
}
