/* SPDX-License-Identifier: MIT */
/* The parameter store. The file holds every parameter as one escaped line and ends with a
 * count line, so a reader can tell a whole file from a damaged one; it is only ever
 * replaced by fs_write_atomic, so a crash leaves the old set or the new one. */
#include "lang/params.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/lock.h"
#include "lang/rule.h"

#define SECRET_MASK "********"

static void free_values(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void params_close(struct param_store *s)
{
    free_values(s->value, s->table.n);
    free(s->access);
    paramdefs_free(&s->table);
    free(s->path);
    free(s->lock_path);
    free(s->recovered);
    memset(s, 0, sizeof *s);
}

/* Undoes the escaping of a stored value in place; -1 on a bad escape. */
static int unescape(char *v)
{
    size_t w = 0;
    for (size_t r = 0; v[r]; r++) {
        if (v[r] != '\\') {
            v[w++] = v[r];
            continue;
        }
        char c = v[++r];
        if (c == 'n')
            v[w++] = '\n';
        else if (c == 't')
            v[w++] = '\t';
        else if (c == 'r')
            v[w++] = '\r';
        else if (c == '\\')
            v[w++] = '\\';
        else
            return -1;
    }
    v[w] = '\0';
    return 0;
}

static int escape_into(struct buf *out, const char *v)
{
    for (; *v; v++) {
        const char *e = *v == '\n'   ? "\\n"
                        : *v == '\t' ? "\\t"
                        : *v == '\r' ? "\\r"
                        : *v == '\\' ? "\\\\"
                                     : NULL;
        if (e ? buf_append_str(out, e) : buf_append(out, v, 1))
            return -1;
    }
    return 0;
}

/* *damaged says whether a failure is the content's (the file read, but is no store). */
static ug_err load_file(struct param_store *s, int *damaged, char *err)
{
    struct buf text = {0};
    ug_err rc = fs_read_state_file(s->path, PARAMS_READ_MAX, &text, err);
    *damaged = rc == UG_ERR_UNUSABLE; /* over the limit: it exists, it was opened */
    if (rc != UG_OK) {
        buf_free(&text);
        return rc;
    }
    size_t count = 0;
    unsigned lineno = 0;
    int ended = 0;
    char *line = text.data, *next;
    for (; line && *line; line = next) {
        lineno++;
        next = strchr(line, '\n');
        if (!next) {
            rc = ug_fail(err, UG_ERR_OTHER, "%s line %u: incomplete last line (damaged store)",
                         s->path, lineno);
            break;
        }
        *next++ = '\0';
        if (ended) {
            rc = ug_fail(err, UG_ERR_OTHER, "%s line %u: text after the end line (damaged store)",
                         s->path, lineno);
            break;
        }
        if (lineno == 1) {
            if (strcmp(line, PARAMS_FILE_HEADER) != 0) {
                rc = ug_fail(err, UG_ERR_OTHER, "%s: not a parameter store (no '%s' header)",
                             s->path, PARAMS_FILE_HEADER);
                break;
            }
            continue;
        }
        if (strncmp(line, "# end ", 6) == 0) {
            char *end = NULL;
            unsigned long n = strtoul(line + 6, &end, 10);
            if (*end || n != count) {
                rc = ug_fail(err, UG_ERR_OTHER,
                             "%s: end line says %s entries, found %zu (damaged store)", s->path,
                             line + 6, count);
                break;
            }
            ended = 1;
            continue;
        }
        char *tab1 = strchr(line, '\t'), *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
        if (!tab2) {
            rc = ug_fail(err, UG_ERR_OTHER, "%s line %u: expected NAME<TAB>ACCESS<TAB>VALUE",
                         s->path, lineno);
            break;
        }
        *tab1 = *tab2 = '\0';
        int access = paramdefs_parse_access(tab1 + 1);
        if (access < 0 || unescape(tab2 + 1) != 0) {
            rc = ug_fail(err, UG_ERR_OTHER, "%s line %u: bad access or escape", s->path, lineno);
            break;
        }
        count++;
        long idx = paramdefs_find(&s->table, line);
        if (idx < 0)
            continue; /* a parameter the schema no longer declares */
        char *v = strdup(tab2 + 1);
        if (!v) {
            rc = ug_oom(err);
            buf_free(&text);
            return rc; /* memory, not the file */
        }
        free(s->value[idx]);
        s->value[idx] = v;
        s->access[idx] = (unsigned char)access;
    }
    if (rc == UG_OK && !ended)
        rc = ug_fail(err, UG_ERR_OTHER, "%s: no end line (damaged store)", s->path);
    *damaged = rc != UG_OK;
    buf_free(&text);
    return rc;
}

/* Fresh per-row arrays holding every default. */
static ug_err defaults(const struct param_store *s, char ***value, unsigned char **access,
                       char *err)
{
    size_t n = s->table.n;
    *value = calloc(n ? n : 1, sizeof **value);
    *access = calloc(n ? n : 1, 1);
    if (!*value || !*access)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        (*access)[i] = (unsigned char)s->table.defs[i].access;
        if (!((*value)[i] = strdup(s->table.defs[i].def)))
            goto oom;
    }
    return UG_OK;
oom:
    free_values(*value, n);
    free(*access);
    *value = NULL;
    *access = NULL;
    return ug_oom(err);
}

