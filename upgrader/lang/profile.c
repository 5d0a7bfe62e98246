/* SPDX-License-Identifier: MIT */
/* Profile reading. XML goes through expat (entities, encodings and malformed markup are
 * its job); the SPA plain-text form is small enough to scan by hand. Both produce the
 * same entry list, de-duplicated so the last setting of a name wins. */
#include "lang/profile.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <expat.h>
#include <zlib.h>

#include "lang/crypt.h"
#include "lang/paramdefs.h"

int profile_is_gzip(const void *data, size_t len)
{
    const unsigned char *p = data;
    return len >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

ug_err profile_gunzip(const void *data, size_t len, size_t max_out, struct buf *out, char *err)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
        return ug_fail(err, UG_ERR_OTHER, "cannot start gzip inflate");
    unsigned char chunk[65536];
    ug_err rc = UG_OK;
    size_t total = 0;
    zs.next_in = (unsigned char *)data;
    zs.avail_in = (uInt)len;
    for (;;) {
        zs.next_out = chunk;
        zs.avail_out = sizeof chunk;
        int z = inflate(&zs, Z_NO_FLUSH);
        size_t got = sizeof chunk - zs.avail_out;
        total += got;
        if (total > max_out) {
            rc =
                ug_fail(err, UG_ERR_UNUSABLE, "gzip data inflates to more than %zu bytes", max_out);
            break;
        }
        if (got && buf_append(out, chunk, got) != 0) {
            rc = ug_oom(err);
            break;
        }
        if (z == Z_STREAM_END) {
            /* gzip allows several members one after the other (cat a.gz b.gz). */
            if (zs.avail_in > 0 && profile_is_gzip(zs.next_in, zs.avail_in) &&
                inflateReset(&zs) == Z_OK)
                continue;
            if (zs.avail_in > 0)
                rc = ug_fail(err, UG_ERR_UNUSABLE, "%u bytes of garbage after the gzip data",
                             zs.avail_in);
            break;
        }
        if (z == Z_BUF_ERROR && zs.avail_in == 0) {
            rc = ug_fail(err, UG_ERR_UNUSABLE, "gzip data is truncated");
            break;
        }
        if (z != Z_OK && z != Z_BUF_ERROR) {
            rc = ug_fail(err, UG_ERR_UNUSABLE, "gzip data is corrupt (%s)",
                         zs.msg ? zs.msg : "inflate error");
            break;
        }
    }
    inflateEnd(&zs);
    if (rc == UG_OK && buf_append(out, "", 0) != 0)
        rc = ug_oom(err);
    return rc;
}

void profile_free(struct profile *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->entries[i].name);
        free(p->entries[i].value);
        free(p->entries[i].bad_attr);
    }
    free(p->entries);
    memset(p, 0, sizeof *p);
}

struct entry_list {
    struct profile_entry *v;
    size_t n, cap;
};

/* Takes ownership of e's strings (freed on failure). */
static int add_entry(struct entry_list *l, const struct profile_entry *e)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct profile_entry *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            free(e->name);
            free(e->value);
            free(e->bad_attr);
            return -1;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = *e;
    return 0;
}

static const struct profile_entry *sort_base;

static int by_name_then_position(const void *a, const void *b)
{
    size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
    int c = strcmp(sort_base[ia].name, sort_base[ib].name);
    return c ? c : (ia < ib ? -1 : ia > ib);
}

/* Keeps the last setting of every name, in document order. */
static int drop_duplicates(struct entry_list *l)
{
    if (l->n < 2)
        return 0;
    size_t *order = malloc(l->n * sizeof *order);
    if (!order)
        return -1;
    for (size_t i = 0; i < l->n; i++)
        order[i] = i;
    sort_base = l->v;
    qsort(order, l->n, sizeof *order, by_name_then_position);
    for (size_t k = 0; k + 1 < l->n; k++) {
        struct profile_entry *e = &l->v[order[k]];
        if (strcmp(e->name, l->v[order[k + 1]].name) == 0) {
            free(e->name);
            free(e->value);
            free(e->bad_attr);
            e->name = NULL;
        }
    }
    free(order);
    size_t w = 0;
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].name)
            l->v[w++] = l->v[i];
    l->n = w;
    return 0;
}

