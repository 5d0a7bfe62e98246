/* SPDX-License-Identifier: MIT */
/* Rule parsing and evaluation. The whole rule is parsed on its raw text first, so a
 * malformed alternative is reported even when an earlier one would have been taken;
 * macros are expanded piece by piece afterwards, never across the structure. */
#include "lang/rule.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lang/cond.h"
#include "net/url.h"

#define RULE_MAX_ALTERNATIVES 32
#define RULE_MAX_ASSIGN       32

struct span {
    size_t start, end; /* [start, end) in the rule text; start == end: absent */
};

enum option_kind {
    OPT_KEY,
    OPT_UID,
    OPT_PWD,
    OPT_POST,
    OPT_ALIAS,
    OPT_DELTA,
    OPT_STATUS
};

struct option {
    enum option_kind kind;
    struct span arg; /* inside any quotes */
};

struct alternative {
    size_t column; /* 1-based column where it starts */
    int has_cond, has_assign, has_options, has_url;
    struct span cond, url;
    size_t nassign;
    struct span assign_name[RULE_MAX_ASSIGN], assign_value[RULE_MAX_ASSIGN];
    size_t noptions;
    struct option options[8];
};

static const struct {
    const char *name;
    enum option_kind kind;
    int takes_arg;
    int report_only;
} option_table[] = {
    {"--key", OPT_KEY, 1, 0},       {"--uid", OPT_UID, 1, 0},     {"--pwd", OPT_PWD, 1, 0},
    {"--post", OPT_POST, 1, 0},     {"--alias", OPT_ALIAS, 1, 0}, {"--delta", OPT_DELTA, 0, 1},
    {"--status", OPT_STATUS, 0, 1},
};

static void skip_space(const char *s, size_t *i, size_t end)
{
    while (*i < end && isspace((unsigned char)s[*i]))
        (*i)++;
}

/* Index of the bracket closing the one at s[open], skipping quoted text; 0 if none. */
static size_t find_close(const char *s, size_t open, size_t end, char opening, char closing)
{
    int depth = 0, quoted = 0;
    for (size_t i = open; i < end; i++) {
        if (s[i] == '"')
            quoted = !quoted;
        else if (quoted)
            continue;
        else if (s[i] == opening)
            depth++;
        else if (s[i] == closing && --depth == 0)
            return i;
    }
    return 0;
}

static ug_err parse_assignments(const char *s, size_t i, size_t end, struct alternative *alt,
                                char *err)
{
    for (;;) {
        skip_space(s, &i, end);
        if (i >= end)
            break;
        size_t n0 = i;
        while (i < end && (isalnum((unsigned char)s[i]) || s[i] == '_'))
            i++;
        if (i == n0)
            return ug_fail(err, UG_ERR_USAGE,
                           "column %zu: expected a parameter name in the assignment", i + 1);
        size_t n1 = i;
        skip_space(s, &i, end);
        if (i >= end || s[i] != '=')
            return ug_fail(err, UG_ERR_USAGE, "column %zu: expected '=' after '%.*s'", i + 1,
                           (int)(n1 - n0), s + n0);
        i++;
        skip_space(s, &i, end);
        if (i >= end || s[i] != '"')
            return ug_fail(err, UG_ERR_USAGE,
                           "column %zu: the value of '%.*s' must be double-quoted", i + 1,
                           (int)(n1 - n0), s + n0);
        const char *close = memchr(s + i + 1, '"', end - i - 1);
        if (!close)
            return ug_fail(err, UG_ERR_USAGE, "column %zu: quoted value is not closed", i + 1);
        if (alt->nassign == RULE_MAX_ASSIGN)
            return ug_fail(err, UG_ERR_USAGE, "column %zu: more than %d assignments", i + 1,
                           RULE_MAX_ASSIGN);
        alt->assign_name[alt->nassign] = (struct span){n0, n1};
        alt->assign_value[alt->nassign] = (struct span){i + 1, (size_t)(close - s)};
        alt->nassign++;
        i = (size_t)(close - s) + 1;
        skip_space(s, &i, end);
        if (i < end && s[i] != ';')
            return ug_fail(err, UG_ERR_USAGE, "column %zu: expected ';' after the value", i + 1);
        if (i < end)
            i++;
    }
    return UG_OK;
}

