/* SPDX-License-Identifier: MIT */
/* The resync engine. The parameter store is held locked for the whole resync, so the
 * rules, every apply and the record in DIR/resync.json form one sequence no other writer
 * (param set, apply, factory-reset) can interleave with. docs/resync.md. */
#include "resync/resync.h"

#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/fsutil.h"
#include "common/jsonfile.h"
#include "lang/params.h"
#include "lang/profile.h"
#include "lang/rule.h"
#include "net/syslog_udp.h"
#include "net/url.h"
#include "resync/dhcp.h"
#include "session/agent.h"

/* Stands for the DHCP server in a rule without a host until the URL is parsed; .invalid
 * (RFC 2606) guarantees that if it ever leaked into a fetch, no packet would go out. */
#define DHCP_SENTINEL_HOST "dhcp-server.upgrader.invalid"

static const char *const stored_rules[] = {"Profile_Rule", "Profile_Rule_B", "Profile_Rule_C",
                                           "Profile_Rule_D"};

enum log_kind {
    LOG_REQUEST,
    LOG_SUCCESS,
    LOG_FAILURE
};

struct run {
    const struct resync_options *o;
    struct resync_report *report;
    struct agent a;
    int agent_open;
    struct macro_context ctx;
    int ctx_open;
    json_object *st;
    char default_server[DHCP_SERVER_MAX]; /* host[:port] from DHCP, "" when none */
    struct prov_outcome outcome;
};

void resync_options_init(struct resync_options *o)
{
    memset(o, 0, sizeof *o);
    o->rule_name = "resync RULE";
    o->prvst = RESYNC_PRVST_AUTO;
}

void resync_report_free(struct resync_report *report)
{
    buf_free(&report->log);
}

static ug_err state_path(const char *root, char *out, size_t outsz, char *err)
{
    if (fs_join(out, outsz, root, RESYNC_STATE_FILE) != 0)
        return ug_fail(err, UG_ERR_USAGE, "%s: path too long", root);
    return UG_OK;
}

ug_err resync_state_load(const char *root, json_object **state, char *err)
{
    char path[1100];
    ug_err rc = state_path(root, path, sizeof path, err);
    return rc == UG_OK ? jsonfile_load(path, state, err) : rc;
}

static int param_is_no(const struct run *r, const char *name)
{
    const char *v = params_value(&r->a.params, name);
    return v && paramdefs_parse_bool(v) == 0;
}

static void set_macro(struct run *r, const char *name, const char *value)
{
    char ignored[UG_ERRBUF];
    /* Only "too many macros" can fail, and the set used here is fixed and small. */
    if (macro_set(&r->ctx, name, value, ignored) != UG_OK)
        return;
}

static void set_macro_int(struct run *r, const char *name, long long value)
{
    char text[32];
    snprintf(text, sizeof text, "%lld", value);
    set_macro(r, name, text);
}

static void set_reason(struct run *r, const char *reason)
{
    snprintf(r->report->reason, sizeof r->report->reason, "%s", reason);
    set_macro(r, "ERR", reason);
}

/* The address a host name resolves to, for $SERVIP before the transfer tells it. */
static void resolve_first(const char *host, char *out, size_t outsz)
{
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(out, outsz, "%s", host);
    if (getaddrinfo(host, NULL, &hints, &res) != 0)
        return;
    if (getnameinfo(res->ai_addr, res->ai_addrlen, out, (socklen_t)outsz, NULL, 0,
                    NI_NUMERICHOST) != 0)
        snprintf(out, outsz, "%s", host);
    freeaddrinfo(res);
}

/* Sends one Log_* message to Syslog_Server; a failure to send is noted in the report only. */
static void send_log(struct run *r, enum log_kind kind, const char *host)
{
    static const char *const templates[] = {"Log_Request_Msg", "Log_Success_Msg",
                                            "Log_Failure_Msg"};
    if (kind == LOG_REQUEST && host) {
        char ip[64];
        resolve_first(host, ip, sizeof ip);
        set_macro(r, "SERVIP", ip);
    }
    char err[UG_ERRBUF];
    if (agent_log(&r->a, &r->ctx, templates[kind],
                  kind == LOG_FAILURE ? SYSLOG_SEVERITY_ERR : SYSLOG_SEVERITY_INFO, err) != UG_OK)
        buf_printf(&r->report->log, "%s: not sent: %s\n", templates[kind], err);
}

