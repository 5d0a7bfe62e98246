/* SPDX-License-Identifier: MIT */
/* Macro expansion. A bare $NAME takes the longest known macro name that prefixes the
 * text ($MAU.cfg is $MAU, $Abc is GPP_A then "bc"), as the phones do; $(NAME) is exact. */
#include "lang/macro.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct known_macro {
    const char *name;
    int indexed; /* followed by a line/slot number: $UID1, $REGTMR2 */
};

static const struct known_macro known[] = {
    {"A", 0},
    {"B", 0},
    {"C", 0},
    {"D", 0},
    {"E", 0},
    {"F", 0},
    {"G", 0},
    {"H", 0},
    {"I", 0},
    {"J", 0},
    {"K", 0},
    {"L", 0},
    {"M", 0},
    {"N", 0},
    {"O", 0},
    {"P", 0},
    {"SA", 0},
    {"SB", 0},
    {"SC", 0},
    {"SD", 0},
    {"MA", 0},
    {"MAU", 0},
    {"MAC", 0},
    {"PN", 0},
    {"PSN", 0},
    {"SN", 0},
    {"CCERT", 0},
    {"IP", 0},
    {"EXTIP", 0},
    {"SWVER", 0},
    {"VERSION", 0},
    {"HWVER", 0},
    {"PRVST", 0},
    {"UPGST", 0},
    {"UPGERR", 0},
    {"PRVTMR", 0},
    {"UPGTMR", 0},
    {"REGTMR", 1},
    {"UPGCOND", 0},
    {"SCHEME", 0},
    {"METH", 0},
    {"SERV", 0},
    {"SERVIP", 0},
    {"PORT", 0},
    {"PATH", 0},
    {"ERR", 0},
    {"UID", 1},
    {"ISCUST", 0},
    {"EMS", 0},
    {"MUID", 0},
    {"ORIGTYPE", 0},
    {"AUTHSTATUS", 0},
    {"INCOMINGNAME", 0},
    {"REMOTENUMBER", 0},
    {"DISPLAYNAME", 1},
    {"AUTHID", 1},
};

void macro_init(struct macro_context *ctx, const struct device *device, macro_param_fn param,
                void *opaque)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->device = device;
    ctx->param = param;
    ctx->param_opaque = opaque;
}

void macro_free(struct macro_context *ctx)
{
    for (int i = 0; i < ctx->nvars; i++)
        free(ctx->vars[i].value);
    ctx->nvars = 0;
}

ug_err macro_set(struct macro_context *ctx, const char *name, const char *value, char *err)
{
    if (strlen(name) >= MACRO_NAME_MAX)
        return ug_fail(err, UG_ERR_OTHER, "macro name '%s' too long", name);
    char *copy = strdup(value ? value : "");
    if (!copy)
        return ug_oom(err);
    for (int i = 0; i < ctx->nvars; i++) {
        if (strcmp(ctx->vars[i].name, name) == 0) {
            free(ctx->vars[i].value);
            ctx->vars[i].value = copy;
            return UG_OK;
        }
    }
    if (ctx->nvars == MACRO_MAX_VARS) {
        free(copy);
        return ug_fail(err, UG_ERR_OTHER, "too many macros set (limit %d)", MACRO_MAX_VARS);
    }
    snprintf(ctx->vars[ctx->nvars].name, MACRO_NAME_MAX, "%s", name);
    ctx->vars[ctx->nvars++].value = copy;
    return UG_OK;
}

/* Length of the known macro name that text (len bytes) is exactly, or prefix-matches
 * when prefix is set; 0 when none. */
static size_t match_known(const char *text, size_t len, int prefix)
{
    size_t best = 0;
    for (size_t k = 0; k < sizeof known / sizeof known[0]; k++) {
        size_t n = strlen(known[k].name);
        if (n > len || memcmp(text, known[k].name, n) != 0)
            continue;
        if (known[k].indexed) {
            size_t d = n;
            while (d < len && isdigit((unsigned char)text[d]))
                d++;
            if (d == n)
                continue;
            n = d;
        }
        if (!prefix && n != len)
            continue;
        if (n > best)
            best = n;
    }
    return best;
}

int macro_is_known(const char *name)
{
    size_t len = strlen(name);
    return len > 0 && match_known(name, len, 0) == len;
}

