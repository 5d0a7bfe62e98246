/* SPDX-License-Identifier: MIT */
/* The upgrade's memory in upgrade.json (plan in progress, pending slot, failures, the
 * "status" object that `status` shows) and the pure decisions taken from it and the boot state. */
#ifndef UPGRADER_UPGRADE_STATE_H
#define UPGRADER_UPGRADE_STATE_H

#include <stdint.h>
#include <time.h>

#include "bootctl/bootstate.h"
#include "common/error.h"
#include "lang/delay.h"
#include "net/fetch.h"

#define UPGRADE_MAX_FAILURES 16
#define UPGRADE_TEXT_MAX     64

/* What the upgrade is doing; its name is status.state in upgrade.json and `status`
 * (docs/upgrade.md lists what each means). */
enum upgrade_phase {
    UPGRADE_IDLE,        /* "idle" */
    UPGRADE_DISABLED,    /* "disabled" */
    UPGRADE_DOWNLOADING, /* "downloading" */
    UPGRADE_VERIFIED,    /* "verified-pending-switch" */
    UPGRADE_DEFERRED,    /* "deferred-call-active" */
    UPGRADE_SWITCHED,    /* "switched-awaiting-boot" */
    UPGRADE_FAILED,      /* "failed" */
    UPGRADE_DONE,        /* "done" */
    UPGRADE_CANCELLED,   /* "cancelled": stopped by a signal; nothing is held against it */
};

/* The "status" object, copied verbatim by `upgrader status`. */
struct upgrade_status {
    enum upgrade_phase state;
    char target[UPGRADE_TEXT_MAX];    /* the plan's final version ("" when unknown) */
    char version[UPGRADE_TEXT_MAX];   /* the version of the hop in progress */
    int hop, hops;                    /* hop k of n (0 of 0: no plan) */
    uint64_t bytes_done, bytes_total; /* image bytes of the hop in progress */
    uint64_t bytes_reused;            /* of them, copied from the device's own slots (delta) */
    uint64_t bytes_fetched;           /* bundle bytes downloaded for the hop so far */
    uint64_t bytes_full;              /* what downloading the whole bundle takes (0: unknown) */
    char last_result[32];             /* "ok", "nothing-to-do", "disabled", ug_err_name()... */
    char last_error[UG_ERRBUF];       /* $UPGERR: the message of the last failure, "" if none */
    long long last_time;              /* Unix time of the last change */
    char url[FETCH_URL_MAX];          /* bundle or catalog URL, no credentials */
    char reason[UG_ERRBUF];           /* why nothing happened / what waits, for operators */
    int upgst;                        /* $UPGST: 1 first attempt, 2 failed / retry */
    char slot;                        /* slot written or pending ('A'/'B'), 0 none */
};

enum upgrade_pending_state {
    PENDING_NONE = 0,
    PENDING_WRITING,  /* the slot is being written: unbootable, version cleared */
    PENDING_VERIFIED, /* every byte verified, version recorded, still unbootable */
    PENDING_SWITCHED, /* set-active done: the next boot tries it */
};

/* The slot the current hop writes into. */
struct upgrade_pending {
    enum upgrade_pending_state state;
    char slot;                      /* 'A' or 'B' */
    char version[UPGRADE_TEXT_MAX]; /* "" until known (bundle rules learn it on install) */
    char url[FETCH_URL_MAX];        /* the bundle, no credentials */
};

/* The plan in progress, so that `upgrader boot` can continue it after the reboot. */
struct upgrade_plan_record {
    int active;
    int catalog;             /* 1: a catalog plan (re-planned each hop); 0: one bundle */
    int stored_rule;         /* 1: the entry is the stored Upgrade_Rule */
    char *rule;              /* the RULE argument when not stored (malloc'd) */
    char url[FETCH_URL_MAX]; /* the entry URL, no credentials */
    char target[UPGRADE_TEXT_MAX];
    int hops_total, hops_done;
};

/* A release that failed: its version ("" when it never became known) and bundle URL. */
struct upgrade_failure {
    char version[UPGRADE_TEXT_MAX];
    char url[FETCH_URL_MAX];
    int count;
    long long time, retry_after;
    char reason[UG_ERRBUF];
};

