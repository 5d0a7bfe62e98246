/* SPDX-License-Identifier: MIT */
/* HTML rendered on the device, every value escaped; the only script is /static/app.js
 * (the progress bar), so the Content-Security-Policy can forbid inline code. Secret
 * parameters are never rendered: their fields are write-only. */
#include "web/pages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/jsonfile.h"

#define OOM(b) ((b)->data == NULL)

/* docs/parameters.md's groups: each starts at its first parameter in the built-in order;
 * the parameters of DIR/schema.conf follow in a group of their own. */
static const struct {
    const char *first, *title;
} groups[] = {
    {"Provision_Enable", "Resync"},
    {"Upgrade_Enable", "Firmware upgrade"},
    {"GPP_A", "General purpose parameters"},
    {"Admin_Passwd", "Access control and web server"},
    {"Syslog_Server", "Syslog"},
    {"SIP_UA_Control_Enable", "Calls and downloads"},
};
#define GROUPS       (sizeof groups / sizeof groups[0])
#define SCHEMA_GROUP GROUPS /* the phone's own programs */
#define SCHEMA_TITLE "The phone's own programs"

static const char *member(json_object *o, const char *k, const char *fallback)
{
    json_object *v = NULL;
    if (!o || !json_object_object_get_ex(o, k, &v) || !v)
        return fallback;
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                    : json_object_to_json_string(v);
}

static json_object *child(json_object *o, const char *k)
{
    json_object *v = NULL;
    return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static void esc(struct buf *b, const char *s)
{
    if (form_html(b, s ? s : "") != 0)
        buf_free(b);
}

static void head(struct buf *b, const struct page_ctx *c, const char *title, const char *here)
{
    static const char *const nav[][2] = {
        {"/", "Status"}, {"/config", "Configuration"}, {"/log", "Log"}};
    buf_printf(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                  "<meta name=\"viewport\" content=\"width=device-width\"><title>");
    esc(b, title);
    buf_append_str(b, "</title><link rel=\"stylesheet\" href=\"/static/style.css\">"
                      "<script src=\"/static/app.js\" defer></script></head>\n<body><header>");
    for (size_t i = 0; i < 3; i++)
        buf_printf(b, "<a href=\"%s\"%s>%s</a>", nav[i][0],
                   strcmp(nav[i][0], here) == 0 ? " class=\"here\"" : "", nav[i][1]);
    buf_printf(b, "<span class=\"who\" id=\"account\">%s</span></header>\n<main>",
               c->role == PARAM_ROLE_ADMIN ? "admin" : "user");
    if (c->admin_open)
        buf_append_str(b, "<p class=\"warn\" id=\"warn-admin\">The admin password is empty: "
                          "anyone who reaches this device may change it. Set Admin_Passwd.</p>");
    if (c->message) {
        buf_printf(b, "<p class=\"%s\" id=\"message\">", c->message_ok ? "ok" : "error");
        esc(b, c->message);
        buf_append_str(b, "</p>");
    }
    buf_append_str(b, "<h1>");
    esc(b, title);
    buf_append_str(b, "</h1>\n");
}

static ug_err tail(struct buf *b, char *err)
{
    buf_append_str(b, "</main></body></html>\n");
    return OOM(b) ? ug_oom(err) : UG_OK;
}

static void row(struct buf *b, const char *id, const char *label, const char *value)
{
    buf_printf(b, "<tr><th>%s</th><td id=\"%s\">", label, id);
    esc(b, value);
    buf_append_str(b, "</td></tr>\n");
}

static void time_text(int64_t t, char *out, size_t outsz)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (t <= 0 || !gmtime_r(&tt, &tm) || !strftime(out, outsz, "%Y-%m-%d %H:%M:%S UTC", &tm))
        snprintf(out, outsz, "-");
}