/* Reads the file again, over the defaults, in place of what memory holds; on failure memory
 * keeps what it had. */
static ug_err reload_checked(struct param_store *s, int *damaged, char *err)
{
    char **old_value = s->value;
    unsigned char *old_access = s->access;
    ug_err rc = defaults(s, &s->value, &s->access, err);
    *damaged = 0;
    if (rc == UG_OK && fs_exists(s->path))
        rc = load_file(s, damaged, err);
    if (rc != UG_OK) {
        free_values(s->value, s->table.n);
        free(s->access);
        s->value = old_value;
        s->access = old_access;
        return rc;
    }
    free_values(old_value, s->table.n);
    free(old_access);
    return UG_OK;
}

static ug_err reload(struct param_store *s, char *err)
{
    int damaged;
    return reload_checked(s, &damaged, err);
}

static ug_err write_values(const struct param_store *s, char *const *value,
                           const unsigned char *access, char *err);

/* A damaged store (cut short, garbage) is set aside and rebuilt from the defaults, so every
 * command, factory-reset first, works again; under the lock, after a second look (another
 * process may have rebuilt it meanwhile). s->recovered says what happened. */
static ug_err recover(struct param_store *s, const char *why, char *err)
{
    int lock_fd = -1, damaged = 0;
    char aside[4096];
    ug_err rc = lock_take(s->lock_path, PARAMS_LOCK_WAIT_MS, "the parameter store", &lock_fd, err);
    if (rc == UG_OK && (rc = reload_checked(s, &damaged, err)) != UG_OK && damaged &&
        (rc = fs_set_aside(s->path, aside, sizeof aside, err)) == UG_OK &&
        (rc = defaults(s, &s->value, &s->access, err)) == UG_OK &&
        (rc = write_values(s, s->value, s->access, err)) == UG_OK) {
        struct buf note = {0};
        if (buf_printf(&note, "%s; set aside as %s, every parameter is back at its default", why,
                       aside) != 0)
            rc = ug_oom(err);
        s->recovered = note.data;
    }
    lock_release(&lock_fd);
    return rc;
}

ug_err params_open(const struct state_folder *f, struct param_store *s, char *err)
{
    memset(s, 0, sizeof *s);
    ug_err rc = UG_OK;
    if (!(s->path = strdup(state_path(f, STATE_PARAMS))) ||
        !(s->lock_path = strdup(state_path(f, STATE_PARAMS_LOCK)))) {
        rc = ug_oom(err);
        goto out;
    }
    if ((rc = paramdefs_load(&s->table, state_path(f, STATE_SCHEMA), err)) != UG_OK)
        goto out;
    int damaged;
    if ((rc = reload_checked(s, &damaged, err)) != UG_OK && damaged) {
        char why[UG_ERRBUF];
        snprintf(why, sizeof why, "%s", err);
        rc = recover(s, why, err);
    }
out:
    if (rc != UG_OK)
        params_close(s);
    return rc;
}

