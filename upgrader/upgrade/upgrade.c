/* SPDX-License-Identifier: MIT */
/* The upgrade pass and its boot-time continuation (docs/upgrade.md). Every change to the boot
 * state is ordered so that a power cut at any point leaves a device that boots a verified slot. */
#include "upgrade/upgrade.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <unistd.h>

#include "bundle/sign.h"
#include "common/buf.h"
#include "device/call.h"
#include "device/devconf.h"
#include "lang/paramdefs.h"
#include "lang/rule.h"
#include "net/syslog_udp.h"
#include "net/url.h"
#include "resync/resync.h"
#include "session/agent.h"
#include "upgrade/install.h"
#include "upgrade/planner.h"

/* Progress is written to upgrade.json at most this often (never per block). */
#define PROGRESS_WRITE_SECONDS 1
#define PROGRESS_WRITE_BYTES   (4u << 20)

struct pass {
    const char *root;
    const struct upgrade_options *o;
    struct agent a;
    struct upgrade_state st;
    struct upgrade_outcome *out;
    char bootenv[1100];
    time_t last_write;
    uint64_t last_written_bytes;
    int lock_fd;   /* DIR/upgrade.lock, held for the whole pass; -1 when not taken */
    int boot_lock; /* the boot state's lock, held from a change's load to its save; or -1 */
    const struct install_result *installing; /* during install_bundle: its version once read */
};

/* What the pass works towards: the next hop. */
struct hop {
    char version[UPGRADE_TEXT_MAX]; /* "" for a bundle rule until the install reads it */
    char *bundle_url;               /* malloc'd */
    char display[FETCH_URL_MAX];    /* bundle URL without credentials */
};

int upgrade_url_is_catalog(const char *url)
{
    size_t n = strcspn(url, "?#");
    return n >= 5 && strncasecmp(url + n - 5, ".json", 5) == 0;
}

ug_err upgrade_load_catalog(const char *url, const struct fetch_options *transport,
                            const char *keyring, struct catalog *out, char *err)
{
    memset(out, 0, sizeof *out);
    if (!strstr(url, "://"))
        return catalog_load(url, keyring, out, err);
    struct buf base = {0}, sig_url = {0}, body = {0}, sig = {0};
    ug_err rc = UG_OK;
    size_t path_end = strcspn(url, "?#"), base_end = strcspn(url, "#");
    /* The .sig sits beside the catalog: before any query, never after a #fragment. */
    if (buf_append(&base, url, base_end) != 0 || buf_append(&sig_url, url, path_end) != 0 ||
        buf_append_str(&sig_url, ".sig") != 0 ||
        buf_append(&sig_url, url + path_end, base_end - path_end) != 0) {
        rc = ug_oom(err);
        goto out;
    }
    char display[FETCH_URL_MAX];
    url_for_display(base.data, display, sizeof display);
    struct fetch_options fo = *transport;
    struct fetch_result res;
    fo.url = base.data;
    rc = fetch_to_buffer(&fo, CATALOG_MAX_SIZE, &body, &res, err);
    if (rc != UG_OK)
        goto out;
    fo.url = sig_url.data;
    memset(&res, 0, sizeof res);
    rc = fetch_to_buffer(&fo, 1u << 20, &sig, &res, err);
    if (rc != UG_OK && res.not_found) {
        rc = ug_fail(err, UG_ERR_VERIFY, "%s: catalog is not signed (no %s.sig on the server)",
                     display, display);
        goto out;
    }
    if (rc != UG_OK)
        goto out;
    rc = sign_verify(keyring, body.data, body.len, sig.data, sig.len, display, err);
    if (rc == UG_OK)
        rc = catalog_parse(body.data, body.len, base.data, out, err);
out:
    buf_free(&base);
    buf_free(&sig_url);
    buf_free(&body);
    buf_free(&sig);
    return rc;
}

/* ---- state, progress and reports */

static void notify(struct pass *p)
{
    if (p->o->progress)
        p->o->progress(p->o->progress_ctx, &p->st.status);
}

static ug_err save(struct pass *p, char *err)
{
    ug_err rc = upgrade_state_save(p->root, &p->st, err);
    notify(p);
    return rc;
}

/* state NULL keeps the current one; result NULL keeps the last result. */
static void set_state(struct pass *p, const char *state, const char *result, const char *reason)
{
    struct upgrade_status *s = &p->st.status;
    if (state)
        snprintf(s->state, sizeof s->state, "%s", state);
    if (result)
        snprintf(s->last_result, sizeof s->last_result, "%s", result);
    snprintf(s->reason, sizeof s->reason, "%s", reason ? reason : "");
}

static void summarise(struct pass *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void summarise(struct pass *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->out->summary, sizeof p->out->summary, fmt, ap);
    va_end(ap);
}

