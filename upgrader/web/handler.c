/* SPDX-License-Identifier: MIT */
/* Who asks, what they may do, and the answer. The parameters are read again when their file
 * changed; the status document is built at most every STATUS_TTL_MS (and again at once after
 * a change made here), so a crowd of pollers costs the loop little. */
#include "web/handler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/jsonfile.h"
#include "daemon/devstatus.h"
#include "session/session.h"
#include "web/assets.h"
#include "web/events.h"
#include "web/form.h"
#include "web/pages.h"
#include "web/routes.h"

#define STATUS_TTL_MS 200
#define RELOAD_MAX_MS 1000 /* the boot state is read again at least this often */

struct handler {
    struct session s;
    struct auth auth;
    struct web_hooks hooks;
    const struct log_sink *log;
    char token[2][33]; /* anti-CSRF token per account (admin, user) */
    struct stat params_seen;
    int64_t reloaded_ms;
    json_object *status; /* the cached status document */
    int64_t status_ms;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

ug_err handler_open(const char *root, struct fetch_engine *engine, const struct log_sink *log,
                    const struct web_hooks *hooks, const unsigned char *secret,
                    struct handler **out, char *err)
{
    struct handler *h = calloc(1, sizeof *h);
    if (!h)
        return ug_oom(err);
    struct session_options so = {.log = log, .engine = engine};
    ug_err rc = session_open(root, &so, &h->s, err);
    if (rc != UG_OK) {
        free(h);
        return rc;
    }
    h->log = log ? log : &log_stderr;
    if (hooks)
        h->hooks = *hooks;
    auth_init(&h->auth, secret);
    auth_token(&h->auth, "admin", h->token[PARAM_ROLE_ADMIN]);
    auth_token(&h->auth, "user", h->token[PARAM_ROLE_USER]);
    stat(session_path(&h->s, STATE_PARAMS), &h->params_seen);
    h->reloaded_ms = mono_ms();
    *out = h;
    return UG_OK;
}

void handler_close(struct handler *h)
{
    if (!h)
        return;
    json_object_put(h->status);
    session_close(&h->s);
    free(h);
}

void web_response_free(struct web_response *rs)
{
    buf_free(&rs->body);
}

const char *handler_param(struct handler *h, const char *name)
{
    return params_value(&h->s.params, name);
}

static int param_yes(struct handler *h, const char *name)
{
    const char *v = handler_param(h, name);
    return v && paramdefs_parse_bool(v) == 1;
}

int handler_admin_allowed(struct handler *h)
{
    return param_yes(h, "Enable_Web_Admin_Access");
}

void handler_tls_files(struct handler *h, const char **cert, const char **key)
{
    *cert = h->s.client_cert;
    *key = h->s.client_key;
}

static void invalidate(struct handler *h)
{
    json_object_put(h->status);
    h->status = NULL;
}

/* The store read again when its file was replaced (every change replaces it whole). */
static void refresh(struct handler *h)
{
    struct stat st;
    char err[UG_ERRBUF];
    int64_t now = mono_ms();
    int changed = stat(session_path(&h->s, STATE_PARAMS), &st) == 0 &&
                  (st.st_ino != h->params_seen.st_ino || st.st_size != h->params_seen.st_size ||
                   st.st_mtim.tv_sec != h->params_seen.st_mtim.tv_sec ||
                   st.st_mtim.tv_nsec != h->params_seen.st_mtim.tv_nsec);
    if (!changed && now - h->reloaded_ms < RELOAD_MAX_MS)
        return;
    if (session_reload(&h->s, err) != UG_OK) {
        log_msg(h->log, LOG_LEVEL_WARNING, "web: parameters not re-read: %s", err);
        return;
    }
    h->params_seen = st;
    h->reloaded_ms = now;
    if (changed)
        invalidate(h);
}

/* The status document (devstatus + "daemon"), borrowed; NULL when it cannot be built. */
static json_object *status_doc(struct handler *h)
{
    int64_t now = mono_ms();
    if (h->status && now - h->status_ms < STATUS_TTL_MS)
        return h->status;
    char err[UG_ERRBUF];
    json_object *o = NULL;
    /* The boot state read afresh with upgrade.json, so the slots and the upgrade agree. */
    if (session_reload(&h->s, err) != UG_OK)
        log_msg(h->log, LOG_LEVEL_WARNING, "web: parameters not re-read: %s", err);
    if (devstatus_build(&h->s, &o, err) != UG_OK) {
        log_msg(h->log, LOG_LEVEL_WARNING, "web: status: %s", err);
        return h->status; /* the last one, if any */
    }
    json_object_object_add(o, "daemon",
                           h->hooks.daemon_status ? h->hooks.daemon_status(h->hooks.ctx) : NULL);
    invalidate(h);
    h->status = o;
    h->status_ms = now;
    return o;
}

/* ---- answers */

static void text(struct web_response *rs, unsigned status, const char *msg)
{
    rs->status = status;
    rs->type = "text/plain; charset=utf-8";
    buf_reset(&rs->body);
    buf_printf(&rs->body, "%s\n", msg);
}

static void json(struct web_response *rs, unsigned status, json_object *o)
{
    rs->status = status;
    rs->type = "application/json";
    buf_reset(&rs->body);
    buf_printf(&rs->body, "%s\n",
               json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                     JSON_C_TO_STRING_NOSLASHESCAPE));
}