/* White space written as a character reference (&#32; &#9; &#10; &#13;) is kept as written,
 * as an export writes the values' edge spaces and line breaks: while the text is collected it
 * stands as one of these bytes, which XML cannot hold, so trimming passes over it. */
static const char kept_space[] = " \t\n\r";
#define KEPT_MARK(i) ((char)(0x01 + (i)))

/* Trims and turns each line break into one space, in place; then restores the white space
 * that was written as character references. */
static void clean_value(char *s)
{
    size_t w = 0;
    for (size_t r = 0; s[r]; r++) {
        if (s[r] == '\r' && s[r + 1] == '\n')
            continue;
        s[w++] = (s[r] == '\n' || s[r] == '\r') ? ' ' : s[r];
    }
    s[w] = '\0';
    size_t start = 0;
    while (isspace((unsigned char)s[start]))
        start++;
    size_t end = w;
    while (end > start && isspace((unsigned char)s[end - 1]))
        end--;
    memmove(s, s + start, end - start);
    s[end - start] = '\0';
    for (char *p = s; *p; p++)
        if (*p >= KEPT_MARK(0) && *p <= KEPT_MARK(3))
            *p = kept_space[*p - KEPT_MARK(0)];
}

/* ---- --alias maps: "/foreign/path = /flat-profile/Name ;" ---- */

struct alias_map {
    size_t n;
    char **from; /* element paths from the document root, "/a/b" */
    char **to;   /* parameter names */
};

static void alias_map_free(struct alias_map *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->from[i]);
        free(m->to[i]);
    }
    free(m->from);
    free(m->to);
    memset(m, 0, sizeof *m);
}

/* A copy of s[0..n) without the blanks around it. */
static char *trimmed(const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    return strndup(s, n);
}

static ug_err alias_add(struct alias_map *m, char *from, char *to, char *err)
{
    char **f = realloc(m->from, (m->n + 1) * sizeof *f);
    if (f)
        m->from = f;
    char **t = f ? realloc(m->to, (m->n + 1) * sizeof *t) : NULL;
    if (t)
        m->to = t;
    if (!f || !t) {
        free(from);
        free(to);
        return ug_oom(err);
    }
    m->from[m->n] = from;
    m->to[m->n++] = to;
    return UG_OK;
}