static int is_gpp_letter(const char *s, size_t len)
{
    return len == 1 && tolower((unsigned char)s[0]) >= 'a' && tolower((unsigned char)s[0]) <= 'p';
}

static ug_err parse_options(const char *s, size_t i, size_t end, enum rule_flavour flavour,
                            struct alternative *alt, char *err)
{
    for (;;) {
        skip_space(s, &i, end);
        if (i >= end)
            break;
        size_t t0 = i;
        while (i < end && !isspace((unsigned char)s[i]))
            i++;
        size_t k = 0, nopts = sizeof option_table / sizeof option_table[0];
        while (k < nopts && !(strlen(option_table[k].name) == i - t0 &&
                              memcmp(option_table[k].name, s + t0, i - t0) == 0))
            k++;
        if (k == nopts || (option_table[k].report_only && flavour != RULE_REPORT))
            return ug_fail(err, UG_ERR_USAGE,
                           "column %zu: unknown option '%.*s' (known: --key --uid --pwd "
                           "--post --alias%s)",
                           t0 + 1, (int)(i - t0), s + t0,
                           flavour == RULE_REPORT ? " --delta --status" : "");
        if (alt->noptions == sizeof alt->options / sizeof alt->options[0])
            return ug_fail(err, UG_ERR_USAGE, "column %zu: too many options", t0 + 1);
        struct option *o = &alt->options[alt->noptions++];
        o->kind = option_table[k].kind;
        o->arg = (struct span){0, 0};
        if (!option_table[k].takes_arg)
            continue;
        skip_space(s, &i, end);
        if (i >= end)
            return ug_fail(err, UG_ERR_USAGE, "column %zu: option %s needs an argument", i + 1,
                           option_table[k].name);
        if (s[i] == '"') {
            const char *close = memchr(s + i + 1, '"', end - i - 1);
            if (!close)
                return ug_fail(err, UG_ERR_USAGE, "column %zu: quoted argument is not closed",
                               i + 1);
            o->arg = (struct span){i + 1, (size_t)(close - s)};
            i = (size_t)(close - s) + 1;
        } else {
            size_t a0 = i;
            while (i < end && !isspace((unsigned char)s[i]))
                i++;
            o->arg = (struct span){a0, i};
        }
        if ((o->kind == OPT_POST || o->kind == OPT_ALIAS) &&
            !is_gpp_letter(s + o->arg.start, o->arg.end - o->arg.start))
            return ug_fail(err, UG_ERR_USAGE, "column %zu: %s takes a GPP letter a..p, not '%.*s'",
                           o->arg.start + 1, option_table[k].name, (int)(o->arg.end - o->arg.start),
                           s + o->arg.start);
    }
    return UG_OK;
}