static void device_table(struct buf *b, json_object *st)
{
    json_object *id = child(st, "identity"), *prov = child(st, "provisioning");
    json_object *last = child(prov, "last_resync"), *up = child(st, "upgrade");
    char line[1024], t[64];
    buf_append_str(b, "<table class=\"kv\">\n");
    row(b, "product", "Product", member(id, "product", "-"));
    row(b, "mac", "MAC address", member(id, "mac", "-"));
    row(b, "serial", "Serial number", member(id, "serial", "-"));
    snprintf(line, sizeof line, "%s (slot %s)", member(child(st, "running"), "version", "-"),
             member(child(st, "running"), "slot", "-"));
    row(b, "running-version", "Running version", line);
    row(b, "prov-state", "Provisioning state", member(prov, "state", "-"));
    snprintf(line, sizeof line, "%s %s %s %s", member(last, "time_text", "none"),
             member(last, "result_name", ""), member(last, "url", ""), member(last, "err", ""));
    row(b, "last-resync", "Last resync", line);
    time_text(jsonfile_get_int(up, "last_time", 0), t, sizeof t);
    snprintf(line, sizeof line, "%s %s %s", t, member(up, "last_result", "none"),
             member(up, "last_error", ""));
    row(b, "last-upgrade", "Last upgrade", line);
    row(b, "led", "LED pattern", member(st, "led", "-"));
    row(b, "calls", "Calls active", member(st, "calls_active", "0"));
    buf_append_str(b, "</table>\n");
}

static void slots_table(struct buf *b, json_object *st)
{
    json_object *slots = child(st, "slots");
    const char *running = member(child(st, "running"), "slot", "");
    buf_append_str(b, "<h2>Slots</h2>\n");
    if (!slots) {
        buf_append_str(b, "<p id=\"slots\">The boot state cannot be read.</p>\n");
        return;
    }
    buf_append_str(b, "<table id=\"slots\"><tr><th>slot</th><th>version</th><th>bootable</th>"
                      "<th>successful</th><th>tries</th><th>priority</th><th></th></tr>\n");
    for (const char *n = "A"; n; n = *n == 'A' ? "B" : NULL) {
        json_object *s = child(slots, n);
        buf_printf(b, "<tr><td>%s</td><td id=\"slot-%s-version\">", n, n);
        esc(b, *member(s, "version", "") ? member(s, "version", "") : "(empty)");
        buf_printf(b,
                   "</td><td id=\"slot-%s-bootable\">%s</td><td>%s</td><td>%s</td><td>%s</td>"
                   "<td>%s</td></tr>\n",
                   n, member(s, "bootable", "-"), member(s, "successful", "-"),
                   member(s, "tries", "-"), member(s, "priority", "-"),
                   strcmp(running, n) == 0 ? "running" : "");
    }
    buf_append_str(b, "</table>\n");
}

/* 1 while an upgrade pass or switch runs, or the engine says it downloads. */
static int upgrading(json_object *st)
{
    const char *kind = member(child(child(st, "daemon"), "running"), "kind", "");
    return strcmp(kind, "upgrade") == 0 || strcmp(kind, "switch") == 0 ||
           strcmp(member(child(st, "upgrade"), "state", ""), "downloading") == 0;
}

json_object *pages_progress(json_object *st)
{
    json_object *up = child(st, "upgrade"), *run = child(child(st, "daemon"), "running");
    json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    json_object_object_add(o, "active", json_object_new_boolean(upgrading(st)));
    jsonfile_set_string(o, "running", member(run, "kind", ""));
    jsonfile_set_string(o, "state", member(run, "upgrade_state", member(up, "state", "idle")));
    jsonfile_set_int(o, "hop", jsonfile_get_int(up, "hop", 0));
    jsonfile_set_int(o, "hops", jsonfile_get_int(up, "hops", 0));
    jsonfile_set_string(o, "version", member(up, "version", ""));
    jsonfile_set_string(o, "target", member(up, "target", ""));
    /* The worker's progress (at most once a second) is fresher than upgrade.json's. */
    json_object *src = child(run, "bytes_total") ? run : up;
    jsonfile_set_int(o, "bytes_done", jsonfile_get_int(src, "bytes_done", 0));
    jsonfile_set_int(o, "bytes_total", jsonfile_get_int(src, "bytes_total", 0));
    return o;
}