/* Reads the entries of an alias map (the content of the GPP that --alias names). */
static ug_err alias_map_parse(const char *text, struct alias_map *m, char *err)
{
    memset(m, 0, sizeof *m);
    unsigned k = 0;
    for (const char *p = text; p && *p;) {
        const char *semi = strchr(p, ';');
        size_t n = semi ? (size_t)(semi - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        char *from = eq ? trimmed(p, (size_t)(eq - p)) : trimmed(p, n);
        char *to = eq ? trimmed(eq + 1, n - (size_t)(eq + 1 - p)) : NULL;
        k++;
        if (from && !*from && !eq) { /* blank between two ';' */
            free(from);
        } else if (!from || (eq && !to)) {
            free(from);
            free(to);
            alias_map_free(m);
            return ug_oom(err);
        } else {
            const char *name = to ? (strncmp(to, "/flat-profile/", 14) == 0 ? to + 14
                                     : to[0] == '/'                         ? to + 1
                                                                            : to)
                                  : NULL;
            if (!eq || from[0] != '/' || !name[0] || strchr(name, '/')) {
                ug_fail(err, UG_ERR_USAGE,
                        "alias map entry %u: expected '/foreign/path = /flat-profile/Name'", k);
                free(from);
                free(to);
                alias_map_free(m);
                return UG_ERR_USAGE;
            }
            memmove(to, name, strlen(name) + 1);
            if (alias_add(m, from, to, err) != UG_OK) {
                alias_map_free(m);
                return UG_ERR_OTHER;
            }
        }
        p = semi ? semi + 1 : NULL;
    }
    return UG_OK;
}

static const char *alias_target(const struct alias_map *m, const char *path)
{
    for (size_t i = 0; m && i < m->n; i++)
        if (strcmp(m->from[i], path) == 0)
            return m->to[i];
    return NULL;
}

/* ---- XML flat-profile ---- */

/* What was read of the element a parameter (one level below <flat-profile>) is set by. */
struct xml_param {
    char *name;
    int access;
    int preserve;
    unsigned flags;
    char *bad_attr;
    unsigned line;
    size_t children; /* elements inside it: then it is a section, not a value */
};

struct xml_state {
    XML_Parser parser;
    const char *input; /* the document, parsed in one piece: where a reference was written */
    size_t input_len;
    struct entry_list list;
    const struct alias_map *aliases;
    int depth;         /* current element depth, root = 1 */
    int profile_depth; /* depth of the open <flat-profile>, 0 if none */
    int seen_profile, aliased;
    struct xml_param param; /* the open parameter element (name NULL when none) */
    int leaf;               /* the innermost open element has no child yet */
    unsigned leaf_line;
    struct buf text; /* the innermost open element's text */
    struct buf path; /* "/a/b/c": the open elements from the root, for --alias */
    size_t *path_len;
    size_t path_cap;
    char err[UG_ERRBUF];
    ug_err rc;
};

static void xml_oom(struct xml_state *st)
{
    if (st->rc != UG_OK)
        return;
    st->rc = ug_oom(st->err);
    XML_StopParser(st->parser, XML_FALSE);
}

/* Keeps attr="value" (shortened, printable) for the note about an attribute not understood. */
static void note_attr(struct xml_state *st, const char *attr, const char *value)
{
    struct buf b = {0};
    if (st->param.bad_attr)
        buf_printf(&b, "%s ", st->param.bad_attr);
    buf_printf(&b, "%s=\"", attr);
    for (size_t i = 0; value[i] && i < 40; i++)
        buf_append(&b, isprint((unsigned char)value[i]) ? &value[i] : "?", 1);
    if (buf_append_str(&b, strlen(value) > 40 ? "...\"" : "\"") != 0) {
        buf_free(&b);
        xml_oom(st);
        return;
    }
    free(st->param.bad_attr);
    st->param.bad_attr = b.data;
}

/* ua and preserve-value of a parameter element; what is not understood is kept for a note,
 * and the parameter is judged without it. */
static void read_attributes(struct xml_state *st, const XML_Char **attrs)
{
    st->param.access = PROFILE_ACCESS_KEEP;
    st->param.preserve = 0;
    for (int i = 0; attrs[i]; i += 2) {
        const char *v = attrs[i + 1];
        if (strcmp(attrs[i], "ua") == 0) {
            int a = paramdefs_parse_access(v);
            if (a >= 0) {
                st->param.access = a;
            } else {
                st->param.flags |= PROFILE_BAD_UA;
                note_attr(st, "ua", v);
            }
        } else if (strcmp(attrs[i], "preserve-value") == 0) {
            if (strcasecmp(v, "y") == 0 || strcasecmp(v, "yes") == 0) {
                st->param.preserve = 1;
            } else if (strcasecmp(v, "n") != 0 && strcasecmp(v, "no") != 0) {
                st->param.flags |= PROFILE_BAD_PRESERVE;
                note_attr(st, "preserve-value", v);
            }
        }
    }
}

static void path_push(struct xml_state *st, const char *name)
{
    if ((size_t)st->depth > st->path_cap) {
        size_t cap = st->path_cap ? st->path_cap * 2 : 32;
        size_t *v = realloc(st->path_len, cap * sizeof *v);
        if (!v) {
            xml_oom(st);
            return;
        }
        st->path_len = v;
        st->path_cap = cap;
    }
    st->path_len[st->depth - 1] = st->path.len;
    if (buf_printf(&st->path, "/%s", name) != 0)
        xml_oom(st);
}

static void path_pop(struct xml_state *st)
{
    if ((size_t)st->depth <= st->path_cap && st->path.data) {
        st->path.len = st->path_len[st->depth - 1];
        st->path.data[st->path.len] = '\0';
    }
}

static void XMLCALL xml_start(void *data, const XML_Char *name, const XML_Char **attrs)
{
    struct xml_state *st = data;
    st->depth++;
    if (st->rc != UG_OK)
        return;
    if (st->aliases)
        path_push(st, name);
    st->leaf = 1;
    st->leaf_line = (unsigned)XML_GetCurrentLineNumber(st->parser);
    buf_reset(&st->text);
    if (st->param.name) {
        st->param.children++; /* a section: everything inside it is its content */
        return;
    }
    if (!st->profile_depth) {
        if (strcmp(name, "flat-profile") == 0) {
            st->profile_depth = st->depth;
            st->seen_profile = 1;
        }
        return; /* anything else outside <flat-profile> is not ours (but for --alias) */
    }
    memset(&st->param, 0, sizeof st->param);
    st->param.name = strdup(name);
    st->param.line = st->leaf_line;
    if (!st->param.name) {
        xml_oom(st);
        return;
    }
    read_attributes(st, attrs);
}

/* The entry of the parameter element that just closed. */
static void end_param(struct xml_state *st, int had_text)
{
    struct xml_param *pm = &st->param;
    char *value = NULL;
    if (pm->children) {
        pm->flags |= PROFILE_SECTION;
        pm->access = PROFILE_ACCESS_KEEP;
    } else {
        /* <X ua="rw"/> is how the guides change access without overwriting the user's
         * value; an empty element without ua sets the value empty. */
        if (pm->access != PROFILE_ACCESS_KEEP && !had_text)
            pm->preserve = 1;
        if (!pm->preserve && !(value = strdup(st->text.data ? st->text.data : ""))) {
            xml_oom(st);
            return;
        }
        if (value)
            clean_value(value);
    }
    struct profile_entry e = {pm->name,  value,        pm->access,  pm->line,
                              pm->flags, pm->bad_attr, pm->children};
    pm->name = NULL;
    pm->bad_attr = NULL;
    if (add_entry(&st->list, &e) != 0)
        xml_oom(st);
}

/* An element mapped by --alias: its text sets the parameter the map names. */
static void end_aliased(struct xml_state *st, const char *target)
{
    char *name = strdup(target), *value = strdup(st->text.data ? st->text.data : "");
    if (value)
        clean_value(value);
    struct profile_entry e = {name, value, PROFILE_ACCESS_KEEP, st->leaf_line, 0, NULL, 0};
    if (!name || !value) {
        free(name);
        free(value);
        xml_oom(st);
        return;
    }
    st->aliased = 1;
    if (add_entry(&st->list, &e) != 0)
        xml_oom(st);
}

static void XMLCALL xml_end(void *data, const XML_Char *name)
{
    struct xml_state *st = data;
    (void)name;
    const char *target = st->rc == UG_OK && st->leaf && st->aliases
                             ? alias_target(st->aliases, st->path.data)
                             : NULL;
    if (st->rc != UG_OK) {
        /* stopped: nothing more is read */
    } else if (target) {
        if (st->param.name && st->depth == st->profile_depth + 1) {
            free(st->param.name);
            free(st->param.bad_attr);
            memset(&st->param, 0, sizeof st->param);
        }
        end_aliased(st, target);
    } else if (st->param.name && st->depth == st->profile_depth + 1) {
        end_param(st, st->leaf && st->text.len > 0);
    } else if (st->depth == st->profile_depth) {
        st->profile_depth = 0;
    }
    st->leaf = 0;
    /* Once stopped, an element's start may not have been recorded: the path is left alone. */
    if (st->aliases && st->rc == UG_OK)
        path_pop(st);
    st->depth--;
}

/* The mark of white space that the document wrote as a character reference, else 0. */
static char char_ref_mark(const struct xml_state *st, const XML_Char *s, int len)
{
    const char *ws = len == 1 && s[0] ? strchr(kept_space, s[0]) : NULL;
    XML_Index at = XML_GetCurrentByteIndex(st->parser);
    if (!ws || at < 0 || (size_t)at + 2 > st->input_len || st->input[at] != '&' ||
        st->input[at + 1] != '#')
        return 0;
    return KEPT_MARK(ws - kept_space);
}

static void XMLCALL xml_text(void *data, const XML_Char *s, int len)
{
    struct xml_state *st = data;
    if (st->rc != UG_OK || !st->leaf || !(st->param.name || st->aliases))
        return;
    char mark = char_ref_mark(st, s, len);
    if (mark ? buf_append(&st->text, &mark, 1) : buf_append(&st->text, s, (size_t)len))
        xml_oom(st);
}

/* An external entity (<!ENTITY e SYSTEM "...">) is never fetched nor read as empty: the file
 * is refused like one naming an unknown entity. */
static int XMLCALL xml_external_entity(XML_Parser parser, const XML_Char *context,
                                       const XML_Char *base, const XML_Char *system_id,
                                       const XML_Char *public_id)
{
    (void)parser, (void)context, (void)base, (void)system_id, (void)public_id;
    return XML_STATUS_ERROR;
}

/* An entity expat skips (declared, if at all, in an external DTD it does not read) is
 * unknown here: refused, not read as empty. */
static void XMLCALL xml_skipped_entity(void *data, const XML_Char *name, int parameter)
{
    struct xml_state *st = data;
    if (st->rc != UG_OK)
        return;
    st->rc =
        ug_fail(st->err, UG_ERR_UNUSABLE, "line %lu: undefined entity %s%s;",
                (unsigned long)XML_GetCurrentLineNumber(st->parser), parameter ? "%" : "&", name);
    XML_StopParser(st->parser, XML_FALSE);
}

static ug_err parse_xml(const char *data, size_t len, const char *source,
                        const struct alias_map *aliases, struct entry_list *list, char *err)
{
    struct xml_state st;
    memset(&st, 0, sizeof st);
    st.aliases = aliases && aliases->n ? aliases : NULL;
    st.input = data;
    st.input_len = len;
    st.parser = XML_ParserCreate(NULL);
    if (!st.parser)
        return ug_oom(err);
    XML_SetUserData(st.parser, &st);
    XML_SetElementHandler(st.parser, xml_start, xml_end);
    XML_SetCharacterDataHandler(st.parser, xml_text);
    XML_SetExternalEntityRefHandler(st.parser, xml_external_entity);
    XML_SetSkippedEntityHandler(st.parser, xml_skipped_entity);
    ug_err rc = UG_OK;
    if (XML_Parse(st.parser, data, (int)len, XML_TRUE) != XML_STATUS_OK && st.rc == UG_OK)
        rc = ug_fail(err, UG_ERR_UNUSABLE, "%s line %lu: not well-formed XML: %s", source,
                     (unsigned long)XML_GetCurrentLineNumber(st.parser),
                     XML_ErrorString(XML_GetErrorCode(st.parser)));
    else if (st.rc != UG_OK)
        rc = ug_fail(err, st.rc, "%s: %s", source, st.err);
    else if (!st.seen_profile && !st.aliased)
        rc = ug_fail(err, UG_ERR_UNUSABLE,
                     "%s: XML without a <flat-profile> element is not a profile", source);
    free(st.param.name);
    free(st.param.bad_attr);
    free(st.path_len);
    buf_free(&st.path);
    buf_free(&st.text);
    XML_ParserFree(st.parser);
    *list = st.list;
    return rc;
}

/* ---- plain-text form: Name [!|?] ["value"] ; ---- */

static int is_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.';
}