/* Parses one alternative in s[start..end). */
static ug_err parse_alternative(const char *s, size_t start, size_t end, enum rule_flavour flavour,
                                struct alternative *alt, char *err)
{
    memset(alt, 0, sizeof *alt);
    size_t i = start;
    skip_space(s, &i, end);
    alt->column = i + 1;
    ug_err rc;
    while (i < end && s[i] == '(') {
        size_t close = find_close(s, i, end, '(', ')');
        if (!close)
            return ug_fail(err, UG_ERR_USAGE, "column %zu: '(' is not closed by ')'", i + 1);
        size_t k = close + 1;
        skip_space(s, &k, end);
        char kind = k < end ? s[k] : '\0';
        if (kind == '?') {
            if (alt->has_cond || alt->has_assign)
                return ug_fail(err, UG_ERR_USAGE,
                               "column %zu: one condition per alternative, before "
                               "any assignment",
                               i + 1);
            if ((rc = cond_check_span(s, i + 1, close, err)) != UG_OK)
                return rc;
            alt->has_cond = 1;
            alt->cond = (struct span){i + 1, close};
        } else if (kind == '!') {
            if (alt->has_assign)
                return ug_fail(err, UG_ERR_USAGE, "column %zu: one assignment list per alternative",
                               i + 1);
            if ((rc = parse_assignments(s, i + 1, close, alt, err)) != UG_OK)
                return rc;
            alt->has_assign = 1;
        } else {
            return ug_fail(err, UG_ERR_USAGE,
                           "column %zu: expected '?' or '!' after ')' (a condition "
                           "is '( ... )?', an assignment '( ... )!')",
                           k + 1);
        }
        i = k + 1;
        skip_space(s, &i, end);
    }
    if (i < end && s[i] == '[') {
        size_t close = find_close(s, i, end, '[', ']');
        if (!close)
            return ug_fail(err, UG_ERR_USAGE, "column %zu: '[' is not closed by ']'", i + 1);
        if ((rc = parse_options(s, i + 1, close, flavour, alt, err)) != UG_OK)
            return rc;
        alt->has_options = 1;
        i = close + 1;
        skip_space(s, &i, end);
    }
    if (i < end) {
        size_t u0 = i;
        while (i < end && !isspace((unsigned char)s[i]))
            i++;
        alt->has_url = 1;
        alt->url = (struct span){u0, i};
        skip_space(s, &i, end);
        if (i < end)
            return ug_fail(err, UG_ERR_USAGE,
                           "column %zu: unexpected '%.*s' after the URL (alternatives "
                           "are separated by '|')",
                           i + 1, (int)(end - i), s + i);
    }
    if (alt->has_options && !alt->has_url)
        return ug_fail(err, UG_ERR_USAGE, "column %zu: [options] without a URL", alt->column);
    return UG_OK;
}

/* Splits the rule at top-level '|' and parses every alternative into *alts (malloc'd,
 * grown as needed: most rules have one or two alternatives). */
static ug_err parse_rule(const char *s, enum rule_flavour flavour, struct alternative **alts_out,
                         size_t *nalts, char *err)
{
    struct alternative *alts = NULL;
    size_t cap = 0;
    ug_err rc = UG_OK;
    size_t len = strlen(s), start = 0;
    int depth = 0, quoted = 0;
    *nalts = 0;
    size_t k = 0;
    *alts_out = NULL;
    skip_space(s, &k, len);
    if (k == len || s[k] == '#')
        return UG_OK; /* an empty rule, or a '#' comment (SPA guide), is skipped, not an error */
    for (size_t i = 0; i <= len; i++) {
        char c = i < len ? s[i] : '|';
        if (c == '"')
            quoted = !quoted;
        if (quoted && i < len)
            continue;
        if (c == '(' || c == '[')
            depth++;
        else if ((c == ')' || c == ']') && depth > 0)
            depth--;
        if (c != '|' || (depth > 0 && i < len))
            continue;
        if (*nalts == RULE_MAX_ALTERNATIVES) {
            rc = ug_fail(err, UG_ERR_USAGE, "column %zu: more than %d alternatives", i + 1,
                         RULE_MAX_ALTERNATIVES);
            goto out;
        }
        if (*nalts == cap) {
            cap = cap ? cap * 2 : 4;
            struct alternative *grown = realloc(alts, cap * sizeof *alts);
            if (!grown) {
                rc = ug_oom(err);
                goto out;
            }
            alts = grown;
        }
        struct alternative *alt = &alts[*nalts];
        if ((rc = parse_alternative(s, start, i, flavour, alt, err)) != UG_OK)
            goto out;
        if (!alt->has_cond && !alt->has_assign && !alt->has_url) {
            rc = ug_fail(err, UG_ERR_USAGE, "column %zu: empty alternative", alt->column);
            goto out;
        }
        (*nalts)++;
        start = i + 1;
    }
    for (size_t a = 0; a + 1 < *nalts; a++) {
        if (!alts[a].has_cond) {
            rc = ug_fail(err, UG_ERR_USAGE,
                         "column %zu: alternative %zu has no condition; only the "
                         "last alternative may be unconditional",
                         alts[a].column, a + 1);
            goto out;
        }
    }
out:
    *alts_out = alts;
    return rc;
}

