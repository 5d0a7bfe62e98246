/* SPDX-License-Identifier: MIT */
/* The web server's requests, apart from HTTP's transport: who asks (Digest, inline
 * credentials, the open factory-fresh case, the lockout), what they may do, and the answer
 * (a page, a document, a queued job). The transport (web.c) and the fuzz harness feed it
 * the same way; it runs on one thread (the daemon's loop) and never waits for the network. */
#ifndef UPGRADER_WEB_HANDLER_H
#define UPGRADER_WEB_HANDLER_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/log.h"
#include "daemon/jobs.h"
#include "net/fetch.h"
#include "web/auth.h"

#define WEB_BODY_MAX (32 * 1024) /* a longer request body is refused (413) */

/* One request as the client sent it; NULL for an absent header. */
struct web_request {
    const char *method; /* "GET", "HEAD", "POST", ... */
    const char *path;   /* decoded, without the query */
    const char *uri;    /* path and query exactly as sent (Digest signs it) */
    const char *query;  /* raw, after '?'; NULL when none */
    const char *authorization, *origin, *sec_fetch_site, *host, *content_type;
    const char *body;
    size_t body_len;
    const char *client; /* the peer's address, whom the lockout counts */
    int64_t now;        /* Unix time */
};

struct web_response {
    unsigned status;
    const char *type;
    struct buf body;
    const unsigned char *data; /* a static file, served as is (not copied), or NULL */
    size_t data_len;
    char challenge[2][AUTH_CHALLENGE_MAX]; /* WWW-Authenticate values (SHA-256, MD5) */
    int challenges;
    long retry_after;  /* seconds, 0: none */
    const char *allow; /* 405: the methods allowed */
};

/* What a queued URL command became. */
struct web_queued {
    unsigned id;
    int running; /* the same job runs already (nothing new was queued) */
    char why[256];
};

/* What the daemon lends the web server; both run on the loop's thread. */
struct web_hooks {
    /* The daemon's part of the status document ("daemon"), a new reference, or NULL. */
    json_object *(*daemon_status)(void *ctx);
    /* Queues kind (with rule, NULL: none) as a job asked by "web". */
    ug_err (*queue)(void *ctx, enum job_kind kind, const char *rule, struct web_queued *q,
                    char *err);
    void *ctx;
};

struct handler;

/* Opens the device of root for the server (engine borrowed; NULL: its own), with the secret
 * of its nonces and tokens (AUTH_SECRET_LEN bytes). */
ug_err handler_open(const char *root, struct fetch_engine *engine, const struct log_sink *log,
                    const struct web_hooks *hooks, const unsigned char *secret,
                    struct handler **out, char *err) UG_MUST_CHECK;
/* Frees the handler. */
void handler_close(struct handler *h);
/* Answers rq into rs (free it with web_response_free). */
void handler_handle(struct handler *h, const struct web_request *rq, struct web_response *rs);
/* Frees the response's body. */
void web_response_free(struct web_response *rs);
/* 1 when the parameters allow the admin account on the web (Enable_Web_Admin_Access). */
int handler_admin_allowed(struct handler *h);
/* The parameter value name of the handler's store (for the server's own settings). */
const char *handler_param(struct handler *h, const char *name);
/* The device's TLS identity (certificate and key paths) or NULL when it has none. */
void handler_tls_files(struct handler *h, const char **cert, const char **key);

#endif
