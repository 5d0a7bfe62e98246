/* SPDX-License-Identifier: MIT */
/* The URL commands of the admin account (/admin/resync[?RULE], /admin/upgrade?RULE,
 * /admin/reboot, /admin/factory-reset, /admin/status): what a request asks for, its rule
 * checked as the parameter of the same syntax would be, and the inline credentials
 * (&xuser=...&xpassword=...) of operators' older scripts (docs/web.md). */
#ifndef UPGRADER_WEB_ROUTES_H
#define UPGRADER_WEB_ROUTES_H

#include "common/error.h"
#include "daemon/jobs.h"
#include "lang/paramdefs.h"

enum route_command {
    ROUTE_NONE,   /* not a URL command */
    ROUTE_STATUS, /* the status document */
    ROUTE_JOB,    /* a job to queue: kind, rule */
};

struct route {
    enum route_command command;
    enum job_kind kind;
    int post_only; /* the factory reset: GET is refused */
    char *rule;    /* decoded, NULL: none (resync: the stored rules) */
    char *xuser;   /* inline credentials, NULL when absent */
    char *xpassword;
};

/* Reads path (already decoded) and the raw query (after '?', NULL when none). ROUTE_NONE
 * for a path that is no URL command; UG_ERR_USAGE with one line for a malformed query or
 * rule (nothing may be queued then). Rules are checked against t's Profile_Rule (resync)
 * or Upgrade_Rule (upgrade) definitions. Free out with route_free in every case (the inline
 * credentials are read even from a request refused for its rule). */
ug_err route_parse(const char *path, const char *query, const struct param_table *t,
                   struct route *out, char *err) UG_MUST_CHECK;
/* Frees what route_parse kept. */
void route_free(struct route *r);

#endif
