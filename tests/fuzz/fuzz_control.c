/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for what reaches the daemon from outside its process: the control
 * socket (control.c), driven over a real Unix socket on the real loop, and the framing of the
 * SIP user agent's messages (sip.c netstrings and listcalls answers).
 * Input: byte 0 holds flags (bit 0: send 64 KiB of blanks first, past the line limit); the
 * rest is sent as one client's bytes, then the client stops writing. The daemon side must
 * answer a whole line with exactly one JSON object carrying "rc" (0 for a JSON object, a
 * refusal otherwise) and say nothing to a client that left before a whole line. The same
 * bytes are then read as a stream of netstrings. */
#include <errno.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/jsonfile.h"
#include "daemon/control.h"
#include "daemon/loop.h"
#include "daemon/sip.h"
#include "fuzz_support.h"

#define PAD_BYTES (64 * 1024)

static struct loop *loop;
static struct control *listener;
static char sock_dir[] = "/tmp/fuzz-control-XXXXXX";
static char sock_path[sizeof((struct sockaddr_un *)0)->sun_path];

/* The daemon's side: reads the fields a job request carries, as daemon_requests.c does, and
 * answers at once, echoing the command. */
static void on_request(void *ctx, struct control_conn *conn, json_object *req)
{
    (void)ctx;
    json_object *r = json_object_new_object();
    json_object_object_add(r, "rc", json_object_new_int(0));
    jsonfile_set_string(r, "cmd", jsonfile_get_string(req, "cmd", ""));
    jsonfile_set_string(r, "rule", jsonfile_get_string(req, "rule", NULL));
    /* Unsigned: the request's numbers may be anything. */
    unsigned long long sum = (unsigned long long)jsonfile_get_int(req, "force", 0) +
                             (unsigned long long)jsonfile_get_int(req, "no_reboot", 0) +
                             (unsigned long long)jsonfile_get_int(req, "timeout_ms", 0);
    json_object_object_add(r, "n", json_object_new_uint64(sum));
    control_reply(conn, r);
}

struct client {
    int fd;
    struct buf reply;
};

/* The client's end: collects the reply until the daemon closes. */
static void client_read(void *ctx, int fd, unsigned events)
{
    struct client *c = ctx;
    char chunk[4096];
    (void)events;
    ssize_t n = recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n > 0) {
        if (buf_append(&c->reply, chunk, (size_t)n) != 0)
            abort();
        return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    char ignored[UG_ERRBUF];
    (void)!loop_watch(loop, fd, 0, NULL, NULL, ignored);
    loop_stop(loop);
}

/* At exit: the socket file and its folder go (control_close removes the file). */
static void stop(void)
{
    control_close(listener);
    loop_free(loop);
    rmdir(sock_dir);
}

static void start(void)
{
    char err[UG_ERRBUF];
    if (!mkdtemp(sock_dir) || loop_new(&loop, err) != UG_OK)
        abort();
    snprintf(sock_path, sizeof sock_path, "%s/control.sock", sock_dir);
    if (control_listen(loop, sock_path, on_request, NULL, &listener, err) != UG_OK)
        abort();
    atexit(stop);
}

static int send_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return -1;
        p += n, len -= (size_t)n;
    }
    return 0;
}

/* What the daemon must have said to a client that sent sent[0..len) (after the blanks when
 * padded): nothing when no whole line came; else one line, a JSON object with "rc", which is
 * 0 when the line was a JSON object within the limit (handed to the daemon). */
static void check_reply(const uint8_t *sent, size_t len, int padded, const struct buf *reply)
{
    const uint8_t *nl = memchr(sent, '\n', len);
    int expect = padded ? len > 0 : nl != NULL; /* padded: any byte goes past the limit */
    if (!expect) {
        if (reply->len != 0)
            abort();
        return;
    }
    if (reply->len == 0 || reply->data[reply->len - 1] != '\n' ||
        memchr(reply->data, '\n', reply->len) != reply->data + reply->len - 1)
        abort(); /* exactly one line */
    char *text = fuzz_text((const uint8_t *)reply->data, reply->len);
    json_object *r = text ? json_tokener_parse(text) : NULL, *rc;
    if (!r || !json_object_is_type(r, json_type_object) || !json_object_object_get_ex(r, "rc", &rc))
        abort();
    if (!padded) {
        char *line = fuzz_text(sent, (size_t)(nl - sent));
        json_object *req = line ? json_tokener_parse(line) : NULL;
        if (req && json_object_is_type(req, json_type_object) && json_object_get_int(rc) != 0)
            abort();
        json_object_put(req);
        free(line);
    }
    json_object_put(r);
    free(text);
}

static void control_case(const uint8_t *data, size_t size, int padded)
{
    struct client c = {.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    char err[UG_ERRBUF];
    memcpy(a.sun_path, sock_path, sizeof a.sun_path);
    int rc = c.fd < 0 ? -1 : connect(c.fd, (struct sockaddr *)&a, sizeof a);
    while (rc != 0 && c.fd >= 0 && (errno == EINTR || errno == EAGAIN)) /* a signal, a full queue */
        rc = connect(c.fd, (struct sockaddr *)&a, sizeof a);
    if (rc != 0) { /* the harness's own socket: say why, it is not the input's doing */
        fprintf(stderr, "fuzz_control: cannot connect to %s: %s\n", sock_path, strerror(errno));
        abort();
    }
    /* The socket's buffer holds these (< 200 KiB) before the loop reads: no deadlock. */
    int big = 512 * 1024;
    (void)setsockopt(c.fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    if (padded) {
        static char blanks[PAD_BYTES];
        memset(blanks, ' ', sizeof blanks);
        (void)send_all(c.fd, blanks, sizeof blanks);
    }
    (void)send_all(c.fd, data, size); /* the daemon may refuse and close early */
    shutdown(c.fd, SHUT_WR);
    if (loop_watch(loop, c.fd, LOOP_IN, client_read, &c, err) != UG_OK ||
        loop_run(loop, err) != UG_OK)
        abort();
    check_reply(data, size, padded, &c.reply);
    buf_free(&c.reply);
    close(c.fd);
}

/* The same bytes as baresip's stream: each netstring lies within the input. */
static void sip_case(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    size_t left = size;
    const char *payload;
    size_t plen, used;
    while (left > 0 && sip_netstring(p, left, &payload, &plen, &used) == 1) {
        if (used == 0 || used > left || payload < p || payload + plen > p + used ||
            plen > SIP_MAX_MESSAGE)
            abort();
        char *text = fuzz_text((const uint8_t *)payload, plen);
        if (text && sip_listcalls_count(text) < -1)
            abort();
        free(text);
        p += used, left -= used;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (!loop)
        start();
    control_case(data + 1, size - 1, data[0] & 1);
    sip_case(data + 1, size - 1);
    return 0;
}