/* A change starts here: under the lock, from the file as it is now (another process may
 * have changed it since this store was read). */
static ug_err change_begin(struct param_store *s, int *lock_fd, char *err)
{
    ug_err rc = lock_take(s->lock_path, PARAMS_LOCK_WAIT_MS, "the parameter store", lock_fd, err);
    if (rc == UG_OK && (rc = reload(s, err)) != UG_OK)
        lock_release(lock_fd);
    return rc;
}

static ug_err serialise(const struct param_store *s, char *const *value,
                        const unsigned char *access, struct buf *out, char *err)
{
    int rc = buf_printf(out, "%s\n", PARAMS_FILE_HEADER);
    for (size_t i = 0; rc == 0 && i < s->table.n; i++) {
        rc |= buf_printf(out, "%s\t%s\t", s->table.defs[i].name, paramdefs_access_name(access[i]));
        rc |= escape_into(out, value[i]);
        rc |= buf_append(out, "\n", 1);
    }
    if (rc == 0)
        rc = buf_printf(out, "# end %zu\n", s->table.n);
    return rc == 0 ? UG_OK : ug_oom(err);
}

/* Temp files of writers killed mid-write: safe to remove while the lock is held, which it
 * is whenever the store is written. */
static void remove_stale_temps(const struct param_store *s)
{
    char *dir = strdup(s->path);
    char *slash = dir ? strrchr(dir, '/') : NULL;
    if (!slash) {
        free(dir);
        return;
    }
    const char *file = slash + 1;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s.tmp.", file);
    *slash = '\0';
    DIR *d = opendir(dir[0] ? dir : "/");
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            unlinkat(dirfd(d), e->d_name, 0);
    }
    if (d)
        closedir(d);
    free(dir);
}

/* Called with the lock held only. */
static ug_err write_values(const struct param_store *s, char *const *value,
                           const unsigned char *access, char *err)
{
    struct buf text = {0};
    ug_err rc = serialise(s, value, access, &text, err);
    if (rc == UG_OK && text.len > PARAMS_STORE_MAX)
        rc = ug_fail(err, UG_ERR_USAGE,
                     "%s: the change would make the store %zu bytes, over its limit of %u; "
                     "nothing changed",
                     s->path, text.len, PARAMS_STORE_MAX);
    remove_stale_temps(s);
    /* 0600: the store holds passwords and keys. */
    if (rc == UG_OK)
        rc = fs_write_atomic(s->path, text.data, text.len, 0600, err);
    buf_free(&text);
    return rc;
}

ug_err params_create_defaults(const struct state_folder *f, char *err)
{
    struct param_store s;
    int lock_fd = -1;
    ug_err rc = params_open(f, &s, err);
    if (rc != UG_OK)
        return rc;
    char **value = NULL;
    unsigned char *access = NULL;
    if ((rc = change_begin(&s, &lock_fd, err)) == UG_OK &&
        (rc = defaults(&s, &value, &access, err)) == UG_OK)
        rc = write_values(&s, value, access, err);
    lock_release(&lock_fd);
    free_values(value, s.table.n);
    free(access);
    params_close(&s);
    return rc;
}

const char *params_value(const struct param_store *s, const char *name)
{
    long idx = paramdefs_find(&s->table, name);
    return idx < 0 ? NULL : s->value[idx];
}

const char *params_macro_lookup(void *store, const char *name)
{
    return params_value(store, name);
}

