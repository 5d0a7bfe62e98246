/* SPDX-License-Identifier: MIT */
/* The baresip ctrl_tcp client, on the daemon's loop: a non-blocking connection, netstrings
 * parsed as they come, reconnects on the loop's timers with a backoff. */
#include "daemon/sip.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/jsonfile.h"

enum sip_state {
    SIP_OFF,
    SIP_CONNECTING,
    SIP_CONNECTED, /* and asked listcalls */
    SIP_LOST,
};

static const char *const state_names[] = {"off", "connecting", "connected", "lost"};

struct sip {
    struct loop *l;
    const struct log_sink *log;
    sip_change_fn fn;
    void *ctx;
    int enabled;
    char address[256];
    enum sip_state state;
    int fd;
    int known;   /* a listcalls answer came since the connection was made */
    int calls;   /* calls up, by the last answer (and the events since) */
    int busy;    /* what fn was last told */
    int backoff; /* ms */
    unsigned token;
    int asked;        /* a listcalls is on its way */
    int64_t answered; /* loop_now_ms() of the last listcalls answer */
    struct buf in;
    struct loop_timer retry;
};

int sip_netstring(const char *data, size_t len, const char **payload, size_t *plen, size_t *used)
{
    size_t i = 0, n = 0;
    while (i < len && isdigit((unsigned char)data[i])) {
        n = n * 10 + (size_t)(data[i] - '0');
        if (++i > 7 || n > SIP_MAX_MESSAGE)
            return -1;
    }
    if (i == len)
        return 0;
    if (i == 0 || data[i] != ':')
        return -1;
    if (len < i + 1 + n + 1)
        return 0;
    if (data[i + 1 + n] != ',')
        return -1;
    *payload = data + i + 1;
    *plen = n;
    *used = i + 1 + n + 1;
    return 1;
}

int sip_listcalls_count(const char *text)
{
    const char *p = text ? strstr(text, "Active calls (") : NULL;
    if (!p)
        return -1;
    char *end = NULL;
    long n = strtol(p + 14, &end, 10);
    return end && *end == ')' && n >= 0 && n < 100000 ? (int)n : -1;
}

int sip_busy(const struct sip *s)
{
    if (!s->enabled)
        return 0;
    return !s->known || s->calls > 0;
}

static void tell(struct sip *s)
{
    int busy = sip_busy(s);
    if (busy != s->busy) {
        s->busy = busy;
        s->fn(s->ctx);
    }
}

static void start_connect(void *ctx);
static void ask(struct sip *s);

static void disconnect(struct sip *s)
{
    char ignored[UG_ERRBUF];
    if (s->fd >= 0) {
        (void)!loop_watch(s->l, s->fd, 0, NULL, NULL, ignored);
        close(s->fd);
    }
    s->fd = -1;
    s->known = 0;
    s->asked = 0;
    s->in.len = 0;
}

/* The connection is gone: busy until an answer says otherwise, reconnect after the backoff. */
static void lost(struct sip *s, const char *why)
{
    if (s->state == SIP_CONNECTED)
        log_msg(s->log, LOG_LEVEL_WARNING,
                "SIP user agent %s: %s; counted busy until it answers again", s->address, why);
    disconnect(s);
    s->state = SIP_LOST;
    loop_timer_set(s->l, &s->retry, loop_now_ms() + s->backoff, start_connect, s);
    s->backoff = s->backoff * 2 > SIP_BACKOFF_MAX_MS ? SIP_BACKOFF_MAX_MS : s->backoff * 2;
    tell(s);
}

static int send_command(struct sip *s, const char *command)
{
    char json[128], line[160];
    snprintf(json, sizeof json, "{\"command\":\"%s\",\"token\":\"upgrader-%u\"}", command,
             ++s->token);
    int n = snprintf(line, sizeof line, "%zu:%s,", strlen(json), json);
    /* A few dozen bytes into an idle socket's buffer: it does not block. */
    return send(s->fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) == n ? 0 : -1;
}

/* Any call event (baresip 1.0.0 with answermode=auto sends CALL_REMOTE_SDP, of class
 * "other", rather than CALL_INCOMING): a call may have begun or ended, so the count is asked
 * again; the start of one counts busy at once, before the answer. */
static void on_event(struct sip *s, json_object *m)
{
    const char *type = jsonfile_get_string(m, "type", "");
    if (strncmp(type, "CALL_", 5) != 0 || strcmp(type, "CALL_RTCP") == 0)
        return;
    static const char *const starts[] = {"CALL_INCOMING",   "CALL_OUTGOING",    "CALL_RINGING",
                                         "CALL_PROGRESS",   "CALL_ESTABLISHED", "CALL_ANSWERED",
                                         "CALL_REMOTE_SDP", "CALL_LOCAL_SDP"};
    for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++)
        if (strcmp(type, starts[i]) == 0 && s->calls == 0)
            s->calls = 1;
    if (strcmp(type, "CALL_CLOSED") == 0 || strcmp(type, "CALL_ESTABLISHED") == 0 ||
        strcmp(type, "CALL_INCOMING") == 0)
        log_msg(s->log, LOG_LEVEL_INFO, "SIP user agent: %s", type);
    ask(s);
}

