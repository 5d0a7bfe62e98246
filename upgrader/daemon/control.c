/* SPDX-License-Identifier: MIT */
/* The control socket, both sides. Connections never block the loop: reads and writes are
 * non-blocking and resumed when the socket is ready; a client that sends too much, or
 * nothing that parses, gets a one-line refusal. */
#include "daemon/control.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/buf.h"

struct control_conn {
    struct control *c;
    int fd;
    struct buf in;
    char *out; /* the reply being written */
    size_t out_len, out_pos;
    int handed; /* the request went to the handler: it owns the connection */
    struct control_conn *next;
};

struct control {
    struct loop *l;
    int fd;
    char *path;
    control_request_fn fn;
    void *ctx;
    struct control_conn *conns;
};

/* A socket address for path; a path too long for sun_path goes through /proc/self/fd of
 * its folder (*dirfd then holds that folder open until the caller closes it). */
static int make_addr(const char *path, struct sockaddr_un *a, int *dirfd)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    *dirfd = -1;
    if (strlen(path) < sizeof a->sun_path) {
        memcpy(a->sun_path, path, strlen(path) + 1);
        return 0;
    }
    const char *slash = strrchr(path, '/');
    if (!slash)
        return -1;
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    if ((*dirfd = open(dir[0] ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
        return -1;
    int n = snprintf(a->sun_path, sizeof a->sun_path, "/proc/self/fd/%d/%s", *dirfd, slash + 1);
    return n > 0 && (size_t)n < sizeof a->sun_path ? 0 : -1;
}

static void conn_free(struct control_conn *k)
{
    struct control *c = k->c;
    for (struct control_conn **p = &c->conns; *p; p = &(*p)->next) {
        if (*p == k) {
            *p = k->next;
            break;
        }
    }
    char ignored[UG_ERRBUF];
    (void)!loop_watch(c->l, k->fd, 0, NULL, NULL, ignored);
    close(k->fd);
    buf_free(&k->in);
    free(k->out);
    free(k);
}

/* Writes what it can of the reply; the connection ends once all of it is out (or the
 * client is gone). */
static void conn_write(void *ctx, int fd, unsigned events)
{
    struct control_conn *k = ctx;
    (void)events;
    while (k->out_pos < k->out_len) {
        ssize_t n = send(fd, k->out + k->out_pos, k->out_len - k->out_pos, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0)
            break;
        k->out_pos += (size_t)n;
    }
    conn_free(k);
}

void control_reply(struct control_conn *k, json_object *reply)
{
    const char *text = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN);
    size_t len = strlen(text);
    k->out = malloc(len + 1);
    if (k->out) {
        memcpy(k->out, text, len);
        k->out[len] = '\n';
        k->out_len = len + 1;
    }
    json_object_put(reply);
    char ignored[UG_ERRBUF];
    if (!k->out || loop_watch(k->c->l, k->fd, LOOP_OUT, conn_write, k, ignored) != UG_OK)
        conn_free(k);
}

static void refuse(struct control_conn *k, const char *why)
{
    json_object *r = json_object_new_object();
    json_object_object_add(r, "rc", json_object_new_int(UG_ERR_USAGE));
    json_object_object_add(r, "error", json_object_new_string(why));
    k->handed = 1;
    control_reply(k, r);
}

/* A whole line arrived: parse it and hand it over. */
static void conn_request(struct control_conn *k, size_t line_len)
{
    char ignored[UG_ERRBUF];
    (void)!loop_watch(k->c->l, k->fd, 0, NULL, NULL, ignored); /* nothing more is read */
    k->in.data[line_len] = '\0';
    json_object *req = json_tokener_parse(k->in.data);
    if (!req || !json_object_is_type(req, json_type_object)) {
        json_object_put(req);
        refuse(k, "control: a request is one JSON object on one line");
        return;
    }
    k->handed = 1;
    k->c->fn(k->c->ctx, k, req);
    json_object_put(req);
}

static void conn_read(void *ctx, int fd, unsigned events)
{
    struct control_conn *k = ctx;
    char chunk[4096];
    (void)events;
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        conn_free(k); /* gone before a whole request */
        return;
    }
    if (k->in.len + (size_t)n > CONTROL_LINE_MAX || buf_append(&k->in, chunk, (size_t)n) != 0) {
        refuse(k, "control: request too long");
        return;
    }
    char *nl = memchr(k->in.data, '\n', k->in.len);
    if (nl)
        conn_request(k, (size_t)(nl - k->in.data));
}

