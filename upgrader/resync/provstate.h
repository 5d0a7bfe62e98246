/* SPDX-License-Identifier: MIT */
/* Provisioning states of docs/provisioning.md 7.1 (MFG-RESET, SP-CUST, SEC-PRV-1, SEC-PRV-2) and
 * the pure rules of a resync's outcome: the next state, the LED pattern, $PRVST. */
#ifndef UPGRADER_PROVSTATE_H
#define UPGRADER_PROVSTATE_H

#include "common/error.h"

enum prov_state {
    PROV_MFG_RESET = 0, /* nothing provisioned since the factory */
    PROV_SP_CUST,       /* a profile from the provider's server has been applied */
    PROV_SEC_PRV_1,     /* that profile armed a --key rule not yet used */
    PROV_SEC_PRV_2,     /* the last resync fetched and decrypted a --key profile */
};

/* What one resync did, as far as the state is concerned. */
struct prov_outcome {
    int applied;   /* at least one profile fetched from a server was applied */
    int used_key;  /* at least one of them came encrypted and was decrypted with --key */
    int armed_key; /* the rules in the store afterwards would fetch with --key */
};

/* LED patterns (docs/resync.md). */
#define PROV_LED_OFF        "off"        /* provisioning fine (steady / no indication) */
#define PROV_LED_SLOW_BLINK "slow-blink" /* server unreachable (exit 3) */
#define PROV_LED_FAST_BLINK "fast-blink" /* file missing or unusable, or refused (other failures) */

/* $PRVST values (docs/provisioning.md 2). */
#define PROV_PRVST_EXPLICIT (-1) /* resync RULE, /admin/resync?URL */
#define PROV_PRVST_POWER_UP 0    /* the first resync after boot or factory */
#define PROV_PRVST_PERIODIC 1
#define PROV_PRVST_RETRY    2 /* the previous resync failed */

/* "MFG-RESET", "SP-CUST", "SEC-PRV-1", "SEC-PRV-2". */
const char *provstate_name(enum prov_state s);
/* The state named by text, or -1. */
int provstate_parse(const char *text);
/* The state after a resync that did what o says. One that applied nothing (a failure,
 * 304, skipped rules) leaves it as it was; a rule that failed after an earlier rule's
 * profile was applied still moves it, since the store holds that profile. */
enum prov_state provstate_next(enum prov_state current, const struct prov_outcome *o);
/* The LED pattern that shows a resync's result. */
const char *provstate_led(ug_err result);
/* $PRVST for a resync of the stored rules: 0 when none ran before, 2 after a failure, else 1. */
int provstate_prvst(int had_previous, ug_err previous_result);

#endif
