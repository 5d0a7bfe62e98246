/* SPDX-License-Identifier: MIT */
/* Unit tests of the control socket (control.c): a request and its reply, a reply given
 * later (as when a queued job ends), a line that is not JSON, a folder with no daemon, the
 * socket's mode. The client runs on a thread, the server on the test's loop. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/jsonfile.h"
#include "daemon/control.h"

static char dir[32], sock[96];

struct server {
    struct loop *l;
    struct control_conn *later;
    struct loop_timer t;
    int requests;
};

struct client {
    const char *text; /* sent raw when set, else {"cmd": cmd} through control_call */
    const char *cmd;
    ug_err rc;
    int running;
    json_object *reply;
    char raw[512];
};

static void reply_later(void *ctx)
{
    struct server *s = ctx;
    json_object *r = json_object_new_object();
    jsonfile_set_string(r, "said", "later");
    control_reply(s->later, r);
}

static void on_request(void *ctx, struct control_conn *conn, json_object *req)
{
    struct server *s = ctx;
    s->requests++;
    const char *cmd = jsonfile_get_string(req, "cmd", "");
    if (strcmp(cmd, "wait") == 0) {
        s->later = conn;
        loop_timer_set(s->l, &s->t, loop_now_ms() + 50, reply_later, s);
        return;
    }
    json_object *r = json_object_new_object();
    jsonfile_set_string(r, "echo", cmd);
    control_reply(conn, r);
}

static void *client_main(void *arg)
{
    struct client *c = arg;
    char err[UG_ERRBUF];
    if (c->text) {
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        snprintf(a.sun_path, sizeof a.sun_path, "%s", sock);
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
            write(fd, c->text, strlen(c->text)) == (ssize_t)strlen(c->text)) {
            ssize_t n = read(fd, c->raw, sizeof c->raw - 1);
            c->raw[n > 0 ? n : 0] = '\0';
        }
        close(fd);
        return NULL;
    }
    json_object *req = json_object_new_object();
    jsonfile_set_string(req, "cmd", c->cmd);
    c->rc = control_call(sock, req, 5000, &c->running, &c->reply, err);
    json_object_put(req);
    return NULL;
}

static void stop_loop(void *ctx)
{
    loop_stop(ctx);
}

/* Runs the clients on threads while the loop serves them, for at most a second. */
static void serve(struct server *s, struct client *c, int n)
{
    pthread_t th[4];
    char err[UG_ERRBUF];
    struct loop_timer stop = {0};
    for (int i = 0; i < n; i++)
        assert_int_equal(pthread_create(&th[i], NULL, client_main, &c[i]), 0);
    loop_timer_set(s->l, &stop, loop_now_ms() + 600, stop_loop, s->l);
    assert_int_equal(loop_run(s->l, err), UG_OK);
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
}

static void test_requests(void **state)
{
    (void)state;
    char err[UG_ERRBUF];
    snprintf(dir, sizeof dir, "/tmp/control-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(sock, sizeof sock, "%s/control.sock", dir);
    /* No daemon: the caller acts alone. */
    struct client none = {.cmd = "status"};
    client_main(&none);
    assert_int_equal(none.rc, UG_OK);
    assert_int_equal(none.running, 0);

    struct server s = {0};
    struct control *c;
    assert_int_equal(loop_new(&s.l, err), UG_OK);
    assert_int_equal(control_listen(s.l, sock, on_request, &s, &c, err), UG_OK);
    struct stat st;
    assert_int_equal(stat(sock, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    struct client cl[3] = {{.cmd = "status"}, {.cmd = "wait"}, {.text = "this is not json\n"}};
    serve(&s, cl, 3);
    assert_int_equal(cl[0].running, 1);
    assert_string_equal(jsonfile_get_string(cl[0].reply, "echo", ""), "status");
    assert_string_equal(jsonfile_get_string(cl[1].reply, "said", ""), "later");
    assert_non_null(strstr(cl[2].raw, "one JSON object"));
    assert_int_equal(s.requests, 2);
    json_object_put(cl[0].reply);
    json_object_put(cl[1].reply);
    control_close(c);
    assert_int_equal(stat(sock, &st), -1); /* removed at the end */
    loop_free(s.l);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_requests)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