/* Sends one of the Log_Upgrade_*_Msg templates to Syslog_Server, expanded for url and $ERR. */
static void log_upgrade(struct pass *p, const char *template_param, const char *url,
                        const char *result, int priority)
{
    const char *tpl = params_value(&p->a.params, template_param);
    if (!tpl || !tpl[0])
        return;
    struct macro_context ctx;
    char ignored[UG_ERRBUF];
    if (agent_macro_context(&p->a, &ctx, ignored) != UG_OK)
        return;
    struct rule_url u = {0};
    if (url && url[0] && rule_parse_url(url, NULL, 0, &u, ignored) == UG_OK) {
        char scheme[8];
        for (size_t i = 0; i < sizeof scheme; i++)
            scheme[i] =
                (char)(u.scheme[i] >= 'a' && u.scheme[i] <= 'z' ? u.scheme[i] - 32 : u.scheme[i]);
        char port[16];
        snprintf(port, sizeof port, "%d", u.port);
        if (macro_set(&ctx, "SCHEME", scheme, ignored) != UG_OK ||
            macro_set(&ctx, "SERV", u.host, ignored) != UG_OK ||
            macro_set(&ctx, "SERVIP", u.host, ignored) != UG_OK ||
            macro_set(&ctx, "PORT", port, ignored) != UG_OK ||
            macro_set(&ctx, "PATH", u.path, ignored) != UG_OK)
            goto out;
    }
    if (macro_set(&ctx, "ERR", result, ignored) == UG_OK)
        (void)!agent_log(&p->a, &ctx, template_param, priority, ignored); /* best effort */
out:
    rule_url_free(&u);
    macro_free(&ctx);
}

static void retry_list(struct pass *p, struct delay_list *list)
{
    char ignored[UG_ERRBUF];
    const char *text = params_value(&p->a.params, "Upgrade_Error_Retry_Delay");
    if (!text || delay_parse(text, list, ignored) != UG_OK)
        memset(list, 0, sizeof *list);
}

/* Records a failed attempt of release (its version, or its URL) everywhere an operator looks:
 * status ($UPGERR, $UPGST=2), the failure list that gates the retry, syslog. Returns rc. */
static ug_err record_failure(struct pass *p, ug_err rc, const char *version, const char *url,
                             const char *result, char *err)
{
    struct delay_list retry;
    struct delay_rng rng;
    retry_list(p, &retry);
    delay_rng_seed(&rng, (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32));
    struct upgrade_status *s = &p->st.status;
    set_state(p, UPGRADE_FAILED, result ? result : ug_err_name(rc), NULL);
    snprintf(s->last_error, sizeof s->last_error, "%s", err);
    s->upgst = 2;
    if ((version && version[0]) || (url && url[0])) {
        upgrade_record_failure(&p->st, version, url, err, &retry, delay_rng_next, &rng, time(NULL));
        const struct upgrade_failure *f = upgrade_find_failure(&p->st, version, url);
        snprintf(s->reason, sizeof s->reason,
                 "%.300s failed %d time%s; next try not before %lld (Upgrade_Error_Retry_Delay)",
                 version && version[0] ? version : url, f->count, f->count == 1 ? "" : "s",
                 f->retry_after);
    }
    char ignored[UG_ERRBUF];
    if (upgrade_state_save(p->root, &p->st, ignored) != UG_OK)
        fprintf(stderr, "upgrader: cannot record the failure: %s\n", ignored);
    notify(p);
    log_upgrade(p, "Log_Upgrade_Failure_Msg", s->url, err, SYSLOG_SEVERITY_ERR);
    return rc;
}

/* A change of the boot state starts here: under its lock (bootctl by hand must not
 * interleave), from the medium (bootctl or the bootloader may have changed it since). */
static ug_err boot_change_begin(struct pass *p, char *err)
{
    ug_err rc = p->boot_lock >= 0
                    ? UG_OK
                    : bootstate_lock(p->bootenv, BOOTSTATE_LOCK_WAIT_MS, &p->boot_lock, err);
    if (rc == UG_OK)
        rc = bootstate_load(p->bootenv, &p->a.boot, err);
    if (rc != UG_OK) {
        bootstate_unlock(&p->boot_lock);
        ug_prefix(err, "boot state: ");
    }
    return rc;
}

/* ... and ends here: saved (flushed) if rc, the change's outcome, is UG_OK; the lock is
 * released either way. Returns the first failure. */
static ug_err boot_change_end(struct pass *p, ug_err rc, char *err)
{
    if (rc == UG_OK)
        rc = bootstate_save(p->bootenv, &p->a.boot, err);
    bootstate_unlock(&p->boot_lock);
    return rc;
}

