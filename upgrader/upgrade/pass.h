/* SPDX-License-Identifier: MIT */
/* What an upgrade pass and the boot-time continuation share (inside upgrade/ only): the
 * open pass, its record in upgrade.json, the reports an operator sees, and changes of the
 * boot state under its lock. */
#ifndef UPGRADER_UPGRADE_PASS_H
#define UPGRADER_UPGRADE_PASS_H

#include <stdint.h>
#include <time.h>

#include "session/session.h"
#include "upgrade/install.h"
#include "upgrade/upgrade.h"
#include "upgrade/upgrade_state.h"

/* Tries given to a freshly switched slot before the bootloader falls back. */
#define UPGRADE_SLOT_TRIES 3

struct pass {
    struct session *s;
    const struct upgrade_options *o;
    struct upgrade_state st;
    struct upgrade_outcome *out;
    time_t last_write;           /* progress is saved at most once a second ... */
    uint64_t last_written_bytes; /* ... or every 4 MiB */
    int lock_fd;                 /* upgrade.lock, held for the whole pass; -1 when not taken */
    int boot_lock; /* the boot state's lock, held from a change's load to its save; or -1 */
    const struct install_result *installing; /* during install_bundle: its version once read */
};

/* What the pass works towards: the next hop. */
struct hop {
    char version[UPGRADE_TEXT_MAX]; /* "" for a bundle rule until the install reads it */
    char *bundle_url;               /* malloc'd */
    char display[FETCH_URL_MAX];    /* bundle URL without credentials */
};

/* Opens a pass: one at a time (upgrade.lock, never waited for), from the state as it is now
 * (parameters, boot state, upgrade.json). UG_ERR_OTHER when another pass runs or the boot
 * state is unusable. */
ug_err pass_open(struct pass *p, struct session *s, const struct upgrade_options *o,
                 struct upgrade_outcome *out, char *err) UG_MUST_CHECK;
void pass_close(struct pass *p);

/* Writes upgrade.json and tells the progress callback. */
ug_err pass_save(struct pass *p, char *err) UG_MUST_CHECK;
/* Tells the progress callback only. */
void pass_notify(struct pass *p);
/* Sets the phase, the last result (NULL keeps it) and the reason (NULL clears it). */
void pass_set_state(struct pass *p, enum upgrade_phase phase, const char *result,
                    const char *reason);
/* Keeps the phase; sets the result (NULL keeps it) and the reason (NULL clears it). */
void pass_set_result(struct pass *p, const char *result, const char *reason);
/* The one line the command prints. */
void pass_summarise(struct pass *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The plan reached its target: done, the streak and the pending slot forgotten. */
void pass_finish_plan(struct pass *p, const char *target);

/* Records a failed attempt of a release (its version, or its URL) everywhere an operator
 * looks: status ($UPGERR, $UPGST=2), the failure list that gates the retry, syslog.
 * result NULL names rc. Returns rc. */
ug_err pass_record_failure(struct pass *p, ug_err rc, const char *version, const char *url,
                           const char *result, char *err);
/* Records that the pass was cancelled by a signal: nothing is held against the release, and
 * the next pass continues where this one stopped. Returns UG_ERR_OTHER with the message. */
ug_err pass_record_cancel(struct pass *p, const char *where, char *err);
/* Sends one of the Log_Upgrade_*_Msg templates to Syslog_Server, expanded for url and $ERR. */
void pass_log(struct pass *p, const char *template_param, const char *url, const char *result,
              int severity);

/* A change of the boot state starts here, under its lock (bootctl by hand must not
 * interleave), from the medium (bootctl or the bootloader may have changed it since) ... */
ug_err pass_boot_begin(struct pass *p, char *err) UG_MUST_CHECK;
/* ... and ends here: saved (flushed) if rc, the change's outcome, is UG_OK; the lock is
 * released either way. Returns the first failure. */
ug_err pass_boot_end(struct pass *p, ug_err rc, char *err) UG_MUST_CHECK;
/* Releases the boot state's lock without saving. */
void pass_boot_abandon(struct pass *p);

#endif
