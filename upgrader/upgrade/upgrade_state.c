/* SPDX-License-Identifier: MIT */
/* upgrade.json as a C struct, and the decisions that depend only on it and the boot
 * state, kept free of I/O so that the unit tests can walk every combination. */
#include "upgrade/upgrade_state.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/jsonfile.h"
#include "lang/rule.h"

static const char *pending_names[] = {"none", "writing", "verified", "switched"};

static const char *const phase_names[] = {
    [UPGRADE_IDLE] = "idle",
    [UPGRADE_DISABLED] = "disabled",
    [UPGRADE_DOWNLOADING] = "downloading",
    [UPGRADE_VERIFIED] = "verified-pending-switch",
    [UPGRADE_DEFERRED] = "deferred-call-active",
    [UPGRADE_SWITCHED] = "switched-awaiting-boot",
    [UPGRADE_FAILED] = "failed",
    [UPGRADE_DONE] = "done",
    [UPGRADE_CANCELLED] = "cancelled",
};
#define NPHASES (sizeof phase_names / sizeof phase_names[0])

const char *upgrade_phase_name(enum upgrade_phase phase)
{
    return (size_t)phase < NPHASES ? phase_names[phase] : "unknown";
}

int upgrade_phase_parse(const char *name)
{
    for (size_t i = 0; name && i < NPHASES; i++)
        if (strcmp(name, phase_names[i]) == 0)
            return (int)i;
    return -1;
}