static void json_error(struct web_response *rs, unsigned status, const char *msg)
{
    json_object *o = json_object_new_object();
    jsonfile_set_string(o, "error", msg);
    json(rs, status, o);
    json_object_put(o);
}

static void challenge(struct handler *h, const struct web_request *rq, struct web_response *rs,
                      int stale, const char *msg)
{
    text(rs, 401, msg);
    auth_challenge(&h->auth, AUTH_SHA256, rq->now, stale, rs->challenge[0], AUTH_CHALLENGE_MAX);
    auth_challenge(&h->auth, AUTH_MD5, rq->now, stale, rs->challenge[1], AUTH_CHALLENGE_MAX);
    rs->challenges = 2;
}

static void locked_out(struct web_response *rs, long seconds)
{
    char msg[160];
    snprintf(msg, sizeof msg, "too many failed logins from this address: refused for %ld s",
             seconds);
    text(rs, 429, msg);
    rs->retry_after = seconds;
}

/* ---- who asks */

/* A failed login: counted; 401 again, or 429 once the client is locked out. */
static void failed(struct handler *h, const struct web_request *rq, struct web_response *rs)
{
    if (auth_failed(&h->auth, rq->client, rq->now)) {
        log_msg(h->log, LOG_LEVEL_WARNING, "web: %s locked out for %d s after %d failed logins",
                rq->client, AUTH_LOCK_S, AUTH_MAX_FAILS);
        return locked_out(rs, AUTH_LOCK_S);
    }
    challenge(h, rq, rs, 0, "wrong user name or password");
}

/* The inline credentials of older scripts: the admin's only. 1 when they sign in. */
static int inline_login(struct handler *h, const struct web_request *rq, const struct route *r,
                        const struct auth_passwords *pw, struct web_response *rs)
{
    if (r->xuser && r->xpassword && strcmp(r->xuser, "admin") == 0 &&
        auth_password_equal(r->xpassword, pw->admin)) {
        auth_succeeded(&h->auth, rq->client);
        return 1;
    }
    failed(h, rq, rs);
    return 0;
}

/* The account of the request, or -1 with the answer already in rs. */
static int authenticate(struct handler *h, const struct web_request *rq, const struct route *r,
                        struct web_response *rs)
{
    long locked = auth_locked(&h->auth, rq->client, rq->now);
    if (locked) {
        locked_out(rs, locked);
        return -1;
    }
    const char *a = handler_param(h, "Admin_Passwd"), *u = handler_param(h, "User_Password");
    struct auth_passwords pw = {a ? a : "", u ? u : ""};
    if (r->xuser || r->xpassword)
        return inline_login(h, rq, r, &pw, rs) ? PARAM_ROLE_ADMIN : -1;
    if (rq->authorization) {
        enum param_role role = PARAM_ROLE_USER;
        switch (auth_check(&h->auth, rq->authorization, rq->method, rq->uri, &pw, rq->now, &role)) {
        case AUTH_OK:
            auth_succeeded(&h->auth, rq->client);
            return (int)role;
        case AUTH_STALE:
            challenge(h, rq, rs, 1, "the nonce is stale");
            return -1;
        case AUTH_MALFORMED:
            text(rs, 400, "malformed Authorization header (Digest with qop=auth expected)");
            return -1;
        case AUTH_FAILED:
            failed(h, rq, rs);
            return -1;
        }
    }
    /* Without credentials: a factory-fresh phone (no admin password) is open. */
    if (!pw.admin[0] && handler_admin_allowed(h))
        return PARAM_ROLE_ADMIN;
    challenge(h, rq, rs, 0, "sign in: user name admin or user");
    return -1;
}

