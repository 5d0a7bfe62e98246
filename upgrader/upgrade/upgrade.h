/* SPDX-License-Identifier: MIT */
/* The upgrade engine: one pass from the rule (or a URL) to a verified, switched inactive slot,
 * and the boot-time step that confirms it or records the rollback from it. Running the next
 * hop after a boot, and a resync before it, is the caller's (the boot command, a scheduler). */
#ifndef UPGRADER_UPGRADE_H
#define UPGRADER_UPGRADE_H

#include "common/error.h"
#include "session/session.h"
#include "upgrade/upgrade_state.h"

/* Called as a hop's bytes reach the slot (and at each state change) with the status. */
typedef void (*upgrade_progress_fn)(void *ctx, const struct upgrade_status *status);

struct upgrade_options {
    const char *rule; /* RULE argument (a rule or a bare URL); NULL: the stored Upgrade_Rule */
    int no_reboot;    /* stop after the switch */
    int force;        /* ignore Upgrade_Error_Retry_Delay and the acted-on memory */
    int continuing;   /* the next hop of the plan in progress (after upgrade_boot said so):
                         its own rule, and the acted-on memory does not apply */
    upgrade_progress_fn progress; /* may be NULL */
    void *progress_ctx;
};

/* What a pass or a boot did, in one line for the operator ("hop 1 of 3: ..."). */
struct upgrade_outcome {
    char summary[768];
    int plan_continues; /* upgrade_boot: a catalog plan has hops left; run the next pass */
};

/* One upgrade pass (docs/upgrade.md): plan, install the next hop into the inactive slot,
 * switch to it and reboot when no call is active. UG_ERR_DEFERRED when a call keeps the
 * verified slot pending; every failure leaves the running slot as it was. The session's
 * cancel flag stops it between steps (UG_ERR_OTHER "upgrade cancelled ..."), never inside
 * the switch. */
ug_err upgrade_pass(struct session *s, const struct upgrade_options *o, struct upgrade_outcome *out,
                    char *err) UG_MUST_CHECK;
/* What runs once at every boot, after the bootloader chose: confirm the new slot (health
 * check, mark good) or record the rollback from it. out->plan_continues then says whether
 * the caller should run the next hop (upgrade_pass with continuing set), after the resync
 * that upgrade_resync_between_hops asks for. */
ug_err upgrade_boot(struct session *s, const struct upgrade_options *o, struct upgrade_outcome *out,
                    char *err) UG_MUST_CHECK;
/* 1 if the device resyncs between hops (Resync_After_Upgrade_Attempt, docs/provisioning.md
 * 4.2), so the provider can change the plan while it runs. */
int upgrade_resync_between_hops(const struct session *s);

#endif