/* Replaces the DHCP sentinel by the recorded server (and its port, when DHCP gave one). */
static ug_err use_default_server(struct run *r, struct rule_url *url, char *err)
{
    if (strcmp(url->host, DHCP_SENTINEL_HOST) != 0)
        return UG_OK;
    char host[DHCP_SERVER_MAX];
    int port = 0;
    if (dhcp_split_server(r->default_server, host, sizeof host, &port) != 0)
        return ug_fail(err, UG_ERR_USAGE, "DHCP server '%s' is not host[:port]", r->default_server);
    snprintf(url->host, sizeof url->host, "%s", host);
    if (port)
        url->port = port;
    struct buf full = {0};
    int v6 = strchr(url->host, ':') != NULL;
    if (buf_printf(&full, "%s://%s%s%s:%d%s", url->scheme, v6 ? "[" : "", url->host, v6 ? "]" : "",
                   url->port, url->path) != 0) {
        buf_free(&full);
        return ug_oom(err);
    }
    free(url->text);
    url->text = full.data;
    return UG_OK;
}

/* The URL macros of docs/provisioning.md 2 for the file about to be fetched. */
static void set_url_macros(struct run *r, const struct rule_url *url)
{
    char scheme[8];
    size_t i = 0;
    for (; url->scheme[i] && i + 1 < sizeof scheme; i++)
        scheme[i] = (char)toupper((unsigned char)url->scheme[i]);
    scheme[i] = '\0';
    set_macro(r, "SCHEME", scheme);
    set_macro(r, "METH", scheme);
    set_macro(r, "SERV", url->host);
    set_macro(r, "SERVIP", url->host);
    set_macro_int(r, "PORT", url->port);
    set_macro(r, "PATH", url->path);
    set_macro(r, "ERR", "");
}

static json_object *validators_of(struct run *r)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(r->st, "validators", &v) ||
        !json_object_is_type(v, json_type_object)) {
        v = json_object_new_object();
        if (v)
            json_object_object_add(r->st, "validators", v);
    }
    return v;
}

/* Keeps the answer's ETag/Last-Modified for the next fetch of url (or forgets them). */
static void remember_validators(struct run *r, const char *url, const struct fetch_result *res)
{
    json_object *all = validators_of(r);
    if (!all)
        return;
    json_object_object_del(all, url);
    if (!res || (!res->etag[0] && !res->last_modified[0]))
        return;
    /* Few URLs are resynced; the oldest entries make room when a device moves around. */
    while (json_object_object_length(all) >= RESYNC_MAX_VALIDATORS) {
        struct json_object_iterator it = json_object_iter_begin(all);
        char oldest[FETCH_URL_MAX];
        snprintf(oldest, sizeof oldest, "%s", json_object_iter_peek_name(&it));
        json_object_object_del(all, oldest);
    }
    json_object *one = json_object_new_object();
    if (!one)
        return;
    if (res->etag[0])
        jsonfile_set_string(one, "etag", res->etag);
    if (res->last_modified[0])
        jsonfile_set_string(one, "last_modified", res->last_modified);
    json_object_object_add(all, url, one);
}

static json_object *validator_for(struct run *r, const char *url)
{
    json_object *one = NULL;
    json_object *all = validators_of(r);
    if (!all || !json_object_object_get_ex(all, url, &one))
        return NULL;
    return one;
}

/* The short $ERR of a profile that arrived but cannot be used. */
static const char *unusable_reason(const struct buf *body, const char *key)
{
    int encrypted = body->data && body->len >= 8 && memcmp(body->data, "Salted__", 8) == 0;
    if (encrypted && !key)
        return "encrypted profile without --key";
    if (key)
        return "decrypt failed";
    return "bad profile";
}

