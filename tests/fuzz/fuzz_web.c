/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the web server's request handler (web/handler.c and what it calls:
 * Digest parsing, URL commands and their rules, inline credentials, form bodies, the
 * configuration apply): any request must be answered with a status, never crash or leak.
 * Input: byte 0 picks the path, byte 1 the method; then lines: the raw query, the
 * Authorization header, Origin, Sec-Fetch-Site; the rest is the body. A device made as
 * `upgrader init` makes it lives in /dev/shm for the run; the secret is fixed (all zero
 * bytes) so a seed can carry a valid anti-CSRF token, and each input is a new client a
 * hundred seconds later, so one input's lockout never hides the next. */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/commands.h"
#include "web/handler.h"

static struct handler *h;

static void quiet(void *ctx, enum log_level level, const char *message)
{
    (void)ctx;
    (void)level;
    (void)message;
}
static const struct log_sink log_null = {quiet, NULL};

static ug_err queue_stub(void *ctx, enum job_kind kind, const char *rule, struct web_queued *q,
                         char *err)
{
    (void)ctx;
    (void)err;
    q->id = 1 + (unsigned)kind;
    q->running = rule && strlen(rule) % 2;
    snprintf(q->why, sizeof q->why, "queued");
    return UG_OK;
}

static char root[] = "/dev/shm/fuzz_web.XXXXXX";

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st, (void)flag, (void)f;
    return remove(path);
}

/* At exit: the device made for the run goes, so long runs leave nothing in /dev/shm. */
static void remove_device(void)
{
    handler_close(h);
    nftw(root, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[UG_ERRBUF], dev[64];
    unsigned char secret[AUTH_SECRET_LEN] = {0};
    (void)argc;
    (void)argv;
    if (!mkdtemp(root))
        abort();
    snprintf(dev, sizeof dev, "%s/dev", root);
    char *init[] = {"init", NULL};
    struct web_hooks hooks = {NULL, queue_stub, NULL};
    if (cmd_init(dev, 1, init, err) != UG_OK ||
        handler_open(dev, NULL, &log_null, &hooks, secret, &h, err) != UG_OK) {
        fprintf(stderr, "fuzz_web: %s\n", err);
        abort();
    }
    atexit(remove_device);
    return 0;
}

/* The next line of the input as a string (NULL when empty), moving *p past it. */
static char *line(const uint8_t **p, const uint8_t *end)
{
    const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
    size_t n = (size_t)((nl ? nl : end) - *p);
    char *s = n ? strndup((const char *)*p, n) : NULL;
    *p = nl ? nl + 1 : end;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const paths[] = {"/",
                                        "/config",
                                        "/log",
                                        "/progress.json",
                                        "/admin/",
                                        "/admin/status",
                                        "/admin/resync",
                                        "/admin/upgrade",
                                        "/admin/reboot",
                                        "/admin/factory-reset",
                                        "/static/app.js",
                                        "/nope"};
    static const char *const methods[] = {"GET", "POST", "HEAD", "PUT"};
    static int64_t now = 1800000000;
    static unsigned n;
    if (size < 2)
        return 0;
    const uint8_t *p = data + 2, *end = data + size;
    char *query = line(&p, end), *auth = line(&p, end), *origin = line(&p, end),
         *site = line(&p, end), uri[8192], client[32];
    const char *path = paths[data[0] % (sizeof paths / sizeof paths[0])];
    snprintf(uri, sizeof uri, "%s%s%s", path, query ? "?" : "", query ? query : "");
    snprintf(client, sizeof client, "10.0.%u.%u", (n >> 8) & 255, n & 255);
    n++;
    now += 100;
    struct web_request rq = {.method = methods[data[1] % 4],
                             .path = path,
                             .uri = uri,
                             .query = query,
                             .authorization = auth,
                             .origin = origin,
                             .sec_fetch_site = site,
                             .host = "phone",
                             .content_type = "application/x-www-form-urlencoded",
                             .body = (const char *)p,
                             .body_len = (size_t)(end - p),
                             .client = client,
                             .now = now};
    struct web_response rs;
    handler_handle(h, &rq, &rs);
    if (rs.status < 200 || rs.status > 599)
        abort();
    web_response_free(&rs);
    free(query);
    free(auth);
    free(origin);
    free(site);
    return 0;
}
