/* SPDX-License-Identifier: MIT */
/* The open upgrade pass: its lock, its record in upgrade.json, what it reports, and the
 * boot-state changes it makes under the store's lock. */
#include "upgrade/pass.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/lock.h"
#include "lang/delay.h"
#include "net/syslog_udp.h"

ug_err pass_open(struct pass *p, struct session *s, const struct upgrade_options *o,
                 struct upgrade_outcome *out, char *err)
{
    memset(p, 0, sizeof *p);
    memset(out, 0, sizeof *out);
    p->s = s;
    p->o = o;
    p->out = out;
    p->boot_lock = -1;
    /* One pass at a time (a boot, the daemon, an operator): two writers of the same slot
     * and the same upgrade.json would undo each other. */
    ug_err rc = lock_take(session_path(s, STATE_UPGRADE_LOCK), LOCK_TRY_ONCE,
                          "another upgrade pass or boot", &p->lock_fd, err);
    if (rc == UG_OK)
        rc = session_reload(s, err);
    if (rc == UG_OK && !s->boot_valid)
        rc =
            ug_fail(err, UG_ERR_OTHER, "%s: no valid boot state, so the running version is unknown",
                    s->boot_store.location);
    if (rc == UG_OK)
        rc = upgrade_state_load(session_path(s, STATE_UPGRADE), &p->st, err);
    if (rc == UG_OK && p->st.recovered[0])
        log_msg(s->log, LOG_LEVEL_WARNING, "%s", p->st.recovered);
    return rc;
}

void pass_close(struct pass *p)
{
    upgrade_state_free(&p->st);
    pass_boot_abandon(p);
    lock_release(&p->lock_fd);
}

void pass_notify(struct pass *p)
{
    if (p->o->progress)
        p->o->progress(p->o->progress_ctx, &p->st.status);
}

ug_err pass_save(struct pass *p, char *err)
{
    ug_err rc = upgrade_state_save(session_path(p->s, STATE_UPGRADE), &p->st, err);
    pass_notify(p);
    return rc;
}

void pass_set_result(struct pass *p, const char *result, const char *reason)
{
    struct upgrade_status *s = &p->st.status;
    if (result)
        snprintf(s->last_result, sizeof s->last_result, "%s", result);
    snprintf(s->reason, sizeof s->reason, "%s", reason ? reason : "");
}

void pass_set_state(struct pass *p, enum upgrade_phase phase, const char *result,
                    const char *reason)
{
    p->st.status.state = phase;
    pass_set_result(p, result, reason);
}

void pass_summarise(struct pass *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->out->summary, sizeof p->out->summary, fmt, ap);
    va_end(ap);
}

void pass_finish_plan(struct pass *p, const char *target)
{
    struct upgrade_status *s = &p->st.status;
    pass_set_state(p, UPGRADE_DONE, "ok", NULL);
    snprintf(s->reason, sizeof s->reason, "running %s: nothing more to install", target);
    s->upgst = 1;
    s->last_error[0] = '\0';
    s->bytes_done = s->bytes_total = 0;
    s->bytes_reused = s->bytes_fetched = s->bytes_full = 0;
    s->slot = 0;
    p->st.failure_streak = 0;
    p->st.plan.active = 0;
}

void pass_log(struct pass *p, const char *template_param, const char *url, const char *result,
              int severity)
{
    const char *tpl = params_value(&p->s->params, template_param);
    if (!tpl || !tpl[0])
        return;
    struct macro_context ctx;
    struct rule_url u = {0};
    char ignored[UG_ERRBUF];
    if (session_macro_context(p->s, &ctx, ignored) != UG_OK)
        return;
    /* Best effort throughout: a report that cannot be sent never changes the pass. */
    if (url && url[0] && rule_parse_url(url, NULL, 0, &u, ignored) == UG_OK &&
        session_url_macros(&ctx, &u, ignored) != UG_OK)
        goto out;
    if (macro_set(&ctx, "ERR", result, ignored) == UG_OK)
        (void)!session_syslog(p->s, &ctx, template_param, severity, ignored);
out:
    rule_url_free(&u);
    macro_free(&ctx);
}

static void retry_list(struct pass *p, struct delay_list *list)
{
    char ignored[UG_ERRBUF];
    const char *text = params_value(&p->s->params, "Upgrade_Error_Retry_Delay");
    if (!text || delay_parse(text, list, ignored) != UG_OK)
        memset(list, 0, sizeof *list);
}

ug_err pass_record_failure(struct pass *p, ug_err rc, const char *version, const char *url,
                           const char *result, char *err)
{
    struct delay_list retry;
    struct delay_rng rng;
    retry_list(p, &retry);
    delay_rng_seed(&rng, (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32));
    struct upgrade_status *s = &p->st.status;
    pass_set_state(p, UPGRADE_FAILED, result ? result : ug_err_name(rc), NULL);
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
    char save_err[UG_ERRBUF];
    if (upgrade_state_save(session_path(p->s, STATE_UPGRADE), &p->st, save_err) != UG_OK)
        log_msg(p->s->log, LOG_LEVEL_ERROR, "cannot record the failure: %s", save_err);
    pass_notify(p);
    pass_log(p, "Log_Upgrade_Failure_Msg", s->url, err, SYSLOG_SEVERITY_ERR);
    return rc;
}

ug_err pass_record_cancel(struct pass *p, const char *where, char *err)
{
    struct upgrade_status *s = &p->st.status;
    pass_set_state(p, UPGRADE_CANCELLED, "cancelled", NULL);
    snprintf(s->reason, sizeof s->reason,
             "cancelled %s; the next pass continues from there (nothing is held against %s)", where,
             s->version[0] ? s->version : "the release");
    char save_err[UG_ERRBUF];
    if (pass_save(p, save_err) != UG_OK)
        log_msg(p->s->log, LOG_LEVEL_ERROR, "cannot record the cancel: %s", save_err);
    pass_summarise(p, "%s", s->reason);
    return ug_fail(err, UG_ERR_OTHER, "upgrade %s", s->reason);
}

ug_err pass_boot_begin(struct pass *p, char *err)
{
    const struct bootstate_store *store = &p->s->boot_store;
    ug_err rc = p->boot_lock >= 0
                    ? UG_OK
                    : bootstate_store_lock(store, BOOTSTATE_LOCK_WAIT_MS, &p->boot_lock, err);
    if (rc == UG_OK)
        rc = bootstate_store_load(store, &p->s->boot, err);
    if (rc != UG_OK) {
        pass_boot_abandon(p);
        ug_prefix(err, "boot state: ");
    }
    return rc;
}

ug_err pass_boot_end(struct pass *p, ug_err rc, char *err)
{
    if (rc == UG_OK)
        rc = bootstate_store_save(&p->s->boot_store, &p->s->boot, err);
    pass_boot_abandon(p);
    return rc;
}

void pass_boot_abandon(struct pass *p)
{
    bootstate_unlock(&p->boot_lock);
}