/* Fetches one rule's file and applies it; a failure ends the sequence (the caller stops). */
static ug_err fetch_and_apply(struct run *r, const char *name, struct rule_result *rr, char *err)
{
    struct resync_report *rep = r->report;
    struct fetch_options fo;
    struct fetch_result res;
    struct buf body = {0}, post = {0};
    struct profile profile = {0};
    struct params_apply_result applied = {0};
    char display[FETCH_URL_MAX];
    ug_err rc = use_default_server(r, &rr->url, err);
    if (rc != UG_OK) {
        set_reason(r, "bad url");
        return rc;
    }
    url_for_display(rr->url.text, display, sizeof display);
    snprintf(rep->url, sizeof rep->url, "%s", display);
    set_url_macros(r, &rr->url);
    send_log(r, LOG_REQUEST, rr->url.host);

    memset(&res, 0, sizeof res);
    agent_fetch_options(&r->a, &fo);
    fo.url = rr->url.text;
    fo.username = rr->uid;
    fo.password = rr->pwd;
    fo.timeout_ms = r->o->timeout_ms > 0 ? r->o->timeout_ms : RESYNC_DEFAULT_TIMEOUT_MS;
    if (strcmp(rr->url.scheme, "tftp") == 0)
        fo.tftp_blksize = RESYNC_TFTP_BLKSIZE;
    if (rr->post && strcmp(rr->url.scheme, "tftp") == 0) {
        rc = ug_fail(err, UG_ERR_USAGE, "%s: %s: --post needs http or https", name, display);
        set_reason(r, "bad rule");
        goto out;
    }
    if (rr->post) {
        char gpp[8];
        snprintf(gpp, sizeof gpp, "GPP_%c", toupper((unsigned char)rr->post));
        const char *v = params_value(&r->a.params, gpp);
        if ((rc = macro_expand(&r->ctx, v ? v : "", 0, &post, err)) != UG_OK) {
            ug_prefix(err, "%s: --post %c: ", name, rr->post);
            set_reason(r, "bad post body");
            goto out;
        }
        fo.method = FETCH_POST;
        fo.body = post.data ? post.data : "";
        fo.body_len = post.len;
    } else if (strcmp(rr->url.scheme, "tftp") != 0) {
        json_object *v = validator_for(r, display);
        fo.if_none_match = v ? jsonfile_get_string(v, "etag", NULL) : NULL;
        fo.if_modified_since = v ? jsonfile_get_string(v, "last_modified", NULL) : NULL;
    }

    rc = fetch_to_buffer(&fo, RESYNC_MAX_PROFILE, &body, &res, err);
    if (res.server_ip[0])
        set_macro(r, "SERVIP", res.server_ip);
    if (rc != UG_OK) {
        set_reason(r, res.reason[0] ? res.reason : ug_err_name(rc));
        if (res.not_found && param_is_no(r, "Resync_Fails_On_FNF")) {
            buf_printf(&rep->log, "%s: %s: file not found, ignored (Resync_Fails_On_FNF=No)\n",
                       name, display);
            rc = UG_OK;
            err[0] = '\0';
        }
        goto out;
    }
    if (res.not_modified) {
        set_reason(r, res.reason[0] ? res.reason : "not modified");
        buf_printf(&rep->log, "%s: %s: not modified since the last resync, nothing applied\n", name,
                   display);
        goto out;
    }
    rc = profile_read(body.data, body.len, rr->key, display, &profile, err);
    if (rc != UG_OK) {
        set_reason(r, unusable_reason(&body, rr->key));
        goto out;
    }
    rc = params_apply(&r->a.params, &profile, display, &applied, err);
    if (rc != UG_OK) {
        set_reason(r, "bad parameter value");
        goto out;
    }
    r->outcome.applied = 1;
    if (profile.was_encrypted)
        r->outcome.used_key = 1;
    set_reason(r, res.reason[0] ? res.reason : "ok");
    buf_printf(&rep->log, "%s: %s: applied %zu parameters, %zu changed%s%s\n", name, display,
               profile.n - applied.unknown, applied.changed,
               profile.was_encrypted ? ", decrypted" : "",
               applied.unknown ? ", unknown ones ignored" : "");
    /* Validators are kept only for a profile that was applied: a 304 must never stand for
     * a file the store does not hold. */
    if (fo.method == FETCH_GET && strcmp(rr->url.scheme, "tftp") != 0)
        remember_validators(r, display, &res);
out:
    send_log(r, rc == UG_OK ? LOG_SUCCESS : LOG_FAILURE, NULL);
    params_apply_result_free(&applied);
    profile_free(&profile);
    buf_free(&body);
    buf_free(&post);
    return rc;
}

/* The assignments of a taken alternative, applied all-or-nothing like a profile. */
static ug_err apply_assignments(struct run *r, const char *name, const struct rule_result *rr,
                                char *err)
{
    struct profile p = {0};
    p.entries = calloc(rr->nassign, sizeof *p.entries);
    if (!p.entries)
        return ug_oom(err);
    p.n = rr->nassign;
    for (size_t i = 0; i < rr->nassign; i++) {
        p.entries[i].name = rr->assign[i].name;
        p.entries[i].value = rr->assign[i].value;
        p.entries[i].access = PROFILE_ACCESS_KEEP;
    }
    struct params_apply_result res = {0};
    ug_err rc = params_apply(&r->a.params, &p, name, &res, err);
    if (rc == UG_OK)
        buf_printf(&r->report->log, "%s: assignments: %zu set, %zu changed\n", name, rr->nassign,
                   res.changed);
    else
        set_reason(r, "bad assignment");
    params_apply_result_free(&res);
    free(p.entries); /* the strings belong to rr */
    return rc;
}

