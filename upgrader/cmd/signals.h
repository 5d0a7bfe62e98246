/* SPDX-License-Identifier: MIT */
/* SIGTERM and SIGINT for the commands that run long: the first one sets a flag that the
 * session's work checks between steps, so the command stops cleanly (never inside a slot
 * switch) instead of dying wherever the signal lands. */
#ifndef UPGRADER_CMD_SIGNALS_H
#define UPGRADER_CMD_SIGNALS_H

#include <signal.h>

#include "session/session.h"

/* Installs the handlers and returns the flag they set (0 until a signal arrives). A second
 * signal while the first is being honoured ends the process as the default action would. */
const volatile sig_atomic_t *signals_cancel_flag(void);
/* session_open with that flag as the session's cancel flag (and stderr for its log). */
ug_err signals_open_session(const char *root, struct session *s, char *err) UG_MUST_CHECK;

#endif
