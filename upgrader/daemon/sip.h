/* SPDX-License-Identifier: MIT */
/* Call state from a SIP user agent: the daemon is the one client of baresip's ctrl_tcp port
 * (JSON in netstrings; its port takes one client, a new one drops the old). It asks
 * `listcalls` after every (re)connect and after every call event, and counts the device busy
 * while it does not know (connection lost) until an answer says otherwise. */
#ifndef UPGRADER_DAEMON_SIP_H
#define UPGRADER_DAEMON_SIP_H

#include <stddef.h>

#include <json-c/json.h>

#include "common/error.h"
#include "common/log.h"
#include "daemon/loop.h"

/* The reconnect backoff: first wait, doubled after each failure up to the longest. */
#define SIP_BACKOFF_FIRST_MS 500
#define SIP_BACKOFF_MAX_MS   30000
/* A listcalls answer younger than this confirms idle before a switch, a reboot or a reset. */
#define SIP_FRESH_MS         1000
/* A netstring longer than this ends the connection (baresip's are a few hundred bytes). */
#define SIP_MAX_MESSAGE      (64 * 1024)

struct sip;

/* Called on the loop when sip_busy() may have changed. */
typedef void (*sip_change_fn)(void *ctx);

ug_err sip_new(struct loop *l, const struct log_sink *log, sip_change_fn fn, void *ctx,
               struct sip **out, char *err) UG_MUST_CHECK;
void sip_free(struct sip *s);
/* Follows the parameters: off, or the UA's control port at address (host:port); a change
 * of either reconnects. */
void sip_configure(struct sip *s, int enabled, const char *address);
/* 1 while a call is up, or while the source is on and its state is unknown. */
int sip_busy(const struct sip *s);
/* 1 when the source is off, or a fresh answer (SIP_FRESH_MS) says no call is up; else asks
 * the user agent (when connected) and returns 0: the change callback follows its answer. */
int sip_confirm_idle(struct sip *s);
/* The source for status: state (off, connecting, connected, lost), calls, address. */
json_object *sip_to_json(const struct sip *s);

/* The first netstring of data[0..len): 1 with its payload (not NUL-terminated) and the bytes
 * it took; 0 when more bytes are needed; -1 when data is not a netstring (or too long). */
int sip_netstring(const char *data, size_t len, const char **payload, size_t *plen, size_t *used);
/* The number of calls in a `listcalls` answer ("--- Active calls (N) ---"); -1 if absent. */
int sip_listcalls_count(const char *text);

#endif