/* A request a browser made for another site's page (the credentials a browser keeps would
 * otherwise act for it). Scripts send neither header. */
static int cross_site(const struct web_request *rq)
{
    if (rq->sec_fetch_site) /* the browser's own word, where it gives it */
        return strcmp(rq->sec_fetch_site, "same-origin") != 0 &&
               strcmp(rq->sec_fetch_site, "none") != 0;
    if (!rq->origin)
        return 0;
    const char *host = strstr(rq->origin, "://");
    return !host || !rq->host || strcmp(host + 3, rq->host) != 0;
}

/* ---- what they ask */

static void url_command(struct handler *h, const struct web_request *rq, const struct route *r,
                        struct web_response *rs)
{
    char err[UG_ERRBUF];
    if (r->command == ROUTE_STATUS) {
        json_object *st = status_doc(h);
        return st ? json(rs, 200, st) : json_error(rs, 500, "the status cannot be read");
    }
    if (r->post_only && strcmp(rq->method, "POST") != 0) {
        rs->allow = "POST";
        return json_error(rs, 405, "POST only");
    }
    if (cross_site(rq))
        return json_error(rs, 403, "refused: a cross-site request");
    if (r->kind == JOB_FACTORY_RESET && param_yes(h, "Protect_Factory_Reset"))
        return json_error(rs, 403, "refused: Protect_Factory_Reset is Yes");
    struct web_queued q = {0};
    if (!h->hooks.queue)
        return json_error(rs, 503, "no daemon takes jobs here");
    if (h->hooks.queue(h->hooks.ctx, r->kind, r->rule, &q, err) != UG_OK)
        return json_error(rs, 503, err);
    invalidate(h);
    json_object *o = json_object_new_object();
    jsonfile_set_int(o, "job", q.id);
    jsonfile_set_string(o, "kind", job_kind_name(r->kind));
    jsonfile_set_string(o, "state", q.running ? "running" : q.why);
    if (q.running) {
        snprintf(err, sizeof err, "the same %s is running already (job %u)", job_kind_name(r->kind),
                 q.id);
        jsonfile_set_string(o, "error", err);
    }
    json(rs, q.running ? 409 : 202, o);
    json_object_put(o);
    log_msg(h->log, LOG_LEVEL_INFO, "web: %s from %s: %s job %u", rq->path, rq->client,
            q.running ? "running already as" : "queued as", q.id);
}

static void page_ctx(struct handler *h, int role, struct page_ctx *c)
{
    const char *a = handler_param(h, "Admin_Passwd");
    memset(c, 0, sizeof *c);
    c->role = (enum param_role)role;
    c->admin_open = !a || !a[0];
    c->csrf = h->token[role];
}

static void html(struct web_response *rs, unsigned status)
{
    rs->status = status;
    rs->type = "text/html; charset=utf-8";
}

static void config_post(struct handler *h, const struct web_request *rq, int role,
                        struct web_response *rs)
{
    struct form f;
    struct page_ctx c;
    char err[UG_ERRBUF], bad[128] = "", msg[UG_ERRBUF + 64];
    size_t changed = 0;
    page_ctx(h, role, &c);
    if (!rq->content_type ||
        strncmp(rq->content_type, "application/x-www-form-urlencoded", 33) != 0)
        return text(rs, 415, "a form (application/x-www-form-urlencoded) is expected");
    if (form_parse(rq->body ? rq->body : "", rq->body_len, &f) != 0)
        return text(rs, 400, "malformed form");
    const char *token = form_get(&f, "csrf");
    if (cross_site(rq) || !token || !auth_password_equal(token, h->token[role])) {
        form_free(&f);
        return text(rs, 403, "refused: the form's anti-CSRF token is missing or wrong");
    }
    ug_err rc =
        pages_config_apply(&h->s.params, (enum param_role)role, &f, bad, sizeof bad, &changed, err);
    if (rc == UG_OK) {
        snprintf(msg, sizeof msg, "Applied: %zu value%s changed.", changed,
                 changed == 1 ? "" : "s");
        invalidate(h);
    } else {
        snprintf(msg, sizeof msg, "Nothing was changed. %s", err);
    }
    c.message = msg;
    c.message_ok = rc == UG_OK;
    html(rs, rc == UG_OK ? 200 : rc == UG_ERR_OTHER && bad[0] ? 403 : 400);
    if (pages_config(&rs->body, &c, &h->s.params, bad, rc == UG_OK ? NULL : &f, err) != UG_OK)
        text(rs, 500, err);
    form_free(&f);
}