static ug_err run_rule(struct run *r, const char *name, const char *text, char *err)
{
    struct rule_result rr;
    ug_err rc = rule_eval(text, RULE_PROFILE, &r->ctx,
                          r->default_server[0] ? DHCP_SENTINEL_HOST : NULL, &rr, err);
    if (rc != UG_OK || rr.matched) {
        snprintf(r->report->rule, sizeof r->report->rule, "%s", name);
        r->report->url[0] = '\0';
    }
    if (rc != UG_OK) {
        ug_prefix(err, "%s: ", name);
        set_reason(r, "bad rule");
        send_log(r, LOG_FAILURE, NULL);
        return rc;
    }
    if (!rr.matched) {
        buf_printf(&r->report->log, "%s: %s, skipped\n", name,
                   text[strspn(text, " \t")] ? "no alternative applies" : "empty");
        rule_result_free(&rr);
        return UG_OK;
    }
    if (rr.nassign && (rc = apply_assignments(r, name, &rr, err)) != UG_OK) {
        ug_prefix(err, "%s: ", name);
        send_log(r, LOG_FAILURE, NULL);
    }
    if (rc == UG_OK && rr.has_url)
        rc = fetch_and_apply(r, name, &rr, err);
    rule_result_free(&rr);
    return rc;
}

/* Whether any stored rule, as it evaluates now, would fetch with --key: SEC-PRV-1. */
static int key_rule_armed(struct run *r)
{
    for (size_t i = 0; i < sizeof stored_rules / sizeof stored_rules[0]; i++) {
        const char *text = params_value(&r->a.params, stored_rules[i]);
        struct rule_result rr;
        char ignored[UG_ERRBUF];
        if (!text ||
            rule_eval(text, RULE_PROFILE, &r->ctx, DHCP_SENTINEL_HOST, &rr, ignored) != UG_OK)
            continue;
        int armed = rr.matched && rr.has_url && rr.key;
        rule_result_free(&rr);
        if (armed)
            return 1;
    }
    return 0;
}

static int count_certificates(const struct buf *pem)
{
    BIO *bio = BIO_new_mem_buf(pem->data, (int)pem->len);
    int n = 0;
    X509 *x;
    while (bio && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        X509_free(x);
        n++;
    }
    BIO_free(bio);
    return n;
}

/* Custom_CA_Rule: fetches the CA once per URL and installs it as DIR/custom-ca.pem, trusted
 * beside ca.pem from then on. Its failure is recorded but does not fail the resync: the
 * profile rules may not need it, and those that do fail on their own with a clear reason. */