/* The chain of hops from the running version to the target, the current one marked. */
static void plan(struct buf *b, json_object *st, json_object *p)
{
    int hop = (int)jsonfile_get_int(p, "hop", 0), hops = (int)jsonfile_get_int(p, "hops", 0);
    buf_append_str(b, "<ol class=\"plan\" id=\"plan\"><li class=\"done\">");
    esc(b, member(child(st, "running"), "version", "?"));
    buf_append_str(b, " (running)</li>");
    for (int h = 1; h <= hops && h <= 64; h++) {
        char label[160];
        if (h == hop)
            snprintf(label, sizeof label, "%s", member(p, "version", ""));
        else if (h == hops)
            snprintf(label, sizeof label, "%s", member(p, "target", ""));
        else
            label[0] = '\0';
        if (!label[0])
            snprintf(label, sizeof label, "hop %d", h);
        buf_printf(b, "<li data-hop=\"%d\"%s>", h,
                   h == hop  ? " class=\"current\""
                   : h < hop ? " class=\"done\""
                             : "");
        esc(b, label);
        buf_append_str(b, "</li>");
    }
    buf_append_str(b, "</ol>\n");
}

static void upgrade_box(struct buf *b, json_object *st)
{
    json_object *p = pages_progress(st), *up = child(st, "upgrade");
    int active =
        jsonfile_get_int(p, "active", 0) != 0 || json_object_get_boolean(child(p, "active"));
    buf_printf(b, "<h2>Upgrade</h2>\n<div id=\"upgrade\" data-active=\"%d\" data-running=\"",
               active);
    esc(b, member(p, "running", ""));
    buf_append_str(b, "\"><p id=\"upgrade-state\">");
    esc(b, member(up, "state", "idle"));
    if (*member(up, "reason", "")) {
        buf_append_str(b, ": ");
        esc(b, member(up, "reason", ""));
    }
    buf_append_str(b, "</p>\n");
    if (active) {
        plan(b, st, p);
        buf_printf(b,
                   "<progress id=\"progress\" max=\"%lld\" value=\"%lld\"></progress> "
                   "<span id=\"progress-text\">%lld of %lld bytes</span>\n",
                   jsonfile_get_int(p, "bytes_total", 0) ? jsonfile_get_int(p, "bytes_total", 0)
                                                         : 1,
                   jsonfile_get_int(p, "bytes_done", 0), jsonfile_get_int(p, "bytes_done", 0),
                   jsonfile_get_int(p, "bytes_total", 0));
    }
    buf_append_str(b, "</div>\n");
    json_object_put(p);
}

static void jobs_table(struct buf *b, json_object *st)
{
    json_object *d = child(st, "daemon"), *jobs = child(d, "jobs");
    size_t n = jobs ? json_object_array_length(jobs) : 0;
    buf_append_str(b, "<h2>Jobs</h2>\n");
    if (!n) {
        buf_append_str(b, "<p id=\"jobs\">No job is queued.</p>\n");
        return;
    }
    buf_append_str(b, "<table id=\"jobs\"><tr><th>job</th><th>kind</th><th>asked by</th>"
                      "<th>state</th></tr>\n");
    for (size_t i = 0; i < n; i++) {
        json_object *j = json_object_array_get_idx(jobs, i);
        buf_printf(b, "<tr><td>%lld</td><td>", jsonfile_get_int(j, "id", 0));
        esc(b, member(j, "kind", ""));
        buf_append_str(b, "</td><td>");
        esc(b, member(j, "origin", ""));
        buf_append_str(b, "</td><td>");
        esc(b, member(j, "why", ""));
        buf_append_str(b, "</td></tr>\n");
    }
    buf_append_str(b, "</table>\n");
}

ug_err pages_status(struct buf *out, const struct page_ctx *c, json_object *st, char *err)
{
    json_object *id = child(st, "identity");
    char title[160];
    snprintf(title, sizeof title, "%s %s", member(id, "product", "Phone"), member(id, "mac", ""));
    head(out, c, title, "/");
    device_table(out, st);
    slots_table(out, st);
    upgrade_box(out, st);
    jobs_table(out, st);
    return tail(out, err);
}

