/* SPDX-License-Identifier: MIT */
/* Call state: how many calls are active right now, kept in the state folder so that the
 * SIP stack (`upgrader call start|end`) and the agent agree on when the device is idle. */
#ifndef UPGRADER_CALL_H
#define UPGRADER_CALL_H

#include "common/error.h"
#include "device/folder.h"

/* A change of the counter holds its lock for a read and a write (milliseconds). */
#define CALL_LOCK_WAIT_MS 5000

/* One more call is active. Safe against concurrent callers (calls may overlap). */
ug_err call_start(const struct state_folder *f, int *active_now, char *err) UG_MUST_CHECK;
/* One call fewer; never goes below zero (an extra end is harmless and reported as 0). */
ug_err call_end(const struct state_folder *f, int *active_now, char *err) UG_MUST_CHECK;
/* The number of calls active now (0 = idle). A missing file means idle. */
ug_err call_active_count(const struct state_folder *f, int *active, char *err) UG_MUST_CHECK;

#endif
