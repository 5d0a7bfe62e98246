/* SPDX-License-Identifier: MIT */
/* UDP syslog sender. Messages are fire-and-forget, as syslog over UDP is: the caller
 * decides whether a failure to send matters (for resync it does not). */
#include "net/syslog_udp.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Copies a header field (no spaces allowed in either format) into out. */
static void header_field(const char *in, char *out, size_t outsz)
{
    size_t n = 0;
    for (; in && *in && n + 1 < outsz; in++)
        out[n++] = (*in == ' ' || (unsigned char)*in < ' ' || *in == 0x7f) ? '_' : *in;
    if (n == 0 && outsz > 1)
        out[n++] = '-';
    out[n] = '\0';
}

size_t syslog_format(enum syslog_format format, int facility, int severity, time_t when,
                     const char *host, const char *app, const char *msg, char *out, size_t outsz)
{
    if (outsz == 0)
        return 0;
    char h[256], a[49], stamp[40];
    header_field(host, h, sizeof h);
    header_field(app, a, sizeof a);
    struct tm tm;
    int pri = facility * 8 + severity;
    int n;
    if (format == SYSLOG_RFC5424) {
        gmtime_r(&when, &tm);
        strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
        n = snprintf(out, outsz, "<%d>1 %s %s %s - - - ", pri, stamp, h, a);
    } else {
        /* "Mmm dd hh:mm:ss" with a space-padded day; month names are fixed English. */
        static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        localtime_r(&when, &tm);
        snprintf(stamp, sizeof stamp, "%s %2d %02d:%02d:%02d", months[tm.tm_mon % 12], tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec);
        n = snprintf(out, outsz, "<%d>%s %s %s: ", pri, stamp, h, a);
    }
    size_t len = n < 0 ? 0 : (size_t)n >= outsz ? outsz - 1 : (size_t)n;
    for (; msg && *msg && len + 1 < outsz; msg++)
        out[len++] = ((unsigned char)*msg < ' ' || *msg == 0x7f) ? ' ' : *msg;
    out[len] = '\0';
    return len;
}

ug_err syslog_send(const char *server, const char *datagram, size_t len, char *err)
{
    char host[256], port[8];
    const char *h = server, *hend, *colon = NULL;
    if (*h == '[') {
        const char *rb = strchr(h, ']');
        if (!rb || (rb[1] && rb[1] != ':'))
            return ug_fail(err, UG_ERR_USAGE, "Syslog_Server '%s': not host[:port]", server);
        h++;
        hend = rb;
        colon = rb[1] ? rb + 1 : NULL;
    } else {
        colon = strrchr(h, ':');
        if (colon && strchr(h, ':') != colon)
            colon = NULL; /* a bare IPv6 address */
        hend = colon ? colon : h + strlen(h);
    }
    size_t hl = (size_t)(hend - h);
    if (hl == 0 || hl >= sizeof host)
        return ug_fail(err, UG_ERR_USAGE, "Syslog_Server '%s': no host", server);
    memcpy(host, h, hl);
    host[hl] = '\0';
    long p = SYSLOG_DEFAULT_PORT;
    if (colon) {
        char *end = NULL;
        p = strtol(colon + 1, &end, 10);
        if (end == colon + 1 || *end || p < 1 || p > 65535)
            return ug_fail(err, UG_ERR_USAGE, "Syslog_Server '%s': port is not 1..65535", server);
    }
    snprintf(port, sizeof port, "%ld", p);

    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0)
        return ug_fail(err, UG_ERR_UNREACHABLE, "syslog server %s: %s", server, gai_strerror(gai));
    ug_err rc = UG_ERR_UNREACHABLE;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        ssize_t sent = sendto(fd, datagram, len, 0, ai->ai_addr, ai->ai_addrlen);
        close(fd);
        if (sent == (ssize_t)len) {
            rc = UG_OK;
            break;
        }
    }
    freeaddrinfo(res);
    if (rc != UG_OK)
        return ug_fail(err, rc, "syslog server %s: cannot send to any of its addresses", server);
    return rc;
}