/* ---- configuration */

static size_t group_of(const char *name, size_t builtin_index)
{
    static size_t starts[GROUPS];
    static int ready;
    if (!ready) {
        size_t n = 0;
        const struct param_def *d = paramdefs_builtin(&n);
        for (size_t g = 0; g < GROUPS; g++)
            for (size_t i = 0; i < n; i++)
                if (strcmp(d[i].name, groups[g].first) == 0)
                    starts[g] = i;
        ready = 1;
    }
    (void)name;
    size_t g = 0;
    while (g + 1 < GROUPS && builtin_index >= starts[g + 1])
        g++;
    return g;
}

static void field(struct buf *b, const struct param_store *s, long idx, enum param_role role,
                  const char *bad, const struct form *kept)
{
    const struct param_def *d = &s->table.defs[idx];
    int secret = (d->flags & PARAM_SECRET) != 0;
    int writable = role == PARAM_ROLE_ADMIN || s->access[idx] == PARAM_RW;
    char key[160];
    snprintf(key, sizeof key, "p:%s", d->name);
    const char *shown = kept && form_get(kept, key) ? form_get(kept, key) : s->value[idx];
    buf_printf(b, "<tr><th><label for=\"%s\">%s</label></th><td>", key, d->name);
    if (!writable) {
        buf_printf(b, "<span id=\"%s\">", key);
        esc(b, secret ? "********" : s->value[idx]);
        buf_append_str(b, "</span>");
    } else {
        buf_printf(b, "<input type=\"%s\" id=\"%s\" name=\"%s\"%s", secret ? "password" : "text",
                   key, key, bad && strcmp(bad, d->name) == 0 ? " class=\"bad\"" : "");
        if (secret)
            buf_printf(b, " autocomplete=\"new-password\" placeholder=\"%s\"",
                       s->value[idx][0] ? "set; empty keeps it" : "not set");
        else {
            buf_append_str(b, " value=\"");
            esc(b, shown);
            buf_append_str(b, "\"");
        }
        buf_append_str(b, ">");
    }
    buf_printf(b, "</td><td class=\"access\">%s</td></tr>\n",
               paramdefs_access_name((enum param_access)s->access[idx]));
}

static int shown_to(const struct param_store *s, long idx, enum param_role role)
{
    return role == PARAM_ROLE_ADMIN || s->access[idx] != PARAM_NA;
}

/* One group's form; nothing when the account sees none of its parameters. */
static void group_form(struct buf *b, const struct page_ctx *c, const struct param_store *s,
                       size_t g, const char *bad, const struct form *kept)
{
    size_t nb = 0, shown = 0;
    const struct param_def *d = paramdefs_builtin(&nb);
    struct buf rows = {0};
    for (size_t i = 0; i < (g == SCHEMA_GROUP ? s->table.n : nb); i++) {
        const char *name = g == SCHEMA_GROUP ? s->table.defs[i].name : d[i].name;
        long idx = paramdefs_find(&s->table, name);
        int builtin = 0;
        for (size_t k = 0; g == SCHEMA_GROUP && k < nb && !builtin; k++)
            builtin = strcmp(d[k].name, name) == 0;
        if (idx < 0 || builtin || (g != SCHEMA_GROUP && group_of(name, i) != g) ||
            !shown_to(s, idx, c->role))
            continue;
        field(&rows, s, idx, c->role, bad, kept);
        shown++;
    }
    if (shown) {
        buf_printf(b,
                   "<h2 id=\"group-%zu\">%s</h2>\n<form method=\"post\" action=\"/config\">"
                   "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
                   "<table><tr><th>parameter</th><th>value</th><th>user access</th></tr>\n",
                   g, g == SCHEMA_GROUP ? SCHEMA_TITLE : groups[g].title, c->csrf);
        buf_append(b, rows.data, rows.len);
        buf_printf(b, "</table><button type=\"submit\" id=\"apply-%zu\">Apply</button></form>\n",
                   g);
    }
    buf_free(&rows);
}

