/* SPDX-License-Identifier: MIT */
/* The boot-time step (docs/upgrade.md): after the bootloader chose, confirm a freshly
 * switched slot (health check, then mark good) or record that the device came back on the
 * old one, and say whether the plan has a next hop. */
#include "upgrade/upgrade.h"

#include <stdio.h>
#include <string.h>

#include "net/syslog_udp.h"
#include "upgrade/pass.h"

/* The health check of a freshly booted release: the configured command, or by default the
 * proof that the agent reads its own state (it already has, to get here). */
static ug_err health_check(struct pass *p, char *err)
{
    const struct devconf *conf = &p->s->conf;
    if (!conf->health_check[0])
        return UG_OK;
    char env[96];
    snprintf(env, sizeof env, "UPGRADER_VERSION=%s", p->s->running_version);
    return devconf_run(conf->health_check, p->s->folder.root, env, "health_check", err);
}

static ug_err mark_booted_good(struct pass *p, char *err)
{
    ug_err rc = pass_boot_begin(p, err);
    if (rc != UG_OK)
        return rc;
    if (p->s->boot.slot[p->s->boot.booted].successful) { /* nothing to write */
        pass_boot_abandon(p);
        return UG_OK;
    }
    return pass_boot_end(p, bootstate_mark_good(&p->s->boot, err), err);
}

/* Not marked good: the reboot uses up another try, and after the last one the bootloader
 * falls back to the old slot, which the next boot reports. */
static ug_err health_check_failed(struct pass *p, const char *version, char *err)
{
    struct upgrade_status *s = &p->st.status;
    char reason[UG_ERRBUF], ignored[UG_ERRBUF];
    snprintf(reason, sizeof reason, "%s", err);
    pass_set_result(p, "health-check-failed", NULL);
    snprintf(s->reason, sizeof s->reason,
             "health check failed on slot %c (%s); rebooting (tries left: %u)", p->st.pending.slot,
             version, p->s->boot.slot[p->s->boot.booted].tries);
    snprintf(s->last_error, sizeof s->last_error, "%s", reason);
    if (pass_save(p, ignored) != UG_OK)
        log_msg(p->s->log, LOG_LEVEL_ERROR, "%s", ignored);
    if (!p->o->no_reboot && session_reboot(p->s, ignored) != UG_OK)
        log_msg(p->s->log, LOG_LEVEL_ERROR, "%s", ignored);
    return ug_fail(err, UG_ERR_OTHER, "slot %c (%s) not marked good: %s", p->st.pending.slot,
                   version, reason);
}

/* A bundle rule is one hop: reaching it is the plan done (and a stored rule acted on). A
 * catalog plan is re-planned by the next pass, which finds the target reached or the next hop. */
static ug_err finish_bundle_plan(struct pass *p, const char *version, char *err)
{
    struct upgrade_state *st = &p->st;
    if (st->plan.catalog)
        return UG_OK;
    pass_finish_plan(p, version);
    const char *rule = params_value(&p->s->params, "Upgrade_Rule");
    if (st->plan.stored_rule && rule && upgrade_state_set_acted(st, rule, st->plan.url) != 0)
        return ug_oom(err);
    return UG_OK;
}

static ug_err confirm_new(struct pass *p, char *err)
{
    struct upgrade_state *st = &p->st;
    struct upgrade_status *s = &st->status;
    char version[UPGRADE_TEXT_MAX];
    snprintf(version, sizeof version, "%s", st->pending.version);
    ug_err rc = health_check(p, err);
    if (rc != UG_OK)
        return health_check_failed(p, version, err);
    /* mark-good first, then upgrade.json: a cut between the two repeats the confirmation. */
    if ((rc = mark_booted_good(p, err)) != UG_OK)
        return rc;
    upgrade_record_success(st, version, st->pending.url);
    memset(&st->pending, 0, sizeof st->pending);
    st->plan.hops_done++;
    s->upgst = 1;
    s->last_error[0] = '\0';
    snprintf(s->version, sizeof s->version, "%s", version);
    pass_log(p, "Log_Upgrade_Success_Msg", s->url, "booted and marked good", SYSLOG_SEVERITY_INFO);
    if ((rc = finish_bundle_plan(p, version, err)) != UG_OK)
        return rc;
    pass_set_state(p, st->plan.active ? UPGRADE_IDLE : UPGRADE_DONE, "ok", NULL);
    snprintf(s->reason, sizeof s->reason, "slot %c booted %s and is marked good (hop %d of %d)",
             p->s->running_slot, version, st->plan.hops_done, st->plan.hops_total);
    pass_summarise(p, "%s", s->reason);
    return pass_save(p, err);
}