static void on_install_progress(void *ctx, uint64_t done, uint64_t total)
{
    struct pass *p = ctx;
    struct upgrade_status *s = &p->st.status;
    s->bytes_done = done;
    s->bytes_total = total;
    /* A bundle rule names no version: the verified manifest, read before any byte, does. */
    if (!s->version[0] && p->installing && p->installing->version[0])
        snprintf(s->version, sizeof s->version, "%s", p->installing->version);
    time_t now = time(NULL);
    if (now - p->last_write >= PROGRESS_WRITE_SECONDS ||
        done - p->last_written_bytes >= PROGRESS_WRITE_BYTES || done == total) {
        char ignored[UG_ERRBUF];
        /* Progress is informative: a failed write must not abort the install. */
        if (upgrade_state_save(p->root, &p->st, ignored) == UG_OK) {
            p->last_write = now;
            p->last_written_bytes = done;
        }
    }
    notify(p);
}

/* ---- the pass */

static const char *slot_file(char letter)
{
    return letter == 'A' ? DEVICE_SLOT_A_FILE : DEVICE_SLOT_B_FILE;
}

/* Writes the hop into the inactive slot. On return UG_OK the slot holds every byte verified,
 * its version is recorded, and it is still unbootable. */
static ug_err install_hop(struct pass *p, struct hop *h, const struct fetch_options *fo, char *err)
{
    ug_err rc = boot_change_begin(p, err);
    if (rc != UG_OK)
        return rc;
    struct bootstate *bs = &p->a.boot;
    int inactive = bs->booted == BOOTSTATE_SLOT_A ? BOOTSTATE_SLOT_B : BOOTSTATE_SLOT_A;
    char letter = bootstate_slot_letter(inactive);

    /* Power-loss ordering, step 1: before its first byte changes, the slot is made
     * unbootable and forgets its version, and that is flushed (bootstate_save fsyncs).
     * A cut during the write then leaves a slot the bootloader never picks, and a
     * version that no longer matches upgrade.json, so it is never trusted as written. */
    if ((rc = bootstate_mark_bad(bs, inactive, err)) == UG_OK)
        rc = bootstate_set_version(bs, inactive, "", err);
    if ((rc = boot_change_end(p, rc, err)) != UG_OK)
        return rc;
    struct upgrade_pending *pend = &p->st.pending;
    pend->state = PENDING_WRITING;
    pend->slot = letter;
    snprintf(pend->version, sizeof pend->version, "%s", h->version);
    snprintf(pend->url, sizeof pend->url, "%s", h->display);
    struct upgrade_status *s = &p->st.status;
    set_state(p, UPGRADE_DOWNLOADING, NULL, NULL);
    s->slot = letter;
    s->bytes_done = s->bytes_total = 0;
    if ((rc = save(p, err)) != UG_OK)
        return rc;
    log_upgrade(p, "Log_Upgrade_Request_Msg", h->display, "", SYSLOG_SEVERITY_INFO);

    char slot_path[1100], resume[1100];
    agent_path(&p->a, slot_file(letter), slot_path, sizeof slot_path);
    agent_path(&p->a, UPGRADE_RESUME_FILE, resume, sizeof resume);
    const char *limit = params_value(&p->a.params, "Downgrade_Rev_Limit");
    struct install_request req = {
        .url = h->bundle_url,
        .fetch = fo,
        .keyring = p->a.keyring,
        .slot_location = slot_path,
        .slot_backend = "file",
        .product = p->a.dev.product,
        .hardware = p->a.dev.hwver,
        .running_version = p->a.running_version,
        .downgrade_limit = limit && limit[0] ? limit : NULL,
        .expected_version = h->version[0] ? h->version : NULL,
        .resume_file = resume,
        .progress = on_install_progress,
        .progress_ctx = p,
    };
    struct install_result res = {0};
    p->last_write = time(NULL);
    p->last_written_bytes = 0;
    p->installing = &res;
    rc = install_bundle(&req, &res, err);
    p->installing = NULL;
    if (rc != UG_OK)
        return rc;
    snprintf(h->version, sizeof h->version, "%s", res.version);

    /* Step 2: the version is recorded in the boot state while the slot is still unbootable
     * (flushed), then upgrade.json says "verified". A cut between the two leaves a slot that
     * is simply written again; upgrade.json never claims a slot the boot state does not. */
    if ((rc = boot_change_begin(p, err)) != UG_OK ||
        (rc = boot_change_end(p, bootstate_set_version(bs, inactive, res.version, err), err)) !=
            UG_OK)
        return rc;
    pend->state = PENDING_VERIFIED;
    snprintf(pend->version, sizeof pend->version, "%s", res.version);
    snprintf(s->version, sizeof s->version, "%s", res.version);
    s->bytes_done = s->bytes_total = res.image_size;
    set_state(p, UPGRADE_VERIFIED, NULL, NULL);
    return save(p, err);
}

