/* SPDX-License-Identifier: MIT */
/* URL commands: the path names the command, the whole query (less trailing xuser= and
 * xpassword= fields) is the rule, percent-decoded once; '+' stays a '+' (a URL may hold one). */
#include "web/routes.h"

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "lang/rule.h"
#include "web/form.h"

static const struct {
    const char *path;
    enum route_command command;
    enum job_kind kind;
    int takes_rule, needs_rule, post_only;
} commands[] = {
    {"/admin/status", ROUTE_STATUS, JOB_KIND_COUNT, 0, 0, 0},
    {"/admin/resync", ROUTE_JOB, JOB_RESYNC, 1, 0, 0},
    {"/admin/upgrade", ROUTE_JOB, JOB_UPGRADE, 1, 1, 0},
    {"/admin/reboot", ROUTE_JOB, JOB_REBOOT, 0, 0, 0},
    {"/admin/factory-reset", ROUTE_JOB, JOB_FACTORY_RESET, 0, 0, 1},
};

/* Takes a trailing "&xuser=..." or "&xpassword=..." (or the query's only field) off the
 * end of q[0..*n); 1 if one was taken. */
static int take_credential(struct route *r, const char *q, size_t *n, char *err, ug_err *rc)
{
    size_t start = *n;
    while (start > 0 && q[start - 1] != '&')
        start--;
    const char *seg = q + start;
    size_t len = *n - start;
    char **dst = len >= 6 && memcmp(seg, "xuser=", 6) == 0         ? &r->xuser
                 : len >= 10 && memcmp(seg, "xpassword=", 10) == 0 ? &r->xpassword
                                                                   : NULL;
    if (!dst)
        return 0;
    size_t skip = dst == &r->xuser ? 6 : 10;
    free(*dst);
    if (form_decode(seg + skip, len - skip, 1, dst) != 0) {
        *rc = ug_fail(err, UG_ERR_USAGE, "malformed %s= in the query",
                      dst == &r->xuser ? "xuser" : "xpassword");
        return 0;
    }
    *n = start ? start - 1 : 0;
    return 1;
}

static ug_err check_rule(const struct param_table *t, enum job_kind kind, const char *rule,
                         char *err)
{
    long i = paramdefs_find(t, kind == JOB_UPGRADE ? "Upgrade_Rule" : "Profile_Rule");
    char *norm = NULL;
    if (i < 0)
        return ug_fail(err, UG_ERR_OTHER, "no rule definition");
    ug_err rc = paramdefs_validate(&t->defs[i], rule, &norm, err);
    free(norm);
    if (rc != UG_OK || kind != JOB_UPGRADE)
        return rc;
    /* A stored Upgrade_Rule may leave the server out (the profile's server fills it in); a
     * URL command has no profile, so each of its URLs must name one. */
    struct buf filled = {0};
    int missing = rule_fill_host(rule, "-", &filled, err);
    buf_free(&filled);
    if (missing < 0)
        return ug_oom(err);
    if (missing)
        return ug_fail(err, UG_ERR_USAGE, "every URL of an upgrade command must name its server");
    return UG_OK;
}

static ug_err parse_query(const struct param_table *t, int which, const char *query,
                          struct route *out, char *err)
{
    size_t n = query ? strlen(query) : 0;
    ug_err rc = UG_OK;
    while (n && take_credential(out, query, &n, err, &rc))
        ;
    if (rc != UG_OK)
        return rc;
    if (n && !commands[which].takes_rule)
        return UG_OK; /* /admin/reboot?anything: the query means nothing */
    if (n && form_decode(query, n, 0, &out->rule) != 0)
        return ug_fail(err, UG_ERR_USAGE, "malformed query: a bad %%-escape, a NUL or too long");
    if (out->rule && !out->rule[strspn(out->rule, " \t")]) {
        free(out->rule);
        out->rule = NULL;
    }
    if (!out->rule && commands[which].needs_rule)
        return ug_fail(err, UG_ERR_USAGE, "%s needs a rule: %s?RULE", commands[which].path,
                       commands[which].path);
    if (out->rule && (rc = check_rule(t, out->kind, out->rule, err)) != UG_OK)
        ug_prefix(err, "malformed rule: ");
    return rc;
}

ug_err route_parse(const char *path, const char *query, const struct param_table *t,
                   struct route *out, char *err)
{
    memset(out, 0, sizeof *out);
    out->command = ROUTE_NONE;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(path, commands[i].path) != 0)
            continue;
        out->command = commands[i].command;
        out->kind = commands[i].kind;
        out->post_only = commands[i].post_only;
        return parse_query(t, (int)i, query, out, err);
    }
    return UG_OK;
}

void route_free(struct route *r)
{
    free(r->rule);
    free(r->xuser);
    free(r->xpassword);
    r->rule = r->xuser = r->xpassword = NULL;
}