static void on_accept(void *ctx, int fd, unsigned events)
{
    struct control *c = ctx;
    (void)events;
    int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (cfd < 0)
        return;
    struct control_conn *k = calloc(1, sizeof *k);
    char ignored[UG_ERRBUF];
    if (!k) {
        close(cfd);
        return;
    }
    k->c = c;
    k->fd = cfd;
    k->next = c->conns;
    c->conns = k;
    if (loop_watch(c->l, cfd, LOOP_IN, conn_read, k, ignored) != UG_OK)
        conn_free(k);
}

ug_err control_listen(struct loop *l, const char *path, control_request_fn fn, void *ctx,
                      struct control **out, char *err)
{
    struct sockaddr_un a;
    int dirfd = -1;
    struct control *c = calloc(1, sizeof *c);
    if (!c || !(c->path = strdup(path))) {
        free(c);
        return ug_oom(err);
    }
    c->l = l, c->fn = fn, c->ctx = ctx;
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ug_err rc = UG_OK;
    /* The daemon's lock is held: a socket file left here is a dead daemon's. */
    if (c->fd < 0 || make_addr(path, &a, &dirfd) != 0 || (unlink(path) != 0 && errno != ENOENT))
        rc = ug_fail(err, UG_ERR_OTHER, "%s: cannot make the control socket: %s", path,
                     strerror(errno));
    mode_t old = umask(0177); /* created 0600: only the device's own user may ask */
    if (rc == UG_OK &&
        (bind(c->fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(c->fd, 16) != 0))
        rc = ug_fail(err, UG_ERR_OTHER, "%s: cannot listen: %s", path, strerror(errno));
    umask(old);
    if (dirfd >= 0)
        close(dirfd);
    if (rc == UG_OK)
        rc = loop_watch(l, c->fd, LOOP_IN, on_accept, c, err);
    if (rc != UG_OK) {
        control_close(c);
        return rc;
    }
    *out = c;
    return UG_OK;
}

void control_close(struct control *c)
{
    if (!c)
        return;
    while (c->conns)
        conn_free(c->conns);
    if (c->fd >= 0) {
        char ignored[UG_ERRBUF];
        (void)!loop_watch(c->l, c->fd, 0, NULL, NULL, ignored);
        close(c->fd);
        unlink(c->path);
    }
    free(c->path);
    free(c);
}

/* ---- client */

static ug_err send_all(int fd, const char *data, size_t len, const char *path, char *err)
{
    while (len) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return ug_fail(err, UG_ERR_OTHER, "%s: cannot send to the daemon: %s", path,
                           strerror(errno));
        data += n;
        len -= (size_t)n;
    }
    return UG_OK;
}

static ug_err read_reply(int fd, int timeout_ms, const char *path, struct buf *in, char *err)
{
    char chunk[4096];
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        int ready = poll(&p, 1, timeout_ms);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready == 0)
            return ug_fail(err, UG_ERR_OTHER, "%s: the daemon did not answer in time", path);
        ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return ug_fail(err, UG_ERR_OTHER, "%s: the daemon closed without an answer", path);
        if (in->len + (size_t)n > CONTROL_LINE_MAX || buf_append(in, chunk, (size_t)n) != 0)
            return ug_fail(err, UG_ERR_OTHER, "%s: the daemon's answer is too long", path);
        if (memchr(in->data, '\n', in->len))
            return UG_OK;
    }
}

ug_err control_call(const char *path, json_object *req, int timeout_ms, int *running,
                    json_object **reply, char *err)
{
    struct sockaddr_un a;
    int dirfd = -1;
    *running = 0;
    *reply = NULL;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || make_addr(path, &a, &dirfd) != 0) {
        if (fd >= 0)
            close(fd);
        return UG_OK; /* no way to reach one: act alone */
    }
    int connected = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (dirfd >= 0)
        close(dirfd);
    if (!connected) {
        close(fd);
        return UG_OK; /* ENOENT, ECONNREFUSED: no daemon */
    }
    *running = 1;
    struct buf line = {0}, in = {0};
    ug_err rc =
        buf_printf(&line, "%s\n", json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN))
            ? ug_oom(err)
            : send_all(fd, line.data, line.len, path, err);
    if (rc == UG_OK && (rc = read_reply(fd, timeout_ms, path, &in, err)) == UG_OK) {
        char *nl = memchr(in.data, '\n', in.len);
        *nl = '\0';
        if (!(*reply = json_tokener_parse(in.data)))
            rc = ug_fail(err, UG_ERR_OTHER, "%s: the daemon's answer is not JSON", path);
    }
    buf_free(&line);
    buf_free(&in);
    close(fd);
    return rc;
}