/* Makes the verified pending slot the one that boots next, and reboots unless told not to. */
static ug_err switch_and_reboot(struct pass *p, char *err)
{
    struct upgrade_pending *pend = &p->st.pending;
    struct upgrade_status *s = &p->st.status;
    int calls = 0;
    ug_err rc = call_active_count(p->root, &calls, err);
    if (rc != UG_OK)
        return rc;
    if (calls > 0) {
        char reason[256];
        snprintf(reason, sizeof reason,
                 "%d call%s active: slot %c holds verified %s; the next pass switches to it", calls,
                 calls == 1 ? "" : "s", pend->slot, pend->version);
        set_state(p, UPGRADE_DEFERRED, ug_err_name(UG_ERR_DEFERRED), reason);
        if ((rc = save(p, err)) != UG_OK)
            return rc;
        summarise(p, "deferred: %s", reason);
        return ug_fail(err, UG_ERR_DEFERRED, "%s", reason);
    }
    if ((rc = boot_change_begin(p, err)) != UG_OK)
        return rc;
    struct bootstate *bs = &p->a.boot;
    int slot = bootstate_slot_from_letter((char[]){pend->slot, 0});
    if (strcmp(bs->slot[slot].version, pend->version) != 0)
        return boot_change_end(p,
                               ug_fail(err, UG_ERR_OTHER,
                                       "slot %c no longer holds %s (boot state says '%s'); "
                                       "not switching",
                                       pend->slot, pend->version, bs->slot[slot].version),
                               err);
    /* Power-loss ordering, step 3: only now, every byte verified and flushed, does the slot
     * become bootable; the boot state write is the switch. upgrade.json follows, and
     * `upgrader boot` accepts a booted slot that upgrade.json still calls "verified". */
    if ((rc = boot_change_end(p, bootstate_set_active(bs, slot, UPGRADE_SLOT_TRIES, err), err)) !=
        UG_OK)
        return rc;
    pend->state = PENDING_SWITCHED;
    set_state(p, UPGRADE_SWITCHED, "ok", NULL);
    snprintf(s->reason, sizeof s->reason, "slot %c (%s) boots next with %d tries", pend->slot,
             pend->version, UPGRADE_SLOT_TRIES);
    if ((rc = save(p, err)) != UG_OK)
        return rc;
    if (p->o->no_reboot) {
        summarise(
            p,
            "hop %d of %d: slot %c holds verified %s and boots next (--no-reboot: reboot to run it)",
            s->hop, s->hops, pend->slot, pend->version);
        return UG_OK;
    }
    struct devconf conf;
    if ((rc = devconf_load(p->root, &conf, err)) != UG_OK)
        return rc;
    rc = devconf_run(conf.reboot_command, p->root, NULL, "reboot_command", err);
    if (rc != UG_OK) {
        ug_prefix(err, "switched to slot %c (%s), but the reboot failed: ", pend->slot,
                  pend->version);
        return rc;
    }
    summarise(p, "hop %d of %d: slot %c holds verified %s; rebooting into it", s->hop, s->hops,
              pend->slot, pend->version);
    return UG_OK;
}

static int enabled(const char *value)
{
    return !value || paramdefs_parse_bool(value) != 0;
}

static void finish_plan(struct pass *p, const char *target)
{
    struct upgrade_status *s = &p->st.status;
    set_state(p, UPGRADE_DONE, "ok", NULL);
    snprintf(s->reason, sizeof s->reason, "running %s: nothing more to install", target);
    s->upgst = 1;
    s->last_error[0] = '\0';
    s->bytes_done = s->bytes_total = 0;
    s->slot = 0;
    p->st.failure_streak = 0;
    p->st.plan.active = 0;
}

/* Evaluates the entry rule, plans the next hop and carries it out. continuing: run by
 * `upgrader boot` for the next hop of a plan in progress (the acted-on memory does not apply). */
