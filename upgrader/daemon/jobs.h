/* SPDX-License-Identifier: MIT */
/* The deferred-work queue: resyncs, upgrade passes, slot switches, reboots, factory resets
 * and reports waiting for their time and for the device to be idle, kept in DIR/jobs.json
 * so that a pending job outlives a restart of the daemon (docs/daemon.md "Jobs"). */
#ifndef UPGRADER_DAEMON_JOBS_H
#define UPGRADER_DAEMON_JOBS_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "common/error.h"

enum job_kind {
    JOB_BOOT,          /* upgrade_boot: confirm a freshly switched slot (first at start) */
    JOB_SWITCH,        /* upgrade_pass on a verified slot: switch and reboot, when idle */
    JOB_REBOOT,        /* device.conf's reboot command, when idle */
    JOB_FACTORY_RESET, /* when idle */
    JOB_RESYNC,        /* when idle, or at force_at during a call */
    JOB_UPGRADE,       /* an upgrade pass (its download goes on during a call) */
    JOB_REPORT,        /* Report_Rule upload */
    JOB_KIND_COUNT
};

struct job {
    unsigned id;
    enum job_kind kind;
    char origin[24];  /* "start", "periodic", "retry", "control", "resync", "boot", ... */
    char *rule;       /* an explicit RULE (resync RULE, upgrade RULE), or NULL */
    int force;        /* upgrade --force */
    int no_reboot;    /* upgrade --no-reboot */
    int continuing;   /* the next hop of a plan (after a boot) */
    long timeout_ms;  /* resync --timeout; 0: default */
    int64_t queued;   /* Unix time it was queued: "since" */
    int64_t due;      /* Unix time it may run */
    int64_t force_at; /* resync: runs from then on even during a call; 0: never forced */
};

struct job_queue {
    struct job *jobs;
    size_t n, cap;
    unsigned next_id;
    char *path; /* jobs.json */
};

/* The kind's name in jobs.json and status ("resync", "switch", ...). */
const char *job_kind_name(enum job_kind kind);
/* 1 if the kind waits for the device to be idle (no call up) before it runs. */
int job_waits_for_idle(enum job_kind kind);

/* Opens the queue kept at path: the jobs it holds (none when the file is absent). A damaged
 * file is set aside (path.bad) and the queue starts empty, so a daemon always starts. */
ug_err jobs_open(struct job_queue *q, const char *path, char *err) UG_MUST_CHECK;
/* Frees the queue (the file stays). */
void jobs_close(struct job_queue *q);
/* Writes the queue to its file atomically. */
ug_err jobs_save(const struct job_queue *q, char *err) UG_MUST_CHECK;
/* Queues a copy of j (rule copied) with a new id, unless a job of the same kind and rule
 * is queued already: that one then takes the earlier due and force_at. *out: the job
 * queued or merged into (valid until the queue changes). */
ug_err jobs_add(struct job_queue *q, const struct job *j, struct job **out,
                char *err) UG_MUST_CHECK;
/* The queued job with this id, or NULL. */
struct job *jobs_find(struct job_queue *q, unsigned id);
/* The first queued job of this kind, or NULL. */
struct job *jobs_find_kind(struct job_queue *q, enum job_kind kind);
/* Removes the job (nothing if absent). */
void jobs_remove(struct job_queue *q, unsigned id);
/* The job to run now: due, and either the device is idle, or it is a resync past its
 * force_at; among those the most urgent kind first, then the earliest due. NULL when none;
 * *wake is then the next moment one may become runnable without a change of call state
 * (-1: none). */
struct job *jobs_next(struct job_queue *q, int64_t now, int busy, int64_t *wake);
/* Why j is not running at now ("due at ...", "waiting for the call to end ...").
 * out holds at least 160 bytes. */
void jobs_why(const struct job *j, int64_t now, int busy, char *out, size_t outsz);
/* The queue as a JSON array for status (no rule text: it may hold a key or password). */
json_object *jobs_to_json(const struct job_queue *q, int64_t now, int busy);

#endif
