/* SPDX-License-Identifier: MIT */
/* The deferred-work queue and its file. The queue decides only what may run now; the daemon
 * decides what to queue and what a result means. */
#include "daemon/jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/fsutil.h"
#include "common/jsonfile.h"

#define JOBS_FILE_MAX (1u << 20)

static const char *const kind_names[JOB_KIND_COUNT] = {
    [JOB_BOOT] = "boot",     [JOB_SWITCH] = "switch",
    [JOB_REBOOT] = "reboot", [JOB_FACTORY_RESET] = "factory-reset",
    [JOB_RESYNC] = "resync", [JOB_UPGRADE] = "upgrade",
    [JOB_REPORT] = "report",
};

const char *job_kind_name(enum job_kind kind)
{
    return kind < JOB_KIND_COUNT ? kind_names[kind] : "?";
}

static int kind_from_name(const char *name)
{
    for (int k = 0; k < JOB_KIND_COUNT; k++)
        if (strcmp(kind_names[k], name) == 0)
            return k;
    return -1;
}

int job_waits_for_idle(enum job_kind kind)
{
    /* A switch, a reboot or a reset would cut a call; a resync may change parameters that
     * make the phone restart its lines. An upgrade pass only downloads and verifies until
     * its switch, which it defers by itself (exit 6, then a switch job). */
    return kind == JOB_SWITCH || kind == JOB_REBOOT || kind == JOB_FACTORY_RESET ||
           kind == JOB_RESYNC;
}

static void job_free(struct job *j)
{
    free(j->rule);
    j->rule = NULL;
}

void jobs_close(struct job_queue *q)
{
    for (size_t i = 0; i < q->n; i++)
        job_free(&q->jobs[i]);
    free(q->jobs);
    free(q->path);
    memset(q, 0, sizeof *q);
}

static int same_rule(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

struct job *jobs_find(struct job_queue *q, unsigned id)
{
    for (size_t i = 0; i < q->n; i++)
        if (q->jobs[i].id == id)
            return &q->jobs[i];
    return NULL;
}

struct job *jobs_find_kind(struct job_queue *q, enum job_kind kind)
{
    for (size_t i = 0; i < q->n; i++)
        if (q->jobs[i].kind == kind)
            return &q->jobs[i];
    return NULL;
}

void jobs_remove(struct job_queue *q, unsigned id)
{
    for (size_t i = 0; i < q->n; i++) {
        if (q->jobs[i].id != id)
            continue;
        job_free(&q->jobs[i]);
        q->jobs[i] = q->jobs[--q->n];
        return;
    }
}

/* Merges j into an equal job already queued: the earlier moments win. */
static void merge(struct job *into, const struct job *j)
{
    if (j->due < into->due)
        into->due = j->due;
    if (j->force_at && (!into->force_at || j->force_at < into->force_at))
        into->force_at = j->force_at;
    into->force |= j->force;
}

ug_err jobs_add(struct job_queue *q, const struct job *j, struct job **out, char *err)
{
    for (size_t i = 0; i < q->n; i++) {
        struct job *k = &q->jobs[i];
        if (k->kind == j->kind && same_rule(k->rule, j->rule) && k->continuing == j->continuing) {
            merge(k, j);
            if (out)
                *out = k;
            return UG_OK;
        }
    }
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 8;
        struct job *grown = realloc(q->jobs, cap * sizeof *grown);
        if (!grown)
            return ug_oom(err);
        q->jobs = grown;
        q->cap = cap;
    }
    struct job *k = &q->jobs[q->n];
    *k = *j;
    k->rule = NULL;
    if (j->rule && !(k->rule = strdup(j->rule)))
        return ug_oom(err);
    k->id = ++q->next_id;
    q->n++;
    if (out)
        *out = k;
    return UG_OK;
}

static int runnable(const struct job *j, int64_t now, int busy)
{
    if (j->due > now)
        return 0;
    if (!busy || !job_waits_for_idle(j->kind))
        return 1;
    return j->kind == JOB_RESYNC && j->force_at && j->force_at <= now;
}

/* The moment j may become runnable with the call state as it is; -1: only when it changes. */
static int64_t becomes_runnable(const struct job *j, int busy)
{
    if (!busy || !job_waits_for_idle(j->kind))
        return j->due;
    if (j->kind == JOB_RESYNC && j->force_at)
        return j->force_at > j->due ? j->force_at : j->due;
    return -1;
}

struct job *jobs_next(struct job_queue *q, int64_t now, int busy, int64_t *wake)
{
    struct job *best = NULL;
    *wake = -1;
    for (size_t i = 0; i < q->n; i++) {
        struct job *j = &q->jobs[i];
        if (runnable(j, now, busy)) {
            if (!best || j->kind < best->kind || (j->kind == best->kind && j->due < best->due))
                best = j;
            continue;
        }
        int64_t at = becomes_runnable(j, busy);
        if (at >= 0 && (*wake < 0 || at < *wake))
            *wake = at;
    }
    return best;
}

static void format_time(int64_t t, char *out, size_t outsz)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, outsz, "%lld", (long long)t);
}