/* 1 when text starts with "scheme://" of a scheme other than tftp, http and https. */
static int unknown_scheme(const char *text)
{
    size_t sl = strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
    if (sl == 0 || strncmp(text + sl, "://", 3) != 0)
        return 0;
    return !(
        (sl == 4 && (strncasecmp(text, "tftp", 4) == 0 || strncasecmp(text, "http", 4) == 0)) ||
        (sl == 5 && strncasecmp(text, "https", 5) == 0));
}

ug_err rule_check_syntax(const char *rule, enum rule_flavour flavour, char *err)
{
    struct alternative *alts = NULL;
    size_t n = 0;
    ug_err rc = parse_rule(rule, flavour, &alts, &n, err);
    /* An omitted host is fine where a default server will exist at resync time. */
    for (size_t a = 0; rc == UG_OK && a < n; a++) {
        if (!alts[a].has_url)
            continue;
        struct span u = alts[a].url;
        char *text = strndup(rule + u.start, u.end - u.start);
        struct rule_url url = {0};
        if (!text) {
            rc = ug_oom(err);
            break;
        }
        /* A scheme this device does not speak (gds://, Cisco's activation onboarding) is kept:
         * such a rule fails when it is run, not when it is stored. An Upgrade_Rule without a
         * server is kept too: the server that served the profile is filled in, or it fails
         * when run (docs/provisioning-language.md). */
        if (!unknown_scheme(text))
            rc = rule_parse_url(text, "default.invalid", 0, &url, err);
        if (rc != UG_OK)
            ug_prefix(err, "column %zu: ", u.start + 1);
        rule_url_free(&url);
        free(text);
    }
    free(alts);
    return rc;
}

static char *expand_span(const struct macro_context *ctx, const char *s, struct span sp,
                         unsigned flags, ug_err *rc, char *err)
{
    struct buf b = {0};
    *rc = macro_expand_span(ctx, s + sp.start, sp.end - sp.start, flags, sp.start + 1, &b, err);
    if (*rc != UG_OK) {
        buf_free(&b);
        return NULL;
    }
    return b.data;
}

static ug_err take_alternative(const char *s, const struct alternative *alt,
                               enum rule_flavour flavour, const struct macro_context *ctx,
                               const char *default_host, struct rule_result *out, char *err)
{
    ug_err rc = UG_OK;
    out->assign = calloc(alt->nassign ? alt->nassign : 1, sizeof *out->assign);
    if (!out->assign)
        return ug_oom(err);
    for (size_t k = 0; k < alt->nassign; k++) {
        struct span n = alt->assign_name[k];
        struct rule_assignment *as = &out->assign[out->nassign++];
        size_t nl = n.end - n.start;
        if (nl == 1 && s[n.start] >= 'a' && s[n.start] <= 'p') {
            as->name = strdup("GPP_A");
            if (as->name)
                as->name[4] = (char)toupper((unsigned char)s[n.start]);
        } else {
            as->name = strndup(s + n.start, nl);
        }
        if (!as->name)
            return ug_oom(err);
        as->value = expand_span(ctx, s, alt->assign_value[k], 0, &rc, err);
        if (rc != UG_OK)
            return rc;
    }
    for (size_t k = 0; k < alt->noptions; k++) {
        const struct option *o = &alt->options[k];
        char **slot = o->kind == OPT_KEY   ? &out->key
                      : o->kind == OPT_UID ? &out->uid
                      : o->kind == OPT_PWD ? &out->pwd
                                           : NULL;
        if (slot) {
            free(*slot);
            /* Only these three arguments may see the secret GPP_SA..GPP_SD. */
            *slot = expand_span(ctx, s, o->arg, MACRO_SECRETS, &rc, err);
            if (rc != UG_OK)
                return rc;
        } else if (o->kind == OPT_POST) {
            out->post = (char)tolower((unsigned char)s[o->arg.start]);
        } else if (o->kind == OPT_ALIAS) {
            out->alias = (char)tolower((unsigned char)s[o->arg.start]);
        } else if (o->kind == OPT_DELTA) {
            out->delta = 1;
        } else if (o->kind == OPT_STATUS) {
            out->status = 1;
        }
    }
    if (alt->has_url) {
        char *text = expand_span(ctx, s, alt->url, 0, &rc, err);
        if (rc != UG_OK)
            return rc;
        rc = rule_parse_url(text, default_host, flavour == RULE_UPGRADE, &out->url, err);
        if (rc != UG_OK)
            ug_prefix(err, "column %zu: ", alt->url.start + 1);
        free(text);
        if (rc != UG_OK)
            return rc;
        out->has_url = 1;
    }
    return UG_OK;
}