static ug_err parse_text(const char *s, size_t len, const char *source, struct entry_list *list,
                         char *err)
{
    size_t i = 0;
    unsigned line = 1;
    struct buf name = {0}, value = {0};
    ug_err rc = UG_OK;
#define SKIP_BLANKS()                                                  \
    while (i < len && (isspace((unsigned char)s[i]) || s[i] == '#')) { \
        if (s[i] == '#')                                               \
            while (i < len && s[i] != '\n')                            \
                i++;                                                   \
        else if (s[i++] == '\n')                                       \
            line++;                                                    \
    }
    for (;;) {
        SKIP_BLANKS();
        if (i >= len)
            break;
        unsigned name_line = line;
        buf_reset(&name);
        buf_reset(&value);
        size_t n0 = i;
        while (i < len && is_name_char(s[i]))
            i++;
        if (i == n0) {
            rc = ug_fail(err, UG_ERR_UNUSABLE, "%s line %u: expected a parameter name, found '%c'",
                         source, line, isprint((unsigned char)s[i]) ? s[i] : '?');
            goto out;
        }
        if (buf_append(&name, s + n0, i - n0) != 0)
            goto oom;
        if (strcmp(name.data, "import") == 0) {
            rc = ug_fail(err, UG_ERR_UNUSABLE,
                         "%s line %u: 'import' of other files is not supported", source, line);
            goto out;
        }
        /* Line_Enable[1] is Line_Enable_1_; Speed_Dial[2][2] is Speed_Dial_2_2_. */
        while (i < len && s[i] == '[') {
            size_t d0 = ++i;
            while (i < len && isdigit((unsigned char)s[i]))
                i++;
            if (i == d0 || i >= len || s[i] != ']') {
                rc = ug_fail(err, UG_ERR_UNUSABLE,
                             "%s line %u: '%s[' must be followed by a number and ']'", source, line,
                             name.data);
                goto out;
            }
            if (buf_printf(&name, "%s%.*s_", name.data[name.len - 1] == '_' ? "" : "_",
                           (int)(i - d0), s + d0) != 0)
                goto oom;
            i++;
        }
        while (i < len && (s[i] == ' ' || s[i] == '\t'))
            i++;
        int access = PARAM_NA; /* the text form's default: no user access */
        if (i < len && (s[i] == '!' || s[i] == '?')) {
            access = s[i] == '!' ? PARAM_RW : PARAM_RO;
            i++;
        }
        SKIP_BLANKS();
        int has_value = 1;
        if (i < len && s[i] == '"') {
            unsigned open_line = line;
            for (i++; i < len && s[i] != '"'; i++) {
                char c = s[i];
                if (c == '\\' && i + 1 < len && (s[i + 1] == '"' || s[i + 1] == '\\'))
                    c = s[++i];
                if (c == '\n')
                    line++;
                if (buf_append(&value, c == '\n' || c == '\r' ? " " : &c, 1) != 0)
                    goto oom;
            }
            if (i >= len) {
                rc = ug_fail(err, UG_ERR_UNUSABLE,
                             "%s line %u: the quoted value of %s is not closed", source, open_line,
                             name.data);
                goto out;
            }
            i++;
        } else if (i < len && s[i] != ';') {
            size_t v0 = i;
            while (i < len && s[i] != ';' && s[i] != '\n')
                i++;
            if (i >= len || s[i] != ';') {
                rc = ug_fail(err, UG_ERR_UNUSABLE, "%s line %u: missing ';' after the value of %s",
                             source, name_line, name.data);
                goto out;
            }
            if (buf_append(&value, s + v0, i - v0) != 0)
                goto oom;
            clean_value(value.data);
        } else {
            has_value = 0;
        }
        SKIP_BLANKS();
        if (i >= len || s[i] != ';') {
            rc = ug_fail(err, UG_ERR_UNUSABLE, "%s line %u: missing ';' after %s", source, line,
                         name.data);
            goto out;
        }
        i++;
        char *nm = strdup(name.data),
             *val = has_value ? strdup(value.data ? value.data : "") : NULL;
        if (!nm || (has_value && !val)) {
            free(nm);
            free(val);
            goto oom;
        }
        struct profile_entry e = {nm, val, access, name_line, 0, NULL, 0};
        if (add_entry(list, &e) != 0)
            goto oom;
    }
    goto out;
#undef SKIP_BLANKS
oom:
    rc = ug_oom(err);
out:
    buf_free(&name);
    buf_free(&value);
    return rc;
}

