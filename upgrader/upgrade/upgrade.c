/* SPDX-License-Identifier: MIT */
/* The upgrade pass (docs/upgrade.md): the entry rule evaluated, the next hop planned (from a
 * catalog, or one bundle), recorded, installed into the inactive slot and switched to. Each
 * step either hands on to the next or ends the pass with what it recorded. */
#include "upgrade/upgrade.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang/paramdefs.h"
#include "net/syslog_udp.h"
#include "net/url.h"
#include "upgrade/catalog.h"
#include "upgrade/hop.h"
#include "upgrade/pass.h"
#include "upgrade/planner.h"

/* What the pass starts from: the rule, and what it evaluated to. */
struct entry {
    int stored;       /* the stored Upgrade_Rule, else the RULE argument or the plan's rule */
    const char *rule; /* its text */
    struct rule_result r;
    char display[FETCH_URL_MAX]; /* its URL without credentials */
    struct fetch_options fo;     /* the transport for the catalog and the bundle */
};

/* Where the entry leads: a catalog plan or one bundle, and the hop to take now. */
struct target {
    int is_catalog;
    struct catalog cat;
    struct plan plan;
    int hops_left; /* this hop included */
    struct hop hop;
};

static int enabled(const char *value)
{
    return !value || paramdefs_parse_bool(value) != 0;
}

/* Ends the pass with nothing done: the reason recorded and summarised. */
static ug_err nothing_done(struct pass *p, const char *reason, char *err)
{
    pass_set_result(p, "nothing-to-do", reason);
    pass_summarise(p, "nothing done: %s", reason);
    return pass_save(p, err);
}

/* The rule the pass follows; NULL (after recording why) when there is none. */
static const char *choose_rule(struct pass *p, int *stored)
{
    const struct upgrade_state *st = &p->st;
    *stored = p->o->continuing ? st->plan.stored_rule : !p->o->rule;
    const char *rule = *stored            ? params_value(&p->s->params, "Upgrade_Rule")
                       : p->o->continuing ? st->plan.rule
                                          : p->o->rule;
    return rule && rule[strspn(rule, " \t\r\n")] ? rule : NULL;
}

/* Evaluates the rule with $UPGST and $UPGERR; *finished when it leads nowhere. */
static ug_err evaluate_rule(struct pass *p, struct entry *e, int *finished, char *err)
{
    struct upgrade_status *s = &p->st.status;
    struct macro_context ctx;
    char upgst[8];
    snprintf(upgst, sizeof upgst, "%d", s->upgst ? s->upgst : 1);
    ug_err rc = session_macro_context(p->s, &ctx, err);
    if (rc != UG_OK)
        return rc;
    if ((rc = macro_set(&ctx, "UPGST", upgst, err)) == UG_OK &&
        (rc = macro_set(&ctx, "UPGERR", s->last_error, err)) == UG_OK)
        rc = rule_eval(e->rule, RULE_UPGRADE, &ctx, NULL, &e->r, err);
    macro_free(&ctx);
    *finished = 1;
    if (rc != UG_OK) {
        ug_prefix(err, "%s: ", e->stored ? "Upgrade_Rule" : "rule");
        return pass_record_failure(p, rc, NULL, NULL, NULL, err);
    }
    if (!e->r.matched || !e->r.has_url) {
        p->st.plan.active = 0;
        pass_set_state(p, UPGRADE_IDLE, NULL, NULL);
        return nothing_done(
            p, "no alternative of the rule applies (its conditions exclude this device)", err);
    }
    if (e->r.key || e->r.post || e->r.alias) {
        rc = ug_fail(err, UG_ERR_USAGE,
                     "Upgrade_Rule: --key, --post and --alias mean nothing for a signed bundle "
                     "(only --uid and --pwd apply)");
        return pass_record_failure(p, rc, NULL, NULL, NULL, err);
    }
    *finished = 0;
    return UG_OK;
}

/* A download of the pass: given up below Upgrade_Min_Rate for Upgrade_Min_Rate_Window, and
 * after Upgrade_Download_Deadline, so a trickling server cannot hold the pass (and its lock)
 * for ever. */
static void bound_downloads(const struct session *s, struct fetch_options *fo)
{
    long rate = atol(params_value(&s->params, "Upgrade_Min_Rate"));
    long window = atol(params_value(&s->params, "Upgrade_Min_Rate_Window"));
    long deadline = atol(params_value(&s->params, "Upgrade_Download_Deadline"));
    if (rate > 0) {
        fo->low_speed_limit = rate;
        fo->low_speed_time_s = window > 0 ? window : 1;
    }
    fo->timeout_ms = deadline > 0 ? deadline * 1000 : 0;
}