static const char *var_value(const struct macro_context *ctx, const char *name)
{
    for (int i = 0; i < ctx->nvars; i++)
        if (strcmp(ctx->vars[i].name, name) == 0)
            return ctx->vars[i].value;
    return NULL;
}

static const char *param_value(const struct macro_context *ctx, const char *param)
{
    const char *v = ctx->param ? ctx->param(ctx->param_opaque, param) : NULL;
    return v ? v : "";
}

/* The value of a known macro into tmp (or a pointer to stored text); NULL when the
 * macro may not be expanded here (a secret outside option arguments). */
static const char *resolve(const struct macro_context *ctx, const char *name, unsigned flags,
                           char *tmp, size_t tmpsz)
{
    const struct device *dev = ctx->device;
    size_t len = strlen(name);
    if (len == 2 && name[0] == 'S' && name[1] >= 'A' && name[1] <= 'D') {
        if (!(flags & MACRO_SECRETS))
            return NULL;
        snprintf(tmp, tmpsz, "GPP_%s", name);
        return param_value(ctx, tmp);
    }
    const char *v = var_value(ctx, name);
    if (v)
        return v;
    if (strncmp(name, "REGTMR", 6) == 0) {
        v = var_value(ctx, "REGTMR"); /* the value for every line without one of its own */
        return v ? v : "";
    }
    if (len == 1) {
        snprintf(tmp, tmpsz, "GPP_%s", name);
        return param_value(ctx, tmp);
    }
    if (strncmp(name, "UID", 3) == 0) {
        snprintf(tmp, tmpsz, "User_ID_%s_", name + 3);
        return param_value(ctx, tmp);
    }
    if (strncmp(name, "DISPLAYNAME", 11) == 0) {
        snprintf(tmp, tmpsz, "Display_Name_%s_", name + 11);
        return param_value(ctx, tmp);
    }
    if (strncmp(name, "AUTHID", 6) == 0) {
        snprintf(tmp, tmpsz, "Auth_ID_%s_", name + 6);
        return param_value(ctx, tmp);
    }
    if (strcmp(name, "METH") == 0) {
        v = var_value(ctx, "SCHEME");
        return v ? v : "";
    }
    if (strcmp(name, "UPGCOND") == 0)
        return "true"; /* legacy: always true since SPA firmware 2.0.6 */
    if (dev && dev->mac[0]) {
        if (strcmp(name, "MA") == 0)
            return dev->mac;
        if (strcmp(name, "MAU") == 0) {
            for (size_t i = 0; i < 12 && i + 1 < tmpsz; i++)
                tmp[i] = (char)toupper((unsigned char)dev->mac[i]);
            tmp[12] = '\0';
            return tmp;
        }
        if (strcmp(name, "MAC") == 0) {
            const char *m = dev->mac;
            snprintf(tmp, tmpsz, "%.2s:%.2s:%.2s:%.2s:%.2s:%.2s", m, m + 2, m + 4, m + 6, m + 8,
                     m + 10);
            return tmp;
        }
    }
    if (dev) {
        if (strcmp(name, "SN") == 0)
            return dev->serial;
        if (strcmp(name, "PN") == 0)
            return dev->product;
        if (strcmp(name, "PSN") == 0)
            return dev->psn;
        if (strcmp(name, "HWVER") == 0)
            return dev->hwver;
        if (strcmp(name, "CCERT") == 0)
            return "Not Installed"; /* the caller sets "Installed" when the device has one */
    }
    if (strcmp(name, "ISCUST") == 0)
        return "0";
    return ""; /* a known macro the caller has no value for, e.g. $EXTIP: "$EXTIP" ne "" */
}

static int parse_offset(const char *s, size_t len, size_t *i, size_t *out)
{
    size_t start = *i, n = 0;
    while (*i < len && isdigit((unsigned char)s[*i])) {
        if (n > 100000000)
            return -1;
        n = n * 10 + (size_t)(s[*i] - '0');
        (*i)++;
    }
    *out = n;
    return *i > start ? 0 : -1;
}

/* Appends n bytes unless the expansion (what out holds past start) would pass its bound:
 * the check comes before the copy, so nothing large is ever built. */