ug_err rule_eval(const char *rule, enum rule_flavour flavour, const struct macro_context *ctx,
                 const char *default_host, struct rule_result *out, char *err)
{
    memset(out, 0, sizeof *out);
    struct alternative *alts = NULL;
    size_t n = 0;
    ug_err rc = parse_rule(rule, flavour, &alts, &n, err);
    for (size_t a = 0; rc == UG_OK && a < n; a++) {
        int holds = 1;
        if (alts[a].has_cond)
            rc = cond_eval_span(rule, alts[a].cond.start, alts[a].cond.end, ctx, &holds, err);
        if (rc != UG_OK || !holds)
            continue;
        out->matched = 1;
        out->conditional = alts[a].has_cond;
        out->alternative = (int)a;
        rc = take_alternative(rule, &alts[a], flavour, ctx, default_host, out, err);
        break;
    }
    free(alts);
    if (rc != UG_OK)
        rule_result_free(out);
    return rc;
}

int rule_fill_host(const char *rule, const char *host, struct buf *out, char *err)
{
    struct alternative *alts = NULL;
    size_t n = 0, done = 0;
    if (parse_rule(rule, RULE_UPGRADE, &alts, &n, err) != UG_OK) {
        free(alts);
        return 0;
    }
    int v6 = strchr(host, ':') != NULL, filled = 0;
    for (size_t a = 0; a < n; a++) {
        /* Only a URL written with neither scheme nor server ("/fw.bin"); one that starts with
         * a macro may name its server once expanded, and is left alone. */
        if (!alts[a].has_url || rule[alts[a].url.start] != '/')
            continue;
        size_t at = alts[a].url.start;
        if (buf_append(out, rule + done, at - done) != 0 ||
            buf_printf(out, "%s%s%s", v6 ? "[" : "", host, v6 ? "]" : "") != 0) {
            free(alts);
            return -1;
        }
        done = at;
        filled = 1;
    }
    free(alts);
    if (!filled)
        return 0;
    return buf_append_str(out, rule + done) == 0 ? 1 : -1;
}

#define HIDDEN "********"

int rule_hide_secrets(const char *rule, struct buf *out)
{
    struct alternative *alts = NULL;
    size_t n = 0, done = 0;
    char ignored[UG_ERRBUF];
    int hid = 0, rc = 0;
    if (parse_rule(rule, RULE_REPORT, &alts, &n, ignored) != UG_OK) {
        free(alts);
        if (!strstr(rule, "--pwd") && !strstr(rule, "--key"))
            return 0;
        return buf_append_str(out, "(not shown: a malformed rule naming a secret)") == 0 ? 1 : -1;
    }
    for (size_t a = 0; a < n && rc == 0; a++) {
        for (size_t k = 0; k < alts[a].noptions && rc == 0; k++) {
            const struct option *o = &alts[a].options[k];
            if (o->kind != OPT_PWD && o->kind != OPT_KEY)
                continue;
            rc = buf_append(out, rule + done, o->arg.start - done) | buf_append_str(out, HIDDEN);
            done = o->arg.end;
            hid = 1;
        }
    }
    free(alts);
    if (rc == 0 && hid)
        rc = buf_append_str(out, rule + done);
    return rc != 0 ? -1 : hid;
}

