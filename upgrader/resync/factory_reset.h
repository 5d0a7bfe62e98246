/* SPDX-License-Identifier: MIT */
/* The factory reset: back to MFG-RESET, every parameter (and user access) at its default,
 * the resync record and the custom CA gone, unless the provider's profile forbids it. */
#ifndef UPGRADER_FACTORY_RESET_H
#define UPGRADER_FACTORY_RESET_H

#include "common/error.h"
#include "session/session.h"

/* Resets the session's device. UG_ERR_OTHER when Protect_Factory_Reset=Yes forbids it, or
 * while a resync runs (it would apply its profile over the defaults). */
ug_err factory_reset(struct session *s, char *err) UG_MUST_CHECK;

#endif