static void copy(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

static json_object *child(json_object *obj, const char *key)
{
    json_object *v = NULL;
    if (!obj || !json_object_object_get_ex(obj, key, &v) ||
        !json_object_is_type(v, json_type_object))
        return NULL;
    return v;
}

static char slot_from_text(const char *text)
{
    return (text[0] == 'A' || text[0] == 'B') && !text[1] ? text[0] : 0;
}

static void load_status(json_object *o, struct upgrade_status *s)
{
    /* A name this version does not know (written by a newer one) reads as idle. */
    int phase = upgrade_phase_parse(jsonfile_get_string(o, "state", NULL));
    s->state = phase < 0 ? UPGRADE_IDLE : (enum upgrade_phase)phase;
    copy(s->target, sizeof s->target, jsonfile_get_string(o, "target", ""));
    copy(s->version, sizeof s->version, jsonfile_get_string(o, "version", ""));
    s->hop = (int)jsonfile_get_int(o, "hop", 0);
    s->hops = (int)jsonfile_get_int(o, "hops", 0);
    s->bytes_done = (uint64_t)jsonfile_get_int(o, "bytes_done", 0);
    s->bytes_total = (uint64_t)jsonfile_get_int(o, "bytes_total", 0);
    s->bytes_reused = (uint64_t)jsonfile_get_int(o, "bytes_reused", 0);
    s->bytes_fetched = (uint64_t)jsonfile_get_int(o, "bytes_fetched", 0);
    s->bytes_full = (uint64_t)jsonfile_get_int(o, "bytes_full", 0);
    copy(s->last_result, sizeof s->last_result, jsonfile_get_string(o, "last_result", ""));
    copy(s->last_error, sizeof s->last_error, jsonfile_get_string(o, "last_error", ""));
    s->last_time = jsonfile_get_int(o, "last_time", 0);
    copy(s->url, sizeof s->url, jsonfile_get_string(o, "url", ""));
    copy(s->reason, sizeof s->reason, jsonfile_get_string(o, "reason", ""));
    s->upgst = (int)jsonfile_get_int(o, "upgst", 1);
    s->slot = slot_from_text(jsonfile_get_string(o, "slot", ""));
}

static const char *whole_rule(const char *path, const char *shown, json_object **held);

ug_err upgrade_state_load(const char *path, struct upgrade_state *st, char *err)
{
    memset(st, 0, sizeof *st);
    json_object *doc = NULL;
    char aside[4096], why[UG_ERRBUF] = "";
    ug_err rc = jsonfile_load_or_set_aside(path, &doc, aside, sizeof aside, why);
    if (rc != UG_OK)
        return ug_fail(err, rc, "%s", why);
    if (aside[0]) /* ug_fail only formats the note here: the load goes on */
        (void)ug_fail(st->recovered, UG_OK, "%s; set aside as %s, the upgrade state starts afresh",
                      why, aside);
    load_status(child(doc, "status"), &st->status);

    json_object *p = child(doc, "pending");
    const char *ps = jsonfile_get_string(p, "state", "none");
    for (int k = 0; k < 4; k++)
        if (strcmp(ps, pending_names[k]) == 0)
            st->pending.state = (enum upgrade_pending_state)k;
    st->pending.slot = slot_from_text(jsonfile_get_string(p, "slot", ""));
    if (!st->pending.slot)
        st->pending.state = PENDING_NONE;
    copy(st->pending.version, sizeof st->pending.version, jsonfile_get_string(p, "version", ""));
    copy(st->pending.url, sizeof st->pending.url, jsonfile_get_string(p, "url", ""));

    json_object *plan = child(doc, "plan");
    st->plan.active = plan != NULL;
    st->plan.catalog = (int)jsonfile_get_int(plan, "catalog", 0);
    st->plan.stored_rule = (int)jsonfile_get_int(plan, "stored_rule", 1);
    copy(st->plan.url, sizeof st->plan.url, jsonfile_get_string(plan, "url", ""));
    copy(st->plan.target, sizeof st->plan.target, jsonfile_get_string(plan, "target", ""));
    st->plan.hops_total = (int)jsonfile_get_int(plan, "hops_total", 0);
    st->plan.hops_done = (int)jsonfile_get_int(plan, "hops_done", 0);

    json_object *acted = child(doc, "acted");
    st->failure_streak = (unsigned)jsonfile_get_int(doc, "failure_streak", 0);
    json_object *secret = NULL;
    const char *rule = whole_rule(path, jsonfile_get_string(plan, "rule", NULL), &secret);
    if (upgrade_state_set_plan_rule(st, rule) != 0 ||
        upgrade_state_set_acted(st, jsonfile_get_string(acted, "rule", NULL),
                                jsonfile_get_string(acted, "url", "")) != 0)
        rc = ug_oom(err);
    json_object_put(secret);

    json_object *fails = NULL;
    if (json_object_object_get_ex(doc, "failures", &fails) &&
        json_object_is_type(fails, json_type_array)) {
        size_t n = json_object_array_length(fails);
        for (size_t i = 0; i < n && st->nfailures < UPGRADE_MAX_FAILURES; i++) {
            json_object *f = json_object_array_get_idx(fails, i);
            struct upgrade_failure *r = &st->failures[st->nfailures];
            copy(r->version, sizeof r->version, jsonfile_get_string(f, "version", ""));
            copy(r->url, sizeof r->url, jsonfile_get_string(f, "url", ""));
            if (!r->version[0] && !r->url[0])
                continue;
            r->count = (int)jsonfile_get_int(f, "count", 1);
            r->time = jsonfile_get_int(f, "time", 0);
            r->retry_after = jsonfile_get_int(f, "retry_after", 0);
            copy(r->reason, sizeof r->reason, jsonfile_get_string(f, "reason", ""));
            st->nfailures++;
        }
    }
    json_object_put(doc);
    return rc;
}

static void set_str(json_object *o, const char *key, const char *value)
{
    json_object_object_add(o, key, json_object_new_string(value));
}

/* upgrade.json is world-readable: a rule in it has its --pwd and --key arguments hidden. A
 * RULE argument that holds them (the plan must be continued at boot with its credentials) is
 * kept whole in PATH.secret, mode 0600 like the parameter store. */
static void secret_path(const char *path, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s.secret", path);
}

/* A malloc'd copy of rule as others may read it; NULL only when memory runs out. */
static char *shown_rule(const char *rule)
{
    struct buf b = {0};
    int hid = rule_hide_secrets(rule, &b);
    if (hid == 0)
        return strdup(rule);
    if (hid < 0)
        buf_free(&b);
    return hid < 0 ? NULL : b.data;
}

/* Power-loss ordering: the whole rule is in PATH.secret before upgrade.json names its hidden
 * form, and is removed only after upgrade.json stopped naming one. */
static ug_err save_secret_rule(const char *path, const struct upgrade_state *st, int after,
                               char *err)
{
    char sp[4096];
    secret_path(path, sp, sizeof sp);
    char *shown = st->plan.active && st->plan.rule ? shown_rule(st->plan.rule) : NULL;
    int hidden = shown && strcmp(shown, st->plan.rule) != 0;
    free(shown);
    ug_err rc = UG_OK;
    if (hidden && !after) {
        json_object *doc = json_object_new_object();
        set_str(doc, "rule", st->plan.rule);
        rc = jsonfile_save_mode(sp, doc, 0600, err);
        json_object_put(doc);
    } else if (!hidden && after && fs_exists(sp) && unlink(sp) != 0) {
        rc = ug_fail(err, UG_ERR_OTHER, "%s: cannot remove: %s", sp, strerror(errno));
    }
    return rc;
}

/* The plan's rule as loaded: the whole one from PATH.secret when that hides to the rule
 * upgrade.json names. */
static const char *whole_rule(const char *path, const char *shown, json_object **held)
{
    char sp[4096], ignored[UG_ERRBUF];
    secret_path(path, sp, sizeof sp);
    if (!shown || !fs_exists(sp) || jsonfile_load(sp, held, ignored) != UG_OK)
        return shown;
    const char *whole = jsonfile_get_string(*held, "rule", NULL);
    char *again = whole ? shown_rule(whole) : NULL;
    int same = again && strcmp(again, shown) == 0;
    free(again);
    return same ? whole : shown;
}

ug_err upgrade_state_save(const char *path, struct upgrade_state *st, char *err)
{
    ug_err rc = save_secret_rule(path, st, 0, err);
    if (rc != UG_OK)
        return rc;
    st->status.last_time = (long long)time(NULL);
    const struct upgrade_status *s = &st->status;
    json_object *doc = json_object_new_object(), *so = json_object_new_object();
    char slot[2] = {s->slot, 0};
    set_str(so, "state", upgrade_phase_name(s->state));
    set_str(so, "target", s->target);
    set_str(so, "version", s->version);
    jsonfile_set_int(so, "hop", s->hop);
    jsonfile_set_int(so, "hops", s->hops);
    jsonfile_set_int(so, "bytes_done", (long long)s->bytes_done);
    jsonfile_set_int(so, "bytes_total", (long long)s->bytes_total);
    jsonfile_set_int(so, "bytes_reused", (long long)s->bytes_reused);
    jsonfile_set_int(so, "bytes_fetched", (long long)s->bytes_fetched);
    jsonfile_set_int(so, "bytes_full", (long long)s->bytes_full);
    set_str(so, "last_result", s->last_result);
    set_str(so, "last_error", s->last_error);
    jsonfile_set_int(so, "last_time", s->last_time);
    set_str(so, "url", s->url);
    set_str(so, "reason", s->reason);
    jsonfile_set_int(so, "upgst", s->upgst ? s->upgst : 1);
    set_str(so, "slot", slot);
    json_object_object_add(doc, "status", so);

    if (st->pending.state != PENDING_NONE) {
        json_object *p = json_object_new_object();
        char ps[2] = {st->pending.slot, 0};
        set_str(p, "state", pending_names[st->pending.state]);
        set_str(p, "slot", ps);
        set_str(p, "version", st->pending.version);
        set_str(p, "url", st->pending.url);
        json_object_object_add(doc, "pending", p);
    }
    if (st->plan.active) {
        json_object *p = json_object_new_object();
        jsonfile_set_int(p, "catalog", st->plan.catalog);
        jsonfile_set_int(p, "stored_rule", st->plan.stored_rule);
        char *shown = st->plan.rule ? shown_rule(st->plan.rule) : NULL;
        if (shown)
            set_str(p, "rule", shown);
        free(shown);
        set_str(p, "url", st->plan.url);
        set_str(p, "target", st->plan.target);
        jsonfile_set_int(p, "hops_total", st->plan.hops_total);
        jsonfile_set_int(p, "hops_done", st->plan.hops_done);
        json_object_object_add(doc, "plan", p);
    }
    if (st->acted_rule) {
        json_object *a = json_object_new_object();
        set_str(a, "rule", st->acted_rule);
        set_str(a, "url", st->acted_url);
        json_object_object_add(doc, "acted", a);
    }
    jsonfile_set_int(doc, "failure_streak", st->failure_streak);
    json_object *fails = json_object_new_array();
    for (int i = 0; i < st->nfailures; i++) {
        const struct upgrade_failure *r = &st->failures[i];
        json_object *f = json_object_new_object();
        set_str(f, "version", r->version);
        set_str(f, "url", r->url);
        jsonfile_set_int(f, "count", r->count);
        jsonfile_set_int(f, "time", r->time);
        jsonfile_set_int(f, "retry_after", r->retry_after);
        set_str(f, "reason", r->reason);
        json_object_array_add(fails, f);
    }
    json_object_object_add(doc, "failures", fails);
    rc = jsonfile_save(path, doc, err);
    json_object_put(doc);
    return rc == UG_OK ? save_secret_rule(path, st, 1, err) : rc;
}

void upgrade_state_free(struct upgrade_state *st)
{
    free(st->plan.rule);
    free(st->acted_rule);
    memset(st, 0, sizeof *st);
}

static int replace_string(char **slot, const char *value)
{
    char *copy_of = NULL;
    if (value && !(copy_of = strdup(value)))
        return -1;
    free(*slot);
    *slot = copy_of;
    return 0;
}

int upgrade_state_set_plan_rule(struct upgrade_state *st, const char *rule)
{
    return replace_string(&st->plan.rule, rule);
}

int upgrade_state_set_acted(struct upgrade_state *st, const char *rule, const char *url)
{
    /* Only its hidden form is kept: it is compared, never run. */
    char *shown = rule ? shown_rule(rule) : NULL;
    if (rule && !shown)
        return -1;
    free(st->acted_rule);
    st->acted_rule = shown;
    copy(st->acted_url, sizeof st->acted_url, rule ? url : "");
    return 0;
}

enum upgrade_boot_action upgrade_decide_boot(const struct bootstate *bs,
                                             const struct upgrade_pending *p)
{
    const struct bootstate_slot *booted = &bs->slot[bs->booted];
    int slot = p->state == PENDING_NONE ? -1 : p->slot == 'A' ? BOOTSTATE_SLOT_A : BOOTSTATE_SLOT_B;
    if (slot < 0)
        return booted->successful ? BOOT_ACTION_NONE : BOOT_ACTION_MARK_GOOD;
    const struct bootstate_slot *s = &bs->slot[slot];
    /* The boot state's version is what ties the record to the slot's bytes: it is cleared
     * before the first byte is written and set only after the last one is verified. */
    int intact = p->version[0] && strcmp(s->version, p->version) == 0;
    switch (p->state) {
    case PENDING_WRITING:
        return bs->booted == slot ? BOOT_ACTION_STALE_PENDING : BOOT_ACTION_KEEP_PENDING;
    case PENDING_VERIFIED:
        /* Killed between set-active and recording it: the slot booted all the same. */
        if (bs->booted == slot)
            return intact ? BOOT_ACTION_CONFIRM_NEW : BOOT_ACTION_STALE_PENDING;
        return intact && !bootstate_slot_bootable(s) ? BOOT_ACTION_KEEP_PENDING
                                                     : BOOT_ACTION_STALE_PENDING;
    case PENDING_SWITCHED:
        if (bs->booted == slot)
            return intact ? BOOT_ACTION_CONFIRM_NEW : BOOT_ACTION_STALE_PENDING;
        /* The old slot booted: either the new one used up its tries (fallback) or it was
         * made unbootable; otherwise the reboot has simply not happened yet. */
        if (bs->fallback || !bootstate_slot_bootable(s) || !intact)
            return BOOT_ACTION_ROLLBACK;
        return BOOT_ACTION_KEEP_PENDING;
    default:
        return BOOT_ACTION_NONE;
    }
}

int upgrade_slot_holds(const struct bootstate *bs, const struct upgrade_pending *p,
                       const char *version, const char *url)
{
    if (p->state != PENDING_VERIFIED && p->state != PENDING_SWITCHED)
        return 0;
    int inactive = bs->booted == BOOTSTATE_SLOT_A ? BOOTSTATE_SLOT_B : BOOTSTATE_SLOT_A;
    if (p->slot != bootstate_slot_letter(inactive) || !p->version[0])
        return 0;
    if (strcmp(bs->slot[inactive].version, p->version) != 0)
        return 0;
    if (version && version[0])
        return strcmp(version, p->version) == 0;
    return url && strcmp(url, p->url) == 0;
}

static int matches(const struct upgrade_failure *f, const char *version, const char *url)
{
    return (version && version[0] && strcmp(f->version, version) == 0) ||
           (url && url[0] && strcmp(f->url, url) == 0);
}

const struct upgrade_failure *upgrade_find_failure(const struct upgrade_state *st,
                                                   const char *version, const char *url)
{
    for (int i = 0; i < st->nfailures; i++)
        if (matches(&st->failures[i], version, url))
            return &st->failures[i];
    return NULL;
}

int upgrade_retry_due(const struct upgrade_state *st, const char *version, const char *url,
                      time_t now)
{
    const struct upgrade_failure *f = upgrade_find_failure(st, version, url);
    return !f || (long long)now >= f->retry_after;
}

static void drop_failure(struct upgrade_state *st, int i)
{
    memmove(&st->failures[i], &st->failures[i + 1],
            (size_t)(st->nfailures - i - 1) * sizeof st->failures[0]);
    st->nfailures--;
}

void upgrade_record_failure(struct upgrade_state *st, const char *version, const char *url,
                            const char *reason, const struct delay_list *retry, delay_random_fn rnd,
                            void *rnd_ctx, time_t now)
{
    struct upgrade_failure *f = (struct upgrade_failure *)upgrade_find_failure(st, version, url);
    if (!f) {
        if (st->nfailures == UPGRADE_MAX_FAILURES) {
            int oldest = 0;
            for (int i = 1; i < st->nfailures; i++)
                if (st->failures[i].time < st->failures[oldest].time)
                    oldest = i;
            drop_failure(st, oldest);
        }
        f = &st->failures[st->nfailures++];
        memset(f, 0, sizeof *f);
    }
    /* Learnt facts are kept: a bundle rule's version becomes known only once installed. */
    if (version && version[0])
        copy(f->version, sizeof f->version, version);
    if (url && url[0])
        copy(f->url, sizeof f->url, url);
    st->failure_streak++;
    f->count++;
    f->time = (long long)now;
    f->retry_after =
        (long long)now + (long long)delay_pick(retry, st->failure_streak - 1, rnd, rnd_ctx);
    copy(f->reason, sizeof f->reason, reason);
}

void upgrade_record_success(struct upgrade_state *st, const char *version, const char *url)
{
    st->failure_streak = 0;
    for (int i = 0; i < st->nfailures; i++)
        if (matches(&st->failures[i], version, url))
            drop_failure(st, i--);
}

int upgrade_rule_acted(const struct upgrade_state *st, int conditional, const char *rule,
                       const char *url)
{
    char *shown = shown_rule(rule);
    int same = !conditional && st->acted_rule && shown && strcmp(st->acted_rule, shown) == 0 &&
               strcmp(st->acted_url, url) == 0;
    free(shown);
    return same;
}
