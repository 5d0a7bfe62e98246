/* SPDX-License-Identifier: MIT */
/* The device's status document, shared by `upgrader status` and the web server. */
#ifndef UPGRADER_DAEMON_DEVSTATUS_H
#define UPGRADER_DAEMON_DEVSTATUS_H

#include <json-c/json.h>

#include "common/error.h"
#include "session/session.h"

/* Builds the status object of the open session a (a new reference in *out); nothing secret
 * is read into it (no parameter values but Provision_Enable, no rule text, URLs already
 * without credentials). The caller adds "daemon". */
ug_err devstatus_build(struct session *a, json_object **out, char *err) UG_MUST_CHECK;

#endif