/* Whether the evaluated rule may be acted on now; *finished when not. */
static ug_err check_entry(struct pass *p, struct entry *e, int *finished, char *err)
{
    struct upgrade_status *s = &p->st.status;
    url_for_display(e->r.url.text, e->display, sizeof e->display);
    snprintf(s->url, sizeof s->url, "%s", e->display);
    *finished = 1;
    if (!p->o->continuing && e->stored && !p->o->force &&
        upgrade_rule_acted(&p->st, e->r.conditional, e->rule, e->display))
        return nothing_done(p,
                            "Upgrade_Rule was acted on already; it is tried again when its "
                            "text or its URL changes (docs/provisioning.md 4.2)",
                            err);
    if (!p->s->keyring) {
        ug_err rc = ug_fail(err, UG_ERR_VERIFY,
                            "%s missing: nothing can be verified, so nothing is installed",
                            session_path(p->s, STATE_KEYRING));
        return pass_record_failure(p, rc, NULL, NULL, NULL, err);
    }
    session_fetch_options_for(p->s, &e->r, &e->fo);
    bound_downloads(p->s, &e->fo);
    *finished = 0;
    return UG_OK;
}

/* A catalog entry: the plan from the running version to the target (the #fragment, or the
 * newest release that fits); *finished when the device is there already. */
static ug_err plan_from_catalog(struct pass *p, struct entry *e, struct target *t, int *finished,
                                char *err)
{
    struct session *s = p->s;
    const char *fragment = strchr(e->r.url.text, '#');
    struct plan_request req = {.from = s->running_version,
                               .to = fragment && fragment[1] ? fragment + 1 : "latest",
                               .hardware = s->dev.hwver,
                               .downgrade_limit = params_value(&s->params, "Downgrade_Rev_Limit")};
    ug_err rc = catalog_fetch(e->r.url.text, &e->fo, s->keyring, &t->cat, err);
    if (rc == UG_OK && strcmp(t->cat.product, s->dev.product) != 0)
        rc = ug_fail(err, UG_ERR_VERIFY, "%s: a catalog of product %s; this device is %s",
                     e->display, t->cat.product, s->dev.product);
    if (rc == UG_OK)
        rc = planner_plan(&t->cat, &req, &t->plan, err);
    if (rc != UG_OK) {
        *finished = 1;
        return pass_record_failure(p, rc, NULL, e->display, NULL, err);
    }
    if (t->plan.nhops > 0) {
        t->hops_left = (int)t->plan.nhops;
        snprintf(t->hop.version, sizeof t->hop.version, "%s", t->plan.hops[0].release->version);
        t->hop.bundle_url = strdup(t->plan.hops[0].release->bundle_url);
        return t->hop.bundle_url ? UG_OK : ug_oom(err);
    }
    *finished = 1;
    upgrade_record_success(&p->st, NULL, e->display);
    pass_finish_plan(p, s->running_version);
    snprintf(p->st.status.target, sizeof p->st.status.target, "%s", t->plan.target);
    if (e->stored && !e->r.conditional && upgrade_state_set_acted(&p->st, e->rule, e->display))
        return ug_oom(err);
    pass_summarise(p, "nothing to do: already at %s", t->plan.target);
    return pass_save(p, err);
}

/* The next hop: from the catalog's plan, or the one bundle the rule names. */
static ug_err resolve_hop(struct pass *p, struct entry *e, struct target *t, int *finished,
                          char *err)
{
    t->is_catalog = catalog_url_is_catalog(e->r.url.text);
    ug_err rc = UG_OK;
    if (t->is_catalog)
        rc = plan_from_catalog(p, e, t, finished, err);
    else if (!(t->hop.bundle_url = strdup(e->r.url.text)))
        rc = ug_oom(err);
    else
        t->hops_left = 1;
    if (rc == UG_OK && !*finished)
        url_for_display(t->hop.bundle_url, t->hop.display, sizeof t->hop.display);
    return rc;
}

/* The plan record lets `upgrader boot` take the next hop after the reboot. */
static ug_err record_plan(struct pass *p, const struct entry *e, const struct target *t, char *err)
{
    struct upgrade_plan_record *plan = &p->st.plan;
    struct upgrade_status *s = &p->st.status;
    int same = plan->active && plan->catalog == t->is_catalog &&
               strcmp(plan->url, e->display) == 0 &&
               (!t->is_catalog || strcmp(plan->target, t->plan.target) == 0);
    if (!same) {
        plan->active = 1;
        plan->catalog = t->is_catalog;
        plan->stored_rule = e->stored;
        plan->hops_done = 0;
        snprintf(plan->url, sizeof plan->url, "%s", e->display);
        snprintf(plan->target, sizeof plan->target, "%s", t->is_catalog ? t->plan.target : "");
        if (upgrade_state_set_plan_rule(&p->st, e->stored ? NULL : e->rule) != 0)
            return ug_oom(err);
    }
    plan->hops_total = plan->hops_done + t->hops_left;
    s->hop = plan->hops_done + 1;
    s->hops = plan->hops_total;
    snprintf(s->target, sizeof s->target, "%s", plan->target);
    snprintf(s->version, sizeof s->version, "%s", t->hop.version);
    snprintf(s->url, sizeof s->url, "%s", t->hop.display);
    return UG_OK;
}

