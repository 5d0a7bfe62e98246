/* SPDX-License-Identifier: MIT */
/* The upgrade engine: one pass from the rule (or a URL) to a verified, switched inactive slot,
 * and the boot-time continuation that confirms it, detects a rollback or takes the next hop. */
#ifndef UPGRADER_UPGRADE_H
#define UPGRADER_UPGRADE_H

#include "common/error.h"
#include "net/fetch.h"
#include "upgrade/catalog.h"
#include "upgrade/upgrade_state.h"

/* Tries given to a freshly switched slot before the bootloader falls back. */
#define UPGRADE_SLOT_TRIES 3

/* Called as a hop's bytes reach the slot (and at each state change) with the status. */
typedef void (*upgrade_progress_fn)(void *ctx, const struct upgrade_status *status);

struct upgrade_options {
    const char *rule; /* RULE argument (a rule or a bare URL); NULL: the stored Upgrade_Rule */
    int no_reboot;    /* stop after the switch */
    int force;        /* ignore Upgrade_Error_Retry_Delay and the acted-on memory */
    upgrade_progress_fn progress; /* may be NULL */
    void *progress_ctx;
};

/* What a pass or a boot did, in one line for the operator ("hop 1 of 3: ..."). */
struct upgrade_outcome {
    char summary[768];
};

/* One upgrade pass (docs/upgrade.md): plan, install the next hop into the inactive slot,
 * switch to it and reboot when no call is active. UG_ERR_DEFERRED when a call keeps the
 * verified slot pending; every failure leaves the running slot as it was. */
ug_err upgrade_pass(const char *root, const struct upgrade_options *o, struct upgrade_outcome *out,
                    char *err) UG_MUST_CHECK;
/* What runs once at every boot, after the bootloader chose: confirm the new slot (health
 * check, mark good, next hop) or record the rollback from it. */
ug_err upgrade_boot(const char *root, const struct upgrade_options *o, struct upgrade_outcome *out,
                    char *err) UG_MUST_CHECK;
/* Loads a catalog from a local path, or fetches URL and URL.sig (any #fragment removed),
 * verifying the signature against keyring before anything in it is used. */
ug_err upgrade_load_catalog(const char *url, const struct fetch_options *transport,
                            const char *keyring, struct catalog *out, char *err) UG_MUST_CHECK;
/* 1 if the URL names a catalog: its path, without ?query and #fragment, ends in ".json". */
int upgrade_url_is_catalog(const char *url);

#endif
