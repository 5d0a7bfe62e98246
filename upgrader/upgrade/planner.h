/* SPDX-License-Identifier: MIT */
/* The multistage upgrade planner: from the running version to a target through every
 * release that must be installed on the way, fewest hops first, then least download. */
#ifndef UPGRADER_PLANNER_H
#define UPGRADER_PLANNER_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "upgrade/catalog.h"

struct plan_request {
    const char *from;            /* the running version */
    const char *to;              /* a version, or "latest" */
    const char *hardware;        /* the device's hardware revision; NULL = any */
    const char *downgrade_limit; /* Downgrade_Rev_Limit: no release below it; NULL/"" = none */
};

struct plan_hop {
    const char *from;                      /* version installed before this hop */
    const struct catalog_release *release; /* what this hop installs (points into the catalog) */
};

struct plan {
    const char *target;    /* the resolved target version (points into the catalog) */
    struct plan_hop *hops; /* in install order; nhops 0 = already at the target */
    size_t nhops;
    uint64_t total_size; /* bytes of all bundles to fetch */
};

/* Plans req over the catalog. UG_ERR_NO_PATH with the reason (target unknown, withdrawn,
 * wrong hardware, no chain of min_from/max_from reaching it); UG_ERR_VERIFY when the target
 * lies below the downgrade limit; UG_ERR_USAGE for a from/to that is no version. The plan
 * points into c, which must outlive it. */
ug_err planner_plan(const struct catalog *c, const struct plan_request *req, struct plan *out,
                    char *err) UG_MUST_CHECK;
/* Frees the hops of a plan and zeroes it. */
void plan_free(struct plan *p);

#endif
