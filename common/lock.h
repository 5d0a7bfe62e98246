/* SPDX-License-Identifier: MIT */
/* The one lock helper: an exclusive flock on a lock file, taken with a bound on the wait and
 * a clear error when the bound passes. Every wait on another process goes through here. */
#ifndef COMMON_LOCK_H
#define COMMON_LOCK_H

#include "common/error.h"

/* wait_ms for a lock that guards an exclusive job (a whole resync, a whole upgrade pass):
 * never wait for another holder, say at once that one is running. */
#define LOCK_TRY_ONCE 0

/* Takes an exclusive flock on path (created 0600 if missing), waiting up to wait_ms for
 * another holder; *fd is then the open lock, -1 on failure. `what` names what the lock
 * guards for the message ("the parameter store", "an upgrade pass"). The kernel drops the
 * lock when its holder dies, so a killed process never blocks the next one.
 * UG_ERR_OTHER when it is still held after wait_ms, or cannot be opened. */
ug_err lock_take(const char *path, int wait_ms, const char *what, int *fd, char *err) UG_MUST_CHECK;
/* Releases a lock taken by lock_take and sets *fd to -1; a no-op on -1. */
void lock_release(int *fd);

#endif