static void install_custom_ca(struct run *r)
{
    const char *text = params_value(&r->a.params, "Custom_CA_Rule");
    if (!text || !text[strspn(text, " \t")])
        return;
    char err[UG_ERRBUF] = "", display[FETCH_URL_MAX] = "", path[1100];
    const char *reason = "ok";
    struct rule_result rr = {0};
    struct buf pem = {0};
    struct fetch_result res = {0};
    json_object *rec = NULL;
    json_object_object_get_ex(r->st, "custom_ca", &rec);
    ug_err rc = rule_eval(text, RULE_PROFILE, &r->ctx,
                          r->default_server[0] ? DHCP_SENTINEL_HOST : NULL, &rr, err);
    if (rc != UG_OK) {
        reason = "bad rule";
        goto record;
    }
    if (!rr.matched || !rr.has_url)
        goto out;
    if ((rc = use_default_server(r, &rr.url, err)) != UG_OK) {
        reason = "bad url";
        goto record;
    }
    url_for_display(rr.url.text, display, sizeof display);
    agent_path(&r->a, DEVICE_CUSTOM_CA_FILE, path, sizeof path);
    if (rec && strcmp(jsonfile_get_string(rec, "url", ""), display) == 0 &&
        strcmp(jsonfile_get_string(rec, "result", ""), "ok") == 0 && fs_exists(path))
        goto out; /* installed already */
    struct fetch_options fo;
    agent_fetch_options(&r->a, &fo);
    fo.url = rr.url.text;
    fo.username = rr.uid;
    fo.password = rr.pwd;
    fo.timeout_ms = r->o->timeout_ms > 0 ? r->o->timeout_ms : RESYNC_DEFAULT_TIMEOUT_MS;
    rc = fetch_to_buffer(&fo, RESYNC_MAX_CA, &pem, &res, err);
    if (rc != UG_OK) {
        reason = res.reason[0] ? res.reason : ug_err_name(rc);
        goto record;
    }
    if (count_certificates(&pem) == 0) {
        rc = ug_fail(err, UG_ERR_UNUSABLE, "%s: not a PEM certificate", display);
        reason = "not a certificate";
        goto record;
    }
    if ((rc = fs_write_atomic(path, pem.data, pem.len, 0644, err)) != UG_OK) {
        reason = "cannot store file";
        goto record;
    }
    snprintf(r->a.custom_ca, sizeof r->a.custom_ca, "%s", path);
record:
    buf_printf(&r->report->log, "Custom_CA_Rule: %s%s%s\n", display[0] ? display : "",
               display[0] ? ": " : "", rc == UG_OK ? "installed" : err);
    rec = json_object_new_object();
    if (rec) {
        jsonfile_set_string(rec, "url", display);
        jsonfile_set_string(rec, "result", rc == UG_OK ? "ok" : ug_err_name(rc));
        jsonfile_set_string(rec, "err", reason);
        jsonfile_set_int(rec, "time", (long long)time(NULL));
        json_object_object_add(r->st, "custom_ca", rec);
    }
out:
    rule_result_free(&rr);
    buf_free(&pem);
}

static void record_last(struct run *r, ug_err rc, int prvst)
{
    struct resync_report *rep = r->report;
    json_object *last = json_object_new_object();
    if (!last)
        return;
    time_t now = time(NULL);
    struct tm tm;
    char stamp[40];
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    jsonfile_set_int(last, "time", (long long)now);
    jsonfile_set_string(last, "time_text", stamp);
    jsonfile_set_int(last, "result", rc);
    jsonfile_set_string(last, "result_name", ug_err_name(rc));
    jsonfile_set_string(last, "rule", rep->rule);
    jsonfile_set_string(last, "url", rep->url);
    jsonfile_set_string(last, "err", rep->reason);
    jsonfile_set_string(last, "led", rep->led);
    jsonfile_set_int(last, "prvst", prvst);
    json_object_object_add(r->st, "last", last);
    jsonfile_set_int(r->st, "resyncs", jsonfile_get_int(r->st, "resyncs", 0) + 1);
    if (rc == UG_OK)
        jsonfile_set_int(r->st, "last_success_time", (long long)now);
    jsonfile_set_string(r->st, "state", provstate_name(rep->state));
}

