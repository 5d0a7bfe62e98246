/* SPDX-License-Identifier: MIT */
/* One resync as a provisioned phone does it: Profile_Rule, _B, _C, _D (or one given rule)
 * evaluated, fetched, decrypted and applied all-or-nothing; the outcome in resync.json. */
#ifndef UPGRADER_RESYNC_H
#define UPGRADER_RESYNC_H

#include "common/buf.h"
#include "common/error.h"
#include "net/fetch.h"
#include "resync/provstate.h"
#include "resync/resync_state.h"
#include "session/session.h"

#define RESYNC_MAX_PROFILE        (16u << 20)  /* bytes fetched for one profile */
#define RESYNC_MAX_CA             (256u << 10) /* bytes fetched for Custom_CA_Rule */
#define RESYNC_DEFAULT_TIMEOUT_MS 120000L      /* one file, whole transfer */
#define RESYNC_TFTP_BLKSIZE       1468         /* RFC 2348 block size asked of TFTP servers */
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
    long retry_after;              /* the failed file's server asked to wait this long (s) */
    struct buf log;                /* one line for each thing done; resync_report_free */
    struct resync_applied applied; /* what the applied profiles did, summed */
};

/* Fills o with the defaults: the stored rules, $PRVST derived, default timeout. */
void resync_options_init(struct resync_options *o);
/* Runs one resync on the session's device and records it in resync.json; report is filled
 * whenever the resync was attempted (its log even on failure). Provision_Enable=No:
 * UG_ERR_OTHER; another resync running: UG_ERR_OTHER at once. */
ug_err resync_run(struct session *s, const struct resync_options *o, struct resync_report *report,
                  char *err) UG_MUST_CHECK;
/* Frees the report's log. */
void resync_report_free(struct resync_report *report);

#endif
