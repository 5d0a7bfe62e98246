/* SPDX-License-Identifier: MIT */
/* The resync engine (docs/resync.md). Files are fetched and decrypted with no lock held;
 * each apply is one short change of the parameter store, so a parameter set meanwhile (by
 * an operator, or the admin page) never waits for the network. One resync runs at a time:
 * it holds resync.lock, which nobody waits for. */
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
#include "common/lock.h"
#include "lang/params.h"
#include "lang/profile.h"
#include "lang/rule.h"
#include "net/syslog_udp.h"
#include "net/url.h"
#include "resync/dhcp.h"
#include "resync/resync_state.h"
#include "session/session.h"

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
    struct session *s;
    struct macro_context ctx;
    int ctx_open;
    struct resync_state st;
    enum prov_state before; /* the provisioning state the resync started from */
    int prvst;
    char default_server[DHCP_SERVER_MAX]; /* host[:port] from DHCP, "" when none */
    struct dhcp_default dhcp;             /* and its scheme and rule */
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

static int param_is_no(const struct run *r, const char *name)
{
    const char *v = params_value(&r->s->params, name);
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
    /* Resolved only for a message that can be sent: with the network down, a lookup costs
     * the resolver's timeout before every transfer, for nothing when syslog is off. */
    const char *server = params_value(&r->s->params, "Syslog_Server");
    if (kind == LOG_REQUEST && host && server && server[0]) {
        char ip[64];
        resolve_first(host, ip, sizeof ip);
        set_macro(r, "SERVIP", ip);
    }
    char err[UG_ERRBUF];
    if (session_syslog(r->s, &r->ctx, templates[kind],
                       kind == LOG_FAILURE ? SYSLOG_SEVERITY_ERR : SYSLOG_SEVERITY_INFO,
                       err) != UG_OK)
        buf_printf(&r->report->log, "%s: not sent: %s\n", templates[kind], err);
}

/* Replaces the DHCP sentinel by the recorded server (its port and scheme, when DHCP gave them). */
static ug_err use_default_server(struct run *r, struct rule_url *url, char *err)
{
    if (strcmp(url->host, DHCP_SENTINEL_HOST) != 0)
        return UG_OK;
    return dhcp_use_default(&r->dhcp, url, err);
}