static ug_err append_bounded(struct buf *out, size_t start, const char *data, size_t n, char *err)
{
    if (out->len - start + n > MACRO_EXPANSION_MAX)
        return ug_fail(err, UG_ERR_USAGE, "the expansion is over the limit of %u bytes",
                       MACRO_EXPANSION_MAX);
    return buf_append(out, data, n) == 0 ? UG_OK : ug_oom(err);
}

static ug_err append_sub(struct buf *out, size_t start, const char *v, size_t p, size_t q,
                         int has_q, char *err)
{
    size_t vl = strlen(v);
    if (p >= vl)
        return UG_OK;
    size_t n = vl - p;
    if (has_q && q < n)
        n = q;
    return append_bounded(out, start, v + p, n, err);
}

ug_err macro_expand_span(const struct macro_context *ctx, const char *s, size_t len, unsigned flags,
                         size_t column_base, struct buf *out, char *err)
{
    char name[MACRO_NAME_MAX + 8], tmp[256];
    size_t i = 0;
    if (buf_append(out, "", 0) != 0)
        return ug_oom(err);
    size_t start = out->len;
    while (i < len) {
        const char *dollar = memchr(s + i, '$', len - i);
        size_t stop = dollar ? (size_t)(dollar - s) : len;
        ug_err rc = append_bounded(out, start, s + i, stop - i, err);
        if (rc != UG_OK)
            return rc;
        i = stop;
        if (i >= len)
            break;
        size_t at = i++; /* s[at] is '$' */
        if (i < len && s[i] == '$') {
            i++;
            if ((rc = append_bounded(out, start, "$", 1, err)) != UG_OK)
                return rc;
            continue;
        }
        if (i < len && s[i] == '(') {
            size_t n0 = ++i;
            while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '_'))
                i++;
            size_t nl = i - n0;
            size_t p = 0, q = 0;
            int has_p = 0, has_q = 0;
            if (nl == 0)
                return ug_fail(err, UG_ERR_USAGE, "column %zu: expected a macro name after '$('",
                               column_base + i);
            if (i < len && s[i] == ':') {
                i++;
                if (parse_offset(s, len, &i, &p) != 0)
                    return ug_fail(err, UG_ERR_USAGE,
                                   "column %zu: expected an offset after ':' in $(%.*s",
                                   column_base + i, (int)nl, s + n0);
                has_p = 1;
                if (i < len && s[i] == ':') {
                    i++;
                    if (parse_offset(s, len, &i, &q) != 0)
                        return ug_fail(err, UG_ERR_USAGE,
                                       "column %zu: expected a length after ':' in $(%.*s",
                                       column_base + i, (int)nl, s + n0);
                    has_q = 1;
                }
            }
            if (i >= len || s[i] != ')')
                return ug_fail(err, UG_ERR_USAGE, "column %zu: '$(%.*s' is not closed by ')'",
                               column_base + at, (int)nl, s + n0);
            i++;
            const char *v = NULL;
            if (nl < MACRO_NAME_MAX && match_known(s + n0, nl, 0) == nl) {
                memcpy(name, s + n0, nl);
                name[nl] = '\0';
                v = resolve(ctx, name, flags, tmp, sizeof tmp);
            }
            rc = v ? append_sub(out, start, v, has_p ? p : 0, q, has_q, err)
                   : append_bounded(out, start, s + at, i - at, err);
            if (rc != UG_OK)
                return rc;
            continue;
        }
        size_t nl = match_known(s + i, len - i, 1);
        const char *v = NULL;
        if (nl > 0 && nl < MACRO_NAME_MAX) {
            memcpy(name, s + i, nl);
            name[nl] = '\0';
            v = resolve(ctx, name, flags, tmp, sizeof tmp);
        }
        /* Unknown (or not allowed here): the '$' stays, and the scan goes on after it. */
        rc = v ? append_bounded(out, start, v, strlen(v), err)
               : append_bounded(out, start, s + at, nl + 1, err);
        if (rc != UG_OK)
            return rc;
        i += nl;
    }
    return UG_OK;
}

ug_err macro_expand(const struct macro_context *ctx, const char *text, unsigned flags,
                    struct buf *out, char *err)
{
    return macro_expand_span(ctx, text, strlen(text), flags, 1, out, err);
}
