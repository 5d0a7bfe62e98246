/* SPDX-License-Identifier: MIT */
/* The device's own configuration, DIR/device.conf (key=value): how it reboots and how a
 * freshly booted release proves it works. A simulated device gets harmless stand-ins. */
#ifndef UPGRADER_DEVCONF_H
#define UPGRADER_DEVCONF_H

#include "common/error.h"

#define DEVCONF_FILE           "device.conf"
#define DEVCONF_DEFAULT_REBOOT "reboot"
#define DEVCONF_REQUESTED_FILE "reboot-requested" /* what the simulated reboot creates */

struct devconf {
    char reboot_command[1024]; /* run through /bin/sh -c; default "reboot" */
    char health_check[1024];   /* run through /bin/sh -c; "" = the built-in check */
};

/* Reads DIR/device.conf; a missing file or key gives the default. */
ug_err devconf_load(const char *root, struct devconf *c, char *err) UG_MUST_CHECK;
/* Writes the simulated device's device.conf (its reboot only records that one is due). */
ug_err devconf_write_simulated(const char *root, char *err) UG_MUST_CHECK;
/* Runs command with /bin/sh -c, UPGRADER_ROOT and the given extra NAME=VALUE (may be NULL)
 * in its environment; UG_ERR_OTHER naming `what` unless it exits 0. */
ug_err devconf_run(const char *command, const char *root, const char *extra_env, const char *what,
                   char *err) UG_MUST_CHECK;

#endif