/* The URL macros of docs/provisioning.md 2 for the file about to be fetched; $ERR is reset. */
static void set_url_macros(struct run *r, const struct rule_url *url)
{
    char ignored[UG_ERRBUF];
    /* Only "too many macros" can fail, and the set used here is fixed and small. */
    (void)!session_url_macros(&r->ctx, url, ignored);
    set_macro(r, "ERR", "");
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

/* The request for one rule's file: transport settings, credentials, a --post body, the
 * validators of the copy the store holds. */
static ug_err prepare_request(struct run *r, const char *name, const struct rule_result *rr,
                              const char *display, struct fetch_options *fo, struct buf *post,
                              char *err)
{
    int tftp = strcmp(rr->url.scheme, "tftp") == 0;
    session_fetch_options_for(r->s, rr, fo);
    fo->timeout_ms = r->o->timeout_ms > 0 ? r->o->timeout_ms : RESYNC_DEFAULT_TIMEOUT_MS;
    if (tftp)
        fo->tftp_blksize = RESYNC_TFTP_BLKSIZE;
    if (rr->post && tftp) {
        set_reason(r, "bad rule");
        return ug_fail(err, UG_ERR_USAGE, "%s: %s: --post needs http or https", name, display);
    }
    if (rr->post) {
        char gpp[8];
        snprintf(gpp, sizeof gpp, "GPP_%c", toupper((unsigned char)rr->post));
        const char *v = params_value(&r->s->params, gpp);
        if (macro_expand(&r->ctx, v ? v : "", 0, post, err) != UG_OK) {
            ug_prefix(err, "%s: --post %c: ", name, rr->post);
            set_reason(r, "bad post body");
            return UG_ERR_USAGE;
        }
        fo->method = FETCH_POST;
        fo->body = post->data ? post->data : "";
        fo->body_len = post->len;
    } else if (!tftp) {
        resync_state_validators(&r->st, display, &fo->if_none_match, &fo->if_modified_since);
    }
    return UG_OK;
}

/* Reads and applies a fetched profile all-or-nothing. */
static ug_err apply_profile(struct run *r, const char *name, const struct rule_result *rr,
                            const char *display, const struct buf *body,
                            const struct fetch_result *res, char *err)
{
    struct profile profile = {0};
    struct params_apply_result applied = {0};
    char gpp[8];
    snprintf(gpp, sizeof gpp, "GPP_%c", toupper((unsigned char)rr->alias));
    const char *aliases = rr->alias ? params_value(&r->s->params, gpp) : NULL;
    ug_err rc =
        profile_read_aliased(body->data, body->len, rr->key, aliases, display, &profile, err);
    if (rc != UG_OK) {
        set_reason(r, unusable_reason(body, rr->key));
        goto out;
    }
    /* A cancel that came during the download applies nothing: a stopped resync changes
     * nothing the operator did not see finish. */
    if (session_cancelled(r->s)) {
        set_reason(r, "cancelled");
        rc = ug_fail(err, UG_ERR_OTHER, "%s: resync cancelled before the apply", display);
        goto out;
    }
    /* An Upgrade_Rule in the profile that names no server means the one that served it. */
    struct params_apply_options opts = {.served_by = rr->url.host};
    rc = params_apply_with(&r->s->params, &profile, display, &opts, &applied, err);
    if (rc != UG_OK) {
        set_reason(r, "cannot save parameters");
        goto out;
    }
    r->outcome.applied = 1;
    if (profile.was_encrypted)
        r->outcome.used_key = 1;
    set_reason(r, res->reason[0] ? res->reason : "ok");
    buf_printf(&r->report->log, "%s%s: ", name, profile.was_encrypted ? " (decrypted)" : "");
    params_apply_result_format(&applied, display, &r->report->log);
    resync_applied_add(&r->report->applied, &applied, display);
out:
    params_apply_result_free(&applied);
    profile_free(&profile);
    return rc;
}

/* Fetches one rule's file and applies it; a failure ends the sequence (the caller stops). */
static ug_err fetch_and_apply(struct run *r, const char *name, struct rule_result *rr, char *err)
{
    struct resync_report *rep = r->report;
    struct fetch_options fo;
    struct fetch_result res = {0};
    struct buf body = {0}, post = {0};
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
    if ((rc = prepare_request(r, name, rr, display, &fo, &post, err)) != UG_OK)
        goto out;
    rc = fetch_to_buffer(&fo, RESYNC_MAX_PROFILE, &body, &res, err);
    if (res.server_ip[0])
        set_macro(r, "SERVIP", res.server_ip);
    if (rc != UG_OK) {
        set_reason(r, res.reason[0] ? res.reason : ug_err_name(rc));
        rep->retry_after = res.retry_after;
        if (res.not_found && param_is_no(r, "Resync_Fails_On_FNF")) {
            buf_printf(&rep->log, "%s: %s: file not found, ignored (Resync_Fails_On_FNF=No)\n",
                       name, display);
            rc = UG_OK;
            err[0] = '\0';
        }
    } else if (res.not_modified) {
        set_reason(r, res.reason[0] ? res.reason : "not modified");
        buf_printf(&rep->log, "%s: %s: not modified since the last resync, nothing applied\n", name,
                   display);
    } else if ((rc = apply_profile(r, name, rr, display, &body, &res, err)) == UG_OK &&
               fo.method == FETCH_GET && strcmp(rr->url.scheme, "tftp") != 0) {
        /* Validators are kept only for a profile that was applied: a 304 must never stand
         * for a file the store does not hold. */
        resync_state_remember(&r->st, display, res.etag, res.last_modified);
    }
out:
    send_log(r, rc == UG_OK ? LOG_SUCCESS : LOG_FAILURE, NULL);
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
    ug_err rc = params_apply(&r->s->params, &p, name, &res, err);
    if (rc == UG_OK) {
        buf_printf(&r->report->log, "%s: assignments: ", name);
        params_apply_result_format(&res, name, &r->report->log);
    } else {
        /* An invalid value is ignored with a note, never a failure: what fails here is the
         * store (locked, unreadable, too big, a disk that refuses the write). */
        set_reason(r, "cannot save parameters");
    }
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
        char first = text[strspn(text, " \t")];
        buf_printf(&r->report->log, "%s: %s, skipped\n", name,
                   first == '#' ? "a comment"
                   : first      ? "no alternative applies"
                                : "empty");
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
        const char *text = params_value(&r->s->params, stored_rules[i]);
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

/* Fetches the CA rr names and stores it as the folder's custom-ca.pem; *reason is $ERR. */
static ug_err fetch_custom_ca(struct run *r, const struct rule_result *rr, const char *display,
                              const char **reason, char *err)
{
    struct fetch_options fo;
    struct fetch_result res = {0};
    struct buf pem = {0};
    session_fetch_options_for(r->s, rr, &fo);
    fo.timeout_ms = r->o->timeout_ms > 0 ? r->o->timeout_ms : RESYNC_DEFAULT_TIMEOUT_MS;
    const char *path = session_path(r->s, STATE_CUSTOM_CA);
    ug_err rc = fetch_to_buffer(&fo, RESYNC_MAX_CA, &pem, &res, err);
    if (rc != UG_OK) {
        *reason = res.reason[0] ? res.reason : ug_err_name(rc);
    } else if (count_certificates(&pem) == 0) {
        rc = ug_fail(err, UG_ERR_UNUSABLE, "%s: not a PEM certificate", display);
        *reason = "not a certificate";
    } else if ((rc = fs_write_atomic(path, pem.data, pem.len, 0644, err)) != UG_OK) {
        *reason = "cannot store file";
    } else {
        r->s->custom_ca = path;
    }
    buf_free(&pem);
    return rc;
}

/* Custom_CA_Rule: fetches the CA once per URL and installs it as the folder's custom-ca.pem,
 * trusted beside ca.pem from then on. Its failure is recorded but does not fail the resync:
 * the profile rules may not need it, and those that do fail on their own with a clear reason. */
static void install_custom_ca(struct run *r)
{
    const char *text = params_value(&r->s->params, "Custom_CA_Rule");
    if (!text || !text[strspn(text, " \t")])
        return;
    char err[UG_ERRBUF] = "", display[FETCH_URL_MAX] = "";
    const char *reason = "ok";
    struct rule_result rr = {0};
    ug_err rc = rule_eval(text, RULE_PROFILE, &r->ctx,
                          r->default_server[0] ? DHCP_SENTINEL_HOST : NULL, &rr, err);
    if (rc != UG_OK) {
        reason = "bad rule";
    } else if (!rr.matched || !rr.has_url) {
        goto out;
    } else if ((rc = use_default_server(r, &rr.url, err)) != UG_OK) {
        reason = "bad url";
    } else {
        url_for_display(rr.url.text, display, sizeof display);
        if (resync_state_custom_ca_done(&r->st, display) && r->s->custom_ca)
            goto out; /* installed already */
        rc = fetch_custom_ca(r, &rr, display, &reason, err);
    }
    buf_printf(&r->report->log, "Custom_CA_Rule: %s%s%s\n", display, display[0] ? ": " : "",
               rc == UG_OK ? "installed" : err);
    resync_state_record_custom_ca(&r->st, display, rc, reason, (long long)time(NULL));
out:
    rule_result_free(&rr);
}

/* The $PRVST of this resync: as asked, -1 for one rule, else from the previous result. */
static int resync_prvst(const struct run *r)
{
    ug_err previous;
    long long when;
    int had = resync_state_previous(&r->st, &previous, &when);
    if (r->o->prvst != RESYNC_PRVST_AUTO)
        return r->o->prvst;
    return r->o->rule ? PROV_PRVST_EXPLICIT : provstate_prvst(had, previous);
}

/* Everything a resync starts from: the store and the record as they are now, the macros,
 * the DHCP-provided server. */
static ug_err begin(struct run *r, char *err)
{
    ug_err rc = session_reload(r->s, err);
    if (rc != UG_OK)
        return rc;
    if (param_is_no(r, "Provision_Enable"))
        return ug_fail(err, UG_ERR_OTHER,
                       "Provision_Enable is No: resyncs are switched off on this device");
    if ((rc = resync_state_load(session_path(r->s, STATE_RESYNC), &r->st, err)) != UG_OK)
        return rc;
    if (r->st.recovered[0])
        log_msg(r->s->log, LOG_LEVEL_WARNING, "%s", r->st.recovered);
    r->before = resync_state_prov(&r->st);
    r->prvst = resync_prvst(r);
    if ((rc = session_macro_context(r->s, &r->ctx, err)) != UG_OK)
        return rc;
    r->ctx_open = 1;
    set_macro_int(r, "PRVST", r->prvst);
    ug_err previous;
    long long when;
    if (resync_state_previous(&r->st, &previous, &when))
        set_macro_int(r, "PRVTMR", (long long)time(NULL) - when);
    set_macro(r, "ISCUST", r->before == PROV_MFG_RESET ? "0" : "1");
    struct dhcp_servers dhcp;
    if ((rc = dhcp_load(&r->s->folder, &dhcp, err)) != UG_OK)
        return rc;
    int option = dhcp_choose(&dhcp, params_value(&r->s->params, "DHCP_Option_To_Use"),
                             r->default_server, sizeof r->default_server);
    dhcp_default_of(r->default_server, option, &r->dhcp);
    snprintf(r->default_server, sizeof r->default_server, "%s", r->dhcp.server);
    return UG_OK;
}

static ug_err run_rules(struct run *r, char *err)
{
    if (r->o->rule)
        return run_rule(r, r->o->rule_name ? r->o->rule_name : "resync RULE", r->o->rule, err);
    /* In order; a failure ends the sequence so that nothing after it runs. */
    ug_err rc = UG_OK;
    for (size_t i = 0; rc == UG_OK && i < sizeof stored_rules / sizeof stored_rules[0]; i++) {
        if (session_cancelled(r->s)) {
            set_reason(r, "cancelled");
            return ug_fail(err, UG_ERR_OTHER, "resync cancelled before %s", stored_rules[i]);
        }
        const char *text = params_value(&r->s->params, stored_rules[i]);
        /* A rule DHCP handed out stands for the factory Profile_Rule (docs/resync.md). */
        if (i == 0)
            text = dhcp_profile_rule(&r->dhcp, text, paramdefs_factory(stored_rules[0]));
        rc = run_rule(r, stored_rules[i], text ? text : "", err);
    }
    return rc;
}

/* The outcome: the report, the next provisioning state, and the record in resync.json. */
static ug_err finish(struct run *r, ug_err rc, char *err)
{
    struct resync_report *rep = r->report;
    if (rc == UG_OK && !rep->reason[0])
        set_reason(r, "nothing to fetch");
    r->outcome.armed_key = key_rule_armed(r);
    rep->result = rc;
    rep->led = provstate_led(rc);
    rep->state = provstate_next(r->before, &r->outcome);
    struct resync_last last = {.result = rc,
                               .rule = rep->rule,
                               .url = rep->url,
                               .reason = rep->reason,
                               .led = rep->led,
                               .prvst = r->prvst,
                               .applied = &rep->applied};
    resync_state_record(&r->st, &last, rep->state, (long long)time(NULL));
    char save_err[UG_ERRBUF];
    ug_err src = resync_state_save(session_path(r->s, STATE_RESYNC), &r->st, save_err);
    if (src != UG_OK && rc == UG_OK) {
        rc = src;
        snprintf(err, UG_ERRBUF, "%s", save_err);
    }
    return rc;
}

ug_err resync_run(struct session *s, const struct resync_options *o, struct resync_report *report,
                  char *err)
{
    struct run r;
    memset(&r, 0, sizeof r);
    memset(report, 0, sizeof *report);
    r.o = o;
    r.s = s;
    r.report = report;
    report->led = PROV_LED_OFF;
    int lock_fd = -1;
    ug_err rc = lock_take(session_path(s, STATE_RESYNC_LOCK), LOCK_TRY_ONCE,
                          "another resync or factory reset", &lock_fd, err);
    if (rc == UG_OK && (rc = begin(&r, err)) == UG_OK) {
        install_custom_ca(&r);
        rc = finish(&r, run_rules(&r, err), err);
    }
    if (r.ctx_open)
        macro_free(&r.ctx);
    resync_state_free(&r.st);
    lock_release(&lock_fd);
    return rc;
}
