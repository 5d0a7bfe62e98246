/* SPDX-License-Identifier: MIT */
/* The control socket (DIR/control.sock, mode 0600): how `upgrader call|resync|upgrade|status`
 * reach a running daemon. One JSON object a line each way: a request, then one reply, after
 * which the daemon closes (docs/daemon.md "Control socket"). The server side runs on the
 * daemon's loop; the client side is a blocking call for the commands. */
#ifndef UPGRADER_DAEMON_CONTROL_H
#define UPGRADER_DAEMON_CONTROL_H

#include <json-c/json.h>

#include "common/error.h"
#include "daemon/loop.h"

/* Requests and replies are bounded; a longer line is refused. */
#define CONTROL_LINE_MAX (64 * 1024)

struct control;
struct control_conn;

/* A request arrived on conn; the handler owns conn until it calls control_reply (at once or
 * later, e.g. when a queued job ends). req is borrowed for the call. */
typedef void (*control_request_fn)(void *ctx, struct control_conn *conn, json_object *req);

/* Listens on path (replacing a stale socket file) with mode 0600, on loop l. */
ug_err control_listen(struct loop *l, const char *path, control_request_fn fn, void *ctx,
                      struct control **out, char *err) UG_MUST_CHECK;
/* Closes the socket (and removes its file) and every connection not yet answered. */
void control_close(struct control *c);
/* Sends reply (taking the reference) as the answer to conn, then closes conn. */
void control_reply(struct control_conn *conn, json_object *reply);

/* Client: sends req to the daemon listening at path and waits up to timeout_ms (-1: for
 * ever) for its reply (*reply, a new reference). *running is 0, with UG_OK, when no daemon
 * listens there (no socket, or nobody accepting): the caller then acts itself. */
ug_err control_call(const char *path, json_object *req, int timeout_ms, int *running,
                    json_object **reply, char *err) UG_MUST_CHECK;

#endif