static ug_err parse_with(const char *data, size_t len, const char *source,
                         const struct alias_map *aliases, struct profile *out, char *err)
{
    memset(out, 0, sizeof *out);
    size_t i = 0;
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
        i = 3; /* UTF-8 byte-order mark */
    while (i < len && isspace((unsigned char)data[i]))
        i++;
    if (i == len)
        return ug_fail(err, UG_ERR_UNUSABLE, "%s: empty profile", source);
    if (memchr(data, '\0', len))
        return ug_fail(err, UG_ERR_UNUSABLE, "%s: binary data, not a profile", source);
    struct entry_list list = {0};
    ug_err rc;
    if (data[i] == '<') {
        out->format = PROFILE_XML;
        rc = parse_xml(data, len, source, aliases, &list, err);
    } else {
        out->format = PROFILE_TEXT;
        rc = parse_text(data + i, len - i, source, &list, err);
    }
    if (rc == UG_OK && drop_duplicates(&list) != 0)
        rc = ug_oom(err);
    out->entries = list.v;
    out->n = list.n;
    if (rc != UG_OK)
        profile_free(out);
    return rc;
}

ug_err profile_parse(const char *data, size_t len, const char *source, struct profile *out,
                     char *err)
{
    return parse_with(data, len, source, NULL, out, err);
}