/* Installs the hop (unless its slot holds it verified already) and switches to it. */
static ug_err carry_out(struct pass *p, struct entry *e, struct target *t, char *err)
{
    struct hop *h = &t->hop;
    struct upgrade_status *s = &p->st.status;
    if (!p->o->force && !upgrade_retry_due(&p->st, h->version, h->display, time(NULL))) {
        const struct upgrade_failure *f = upgrade_find_failure(&p->st, h->version, h->display);
        pass_set_state(p, UPGRADE_FAILED, "retry-not-due", NULL);
        snprintf(s->reason, sizeof s->reason,
                 "%.100s failed (%.100s); not retried before %lld (Upgrade_Error_Retry_Delay)",
                 h->version[0] ? h->version : h->display, f->reason, f->retry_after);
        pass_summarise(p, "nothing done: %s", s->reason);
        return pass_save(p, err);
    }
    if (session_cancelled(p->s))
        return pass_record_cancel(p, "before the download", err);
    if (!upgrade_slot_holds(&p->s->boot, &p->st.pending, h->version, h->display)) {
        ug_err rc = hop_install(p, h, &e->fo, err);
        /* On a failure the slot stays unbootable and the running slot untouched. */
        if (rc != UG_OK && session_cancelled(p->s))
            return pass_record_cancel(p, "during the download", err);
        if (rc != UG_OK)
            return pass_record_failure(p, rc, h->version, h->display, NULL, err);
        pass_log(p, "Log_Upgrade_Success_Msg", h->display, "verified", SYSLOG_SEVERITY_INFO);
    }
    return hop_switch(p, err);
}

static ug_err run_pass(struct pass *p, char *err)
{
    if (!enabled(params_value(&p->s->params, "Upgrade_Enable"))) {
        pass_set_state(p, UPGRADE_DISABLED, "disabled",
                       "Upgrade_Enable is No: no upgrade is attempted");
        pass_summarise(p, "nothing done: Upgrade_Enable is No");
        return pass_save(p, err);
    }
    /* A slot written and verified by an earlier pass (a call deferred its switch, or a
     * cancel came before it) is only switched to: nothing is downloaded again. */
    const struct upgrade_pending *pend = &p->st.pending;
    if (upgrade_slot_holds(&p->s->boot, pend, pend->version, pend->url))
        return hop_switch(p, err);
    struct entry e = {0};
    struct target t = {0};
    int finished = 0;
    ug_err rc = UG_OK;
    if (!(e.rule = choose_rule(p, &e.stored))) {
        if (!p->st.plan.active)
            pass_set_state(p, UPGRADE_IDLE, NULL, NULL);
        return nothing_done(p, "no Upgrade_Rule is set", err);
    }
    if ((rc = evaluate_rule(p, &e, &finished, err)) == UG_OK && !finished &&
        (rc = check_entry(p, &e, &finished, err)) == UG_OK && !finished &&
        (rc = resolve_hop(p, &e, &t, &finished, err)) == UG_OK && !finished &&
        (rc = record_plan(p, &e, &t, err)) == UG_OK)
        rc = carry_out(p, &e, &t, err);
    free(t.hop.bundle_url);
    plan_free(&t.plan);
    catalog_free(&t.cat);
    rule_result_free(&e.r);
    return rc;
}

ug_err upgrade_pass(struct session *s, const struct upgrade_options *o, struct upgrade_outcome *out,
                    char *err)
{
    struct pass p;
    ug_err rc = pass_open(&p, s, o, out, err);
    /* Writing the other slot while the running one is unconfirmed could leave no good slot. */
    if (rc == UG_OK && !s->boot.slot[s->boot.booted].successful)
        rc = ug_fail(err, UG_ERR_OTHER,
                     "slot %c booted but is not marked good yet; run 'upgrader boot' first",
                     s->running_slot);
    if (rc == UG_OK)
        rc = run_pass(&p, err);
    pass_close(&p);
    return rc;
}

int upgrade_resync_between_hops(const struct session *s)
{
    return paramdefs_parse_bool(params_value(&s->params, "Resync_After_Upgrade_Attempt")) == 1;
}
