/* SPDX-License-Identifier: MIT */
/* Remote syslog over UDP for the Log_* messages: RFC 3164 (BSD, what the phones send) or
 * RFC 5424 datagrams to Syslog_Server (host[:port], port 514 by default). */
#ifndef UPGRADER_SYSLOG_UDP_H
#define UPGRADER_SYSLOG_UDP_H

#include <stddef.h>
#include <time.h>

#include "common/error.h"

#define SYSLOG_DEFAULT_PORT    514
#define SYSLOG_MAX_DATAGRAM    1024 /* RFC 3164's limit, kept for both formats */
#define SYSLOG_FACILITY_LOCAL0 16
#define SYSLOG_SEVERITY_ERR    3
#define SYSLOG_SEVERITY_NOTICE 5
#define SYSLOG_SEVERITY_INFO   6

enum syslog_format {
    SYSLOG_RFC3164,
    SYSLOG_RFC5424
};

/* Formats one datagram into out (NUL-terminated, at most outsz - 1 bytes, cut if longer):
 * host and app become "-" when empty, spaces in them '_', control characters in msg ' '.
 * RFC 3164 uses local time, RFC 5424 UTC. Returns the length written. */
size_t syslog_format(enum syslog_format format, int facility, int severity, time_t when,
                     const char *host, const char *app, const char *msg, char *out, size_t outsz);
/* Sends one datagram to server ("host", "host:port", "[v6]:port"). UG_ERR_USAGE for a
 * malformed server, UG_ERR_UNREACHABLE when it cannot be resolved or sent to. */
ug_err syslog_send(const char *server, const char *datagram, size_t len, char *err) UG_MUST_CHECK;

#endif