static ug_err run_pass(struct pass *p, int continuing, char *err)
{
    struct upgrade_state *st = &p->st;
    struct upgrade_status *s = &st->status;
    ug_err rc = UG_OK;
    if (!enabled(params_value(&p->a.params, "Upgrade_Enable"))) {
        set_state(p, UPGRADE_DISABLED, "disabled", "Upgrade_Enable is No: no upgrade is attempted");
        summarise(p, "nothing done: Upgrade_Enable is No");
        return save(p, err);
    }
    /* A slot written and verified by an earlier pass (a call deferred its switch) is only
     * switched to: nothing is downloaded again. */
    if (upgrade_slot_holds(&p->a.boot, &st->pending, st->pending.version, st->pending.url))
        return switch_and_reboot(p, err);

    int stored = continuing ? st->plan.stored_rule : !p->o->rule;
    const char *rule = stored       ? params_value(&p->a.params, "Upgrade_Rule")
                       : continuing ? st->plan.rule
                                    : p->o->rule;
    if (!rule || !rule[strspn(rule, " \t\r\n")]) {
        set_state(p, st->plan.active ? NULL : UPGRADE_IDLE, "nothing-to-do",
                  "no Upgrade_Rule is set");
        summarise(p, "nothing done: no Upgrade_Rule is set");
        return save(p, err);
    }
    struct macro_context mctx;
    struct rule_result r = {0};
    struct catalog cat = {0};
    struct plan plan = {0};
    struct hop hop = {0};
    char upgst[8];
    snprintf(upgst, sizeof upgst, "%d", s->upgst ? s->upgst : 1);
    if ((rc = agent_macro_context(&p->a, &mctx, err)) != UG_OK)
        return rc;
    if ((rc = macro_set(&mctx, "UPGST", upgst, err)) == UG_OK &&
        (rc = macro_set(&mctx, "UPGERR", s->last_error, err)) == UG_OK)
        rc = rule_eval(rule, RULE_UPGRADE, &mctx, NULL, &r, err);
    macro_free(&mctx);
    if (rc != UG_OK) {
        ug_prefix(err, "%s: ", stored ? "Upgrade_Rule" : "rule");
        record_failure(p, rc, NULL, NULL, NULL, err);
        goto out;
    }
    if (!r.matched || !r.has_url) {
        set_state(p, UPGRADE_IDLE, "nothing-to-do",
                  "no alternative of the rule applies (its conditions exclude this device)");
        st->plan.active = 0;
        summarise(p, "nothing done: %s", s->reason);
        rc = save(p, err);
        goto out;
    }
    if (r.key || r.post || r.alias) {
        rc = ug_fail(err, UG_ERR_USAGE,
                     "Upgrade_Rule: --key, --post and --alias mean nothing for a signed bundle "
                     "(only --uid and --pwd apply)");
        record_failure(p, rc, NULL, NULL, NULL, err);
        goto out;
    }
    char display[FETCH_URL_MAX];
    url_for_display(r.url.text, display, sizeof display);
    snprintf(s->url, sizeof s->url, "%s", display);
    if (!continuing && stored && !p->o->force &&
        upgrade_rule_acted(st, r.conditional, rule, display)) {
        set_state(p, NULL, "nothing-to-do",
                  "Upgrade_Rule was acted on already; it is tried again when its "
                  "text or its URL changes (docs/provisioning.md 4.2)");
        summarise(p, "nothing done: %s", s->reason);
        rc = save(p, err);
        goto out;
    }

    struct fetch_options fo;
    agent_fetch_options(&p->a, &fo);
    fo.username = r.uid;
    fo.password = r.pwd;
    if (!p->a.keyring[0]) {
        rc = ug_fail(err, UG_ERR_VERIFY,
                     "%s/%s missing: nothing can be verified, so nothing is installed", p->root,
                     DEVICE_KEYRING_FILE);
        record_failure(p, rc, NULL, NULL, NULL, err);
        goto out;
    }
    int is_catalog = upgrade_url_is_catalog(r.url.text);
    const char *fragment = strchr(r.url.text, '#');
    const char *target = is_catalog && fragment && fragment[1] ? fragment + 1 : "latest";
    int same_plan =
        st->plan.active && st->plan.catalog == is_catalog && strcmp(st->plan.url, display) == 0;
    int nhops_left = 1;
    if (is_catalog) {
        rc = upgrade_load_catalog(r.url.text, &fo, p->a.keyring, &cat, err);
        if (rc == UG_OK && strcmp(cat.product, p->a.dev.product) != 0)
            rc = ug_fail(err, UG_ERR_VERIFY, "%s: a catalog of product %s; this device is %s",
                         display, cat.product, p->a.dev.product);
        const char *limit = params_value(&p->a.params, "Downgrade_Rev_Limit");
        struct plan_request preq = {.from = p->a.running_version,
                                    .to = target,
                                    .hardware = p->a.dev.hwver,
                                    .downgrade_limit = limit};
        if (rc == UG_OK)
            rc = planner_plan(&cat, &preq, &plan, err);
        if (rc != UG_OK) {
            record_failure(p, rc, NULL, display, NULL, err);
            goto out;
        }
        if (plan.nhops == 0) {
            upgrade_record_success(st, NULL, display);
            finish_plan(p, p->a.running_version);
            snprintf(s->target, sizeof s->target, "%s", plan.target);
            if (stored && !r.conditional && upgrade_state_set_acted(st, rule, display) != 0)
                rc = ug_oom(err);
            summarise(p, "nothing to do: already at %s", plan.target);
            if (rc == UG_OK)
                rc = save(p, err);
            goto out;
        }
        same_plan = same_plan && strcmp(st->plan.target, plan.target) == 0;
        nhops_left = (int)plan.nhops;
        snprintf(hop.version, sizeof hop.version, "%s", plan.hops[0].release->version);
        hop.bundle_url = strdup(plan.hops[0].release->bundle_url);
    } else {
        hop.bundle_url = strdup(r.url.text);
    }
    if (!hop.bundle_url) {
        rc = ug_oom(err);
        goto out;
    }
    url_for_display(hop.bundle_url, hop.display, sizeof hop.display);

    /* The plan record lets `upgrader boot` take the next hop after the reboot. */
    if (!same_plan) {
        st->plan.active = 1;
        st->plan.catalog = is_catalog;
        st->plan.stored_rule = stored;
        st->plan.hops_done = 0;
        st->plan.hops_total = nhops_left;
        snprintf(st->plan.url, sizeof st->plan.url, "%s", display);
        snprintf(st->plan.target, sizeof st->plan.target, "%s", is_catalog ? plan.target : "");
        if (upgrade_state_set_plan_rule(st, stored ? NULL : rule) != 0) {
            rc = ug_oom(err);
            goto out;
        }
    }
    st->plan.hops_total = st->plan.hops_done + nhops_left;
    s->hop = st->plan.hops_done + 1;
    s->hops = st->plan.hops_total;
    snprintf(s->target, sizeof s->target, "%s", st->plan.target);
    snprintf(s->version, sizeof s->version, "%s", hop.version);
    snprintf(s->url, sizeof s->url, "%s", hop.display);

    const char *release = hop.version[0] ? hop.version : hop.display;
    if (!p->o->force && !upgrade_retry_due(st, hop.version, hop.display, time(NULL))) {
        const struct upgrade_failure *f = upgrade_find_failure(st, hop.version, hop.display);
        set_state(p, UPGRADE_FAILED, "retry-not-due", NULL);
        snprintf(s->reason, sizeof s->reason,
                 "%.100s failed (%.100s); not retried before %lld (Upgrade_Error_Retry_Delay)",
                 release, f->reason, f->retry_after);
        summarise(p, "nothing done: %s", s->reason);
        rc = save(p, err);
        goto out;
    }
    if (!upgrade_slot_holds(&p->a.boot, &st->pending, hop.version, hop.display)) {
        rc = install_hop(p, &hop, &fo, err);
        if (rc != UG_OK) {
            /* The slot stays unbootable (step 1 above) and the running slot untouched. */
            record_failure(p, rc, hop.version, hop.display, NULL, err);
            goto out;
        }
        log_upgrade(p, "Log_Upgrade_Success_Msg", hop.display, "verified", SYSLOG_SEVERITY_INFO);
    }
    rc = switch_and_reboot(p, err);
out:
    free(hop.bundle_url);
    plan_free(&plan);
    catalog_free(&cat);
    rule_result_free(&r);
    return rc;
}