struct upgrade_state {
    struct upgrade_status status;
    struct upgrade_pending pending;
    struct upgrade_plan_record plan;
    char *acted_rule;              /* the unconditional rule last acted on (malloc'd), or NULL */
    char acted_url[FETCH_URL_MAX]; /* ... and its expanded URL */
    unsigned failure_streak;       /* failures since the last success: picks the retry delay */
    struct upgrade_failure failures[UPGRADE_MAX_FAILURES];
    int nfailures;
    char recovered[UG_ERRBUF]; /* set by load when a damaged file was set aside, else "" */
};

/* The phase's name ("verified-pending-switch"). */
const char *upgrade_phase_name(enum upgrade_phase phase);
/* The phase of a name; -1 for an unknown one. */
int upgrade_phase_parse(const char *name);

/* Loads upgrade.json from path (a missing file is the idle state). The caller holds the
 * pass lock: a damaged file is set aside (PATH.damaged-TIME) and the state starts idle,
 * with st->recovered saying so. */
ug_err upgrade_state_load(const char *path, struct upgrade_state *st, char *err) UG_MUST_CHECK;
/* Writes upgrade.json to path atomically; status.last_time is set to now. */
ug_err upgrade_state_save(const char *path, struct upgrade_state *st, char *err) UG_MUST_CHECK;
/* Frees the strings st holds and zeroes it. */
void upgrade_state_free(struct upgrade_state *st);
/* Replaces the plan's rule text (NULL: none). Returns -1 when out of memory. */
int upgrade_state_set_plan_rule(struct upgrade_state *st, const char *rule);
/* Records an unconditional rule as acted on (NULL clears). Returns -1 when out of memory. */
int upgrade_state_set_acted(struct upgrade_state *st, const char *rule, const char *url);

/* --- Pure decisions (no I/O): the unit tests drive these with tables. --- */

/* What `upgrader boot` does, given the boot state after the bootloader chose and the pending slot. */
enum upgrade_boot_action {
    BOOT_ACTION_NONE,          /* nothing pending; the booted slot is already good */
    BOOT_ACTION_MARK_GOOD,     /* nothing pending, but the booted slot is not marked good yet */
    BOOT_ACTION_CONFIRM_NEW,   /* the pending slot booted: health check, mark good, next hop */
    BOOT_ACTION_ROLLBACK,      /* switched, but the old slot booted: record the failure */
    BOOT_ACTION_KEEP_PENDING,  /* verified but not switched (deferred): the next pass switches */
    BOOT_ACTION_STALE_PENDING, /* a slot left half-written or changed behind our back: forget it */
};
enum upgrade_boot_action upgrade_decide_boot(const struct bootstate *bs,
                                             const struct upgrade_pending *p);

/* 1 if the hop (version, or "" with the bundle url) is already written and verified in the
 * inactive slot: recorded as verified or switched in upgrade.json and matching the boot state. */
int upgrade_slot_holds(const struct bootstate *bs, const struct upgrade_pending *p,
                       const char *version, const char *url);

/* The failure record of a release, found by its version or its URL (either may be NULL/""). */
const struct upgrade_failure *upgrade_find_failure(const struct upgrade_state *st,
                                                   const char *version, const char *url);
/* 1 if the release may be tried now: never failed, or its retry time has come. */
int upgrade_retry_due(const struct upgrade_state *st, const char *version, const char *url,
                      time_t now);
/* Records a failure of the release at now: count +1, retry after the failure_streak-th delay
 * of the list (the last repeating; empty list: at once); evicts the oldest record when full. */
void upgrade_record_failure(struct upgrade_state *st, const char *version, const char *url,
                            const char *reason, const struct delay_list *retry, delay_random_fn rnd,
                            void *rnd_ctx, time_t now);
/* The release succeeded: the streak restarts and its failure record goes. */
void upgrade_record_success(struct upgrade_state *st, const char *version, const char *url);
/* 1 if an unconditional rule was acted on already with the same text and expanded URL. */
int upgrade_rule_acted(const struct upgrade_state *st, int conditional, const char *rule,
                       const char *url);

#endif