void rule_url_free(struct rule_url *url)
{
    free(url->path);
    free(url->text);
    memset(url, 0, sizeof *url);
}

void rule_result_free(struct rule_result *out)
{
    for (size_t k = 0; k < out->nassign; k++) {
        free(out->assign[k].name);
        free(out->assign[k].value);
    }
    free(out->assign);
    free(out->key);
    free(out->uid);
    free(out->pwd);
    rule_url_free(&out->url);
    memset(out, 0, sizeof *out);
}

static int valid_host(const char *h)
{
    if (!*h)
        return 0;
    for (; *h; h++)
        if (!isalnum((unsigned char)*h) && *h != '.' && *h != '-' && *h != '_' && *h != ':')
            return 0;
    return 1;
}

/* The rule's own checks of a server[:port] as written (hp..end): what it refuses beyond
 * what libcurl does, each with its message. The values come from url_split afterwards. */
static ug_err check_server(const char *hp, const char *end, const char *shown, char *err)
{
    const char *hend = end, *colon = NULL;
    int bracketed = *hp == '[';
    if (bracketed) {
        const char *rb = memchr(hp, ']', (size_t)(end - hp));
        if (!rb)
            return ug_fail(err, UG_ERR_USAGE, "URL '%s': '[' of an IPv6 address is not closed",
                           shown);
        if (rb + 1 < end && rb[1] != ':')
            return ug_fail(err, UG_ERR_USAGE, "URL '%s': unexpected text after ']'", shown);
        colon = rb + 1 < end ? rb + 1 : NULL;
        hp++;
        hend = rb;
    } else if ((colon = memchr(hp, ':', (size_t)(end - hp))) != NULL) {
        hend = colon;
    }
    char host[256];
    size_t hl = (size_t)(hend - hp);
    if (hl == 0 || hl >= sizeof host)
        return ug_fail(err, UG_ERR_USAGE, "URL '%s': empty or too long server name", shown);
    memcpy(host, hp, hl);
    host[hl] = '\0';
    if (!valid_host(host) || (!bracketed && strchr(host, ':')))
        return ug_fail(err, UG_ERR_USAGE, "URL '%s': '%s' is not a server name", shown, host);
    if (colon) {
        const char *digits = colon + 1;
        size_t n = strspn(digits, "0123456789");
        long port = n && n <= 9 ? strtol(digits, NULL, 10) : 0;
        if (digits + n != end || port < 1 || port > 65535)
            return ug_fail(err, UG_ERR_USAGE, "URL '%s': port '%.*s' is not 1..65535", shown,
                           (int)(end - digits), digits);
    }
    return UG_OK;
}

/* The URL the transport will be handed for a URL without a server: the default one in its
 * place, in brackets when it is an IPv6 address. */
static ug_err with_default_server(const char *scheme, const char *default_host, const char *path,
                                  struct buf *out, char *err)
{
    int v6 = strchr(default_host, ':') != NULL;
    if (buf_printf(out, "%s://%s%s%s%s", scheme, v6 ? "[" : "", default_host, v6 ? "]" : "",
                   path) != 0)
        return ug_oom(err);
    return UG_OK;
}

/* Checks the scheme as written: *rest is what follows "scheme://" (the whole text when there
 * is none, as in url.c: a "://" after a '/', '?' or '#' is no scheme). */
static ug_err check_scheme(const char *text, const char *shown, char *scheme, size_t n,
                           const char **rest, char *err)
{
    const char *sep = strstr(text, "://");
    snprintf(scheme, n, "tftp");
    *rest = text;
    if (!sep || strcspn(text, "/?#") < (size_t)(sep - text))
        return UG_OK;
    size_t sl = (size_t)(sep - text);
    if (!((sl == 4 && (strncasecmp(text, "tftp", 4) == 0 || strncasecmp(text, "http", 4) == 0)) ||
          (sl == 5 && strncasecmp(text, "https", 5) == 0)))
        return ug_fail(err, UG_ERR_USAGE, "URL '%s': unknown scheme '%.*s' (tftp, http or https)",
                       shown, (int)sl, text);
    snprintf(scheme, n, "%.*s", (int)sl, text);
    *rest = sep + 3;
    return UG_OK;
}