/* Asks for the calls unless an answer is awaited already. */
static void ask(struct sip *s)
{
    if (s->asked)
        return;
    if (send_command(s, "listcalls") != 0)
        return lost(s, "cannot ask for the calls");
    s->asked = 1;
}

int sip_confirm_idle(struct sip *s)
{
    if (!s->enabled)
        return 1;
    if (s->state == SIP_CONNECTED && s->known && !s->calls &&
        loop_now_ms() - s->answered <= SIP_FRESH_MS)
        return 1;
    if (s->state == SIP_CONNECTED)
        ask(s);
    return 0;
}

static void on_message(struct sip *s, const char *payload, size_t len)
{
    char *text = strndup(payload, len);
    json_object *m = text ? json_tokener_parse(text) : NULL;
    free(text);
    if (!m)
        return;
    json_object *v = NULL;
    if (json_object_object_get_ex(m, "event", &v) && json_object_get_boolean(v)) {
        on_event(s, m);
    } else if (json_object_object_get_ex(m, "response", &v) && json_object_get_boolean(v)) {
        int n = sip_listcalls_count(jsonfile_get_string(m, "data", NULL));
        s->asked = 0;
        if (n >= 0) {
            s->calls = n;
            s->known = 1;
            s->answered = loop_now_ms();
            s->backoff = SIP_BACKOFF_FIRST_MS; /* a working connection resets the backoff */
            json_object_put(m);
            s->busy = sip_busy(s);
            s->fn(s->ctx); /* a fresh answer: a job waiting for its confirmation may go */
            return;
        }
    }
    json_object_put(m);
    tell(s);
}

static void on_readable(void *ctx, int fd, unsigned events)
{
    struct sip *s = ctx;
    char chunk[4096];
    (void)events;
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0)
        return lost(s, n == 0 ? "connection closed" : strerror(errno));
    if (buf_append(&s->in, chunk, (size_t)n) != 0)
        return lost(s, "out of memory");
    size_t off = 0, used, plen;
    const char *payload;
    int r;
    while ((r = sip_netstring(s->in.data + off, s->in.len - off, &payload, &plen, &used)) == 1) {
        on_message(s, payload, plen);
        if (s->fd != fd)
            return; /* lost meanwhile */
        off += used;
    }
    if (r < 0)
        return lost(s, "not a ctrl_tcp stream");
    memmove(s->in.data, s->in.data + off, s->in.len - off);
    s->in.len -= off;
}

static void on_connected(void *ctx, int fd, unsigned events)
{
    struct sip *s = ctx;
    int e = 0;
    socklen_t elen = sizeof e;
    char err[UG_ERRBUF];
    (void)events;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) != 0 || e)
        return lost(s, strerror(e ? e : errno));
    s->state = SIP_CONNECTED;
    log_msg(s->log, LOG_LEVEL_INFO, "SIP user agent %s: connected; asking for its calls",
            s->address);
    if (loop_watch(s->l, fd, LOOP_IN, on_readable, s, err) != UG_OK)
        return lost(s, "cannot watch the connection");
    ask(s);
}

static int open_socket(const char *address)
{
    char host[256];
    const char *colon = strrchr(address, ':');
    if (!colon || colon == address || (size_t)(colon - address) >= sizeof host)
        return -1;
    snprintf(host, sizeof host, "%.*s", (int)(colon - address), address);
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
        return -1;
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0 && errno != EINPROGRESS) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static void start_connect(void *ctx)
{
    struct sip *s = ctx;
    char err[UG_ERRBUF];
    disconnect(s);
    s->state = SIP_CONNECTING;
    if ((s->fd = open_socket(s->address)) < 0)
        return lost(s, "cannot connect");
    if (loop_watch(s->l, s->fd, LOOP_OUT, on_connected, s, err) != UG_OK)
        lost(s, err);
}

void sip_configure(struct sip *s, int enabled, const char *address)
{
    if (s->enabled == enabled && strcmp(s->address, address ? address : "") == 0)
        return;
    loop_timer_stop(s->l, &s->retry);
    disconnect(s);
    s->enabled = enabled;
    snprintf(s->address, sizeof s->address, "%s", address ? address : "");
    s->calls = 0;
    s->backoff = SIP_BACKOFF_FIRST_MS;
    s->state = SIP_OFF;
    if (enabled)
        start_connect(s);
    tell(s);
}

ug_err sip_new(struct loop *l, const struct log_sink *log, sip_change_fn fn, void *ctx,
               struct sip **out, char *err)
{
    struct sip *s = calloc(1, sizeof *s);
    if (!s)
        return ug_oom(err);
    s->l = l, s->log = log, s->fn = fn, s->ctx = ctx;
    s->fd = -1;
    *out = s;
    return UG_OK;
}

void sip_free(struct sip *s)
{
    if (!s)
        return;
    loop_timer_stop(s->l, &s->retry);
    disconnect(s);
    buf_free(&s->in);
    free(s);
}

json_object *sip_to_json(const struct sip *s)
{
    json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    jsonfile_set_string(o, "state", state_names[s->state]);
    jsonfile_set_string(o, "address", s->address);
    jsonfile_set_int(o, "calls", s->known ? s->calls : -1);
    json_object_object_add(o, "busy", json_object_new_boolean(sip_busy(s)));
    return o;
}