ug_err params_get(const struct param_store *s, const char *name, enum param_role role,
                  int show_secret, const char **value, char *err)
{
    long idx = paramdefs_find(&s->table, name);
    if (idx < 0)
        return ug_fail(err, UG_ERR_USAGE, "%s: no such parameter", name);
    const struct param_def *d = &s->table.defs[idx];
    if (role == PARAM_ROLE_USER && paramdefs_user_access(d, s->access[idx]) == PARAM_NA)
        return ug_fail(err, UG_ERR_OTHER, "%s: the user has no access to this parameter", d->name);
    if (d->flags & PARAM_SECRET) {
        if (role == PARAM_ROLE_USER)
            return ug_fail(err, UG_ERR_OTHER, "%s is secret and can only be set by the user",
                           d->name);
        if (!show_secret)
            return ug_fail(err, UG_ERR_OTHER, "%s is secret; add --show-secrets to print it",
                           d->name);
    }
    *value = s->value[idx];
    return UG_OK;
}

ug_err params_set(struct param_store *s, const char *name, const char *value, enum param_role role,
                  char *err)
{
    long idx = paramdefs_find(&s->table, name);
    if (idx < 0)
        return ug_fail(err, UG_ERR_USAGE, "%s: no such parameter", name);
    const struct param_def *d = &s->table.defs[idx];
    enum param_access user = paramdefs_user_access(d, s->access[idx]);
    if (role == PARAM_ROLE_USER && user != PARAM_RW)
        return ug_fail(err, UG_ERR_OTHER, "%s: the user may not change it (access %s)", d->name,
                       paramdefs_access_name(user));
    char *norm = NULL;
    ug_err rc = paramdefs_validate(d, value, &norm, err);
    if (rc != UG_OK)
        return rc;
    struct profile_entry entry = {
        .name = (char *)d->name, .value = norm, .access = PROFILE_ACCESS_KEEP, .line = 0};
    struct profile one = {.entries = &entry, .n = 1};
    rc = params_apply(s, &one, "param set", NULL, err);
    free(norm);
    return rc;
}

void params_apply_result_free(struct params_apply_result *res)
{
    for (size_t i = 0; i < res->n_unknown_names; i++)
        free(res->unknown_names[i]);
    free(res->unknown_names);
    for (size_t i = 0; i < res->n_notes; i++) {
        free(res->notes[i].name);
        free(res->notes[i].why);
    }
    free(res->notes);
    memset(res, 0, sizeof *res);
}