static ug_err record_rollback(struct pass *p, char *err)
{
    struct upgrade_state *st = &p->st;
    struct session *s = p->s;
    char slot = st->pending.slot;
    char version[UPGRADE_TEXT_MAX], url[FETCH_URL_MAX], why[UG_ERRBUF];
    snprintf(version, sizeof version, "%s", st->pending.version);
    snprintf(url, sizeof url, "%s", st->pending.url);
    ug_err rc = pass_boot_begin(p, err);
    if (rc != UG_OK)
        return rc;
    if (s->boot.fallback)
        snprintf(why, sizeof why,
                 "rollback: %s in slot %c never reached mark-good within its boot tries; slot %c "
                 "(%s) booted instead",
                 version, slot, s->running_slot, s->running_version);
    else
        snprintf(why, sizeof why,
                 "rollback: %s in slot %c was made unbootable before it booted; slot %c (%s) runs",
                 version, slot, s->running_slot, s->running_version);
    /* The failed slot loses its priority for good (and with it the fallback report). */
    int idx = bootstate_slot_from_letter((char[]){slot, 0});
    if ((rc = pass_boot_end(p, bootstate_mark_bad(&s->boot, idx, err), err)) != UG_OK)
        return rc;
    memset(&st->pending, 0, sizeof st->pending);
    snprintf(err, UG_ERRBUF, "%s", why);
    pass_record_failure(p, UG_ERR_OTHER, version, url, "rolled-back", err);
    const struct upgrade_failure *f = upgrade_find_failure(st, version, url);
    pass_summarise(p, "%s; not retried before %lld", why, f ? f->retry_after : 0LL);
    err[0] = '\0';
    return mark_booted_good(p, err);
}

/* Nothing new booted: the booted slot is confirmed if it is not yet, and a plan whose
 * continuation was cut off (a power cut after mark-good) goes on. */
static ug_err confirm_running(struct pass *p, enum upgrade_boot_action action, char *err)
{
    struct session *s = p->s;
    const struct upgrade_state *st = &p->st;
    ug_err rc = UG_OK;
    if (!s->boot.slot[s->boot.booted].successful && (rc = health_check(p, err)) == UG_OK)
        rc = mark_booted_good(p, err);
    if (rc != UG_OK)
        return rc;
    if (action == BOOT_ACTION_KEEP_PENDING)
        pass_summarise(p, "slot %c holds verified %s (%s); the next upgrade pass %s",
                       st->pending.slot, st->pending.version, upgrade_phase_name(st->status.state),
                       st->pending.state == PENDING_WRITING ? "writes it again" : "switches to it");
    else
        pass_summarise(p, "slot %c (%s) is good", s->running_slot, s->running_version);
    p->out->plan_continues = action != BOOT_ACTION_KEEP_PENDING && st->plan.active &&
                             st->plan.catalog && st->status.state != UPGRADE_FAILED;
    return UG_OK;
}

ug_err upgrade_boot(struct session *s, const struct upgrade_options *o, struct upgrade_outcome *out,
                    char *err)
{
    struct pass p;
    ug_err rc = pass_open(&p, s, o, out, err);
    if (rc != UG_OK)
        goto out;
    enum upgrade_boot_action action = upgrade_decide_boot(&s->boot, &p.st.pending);
    switch (action) {
    case BOOT_ACTION_CONFIRM_NEW:
        rc = confirm_new(&p, err);
        out->plan_continues = rc == UG_OK && p.st.plan.active && p.st.plan.catalog;
        break;
    case BOOT_ACTION_ROLLBACK:
        rc = record_rollback(&p, err);
        break;
    case BOOT_ACTION_STALE_PENDING:
        memset(&p.st.pending, 0, sizeof p.st.pending);
        if ((rc = pass_save(&p, err)) == UG_OK)
            rc = confirm_running(&p, action, err); /* the booted slot may still need it */
        break;
    case BOOT_ACTION_NONE:
    case BOOT_ACTION_MARK_GOOD:
    case BOOT_ACTION_KEEP_PENDING:
        rc = confirm_running(&p, action, err);
        break;
    }
out:
    pass_close(&p);
    return rc;
}
