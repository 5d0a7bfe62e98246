/* SPDX-License-Identifier: MIT */
/* The recent events the log page shows (resyncs, upgrades, boots with their rollbacks,
 * reboots, factory resets): the last EVENTS_MAX job outcomes, kept in DIR/events.json by
 * the daemon so that they outlive a restart. */
#ifndef UPGRADER_WEB_EVENTS_H
#define UPGRADER_WEB_EVENTS_H

#include <stdint.h>

#include <json-c/json.h>

#include "common/error.h"

#define EVENTS_MAX 100

struct event {
    int64_t time;       /* Unix time of the outcome */
    const char *kind;   /* "resync", "upgrade", "boot", "reboot", ... */
    const char *origin; /* who asked: "periodic", "web", "control", ... */
    ug_err rc;
    const char *text; /* what it did, or why it failed (no credentials) */
};

/* Appends e to the file at path (the oldest dropped beyond EVENTS_MAX), atomically. */
ug_err events_record(const char *path, const struct event *e, char *err) UG_MUST_CHECK;
/* The events of the file, oldest first, as a JSON array (a new reference; empty when the
 * file is absent). */
ug_err events_load(const char *path, json_object **out, char *err) UG_MUST_CHECK;

#endif
