/* SPDX-License-Identifier: MIT */
/* The device's web server (docs/web.md): libmicrohttpd driven by the daemon's one loop (its
 * epoll descriptor watched, its timeout a loop timer), so every request is answered on the
 * loop's thread, without locks, and never waits for the network; a slow client only holds
 * its own connection. Pages and URL commands are handler.c's. */
#ifndef UPGRADER_WEB_WEB_H
#define UPGRADER_WEB_WEB_H

#include "common/error.h"
#include "common/log.h"
#include "daemon/loop.h"
#include "web/handler.h"

struct web_config {
    const char *root;   /* the state folder */
    const char *listen; /* "ADDR:PORT", "[ADDR6]:PORT" or "off"; NULL: the parameters
                           (Enable_Web_Server, Web_Server_Port on every IPv4 address) */
    struct loop *loop;
    struct fetch_engine *engine; /* the loop's, lent to the server's session */
    const struct log_sink *log;
    struct web_hooks hooks;
};

struct web;

/* Starts the server on c->loop; *out is NULL (and UG_OK) when it is off. HTTPS with the
 * device's certificate (client.crt, client.key) when Web_Server_Protocol is HTTPS. */
ug_err web_start(const struct web_config *c, struct web **out, char *err) UG_MUST_CHECK;
/* Stops listening, closes every connection and frees the server (NULL: nothing). */
void web_stop(struct web *w);
/* "http://127.0.0.1:8080" (the port the kernel chose for port 0), or "" for NULL. */
const char *web_url(const struct web *w);
/* Records a finished job for the log page (DIR/events.json); a failure is only logged. */
void web_event(const char *events_path, const char *kind, const char *origin, ug_err rc,
               const char *text, const struct log_sink *log);

#endif