ug_err pages_config(struct buf *out, const struct page_ctx *c, const struct param_store *s,
                    const char *bad, const struct form *kept, char *err)
{
    head(out, c, "Configuration", "/config");
    buf_append_str(out, "<p>Each group is applied as a whole, or not at all. Secret fields "
                        "are never shown: leave one empty to keep its value.</p>\n");
    for (size_t g = 0; g <= SCHEMA_GROUP; g++)
        group_form(out, c, s, g, bad, kept);
    return tail(out, err);
}

/* ---- the form's apply */

static ug_err check_field(const struct param_store *s, enum param_role role, const char *name,
                          const char *value, long *idx, char *err)
{
    *idx = paramdefs_find(&s->table, name);
    if (*idx < 0)
        return ug_fail(err, UG_ERR_USAGE, "%s: no such parameter", name);
    if (role == PARAM_ROLE_USER && s->access[*idx] != PARAM_RW)
        return ug_fail(err, UG_ERR_OTHER, "%s: the user account may not change it", name);
    char *norm = NULL;
    ug_err rc = paramdefs_validate(&s->table.defs[*idx], value, &norm, err);
    free(norm);
    return rc;
}

ug_err pages_config_apply(struct param_store *s, enum param_role role, const struct form *f,
                          char *bad, size_t badsz, size_t *changed, char *err)
{
    struct profile p = {0};
    ug_err rc = UG_OK;
    *changed = 0;
    bad[0] = '\0';
    if (f->n && !(p.entries = calloc(f->n, sizeof *p.entries)))
        return ug_oom(err);
    for (size_t i = 0; i < f->n && rc == UG_OK; i++) {
        const char *name = f->f[i].name, *value = f->f[i].value;
        long idx = -1;
        if (strncmp(name, "p:", 2) != 0)
            continue;
        name += 2;
        if ((rc = check_field(s, role, name, value, &idx, err)) != UG_OK) {
            snprintf(bad, badsz, "%s", name);
            break;
        }
        if ((s->table.defs[idx].flags & PARAM_SECRET) && !value[0])
            continue; /* write-only: empty keeps the secret */
        p.entries[p.n++] = (struct profile_entry){.name = (char *)name,
                                                  .value = (char *)value,
                                                  .access = PROFILE_ACCESS_KEEP,
                                                  .line = (unsigned)(i + 1)};
    }
    struct params_apply_result res = {0};
    if (rc == UG_OK && p.n && (rc = params_apply(s, &p, "web form", &res, err)) == UG_OK)
        *changed = res.changed;
    params_apply_result_free(&res);
    free(p.entries);
    return rc;
}

/* ---- log */

ug_err pages_log(struct buf *out, const struct page_ctx *c, json_object *events, char *err)
{
    size_t n = events ? json_object_array_length(events) : 0;
    head(out, c, "Log", "/log");
    if (!n)
        buf_append_str(out, "<p id=\"events\">Nothing has happened since the log began.</p>\n");
    else
        buf_append_str(out, "<table id=\"events\"><tr><th>time</th><th>event</th>"
                            "<th>asked by</th><th>outcome</th><th>details</th></tr>\n");
    for (size_t i = n; i-- > 0;) {
        json_object *e = json_object_array_get_idx(events, i);
        char t[64];
        time_text(jsonfile_get_int(e, "time", 0), t, sizeof t);
        buf_printf(out, "<tr><td>%s</td><td>", t);
        esc(out, member(e, "kind", ""));
        buf_append_str(out, "</td><td>");
        esc(out, member(e, "origin", ""));
        buf_append_str(out, "</td><td>");
        esc(out, member(e, "result", ""));
        buf_append_str(out, "</td><td>");
        esc(out, member(e, "text", ""));
        buf_append_str(out, "</td></tr>\n");
    }
    if (n)
        buf_append_str(out, "</table>\n");
    return tail(out, err);
}