ug_err resync_run(const char *root, const struct resync_options *o, struct resync_report *report,
                  char *err)
{
    struct run r;
    memset(&r, 0, sizeof r);
    memset(report, 0, sizeof *report);
    r.o = o;
    r.report = report;
    report->led = PROV_LED_OFF;
    char path[1100];
    ug_err rc = agent_open(root, 1, &r.a, err);
    if (rc != UG_OK)
        return rc;
    r.agent_open = 1;
    if (param_is_no(&r, "Provision_Enable")) {
        rc = ug_fail(err, UG_ERR_OTHER,
                     "Provision_Enable is No: resyncs are switched off on this device");
        goto out;
    }
    if ((rc = state_path(root, path, sizeof path, err)) != UG_OK ||
        (rc = jsonfile_load(path, &r.st, err)) != UG_OK)
        goto out;
    int cur = provstate_parse(jsonfile_get_string(r.st, "state", NULL));
    enum prov_state before = cur < 0 ? PROV_MFG_RESET : (enum prov_state)cur;

    json_object *last = NULL;
    int had_last = json_object_object_get_ex(r.st, "last", &last) &&
                   json_object_is_type(last, json_type_object);
    int prvst =
        o->prvst != RESYNC_PRVST_AUTO ? o->prvst
        : o->rule                     ? PROV_PRVST_EXPLICIT
                                      : provstate_prvst(had_last,
                                    had_last ? (ug_err)jsonfile_get_int(last, "result", 0) : UG_OK);
    if ((rc = agent_macro_context(&r.a, &r.ctx, err)) != UG_OK)
        goto out;
    r.ctx_open = 1;
    set_macro_int(&r, "PRVST", prvst);
    if (had_last)
        set_macro_int(&r, "PRVTMR", (long long)time(NULL) - jsonfile_get_int(last, "time", 0));
    set_macro(&r, "ISCUST", before == PROV_MFG_RESET ? "0" : "1");

    struct dhcp_servers dhcp;
    if ((rc = dhcp_load(root, &dhcp, err)) != UG_OK)
        goto out;
    dhcp_choose(&dhcp, params_value(&r.a.params, "DHCP_Option_To_Use"), r.default_server,
                sizeof r.default_server);

    install_custom_ca(&r);
    if (o->rule) {
        rc = run_rule(&r, o->rule_name ? o->rule_name : "resync RULE", o->rule, err);
    } else {
        /* In order; a failure ends the sequence so that nothing after it runs. */
        for (size_t i = 0; rc == UG_OK && i < sizeof stored_rules / sizeof stored_rules[0]; i++) {
            const char *text = params_value(&r.a.params, stored_rules[i]);
            rc = run_rule(&r, stored_rules[i], text ? text : "", err);
        }
    }
    if (rc == UG_OK && !report->reason[0])
        set_reason(&r, "nothing to fetch");
    r.outcome.armed_key = key_rule_armed(&r);
    report->result = rc;
    report->led = provstate_led(rc);
    report->state = provstate_next(before, &r.outcome);
    record_last(&r, rc, prvst);
    char save_err[UG_ERRBUF];
    ug_err src = jsonfile_save(path, r.st, save_err);
    if (src != UG_OK && rc == UG_OK) {
        rc = src;
        snprintf(err, UG_ERRBUF, "%s", save_err);
    }
out:
    if (r.ctx_open)
        macro_free(&r.ctx);
    json_object_put(r.st);
    if (r.agent_open)
        agent_close(&r.a);
    return rc;
}

ug_err resync_factory_reset(const char *root, char *err)
{
    struct param_store s;
    struct profile defaults = {0};
    json_object *st = NULL;
    char path[1100], ca[1100];
    ug_err rc = params_open(root, 1, &s, err);
    if (rc != UG_OK)
        return rc;
    const char *protect = params_value(&s, "Protect_Factory_Reset");
    if (protect && paramdefs_parse_bool(protect) == 1) {
        rc = ug_fail(err, UG_ERR_OTHER,
                     "factory reset refused: the profile forbids it "
                     "(Protect_Factory_Reset=Yes)");
        goto out;
    }
    /* Every default with its factory user access, through the one all-or-nothing apply. */
    defaults.n = s.table.n;
    defaults.entries = calloc(s.table.n ? s.table.n : 1, sizeof *defaults.entries);
    if (!defaults.entries) {
        rc = ug_oom(err);
        goto out;
    }
    for (size_t i = 0; i < s.table.n; i++) {
        defaults.entries[i].name = (char *)s.table.defs[i].name;
        defaults.entries[i].value = (char *)s.table.defs[i].def;
        defaults.entries[i].access = (int)s.table.defs[i].access;
    }
    if ((rc = params_apply(&s, &defaults, "factory defaults", NULL, err)) != UG_OK)
        goto out;
    /* Power-loss order: parameters first, then the custom CA, and the record saying
     * MFG-RESET last, so the state never claims a reset that has not happened; a cut
     * anywhere is finished by running factory-reset again. */
    if (fs_join(ca, sizeof ca, root, DEVICE_CUSTOM_CA_FILE) != 0 ||
        (rc = state_path(root, path, sizeof path, err)) != UG_OK) {
        rc = ug_fail(err, UG_ERR_USAGE, "%s: path too long", root);
        goto out;
    }
    if (fs_exists(ca)) {
        if (unlink(ca) != 0) {
            rc = ug_fail(err, UG_ERR_OTHER, "%s: cannot remove the custom CA", ca);
            goto out;
        }
        if ((rc = fs_sync_parent(ca, err)) != UG_OK)
            goto out;
    }
    st = json_object_new_object();
    if (!st) {
        rc = ug_oom(err);
        goto out;
    }
    jsonfile_set_string(st, "state", provstate_name(PROV_MFG_RESET));
    jsonfile_set_int(st, "factory_reset_time", (long long)time(NULL));
    rc = jsonfile_save(path, st, err);
out:
    json_object_put(st);
    free(defaults.entries);
    params_close(&s);
    return rc;
}
