/* SPDX-License-Identifier: MIT */
/* libmicrohttpd in external-epoll mode on the daemon's loop: the loop watches MHD's epoll
 * descriptor and arms one timer to MHD's timeout; each wake-up runs MHD_run, which only
 * does what is ready (all sockets are non-blocking). */
#include "web/web.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <microhttpd.h>

#include "common/fsutil.h"
#include "web/events.h"

#define CONNECTIONS_MAX   64
#define PER_CLIENT_MAX    32
#define CONN_TIMEOUT_S    30
#define CONN_MEMORY_LIMIT (48 * 1024) /* request line and headers beyond it: 431/414 */

/* Nothing loads from elsewhere, nothing inline runs, no other site may frame the pages. */
#define CSP                                                                     \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " \
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

struct web {
    struct loop *loop;
    struct MHD_Daemon *mhd;
    struct handler *h;
    struct loop_timer timer;
    int epoll_fd;
    const struct log_sink *log;
    char url[128];
    struct buf cert, key; /* HTTPS: must outlive the daemon */
};

/* One request's raw URI and body, from the URI callback to the completion callback. */
struct req {
    char *uri;
    struct buf body;
    int seen, too_big;
};

static void pump(struct web *w);

static void on_timer(void *ctx)
{
    pump(ctx);
}

static void on_ready(void *ctx, int fd, unsigned events)
{
    (void)fd;
    (void)events;
    pump(ctx);
}

static void pump(struct web *w)
{
    MHD_UNSIGNED_LONG_LONG t = 0;
    MHD_run(w->mhd);
    if (MHD_get_timeout(w->mhd, &t) == MHD_YES)
        loop_timer_set(w->loop, &w->timer, loop_now_ms() + (int64_t)t, on_timer, w);
    else
        loop_timer_stop(w->loop, &w->timer);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    struct req *r = calloc(1, sizeof *r);
    (void)cls;
    (void)c;
    if (r && !(r->uri = strdup(uri))) {
        free(r);
        r = NULL;
    }
    return r;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
    struct req *r = *con_cls;
    (void)cls;
    (void)c;
    (void)why;
    if (r) {
        free(r->uri);
        buf_free(&r->body);
        free(r);
    }
    *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct web *w = cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    log_msg(w->log, LOG_LEVEL_INFO, "web: %s", line);
}

static enum MHD_Result send_response(struct MHD_Connection *c, const struct web_response *rs)
{
    struct MHD_Response *m =
        rs->data
            ? MHD_create_response_from_buffer(rs->data_len, (void *)rs->data,
                                              MHD_RESPMEM_PERSISTENT)
            : MHD_create_response_from_buffer(rs->body.len, rs->body.data, MHD_RESPMEM_MUST_COPY);
    if (!m)
        return MHD_NO;
    char retry[32];
    MHD_add_response_header(m, "Content-Type", rs->type ? rs->type : "text/plain");
    MHD_add_response_header(m, "Content-Security-Policy", CSP);
    MHD_add_response_header(m, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(m, "X-Frame-Options", "DENY");
    MHD_add_response_header(m, "Referrer-Policy", "same-origin");
    MHD_add_response_header(m, "Cache-Control", rs->data ? "max-age=300" : "no-store");
    for (int i = 0; i < rs->challenges; i++)
        MHD_add_response_header(m, "WWW-Authenticate", rs->challenge[i]);
    if (rs->retry_after) {
        snprintf(retry, sizeof retry, "%ld", rs->retry_after);
        MHD_add_response_header(m, "Retry-After", retry);
    }
    if (rs->allow)
        MHD_add_response_header(m, "Allow", rs->allow);
    enum MHD_Result ok = MHD_queue_response(c, rs->status, m);
    MHD_destroy_response(m);
    return ok;
}

static enum MHD_Result refuse(struct MHD_Connection *c, unsigned status, const char *msg)
{
    struct web_response rs = {.status = status, .type = "text/plain; charset=utf-8"};
    buf_printf(&rs.body, "%s\n", msg);
    enum MHD_Result ok = send_response(c, &rs);
    web_response_free(&rs);
    return ok;
}

static void client_addr(struct MHD_Connection *c, char *out, size_t outsz)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, outsz, "?");
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)outsz);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)outsz);
}

