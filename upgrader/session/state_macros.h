/* SPDX-License-Identifier: MIT */
/* The macros of docs/provisioning.md 2 that come from the device's state rather than its
 * identity or parameters: the timers, the addresses, $VERSION, the phone-program macros;
 * and the HTTP User-Agent that HTTP_User_Agent_Name makes of them. */
#ifndef UPGRADER_STATE_MACROS_H
#define UPGRADER_STATE_MACROS_H

#include <stddef.h>

#include "common/error.h"
#include "lang/macro.h"
#include "session/session.h"

/* Sets $PRVTMR, $UPGTMR, $REGTMRn (seconds since the event, or since boot when none
 * happened), $IP, $EXTIP, $VERSION, $UPGST, $UPGERR and the phone-program macros. */
ug_err state_macros_set(const struct session *s, struct macro_context *ctx,
                        char *err) UG_MUST_CHECK;
/* The device's LAN address (the first IPv4 address of an interface that is up and not
 * loopback, else a global IPv6 one), "" when it has none. */
void state_macros_lan_address(char *out, size_t outsz);
/* Fills s->user_agent: HTTP_User_Agent_Name expanded with the session's macros, or the
 * phones' default form Cisco-PN/SWVER (MA) when it is empty; never a control character. */
void state_macros_user_agent(struct session *s);

#endif