static ug_err open_pass(struct pass *p, const char *root, const struct upgrade_options *o,
                        struct upgrade_outcome *out, char *err)
{
    memset(p, 0, sizeof *p);
    memset(out, 0, sizeof *out);
    p->root = root;
    p->o = o;
    p->out = out;
    p->lock_fd = -1;
    p->boot_lock = -1;
    ug_err rc = agent_open(root, 0, &p->a, err);
    if (rc != UG_OK)
        return rc;
    /* One pass at a time (a boot, the daemon, an operator): two writers of the same slot
     * and the same upgrade.json would undo each other. The kernel drops the lock if the
     * holder dies, so a killed pass never blocks the next one. */
    char lock[1100];
    agent_path(&p->a, "upgrade.lock", lock, sizeof lock);
    p->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (p->lock_fd < 0)
        return ug_fail(err, UG_ERR_OTHER, "%s: cannot open: %s", lock, strerror(errno));
    if (flock(p->lock_fd, LOCK_EX | LOCK_NB) != 0)
        return ug_fail(err, UG_ERR_OTHER,
                       "another upgrade pass or boot is running in %s (%s is locked)", root, lock);
    agent_path(&p->a, DEVICE_BOOTENV_FILE, p->bootenv, sizeof p->bootenv);
    if (!p->a.boot_valid)
        return ug_fail(err, UG_ERR_OTHER,
                       "%s: no valid boot state, so the running version is unknown", p->bootenv);
    return upgrade_state_load(root, &p->st, err);
}

static void close_pass(struct pass *p)
{
    upgrade_state_free(&p->st);
    agent_close(&p->a);
    bootstate_unlock(&p->boot_lock);
    if (p->lock_fd >= 0)
        close(p->lock_fd);
    p->lock_fd = -1;
}