static const char *header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static enum MHD_Result answer(struct web *w, struct MHD_Connection *c, struct req *r,
                              const char *url, const char *method)
{
    char client[INET6_ADDRSTRLEN + 1];
    client_addr(c, client, sizeof client);
    const char *q = strchr(r->uri, '?');
    struct web_request rq = {.method = method,
                             .path = url,
                             .uri = r->uri,
                             .query = q ? q + 1 : NULL,
                             .authorization = header(c, "Authorization"),
                             .origin = header(c, "Origin"),
                             .sec_fetch_site = header(c, "Sec-Fetch-Site"),
                             .host = header(c, "Host"),
                             .content_type = header(c, "Content-Type"),
                             .body = r->body.data,
                             .body_len = r->body.len,
                             .client = client,
                             .now = (int64_t)time(NULL)};
    struct web_response rs;
    handler_handle(w->h, &rq, &rs);
    enum MHD_Result ok = send_response(c, &rs);
    web_response_free(&rs);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    struct req *r = *con_cls;
    (void)version;
    if (!r)
        return MHD_NO;
    if (!r->seen) {
        r->seen = 1;
        const char *cl = header(c, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > WEB_BODY_MAX)
            return refuse(c, 413, "request body too large");
        return MHD_YES;
    }
    if (*upload_size) {
        if (r->too_big || r->body.len + *upload_size > WEB_BODY_MAX)
            r->too_big = 1;
        else if (buf_append(&r->body, upload, *upload_size) != 0)
            return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->too_big)
        return refuse(c, 413, "request body too large");
    return answer(cls, c, r, url, method);
}

/* ---- start */

/* "ADDR:PORT" or "[ADDR6]:PORT" into a socket address. */
static ug_err parse_listen(const char *text, struct sockaddr_storage *ss, char *err)
{
    char host[128];
    const char *colon = strrchr(text, ':');
    size_t hl = colon ? (size_t)(colon - text) : 0;
    if (!colon || !colon[1] || hl == 0 || hl >= sizeof host)
        return ug_fail(err, UG_ERR_USAGE, "--listen '%s': ADDR:PORT expected", text);
    memcpy(host, text, hl);
    host[hl] = '\0';
    if (host[0] == '[' && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
                             .ai_socktype = SOCK_STREAM},
                    *ai = NULL;
    char *end = NULL;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (*end || port > 65535 || getaddrinfo(host, colon + 1, &hints, &ai) != 0 || !ai)
        return ug_fail(err, UG_ERR_USAGE, "--listen '%s': a numeric address and a port 0..65535",
                       text);
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    return UG_OK;
}

/* Where to listen: --listen, else the parameters; 0 with *off when the server is off. */
static ug_err where(struct web *w, const struct web_config *c, struct sockaddr_storage *ss,
                    int *off, char *err)
{
    *off = 0;
    if (c->listen) {
        *off = strcmp(c->listen, "off") == 0;
        return *off ? UG_OK : parse_listen(c->listen, ss, err);
    }
    const char *en = handler_param(w->h, "Enable_Web_Server");
    if (!en || paramdefs_parse_bool(en) != 1) {
        *off = 1;
        return UG_OK;
    }
    const char *port = handler_param(w->h, "Web_Server_Port");
    char text[64];
    snprintf(text, sizeof text, "0.0.0.0:%s", port && *port ? port : "80");
    return parse_listen(text, ss, err);
}

static ug_err load_tls(struct web *w, char *err)
{
    const char *cert = NULL, *key = NULL;
    handler_tls_files(w->h, &cert, &key);
    if (!cert || !key)
        return ug_fail(err, UG_ERR_USAGE,
                       "Web_Server_Protocol is HTTPS but the device has no certificate and key "
                       "(init --client-cert, --client-key)");
    ug_err rc = fs_read_file(cert, 1 << 20, &w->cert, err);
    if (rc == UG_OK)
        rc = fs_read_file(key, 1 << 20, &w->key, err);
    if (rc == UG_OK && (buf_append(&w->cert, "", 1) != 0 || buf_append(&w->key, "", 1) != 0))
        rc = ug_oom(err);
    return rc;
}

