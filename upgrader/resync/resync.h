/* SPDX-License-Identifier: MIT */
/* One resync as a provisioned phone does it: Profile_Rule, _B, _C, _D (or one given rule)
 * evaluated, fetched, decrypted and applied all-or-nothing; the outcome in DIR/resync.json. */
#ifndef UPGRADER_RESYNC_H
#define UPGRADER_RESYNC_H

#include <json-c/json.h>

#include "common/buf.h"
#include "common/error.h"
#include "net/fetch.h"
#include "resync/provstate.h"

#define RESYNC_STATE_FILE         "resync.json"
#define RESYNC_MAX_PROFILE        (16u << 20)  /* bytes fetched for one profile */
#define RESYNC_MAX_CA             (256u << 10) /* bytes fetched for Custom_CA_Rule */
#define RESYNC_DEFAULT_TIMEOUT_MS 120000L      /* one file, whole transfer */
#define RESYNC_TFTP_BLKSIZE       1468         /* RFC 2348 block size asked of TFTP servers */
#define RESYNC_MAX_VALIDATORS     16           /* URLs whose ETag/Last-Modified are kept */
#define RESYNC_PRVST_AUTO         100          /* derive $PRVST from the last resync */

struct resync_options {
    const char *rule;      /* NULL: the stored Profile_Rule.._D; else this rule alone */
    const char *rule_name; /* how the given rule is named in logs and status */
    int prvst;             /* $PRVST, or RESYNC_PRVST_AUTO */
    long timeout_ms;       /* per file, the whole transfer; 0: RESYNC_DEFAULT_TIMEOUT_MS */
};

struct resync_report {
    ug_err result;
    enum prov_state state;         /* after the resync */
    char rule[32];                 /* rule of the last file tried, "" when none */
    char url[FETCH_URL_MAX];       /* its expanded URL, credentials removed */
    char reason[FETCH_REASON_MAX]; /* $ERR */
    const char *led;               /* provstate_led(result) */
    struct buf log;                /* one line for each thing done; resync_report_free */
};

/* Fills o with the defaults: the stored rules, $PRVST derived, default timeout. */
void resync_options_init(struct resync_options *o);
/* Runs one resync on the device in root and records it; report is filled whenever the
 * resync was attempted (its log even on failure). Provision_Enable=No: UG_ERR_OTHER. */
ug_err resync_run(const char *root, const struct resync_options *o, struct resync_report *report,
                  char *err) UG_MUST_CHECK;
/* Frees the report's log. */
void resync_report_free(struct resync_report *report);
/* Back to MFG-RESET: every parameter (and user access) at its default, the resync record
 * and the custom CA gone. UG_ERR_OTHER when Protect_Factory_Reset=Yes forbids it. */
ug_err resync_factory_reset(const char *root, char *err) UG_MUST_CHECK;
/* Loads DIR/resync.json (an empty object when none); json_object_put it. */
ug_err resync_state_load(const char *root, json_object **state, char *err) UG_MUST_CHECK;

#endif