static int add_note(struct params_apply_result *r, enum params_note_kind kind, unsigned line,
                    const char *name, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Records a note; -1 only when memory runs out. */
static int add_note(struct params_apply_result *r, enum params_note_kind kind, unsigned line,
                    const char *name, const char *fmt, ...)
{
    if (r->n_notes == PARAMS_MAX_NOTES) {
        r->notes_dropped++;
        return 0;
    }
    char why[UG_ERRBUF];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    struct params_note *v = realloc(r->notes, (r->n_notes + 1) * sizeof *v);
    if (!v)
        return -1;
    r->notes = v;
    struct params_note *n = &v[r->n_notes];
    n->kind = kind;
    n->line = line;
    n->name = strdup(name);
    n->why = strdup(why);
    if (!n->name || !n->why) {
        free(n->name);
        free(n->why);
        return -1;
    }
    r->n_notes++;
    return 0;
}

static int add_unknown(struct params_apply_result *r, const char *name)
{
    r->unknown++;
    if (r->n_unknown_names == PARAMS_MAX_UNKNOWN_NAMES)
        return 0;
    char **v = realloc(r->unknown_names, (r->n_unknown_names + 1) * sizeof *v);
    if (!v)
        return -1;
    r->unknown_names = v;
    if (!(v[r->n_unknown_names] = strdup(name)))
        return -1;
    r->n_unknown_names++;
    return 0;
}

/* What one apply builds before it commits. */
struct staging {
    const struct param_store *s;
    const struct params_apply_options *o;
    const char *source;
    char **value;          /* per row: the new value, or NULL */
    unsigned char *access; /* per row: the new user access */
    struct params_apply_result *res;
};

/* The notes about attributes that were not understood; the setting is judged without them. */
static int note_attributes(struct staging *g, const struct profile_entry *e, const char *name)
{
    if (!(e->flags & (PROFILE_BAD_UA | PROFILE_BAD_PRESERVE)))
        return 0;
    return add_note(g->res, PARAMS_NOTE_ACCESS, e->line, name,
                    "%s not understood (ua is na, ro or rw; preserve-value y or n): %s",
                    e->bad_attr ? e->bad_attr : "attribute",
                    (e->flags & PROFILE_BAD_UA) ? "the user's access stays as it was"
                                                : "preserve-value taken as n");
}

/* An Upgrade_Rule from a server may leave the server out: the one that served it is meant. */
static const char *with_served_host(struct staging *g, const struct param_def *d, const char *v,
                                    struct buf *filled)
{
    char ignored[UG_ERRBUF];
    if (d->type != PT_UPGRADE_RULE || !g->o || !g->o->served_by || !g->o->served_by[0])
        return v;
    return rule_fill_host(v, g->o->served_by, filled, ignored) > 0 ? filled->data : v;
}

/* The value of one entry: staged, defaulted or ignored. *take_access says whether its ua may
 * still apply (not when the setting is ignored: Cisco ignores the parameter). */
static int stage_value(struct staging *g, long idx, const struct profile_entry *e, int *take_access)
{
    const struct param_def *d = &g->s->table.defs[idx];
    const char *v = e->value;
    struct buf filled = {0};
    *take_access = 1;
    if (!v[0] && paramdefs_empty_restores_default(d)) {
        v = d->def;
        g->res->defaulted++;
        if (add_note(g->res, PARAMS_NOTE_DEFAULTED, e->line, d->name,
                     "empty: the default '%s' restored", d->def) != 0)
            return -1;
    }
    v = with_served_host(g, d, v, &filled);
    char *norm = NULL, why[UG_ERRBUF];
    ug_err rc = paramdefs_validate(d, v, &norm, why);
    buf_free(&filled);
    if (rc == UG_ERR_OTHER)
        return -1;
    if (rc != UG_OK) {
        *take_access = 0;
        g->res->ignored++;
        /* why starts with the name (paramdefs_validate); the note names it once. */
        size_t nl = strlen(d->name);
        const char *text = strncmp(why, d->name, nl) == 0 && why[nl] == ':' ? why + nl + 2 : why;
        return add_note(g->res, PARAMS_NOTE_IGNORED, e->line, d->name,
                        "%s; ignored, the old value stays", text);
    }
    free(g->value[idx]); /* an alias and its name both set: the later one wins */
    g->value[idx] = norm;
    return 0;
}

static int stage_access(struct staging *g, long idx, const struct profile_entry *e)
{
    const struct param_def *d = &g->s->table.defs[idx];
    enum param_access want = (enum param_access)e->access;
    enum param_access can = paramdefs_user_access(d, want);
    g->access[idx] = (unsigned char)can;
    if (can == want)
        return 0;
    return add_note(g->res, PARAMS_NOTE_ACCESS, e->line, d->name,
                    "ua=\"%s\" refused: the user never gets more than %s on a secret",
                    paramdefs_access_name(want), paramdefs_access_name(can));
}

/* Judges one entry of the profile on its own. -1 only when memory runs out. */
static int stage_entry(struct staging *g, const struct profile_entry *e)
{
    long idx = paramdefs_find(&g->s->table, e->name);
    if (idx < 0) {
        if (!(e->flags & PROFILE_SECTION))
            return add_unknown(g->res, e->name);
        char shown[300];
        snprintf(shown, sizeof shown, "<%s>", e->name);
        if (add_unknown(g->res, shown) != 0)
            return -1;
        return add_note(g->res, PARAMS_NOTE_SECTION, e->line, shown,
                        "a section of %zu elements this device does not know; ignored",
                        e->children);
    }
    const char *name = g->s->table.defs[idx].name;
    if (e->flags & PROFILE_SECTION) {
        g->res->ignored++;
        return add_note(g->res, PARAMS_NOTE_IGNORED, e->line, name,
                        "holds %zu elements, not a value; ignored, the old value stays",
                        e->children);
    }
    if (note_attributes(g, e, name) != 0)
        return -1;
    int take_access = 1;
    if (e->value && stage_value(g, idx, e, &take_access) != 0)
        return -1;
    if (take_access && e->access != PROFILE_ACCESS_KEEP && stage_access(g, idx, e) != 0)
        return -1;
    if (take_access)
        g->res->taken++;
    return 0;
}

/* The new set, written in one atomic replace before memory changes. */
static ug_err commit(struct param_store *s, struct staging *g, char *err)
{
    size_t n = s->table.n;
    char **next = calloc(n ? n : 1, sizeof *next);
    if (!next)
        return ug_oom(err);
    for (size_t i = 0; i < n; i++) {
        next[i] = g->value[i] ? g->value[i] : s->value[i];
        if ((g->value[i] && strcmp(g->value[i], s->value[i]) != 0) || g->access[i] != s->access[i])
            g->res->changed++;
    }
    ug_err rc = write_values(s, next, g->access, err);
    free(next);
    if (rc != UG_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (g->value[i]) {
            free(s->value[i]);
            s->value[i] = g->value[i];
            g->value[i] = NULL;
        }
    }
    memcpy(s->access, g->access, n);
    return UG_OK;
}

ug_err params_apply_with(struct param_store *s, const struct profile *p, const char *source,
                         const struct params_apply_options *o, struct params_apply_result *res,
                         char *err)
{
    struct params_apply_result local = {0};
    size_t n = s->table.n;
    int lock_fd = -1;
    ug_err rc = change_begin(s, &lock_fd, err);
    if (rc != UG_OK)
        return rc;
    struct staging g = {s, o, source, calloc(n ? n : 1, sizeof(char *)), malloc(n ? n : 1), &local};
    if (!g.value || !g.access) {
        rc = ug_oom(err);
        goto out;
    }
    memcpy(g.access, s->access, n);
    /* Every entry is judged before anything is written: the store changes once, or not. */
    for (size_t k = 0; k < p->n && rc == UG_OK; k++)
        if (stage_entry(&g, &p->entries[k]) != 0)
            rc = ug_oom(err);
    if (rc == UG_OK)
        rc = commit(s, &g, err);
out:
    lock_release(&lock_fd);
    free_values(g.value, n);
    free(g.access);
    if (rc == UG_OK && res)
        *res = local;
    else
        params_apply_result_free(&local);
    return rc;
}

ug_err params_apply(struct param_store *s, const struct profile *p, const char *source,
                    struct params_apply_result *res, char *err)
{
    return params_apply_with(s, p, source, NULL, res, err);
}

int params_apply_result_format(const struct params_apply_result *r, const char *source,
                               struct buf *out)
{
    int rc =
        buf_printf(out, "applied %s: %zu parameters, %zu changed", source, r->taken, r->changed);
    if (r->defaulted)
        rc |= buf_printf(out, ", %zu defaulted", r->defaulted);
    if (r->ignored)
        rc |= buf_printf(out, ", %zu ignored", r->ignored);
    if (r->unknown) {
        rc |= buf_printf(out, ", %zu unknown ignored:", r->unknown);
        for (size_t i = 0; i < r->n_unknown_names; i++)
            rc |= buf_printf(out, " %s", r->unknown_names[i]);
        if (r->unknown > r->n_unknown_names)
            rc |= buf_append_str(out, " ...");
    }
    rc |= buf_append_str(out, "\n");
    for (size_t i = 0; i < r->n_notes; i++)
        rc |= buf_printf(out, "%s line %u: %s: %s\n", source, r->notes[i].line, r->notes[i].name,
                         r->notes[i].why);
    if (r->notes_dropped)
        rc |= buf_printf(out, "%s: %zu more notes not shown\n", source, r->notes_dropped);
    return rc;
}

/* Escapes a value for an export. Line breaks, tabs and edge spaces are written as character
 * references, which the profile reader keeps as written (it trims and folds only literal
 * white space), so the export applies back to the same value. */
static int xml_escape_into(struct buf *out, const char *value)
{
    size_t len = strlen(value), lead = strspn(value, " "), trail = len;
    while (trail > lead && value[trail - 1] == ' ')
        trail--;
    for (const char *v = value; *v; v++) {
        size_t i = (size_t)(v - value);
        const char *e = *v == ' ' && (i < lead || i >= trail) ? "&#32;"
                        : *v == '&'                           ? "&amp;"
                        : *v == '<'                           ? "&lt;"
                        : *v == '>'                           ? "&gt;"
                        : *v == '"'                           ? "&quot;"
                        : *v == '\n'                          ? "&#10;"
                        : *v == '\t'                          ? "&#9;"
                        : *v == '\r'                          ? "&#13;"
                                                              : NULL;
        if (e ? buf_append_str(out, e) : buf_append(out, v, 1))
            return -1;
    }
    return 0;
}

static int visible(const struct param_store *s, size_t i, enum param_role role)
{
    return role == PARAM_ROLE_ADMIN ||
           paramdefs_user_access(&s->table.defs[i], s->access[i]) != PARAM_NA;
}

/* Differs from the factory: its value or its user access. */
static int changed_from_default(const struct param_store *s, size_t i)
{
    const struct param_def *d = &s->table.defs[i];
    return strcmp(s->value[i], d->def) != 0 || s->access[i] != d->access;
}

static ug_err export_xml(const struct param_store *s, enum param_role role, int show_secrets,
                         int only_changed, struct buf *out, char *err)
{
    if (show_secrets && role != PARAM_ROLE_ADMIN)
        return ug_fail(err, UG_ERR_OTHER, "only the admin may export secrets");
    int rc = buf_append_str(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<flat-profile>\n");
    if (!show_secrets)
        rc |= buf_append_str(
            out, "  <!-- secrets are not shown: preserve-value=\"y\" keeps their values "
                 "when this profile is applied again -->\n");
    for (size_t i = 0; rc == 0 && i < s->table.n; i++) {
        const struct param_def *d = &s->table.defs[i];
        if (!visible(s, i, role) || (only_changed && !changed_from_default(s, i)))
            continue;
        const char *ua = paramdefs_access_name(paramdefs_user_access(d, s->access[i]));
        if ((d->flags & PARAM_SECRET) && !show_secrets) {
            rc |= buf_printf(out, "  <%s ua=\"%s\" preserve-value=\"y\"/>\n", d->name, ua);
            continue;
        }
        /* The store refuses such values on the way in, but one written by an older agent may
         * hold one; no XML can carry it, so the export stops rather than give a backup that
         * does not apply back. Never repeated: it may be a secret. */
        char why[UG_ERRBUF];
        if (paramdefs_check_text(s->value[i], why) != UG_OK)
            return ug_fail(err, UG_ERR_OTHER,
                           "%s: the stored value %s, which no profile can carry (stored by an "
                           "older agent?): set it again, then export",
                           d->name, why);
        rc |= buf_printf(out, "  <%s ua=\"%s\">", d->name, ua);
        rc |= xml_escape_into(out, s->value[i]);
        rc |= buf_printf(out, "</%s>\n", d->name);
    }
    rc |= buf_append_str(out, "</flat-profile>\n");
    return rc == 0 ? UG_OK : ug_oom(err);
}

ug_err params_export_xml(const struct param_store *s, enum param_role role, int show_secrets,
                         struct buf *out, char *err)
{
    return export_xml(s, role, show_secrets, 0, out, err);
}

ug_err params_export_delta_xml(const struct param_store *s, enum param_role role, int show_secrets,
                               struct buf *out, char *err)
{
    return export_xml(s, role, show_secrets, 1, out, err);
}

ug_err params_list(const struct param_store *s, enum param_role role, struct buf *out, char *err)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < s->table.n; i++) {
        const struct param_def *d = &s->table.defs[i];
        if (!visible(s, i, role))
            continue;
        const char *v = (d->flags & PARAM_SECRET) && s->value[i][0] ? SECRET_MASK : s->value[i];
        rc |= buf_printf(out, "%s\t%s\t", d->name,
                         paramdefs_access_name(paramdefs_user_access(d, s->access[i])));
        rc |= escape_into(out, v);
        rc |= buf_append(out, "\n", 1);
    }
    return rc == 0 ? UG_OK : ug_oom(err);
}
