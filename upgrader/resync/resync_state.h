/* SPDX-License-Identifier: MIT */
/* The resync's memory in resync.json (docs/resync.md): the provisioning state, the last
 * resync's result, the ETag/Last-Modified of each URL fetched, the Custom_CA_Rule record.
 * Loaded and saved whole, as upgrade_state does for upgrade.json. */
#ifndef UPGRADER_RESYNC_STATE_H
#define UPGRADER_RESYNC_STATE_H

#include <json-c/json.h>

#include "common/error.h"
#include "lang/params.h"
#include "resync/provstate.h"

#define RESYNC_MAX_VALIDATORS 16 /* URLs whose ETag/Last-Modified are kept */

/* The document as read; `status` shows parts of it as they are. */
struct resync_state {
    json_object *doc;
    char recovered[UG_ERRBUF]; /* set by load when a damaged file was set aside, else "" */
};

#define RESYNC_NOTES_KEPT 5 /* notes of a resync's applies kept in resync.json for status */

/* What the profiles applied by one resync did, summed over its files. */
struct resync_applied {
    long long files, parameters, changed, defaulted, ignored, unknown;
    int n_notes; /* the first RESYNC_NOTES_KEPT notes, "SOURCE line N: NAME: why" */
    char notes[RESYNC_NOTES_KEPT][320];
};

/* How a resync ended, as the record of the last one keeps it. */
struct resync_last {
    ug_err result;
    const char *rule;   /* the rule of the last file tried, "" when none */
    const char *url;    /* its URL without credentials */
    const char *reason; /* $ERR */
    const char *led;
    int prvst;
    const struct resync_applied *applied; /* NULL or no file: no "applied" record */
};

/* Adds what one apply of source did to a. */
void resync_applied_add(struct resync_applied *a, const struct params_apply_result *res,
                        const char *source);
/* Loads path (a missing file is the factory state: MFG-RESET, no resync yet). The caller
 * holds resync.lock: a damaged file is set aside (PATH.damaged-TIME) and the state starts
 * from the factory one, with st->recovered saying so. */
ug_err resync_state_load(const char *path, struct resync_state *st, char *err) UG_MUST_CHECK;
/* Writes path atomically. */
ug_err resync_state_save(const char *path, const struct resync_state *st, char *err) UG_MUST_CHECK;
/* Frees the document and zeroes st. */
void resync_state_free(struct resync_state *st);

/* The provisioning state recorded (MFG-RESET when none). */
enum prov_state resync_state_prov(const struct resync_state *st);
/* Whether a resync was recorded before, and its result and time. */
int resync_state_previous(const struct resync_state *st, ug_err *result, long long *time);
/* Records a finished resync at now: the last result, the count, the success time, the
 * provisioning state it left. */
void resync_state_record(struct resync_state *st, const struct resync_last *last,
                         enum prov_state state, long long now);
/* The validators kept for url, each NULL when none. */
void resync_state_validators(const struct resync_state *st, const char *url, const char **etag,
                             const char **last_modified);
/* Keeps etag/last_modified (either may be "" or NULL) for url, or forgets url's when both
 * are empty; the oldest URL makes room beyond RESYNC_MAX_VALIDATORS. */
void resync_state_remember(struct resync_state *st, const char *url, const char *etag,
                           const char *last_modified);
/* 1 if Custom_CA_Rule's url was installed with success already. */
int resync_state_custom_ca_done(const struct resync_state *st, const char *url);
/* Records a Custom_CA_Rule attempt. */
void resync_state_record_custom_ca(struct resync_state *st, const char *url, ug_err result,
                                   const char *reason, long long now);
/* The state of a factory reset: MFG-RESET at now, nothing else. */
ug_err resync_state_factory(struct resync_state *st, long long now, char *err) UG_MUST_CHECK;

#endif
