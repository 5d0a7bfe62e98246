/* SPDX-License-Identifier: MIT */
/* The commands that a running daemon takes over (call, resync, upgrade, status): their
 * request goes through the folder's control socket when a daemon listens there, and the
 * command acts by itself, as without a daemon, when none does. */
#ifndef UPGRADER_CMD_VIA_DAEMON_H
#define UPGRADER_CMD_VIA_DAEMON_H

#include <json-c/json.h>

#include "common/error.h"

/* Sends req (taking the reference) to the daemon of the folder at root and waits up to
 * timeout_ms (-1: until it answers). *handled 0 when no daemon runs (then act directly);
 * else *reply is its answer (a new reference) and the return is its rc, err its message. */
ug_err via_daemon(const char *root, json_object *req, int timeout_ms, int *handled,
                  json_object **reply, char *err) UG_MUST_CHECK;

#endif