void jobs_why(const struct job *j, int64_t now, int busy, char *out, size_t outsz)
{
    char at[32];
    if (j->due > now) {
        format_time(j->due, at, sizeof at);
        snprintf(out, outsz, "due at %s", at);
    } else if (busy && job_waits_for_idle(j->kind) && j->kind == JOB_RESYNC && j->force_at) {
        format_time(j->force_at, at, sizeof at);
        snprintf(out, outsz,
                 "waiting for the call to end; runs at %s at the latest "
                 "(Forced_Resync_Delay)",
                 at);
    } else if (busy && job_waits_for_idle(j->kind)) {
        snprintf(out, outsz, "waiting for the call to end (a %s never cuts a call)",
                 job_kind_name(j->kind));
    } else {
        snprintf(out, outsz, "ready: waits for the job running before it");
    }
}

static json_object *job_json(const struct job *j, int with_rule)
{
    json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    jsonfile_set_int(o, "id", j->id);
    jsonfile_set_string(o, "kind", job_kind_name(j->kind));
    jsonfile_set_string(o, "origin", j->origin);
    if (with_rule && j->rule)
        jsonfile_set_string(o, "rule", j->rule);
    else if (j->rule)
        jsonfile_set_string(o, "rule", "(given)");
    jsonfile_set_int(o, "force", j->force);
    jsonfile_set_int(o, "no_reboot", j->no_reboot);
    jsonfile_set_int(o, "continuing", j->continuing);
    jsonfile_set_int(o, "timeout_ms", j->timeout_ms);
    jsonfile_set_int(o, "queued", j->queued);
    jsonfile_set_int(o, "due", j->due);
    jsonfile_set_int(o, "force_at", j->force_at);
    return o;
}

json_object *jobs_to_json(const struct job_queue *q, int64_t now, int busy)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; a && i < q->n; i++) {
        json_object *o = job_json(&q->jobs[i], 0);
        char why[256];
        jobs_why(&q->jobs[i], now, busy, why, sizeof why);
        if (o) {
            jsonfile_set_string(o, "why", why);
            json_object_array_add(a, o);
        }
    }
    return a;
}

ug_err jobs_save(const struct job_queue *q, char *err)
{
    json_object *doc = json_object_new_object(), *a = json_object_new_array();
    if (!doc || !a) {
        json_object_put(doc);
        json_object_put(a);
        return ug_oom(err);
    }
    json_object_object_add(doc, "jobs", a);
    jsonfile_set_int(doc, "next_id", q->next_id);
    for (size_t i = 0; i < q->n; i++)
        json_object_array_add(a, job_json(&q->jobs[i], 1));
    /* 0600: an explicit rule may carry a --key or a --pwd. */
    const char *text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY);
    ug_err rc = fs_write_atomic(q->path, text, strlen(text), 0600, err);
    json_object_put(doc);
    return rc;
}

static ug_err load_job(struct job_queue *q, json_object *o, char *err)
{
    int kind = kind_from_name(jsonfile_get_string(o, "kind", ""));
    if (kind < 0)
        return UG_OK; /* a kind of a later version: left out */
    struct job j = {0};
    j.kind = (enum job_kind)kind;
    snprintf(j.origin, sizeof j.origin, "%s", jsonfile_get_string(o, "origin", "restart"));
    j.rule = (char *)jsonfile_get_string(o, "rule", NULL);
    j.force = (int)jsonfile_get_int(o, "force", 0);
    j.no_reboot = (int)jsonfile_get_int(o, "no_reboot", 0);
    j.continuing = (int)jsonfile_get_int(o, "continuing", 0);
    j.timeout_ms = (long)jsonfile_get_int(o, "timeout_ms", 0);
    j.queued = jsonfile_get_int(o, "queued", 0);
    j.due = jsonfile_get_int(o, "due", 0);
    j.force_at = jsonfile_get_int(o, "force_at", 0);
    return jobs_add(q, &j, NULL, err);
}

ug_err jobs_open(struct job_queue *q, const char *path, char *err)
{
    memset(q, 0, sizeof *q);
    if (!(q->path = strdup(path)))
        return ug_oom(err);
    json_object *doc = NULL, *a = NULL;
    char why[UG_ERRBUF];
    if (jsonfile_load(path, &doc, why) != UG_OK) {
        char bad[4200];
        snprintf(bad, sizeof bad, "%s.bad", path);
        if (rename(path, bad) != 0)
            return ug_fail(err, UG_ERR_OTHER, "%s is damaged and cannot be set aside: %s", path,
                           why);
        return UG_OK;
    }
    ug_err rc = UG_OK;
    if (json_object_object_get_ex(doc, "jobs", &a) && json_object_is_type(a, json_type_array))
        for (size_t i = 0; rc == UG_OK && i < json_object_array_length(a); i++)
            rc = load_job(q, json_object_array_get_idx(a, i), err);
    long long next = jsonfile_get_int(doc, "next_id", 0);
    if (next > q->next_id)
        q->next_id = (unsigned)next;
    json_object_put(doc);
    return rc;
}