ug_err upgrade_pass(const char *root, const struct upgrade_options *o, struct upgrade_outcome *out,
                    char *err)
{
    struct pass p;
    ug_err rc = open_pass(&p, root, o, out, err);
    /* Writing the other slot while the running one is unconfirmed could leave no good slot. */
    if (rc == UG_OK && !p.a.boot.slot[p.a.boot.booted].successful)
        rc = ug_fail(err, UG_ERR_OTHER,
                     "slot %c booted but is not marked good yet; run 'upgrader boot' first",
                     p.a.running_slot);
    if (rc == UG_OK)
        rc = run_pass(&p, 0, err);
    close_pass(&p);
    return rc;
}

/* The health check of a freshly booted release: the configured command, or by default the
 * proof that the agent reads its own state (it already has, to get here). */
static ug_err health_check(struct pass *p, char *err)
{
    struct devconf conf;
    ug_err rc = devconf_load(p->root, &conf, err);
    if (rc != UG_OK || !conf.health_check[0])
        return rc;
    char env[96];
    snprintf(env, sizeof env, "UPGRADER_VERSION=%s", p->a.running_version);
    return devconf_run(conf.health_check, p->root, env, "health_check", err);
}

static ug_err mark_booted_good(struct pass *p, char *err)
{
    ug_err rc = boot_change_begin(p, err);
    if (rc != UG_OK)
        return rc;
    if (p->a.boot.slot[p->a.boot.booted].successful) { /* nothing to write */
        bootstate_unlock(&p->boot_lock);
        return UG_OK;
    }
    return boot_change_end(p, bootstate_mark_good(&p->a.boot, err), err);
}

static ug_err confirm_new(struct pass *p, char *err)
{
    struct upgrade_state *st = &p->st;
    struct upgrade_status *s = &st->status;
    char version[UPGRADE_TEXT_MAX];
    snprintf(version, sizeof version, "%s", st->pending.version);
    ug_err rc = health_check(p, err);
    if (rc != UG_OK) {
        /* Not marked good: the reboot uses up another try, and after the last one the
         * bootloader falls back to the old slot, which the next boot reports. */
        char reason[UG_ERRBUF];
        snprintf(reason, sizeof reason, "%s", err);
        set_state(p, NULL, "health-check-failed", NULL);
        snprintf(s->reason, sizeof s->reason,
                 "health check failed on slot %c (%s); rebooting (tries left: %u)",
                 st->pending.slot, version, p->a.boot.slot[p->a.boot.booted].tries);
        snprintf(s->last_error, sizeof s->last_error, "%s", reason);
        char ignored[UG_ERRBUF];
        if (save(p, ignored) != UG_OK)
            fprintf(stderr, "upgrader: %s\n", ignored);
        struct devconf conf;
        if (devconf_load(p->root, &conf, ignored) == UG_OK && !p->o->no_reboot &&
            devconf_run(conf.reboot_command, p->root, NULL, "reboot_command", ignored) != UG_OK)
            fprintf(stderr, "upgrader: %s\n", ignored);
        return ug_fail(err, UG_ERR_OTHER, "slot %c (%s) not marked good: %s", st->pending.slot,
                       version, reason);
    }
    /* mark-good first, then upgrade.json: a cut between the two repeats the confirmation. */
    if ((rc = mark_booted_good(p, err)) != UG_OK)
        return rc;
    upgrade_record_success(st, version, st->pending.url);
    memset(&st->pending, 0, sizeof st->pending);
    st->plan.hops_done++;
    s->upgst = 1;
    s->last_error[0] = '\0';
    snprintf(s->version, sizeof s->version, "%s", version);
    log_upgrade(p, "Log_Upgrade_Success_Msg", s->url, "booted and marked good",
                SYSLOG_SEVERITY_INFO);
    if (!st->plan.catalog || st->plan.hops_done >= st->plan.hops_total) {
        /* A bundle rule is one hop: reaching it is the plan done. A catalog plan is
         * re-planned below, which finds the target reached or the next hop. */
        if (!st->plan.catalog) {
            finish_plan(p, version);
            if (st->plan.stored_rule) {
                const char *rule = params_value(&p->a.params, "Upgrade_Rule");
                if (rule && upgrade_state_set_acted(st, rule, st->plan.url) != 0)
                    return ug_oom(err);
            }
        }
    }
    set_state(p, st->plan.active ? UPGRADE_IDLE : UPGRADE_DONE, "ok", NULL);
    snprintf(s->reason, sizeof s->reason, "slot %c booted %s and is marked good (hop %d of %d)",
             bootstate_slot_letter(p->a.boot.booted), version, st->plan.hops_done,
             st->plan.hops_total);
    summarise(p, "%s", s->reason);
    return save(p, err);
}

