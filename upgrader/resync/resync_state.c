/* SPDX-License-Identifier: MIT */
/* resync.json read and written through one document; the keys are those docs/resync.md
 * lists, so files written by earlier versions keep loading. */
#include "resync/resync_state.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/jsonfile.h"

ug_err resync_state_load(const char *path, struct resync_state *st, char *err)
{
    st->doc = NULL;
    st->recovered[0] = '\0';
    char aside[4096], why[UG_ERRBUF] = "";
    ug_err rc = jsonfile_load_or_set_aside(path, &st->doc, aside, sizeof aside, why);
    if (rc != UG_OK)
        return ug_fail(err, rc, "%s", why);
    if (aside[0]) /* ug_fail only formats the note here: the load goes on */
        (void)ug_fail(st->recovered, UG_OK,
                      "%s; set aside as %s, the provisioning state starts afresh", why, aside);
    return UG_OK;
}

ug_err resync_state_save(const char *path, const struct resync_state *st, char *err)
{
    return jsonfile_save(path, st->doc, err);
}

void resync_state_free(struct resync_state *st)
{
    json_object_put(st->doc);
    st->doc = NULL;
}

static json_object *member(const struct resync_state *st, const char *key, json_type type)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(st->doc, key, &v) || !json_object_is_type(v, type))
        return NULL;
    return v;
}

enum prov_state resync_state_prov(const struct resync_state *st)
{
    int s = provstate_parse(jsonfile_get_string(st->doc, "state", NULL));
    return s < 0 ? PROV_MFG_RESET : (enum prov_state)s;
}

int resync_state_previous(const struct resync_state *st, ug_err *result, long long *time)
{
    json_object *last = member(st, "last", json_type_object);
    *result = last ? (ug_err)jsonfile_get_int(last, "result", 0) : UG_OK;
    *time = last ? jsonfile_get_int(last, "time", 0) : 0;
    return last != NULL;
}

void resync_applied_add(struct resync_applied *a, const struct params_apply_result *res,
                        const char *source)
{
    a->files++;
    a->parameters += (long long)res->taken;
    a->changed += (long long)res->changed;
    a->defaulted += (long long)res->defaulted;
    a->ignored += (long long)res->ignored;
    a->unknown += (long long)res->unknown;
    for (size_t i = 0; i < res->n_notes && a->n_notes < RESYNC_NOTES_KEPT; i++)
        snprintf(a->notes[a->n_notes++], sizeof a->notes[0], "%s line %u: %s: %s", source,
                 res->notes[i].line, res->notes[i].name, res->notes[i].why);
}

/* The short summary status shows: counts, and the first notes (never a secret's value). */
static json_object *applied_record(const struct resync_applied *a)
{
    json_object *o = json_object_new_object(), *notes = json_object_new_array();
    jsonfile_set_int(o, "files", a->files);
    jsonfile_set_int(o, "parameters", a->parameters);
    jsonfile_set_int(o, "changed", a->changed);
    jsonfile_set_int(o, "defaulted", a->defaulted);
    jsonfile_set_int(o, "ignored", a->ignored);
    jsonfile_set_int(o, "unknown", a->unknown);
    for (int i = 0; i < a->n_notes; i++)
        json_object_array_add(notes, json_object_new_string(a->notes[i]));
    json_object_object_add(o, "notes", notes);
    return o;
}

void resync_state_record(struct resync_state *st, const struct resync_last *l,
                         enum prov_state state, long long now)
{
    json_object *last = json_object_new_object();
    if (!last)
        return;
    time_t t = (time_t)now;
    struct tm tm;
    char stamp[40];
    gmtime_r(&t, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    jsonfile_set_int(last, "time", now);
    jsonfile_set_string(last, "time_text", stamp);
    jsonfile_set_int(last, "result", l->result);
    jsonfile_set_string(last, "result_name", ug_err_name(l->result));
    jsonfile_set_string(last, "rule", l->rule);
    jsonfile_set_string(last, "url", l->url);
    jsonfile_set_string(last, "err", l->reason);
    jsonfile_set_string(last, "led", l->led);
    jsonfile_set_int(last, "prvst", l->prvst);
    if (l->applied && l->applied->files)
        json_object_object_add(last, "applied", applied_record(l->applied));
    json_object_object_add(st->doc, "last", last);
    jsonfile_set_int(st->doc, "resyncs", jsonfile_get_int(st->doc, "resyncs", 0) + 1);
    if (l->result == UG_OK)
        jsonfile_set_int(st->doc, "last_success_time", now);
    jsonfile_set_string(st->doc, "state", provstate_name(state));
}

static json_object *validators(struct resync_state *st)
{
    json_object *v = member(st, "validators", json_type_object);
    if (!v && (v = json_object_new_object()) != NULL)
        json_object_object_add(st->doc, "validators", v);
    return v;
}

void resync_state_validators(const struct resync_state *st, const char *url, const char **etag,
                             const char **last_modified)
{
    json_object *all = member(st, "validators", json_type_object), *one = NULL;
    if (!all || !json_object_object_get_ex(all, url, &one))
        one = NULL;
    *etag = one ? jsonfile_get_string(one, "etag", NULL) : NULL;
    *last_modified = one ? jsonfile_get_string(one, "last_modified", NULL) : NULL;
}

void resync_state_remember(struct resync_state *st, const char *url, const char *etag,
                           const char *last_modified)
{
    json_object *all = validators(st);
    if (!all)
        return;
    json_object_object_del(all, url);
    int have_etag = etag && etag[0], have_date = last_modified && last_modified[0];
    if (!have_etag && !have_date)
        return;
    /* Few URLs are resynced; the oldest entries make room when a device moves around. */
    while (json_object_object_length(all) >= RESYNC_MAX_VALIDATORS) {
        struct json_object_iterator it = json_object_iter_begin(all);
        char oldest[1024];
        snprintf(oldest, sizeof oldest, "%s", json_object_iter_peek_name(&it));
        json_object_object_del(all, oldest);
    }
    json_object *one = json_object_new_object();
    if (!one)
        return;
    if (have_etag)
        jsonfile_set_string(one, "etag", etag);
    if (have_date)
        jsonfile_set_string(one, "last_modified", last_modified);
    json_object_object_add(all, url, one);
}

int resync_state_custom_ca_done(const struct resync_state *st, const char *url)
{
    json_object *rec = member(st, "custom_ca", json_type_object);
    return rec && strcmp(jsonfile_get_string(rec, "url", ""), url) == 0 &&
           strcmp(jsonfile_get_string(rec, "result", ""), "ok") == 0;
}

void resync_state_record_custom_ca(struct resync_state *st, const char *url, ug_err result,
                                   const char *reason, long long now)
{
    json_object *rec = json_object_new_object();
    if (!rec)
        return;
    jsonfile_set_string(rec, "url", url);
    jsonfile_set_string(rec, "result", result == UG_OK ? "ok" : ug_err_name(result));
    jsonfile_set_string(rec, "err", reason);
    jsonfile_set_int(rec, "time", now);
    json_object_object_add(st->doc, "custom_ca", rec);
}

ug_err resync_state_factory(struct resync_state *st, long long now, char *err)
{
    json_object *doc = json_object_new_object();
    if (!doc)
        return ug_oom(err);
    jsonfile_set_string(doc, "state", provstate_name(PROV_MFG_RESET));
    jsonfile_set_int(doc, "factory_reset_time", now);
    json_object_put(st->doc);
    st->doc = doc;
    return UG_OK;
}