ug_err profile_read_aliased(const void *data, size_t len, const char *key, const char *aliases,
                            const char *source, struct profile *out, char *err)
{
    struct buf plain = {0}, inflated = {0};
    struct alias_map map = {0};
    const char *p = data;
    size_t n = len;
    ug_err rc = UG_OK;
    int was_encrypted = 0, was_gzip = 0;
    memset(out, 0, sizeof *out);
    if (aliases && (rc = alias_map_parse(aliases, &map, err)) != UG_OK)
        return rc;
    if (key) {
        /* Decryption comes first: the phones compress before they encrypt. */
        rc = crypt_decrypt(p, n, key, &plain, NULL, err);
        if (rc != UG_OK)
            goto out;
        p = plain.data;
        n = plain.len;
        was_encrypted = 1;
    } else if (crypt_is_encrypted(p, n)) {
        rc =
            ug_fail(err, UG_ERR_UNUSABLE, "%s: profile is encrypted; give its key (--key)", source);
        goto out;
    }
    if (profile_is_gzip(p, n)) {
        rc = profile_gunzip(p, n, PROFILE_MAX_SIZE, &inflated, err);
        if (rc != UG_OK)
            goto out;
        p = inflated.data;
        n = inflated.len;
        was_gzip = 1;
    }
    rc = parse_with(p, n, source, &map, out, err);
    out->was_encrypted = was_encrypted;
    out->was_gzip = was_gzip;
out:
    if (rc != UG_OK && rc != UG_ERR_OTHER && strncmp(err, source, strlen(source)) != 0)
        ug_prefix(err, "%s: ", source);
    alias_map_free(&map);
    buf_free(&plain);
    buf_free(&inflated);
    return rc;
}

ug_err profile_read(const void *data, size_t len, const char *key, const char *source,
                    struct profile *out, char *err)
{
    return profile_read_aliased(data, len, key, NULL, source, out, err);
}
