/* SPDX-License-Identifier: MIT */
/* One hop of a plan (inside upgrade/ only): its bundle streamed into the inactive slot and
 * verified, then the switch to it and the reboot, each step in power-loss order. */
#ifndef UPGRADER_UPGRADE_HOP_H
#define UPGRADER_UPGRADE_HOP_H

#include "upgrade/pass.h"

/* Writes the hop into the inactive slot. On UG_OK the slot holds every byte verified, its
 * version is recorded, and it is still unbootable; on failure it stays unbootable. */
ug_err hop_install(struct pass *p, struct hop *h, const struct fetch_options *fo,
                   char *err) UG_MUST_CHECK;
/* Makes the verified pending slot the one that boots next and reboots, unless told not to;
 * UG_ERR_DEFERRED while a call is active (the slot stays verified and pending). */
ug_err hop_switch(struct pass *p, char *err) UG_MUST_CHECK;

#endif