/* 1 when the URL as written names its scheme ("http://..."). */
static int written_scheme(const char *text)
{
    const char *sep = strstr(text, "://");
    return sep && strcspn(text, "/?#") >= (size_t)(sep - text);
}

/* The checks of the URL as written, in the order that names the first fault best; on
 * success *full is the URL for url_split (the default server put in when none is named). */
static ug_err check_written(const char *text, const char *default_host, int require_host,
                            const char *shown, struct buf *full, char *err)
{
    char scheme[8];
    const char *p;
    ug_err rc = check_scheme(text, shown, scheme, sizeof scheme, &p, err);
    if (rc != UG_OK)
        return rc;
    for (const char *c = text; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f)
            return ug_fail(err, UG_ERR_USAGE, "URL '%s': contains a space or control character",
                           shown);
    /* The server part ends where libcurl ends it: at the first '/', '?' or '#'. */
    const char *end = p + strcspn(p, "/?#");
    if (memchr(p, '@', (size_t)(end - p)))
        return ug_fail(err, UG_ERR_USAGE,
                       "URL '%s': credentials go in [--uid U --pwd P], not in the URL", shown);
    if (*end != '/')
        return ug_fail(err, UG_ERR_USAGE, "URL '%s': no file path (it must be absolute: /...)",
                       shown);
    if (end > p) {
        rc = check_server(p, end, shown, err);
        if (rc == UG_OK && buf_printf(full, "%s", text) != 0)
            rc = ug_oom(err);
        return rc;
    }
    if (require_host)
        return ug_fail(err, UG_ERR_USAGE, "URL '%s': Upgrade_Rule URLs must name the server",
                       shown);
    if (!default_host || !default_host[0])
        return ug_fail(err, UG_ERR_USAGE,
                       "URL '%s' names no server and no default (DHCP) server is known", shown);
    if (strlen(default_host) >= sizeof(struct rule_url){0}.host)
        return ug_fail(err, UG_ERR_USAGE, "default server '%s' too long", default_host);
    return with_default_server(scheme, default_host, end, full, err);
}

/* Scheme, server and port as the transport reads them (url_split: libcurl's parser), so what
 * a rule names, logs and checks is what will be contacted. */
ug_err rule_parse_url(const char *text, const char *default_host, int require_host,
                      struct rule_url *out, char *err)
{
    memset(out, 0, sizeof *out);
    /* Messages show the URL without any user:password@, which must never reach a log. */
    char shown[1024];
    url_for_display(text, shown, sizeof shown);
    struct buf full = {0};
    struct url_parts parts;
    ug_err rc = check_written(text, default_host, require_host, shown, &full, err);
    if (rc == UG_OK && (rc = url_split(full.data, &parts, err)) != UG_OK)
        ug_prefix(err, "URL '%s': ", shown);
    buf_free(&full);
    if (rc != UG_OK)
        return rc;
    if (!valid_host(parts.host)) /* what libcurl made of the server must still be a name */
        return ug_fail(err, UG_ERR_USAGE, "URL '%s': '%s' is not a server name", shown, parts.host);
    snprintf(out->scheme, sizeof out->scheme, "%s", parts.scheme);
    out->scheme_given = written_scheme(text);
    out->server_given = *(out->scheme_given ? strstr(text, "://") + 3 : text) != '/';
    snprintf(out->host, sizeof out->host, "%s", parts.host);
    out->port = parts.port;
    out->path = strdup(parts.path);
    int v6 = strchr(out->host, ':') != NULL;
    if (!out->path || buf_printf(&full, "%s://%s%s%s:%d%s", out->scheme, v6 ? "[" : "", out->host,
                                 v6 ? "]" : "", out->port, out->path) != 0) {
        buf_free(&full);
        rule_url_free(out);
        return ug_oom(err);
    }
    out->text = full.data;
    return UG_OK;
}