static void page(struct handler *h, const struct web_request *rq, int role, struct web_response *rs)
{
    struct page_ctx c;
    char err[UG_ERRBUF];
    ug_err rc = UG_OK;
    page_ctx(h, role, &c);
    html(rs, 200);
    if (strcmp(rq->path, "/") == 0 || strcmp(rq->path, "/admin/") == 0) {
        json_object *st = status_doc(h);
        rc = st ? pages_status(&rs->body, &c, st, err)
                : ug_fail(err, UG_ERR_OTHER, "the status cannot be read");
    } else if (strcmp(rq->path, "/log") == 0) {
        json_object *ev = NULL;
        rc = events_load(session_path(&h->s, STATE_EVENTS), &ev, err);
        if (rc == UG_OK)
            rc = pages_log(&rs->body, &c, ev, err);
        json_object_put(ev);
    } else {
        rc = pages_config(&rs->body, &c, &h->s.params, NULL, NULL, err);
    }
    if (rc != UG_OK)
        text(rs, 500, err);
}

static void progress(struct handler *h, struct web_response *rs)
{
    json_object *st = status_doc(h), *p = st ? pages_progress(st) : NULL;
    if (!p)
        return json_error(rs, 500, "the status cannot be read");
    json(rs, 200, p);
    json_object_put(p);
}

/* After authentication: the account's pages and, for the admin, the URL commands. */
static void route(struct handler *h, const struct web_request *rq, int role, const struct route *r,
                  struct web_response *rs)
{
    int admin_path = strncmp(rq->path, "/admin", 6) == 0 && (!rq->path[6] || rq->path[6] == '/');
    int post = strcmp(rq->method, "POST") == 0;
    if (admin_path && (role != PARAM_ROLE_ADMIN || !handler_admin_allowed(h)))
        return text(rs, 403,
                    role != PARAM_ROLE_ADMIN ? "refused: the admin account only"
                                             : "refused: Enable_Web_Admin_Access is No");
    if (role == PARAM_ROLE_ADMIN && !handler_admin_allowed(h))
        return text(rs, 403, "refused: Enable_Web_Admin_Access is No");
    if (r->command != ROUTE_NONE)
        return url_command(h, rq, r, rs);
    if (strcmp(rq->path, "/progress.json") == 0 && !post)
        return progress(h, rs);
    if (strcmp(rq->path, "/config") == 0 && post)
        return config_post(h, rq, role, rs);
    if (post && strcmp(rq->path, "/admin") != 0) {
        rs->allow = "GET, HEAD";
        return text(rs, 405, "method not allowed here");
    }
    if (strcmp(rq->path, "/") == 0 || strcmp(rq->path, "/admin/") == 0 ||
        strcmp(rq->path, "/config") == 0 || strcmp(rq->path, "/log") == 0)
        return page(h, rq, role, rs);
    text(rs, 404, "not found");
}

void handler_handle(struct handler *h, const struct web_request *rq, struct web_response *rs)
{
    char err[UG_ERRBUF];
    memset(rs, 0, sizeof *rs);
    if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0 &&
        strcmp(rq->method, "POST") != 0) {
        rs->allow = "GET, HEAD, POST";
        return text(rs, 405, "method not allowed");
    }
    const struct asset *a = assets_find(rq->path);
    if (a) {
        rs->status = 200;
        rs->type = a->type;
        rs->data = a->data;
        rs->data_len = a->len;
        return;
    }
    refresh(h);
    struct route r;
    ug_err rc = route_parse(rq->path, rq->query, &h->s.params.table, &r, err);
    int role = authenticate(h, rq, &r, rs);
    if (role >= 0 && rc != UG_OK && (role == PARAM_ROLE_ADMIN || r.command == ROUTE_NONE))
        json_error(rs, 400, err);
    else if (role >= 0)
        route(h, rq, role, &r, rs);
    route_free(&r);
}