static ug_err record_rollback(struct pass *p, char *err)
{
    struct upgrade_state *st = &p->st;
    char slot = st->pending.slot;
    char version[UPGRADE_TEXT_MAX], url[FETCH_URL_MAX];
    snprintf(version, sizeof version, "%s", st->pending.version);
    snprintf(url, sizeof url, "%s", st->pending.url);
    ug_err rc = boot_change_begin(p, err);
    if (rc != UG_OK)
        return rc;
    int idx = bootstate_slot_from_letter((char[]){slot, 0});
    char why[UG_ERRBUF];
    if (p->a.boot.fallback)
        snprintf(
            why, sizeof why,
            "rollback: %s in slot %c never reached mark-good within its %d tries; slot %c (%s) "
            "booted instead",
            version, slot, UPGRADE_SLOT_TRIES, p->a.running_slot, p->a.running_version);
    else
        snprintf(why, sizeof why,
                 "rollback: %s in slot %c was made unbootable before it booted; slot %c (%s) runs",
                 version, slot, p->a.running_slot, p->a.running_version);
    /* The failed slot loses its priority for good (and with it the fallback report). */
    if ((rc = boot_change_end(p, bootstate_mark_bad(&p->a.boot, idx, err), err)) != UG_OK)
        return rc;
    memset(&st->pending, 0, sizeof st->pending);
    snprintf(err, UG_ERRBUF, "%s", why);
    record_failure(p, UG_ERR_OTHER, version, url, "rolled-back", err);
    const struct upgrade_failure *f = upgrade_find_failure(st, version, url);
    summarise(p, "%s; not retried before %lld", why, f ? f->retry_after : 0LL);
    err[0] = '\0';
    return mark_booted_good(p, err);
}

ug_err upgrade_boot(const char *root, const struct upgrade_options *o, struct upgrade_outcome *out,
                    char *err)
{
    struct pass p;
    ug_err rc = open_pass(&p, root, o, out, err);
    if (rc != UG_OK)
        goto out;
    enum upgrade_boot_action action = upgrade_decide_boot(&p.a.boot, &p.st.pending);
    int continue_plan = 0;
    switch (action) {
    case BOOT_ACTION_CONFIRM_NEW:
        rc = confirm_new(&p, err);
        continue_plan = rc == UG_OK;
        break;
    case BOOT_ACTION_ROLLBACK:
        rc = record_rollback(&p, err);
        break;
    case BOOT_ACTION_STALE_PENDING:
        memset(&p.st.pending, 0, sizeof p.st.pending);
        if ((rc = save(&p, err)) != UG_OK)
            break;
        /* the booted slot may still need confirming */
        __attribute__((fallthrough));
    case BOOT_ACTION_NONE:
    case BOOT_ACTION_MARK_GOOD:
    case BOOT_ACTION_KEEP_PENDING:
        if (!p.a.boot.slot[p.a.boot.booted].successful && (rc = health_check(&p, err)) == UG_OK)
            rc = mark_booted_good(&p, err);
        if (rc == UG_OK && action == BOOT_ACTION_KEEP_PENDING)
            summarise(&p, "slot %c holds verified %s (%s); the next upgrade pass %s",
                      p.st.pending.slot, p.st.pending.version, p.st.status.state,
                      p.st.pending.state == PENDING_WRITING ? "writes it again" : "switches to it");
        else if (rc == UG_OK)
            summarise(&p, "slot %c (%s) is good", p.a.running_slot, p.a.running_version);
        /* A plan whose continuation was cut off (a power cut after mark-good) goes on. */
        continue_plan = rc == UG_OK && action != BOOT_ACTION_KEEP_PENDING && p.st.plan.active &&
                        p.st.plan.catalog && strcmp(p.st.status.state, UPGRADE_FAILED) != 0;
        break;
    }
    if (continue_plan && p.st.plan.active && p.st.plan.catalog) {
        /* docs/provisioning.md 4.2: after each upgrade attempt the phone resyncs, so the provider
         * can change the plan (a new Upgrade_Rule) between hops. A failed resync is recorded
         * in resync.json and does not stop the upgrade. The agent is opened again so the
         * next pass sees what the resync changed. */
        if (paramdefs_parse_bool(params_value(&p.a.params, "Resync_After_Upgrade_Attempt")) == 1) {
            struct resync_options ro;
            struct resync_report report;
            char resync_err[UG_ERRBUF] = "";
            resync_options_init(&ro);
            (void)!resync_run(root, &ro, &report, resync_err); /* recorded in resync.json */
            resync_report_free(&report);
            agent_close(&p.a);
            rc = agent_open(root, 0, &p.a, err);
            if (rc != UG_OK)
                goto out;
        }
        char first[sizeof out->summary];
        snprintf(first, sizeof first, "%s", out->summary);
        rc = run_pass(&p, 1, err);
        char next[sizeof out->summary];
        snprintf(next, sizeof next, "%s", out->summary);
        if (next[0] && strcmp(next, first) != 0)
            snprintf(out->summary, sizeof out->summary, "%.380s; %.380s", first, next);
    }
out:
    close_pass(&p);
    return rc;
}