static ug_err open_mhd(struct web *w, const struct sockaddr_storage *ss, int tls, char *err)
{
    unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | (tls ? MHD_USE_TLS : 0) |
                     (ss->ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    w->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, w, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, w,
        MHD_OPTION_SOCK_ADDR, ss, MHD_OPTION_URI_LOG_CALLBACK, on_uri, w,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, w, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)CONNECTIONS_MAX, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)PER_CLIENT_MAX,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)CONN_MEMORY_LIMIT, tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, w->cert.data,
        MHD_OPTION_HTTPS_MEM_KEY, w->key.data, MHD_OPTION_END);
    if (!w->mhd)
        return ug_fail(err, UG_ERR_OTHER, "the web server cannot listen (address in use?)");
    const union MHD_DaemonInfo *fd = MHD_get_daemon_info(w->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    const union MHD_DaemonInfo *port = MHD_get_daemon_info(w->mhd, MHD_DAEMON_INFO_BIND_PORT);
    if (!fd || !port)
        return ug_fail(err, UG_ERR_OTHER, "libmicrohttpd gives no epoll descriptor or port");
    w->epoll_fd = fd->epoll_fd;
    char host[INET6_ADDRSTRLEN + 2] = "";
    const void *a = ss->ss_family == AF_INET6
                        ? (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr
                        : (const void *)&((const struct sockaddr_in *)ss)->sin_addr;
    inet_ntop(ss->ss_family, a, host, sizeof host);
    snprintf(w->url, sizeof w->url, "%s://%s%s%s:%u", tls ? "https" : "http",
             ss->ss_family == AF_INET6 ? "[" : "", host, ss->ss_family == AF_INET6 ? "]" : "",
             (unsigned)port->port);
    return loop_watch(w->loop, w->epoll_fd, LOOP_IN, on_ready, w, err);
}

static ug_err secret(unsigned char *s, char *err)
{
    if (getrandom(s, AUTH_SECRET_LEN, 0) != AUTH_SECRET_LEN)
        return ug_fail(err, UG_ERR_OTHER, "no random bytes for the web server's secret");
    return UG_OK;
}

ug_err web_start(const struct web_config *c, struct web **out, char *err)
{
    struct web *w = calloc(1, sizeof *w);
    unsigned char key[AUTH_SECRET_LEN];
    struct sockaddr_storage ss = {0};
    int off = 0;
    *out = NULL;
    if (!w)
        return ug_oom(err);
    w->loop = c->loop;
    w->epoll_fd = -1;
    w->log = c->log ? c->log : &log_stderr;
    ug_err rc = secret(key, err);
    if (rc == UG_OK)
        rc = handler_open(c->root, c->engine, w->log, &c->hooks, key, &w->h, err);
    if (rc == UG_OK)
        rc = where(w, c, &ss, &off, err);
    const char *proto = rc == UG_OK && !off ? handler_param(w->h, "Web_Server_Protocol") : NULL;
    int tls = proto && strcmp(proto, "HTTPS") == 0;
    if (rc == UG_OK && !off && tls)
        rc = load_tls(w, err);
    if (rc == UG_OK && !off)
        rc = open_mhd(w, &ss, tls, err);
    if (rc != UG_OK || off) {
        web_stop(w);
        return rc;
    }
    log_msg(w->log, LOG_LEVEL_INFO, "web server listening on %s", w->url);
    pump(w);
    *out = w;
    return UG_OK;
}

void web_stop(struct web *w)
{
    char err[UG_ERRBUF];
    if (!w)
        return;
    if (w->epoll_fd >= 0)
        (void)!loop_watch(w->loop, w->epoll_fd, 0, NULL, NULL, err);
    if (w->loop)
        loop_timer_stop(w->loop, &w->timer);
    if (w->mhd)
        MHD_stop_daemon(w->mhd);
    handler_close(w->h);
    buf_free(&w->cert);
    buf_free(&w->key);
    free(w);
}

const char *web_url(const struct web *w)
{
    return w ? w->url : "";
}

void web_event(const char *events_path, const char *kind, const char *origin, ug_err rc,
               const char *text, const struct log_sink *log)
{
    char err[UG_ERRBUF];
    struct event e = {(int64_t)time(NULL), kind, origin, rc, text};
    if (events_record(events_path, &e, err) != UG_OK)
        log_msg(log, LOG_LEVEL_WARNING, "the log page's events: %s", err);
}
