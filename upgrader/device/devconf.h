/* SPDX-License-Identifier: MIT */
/* The device's own configuration, DIR/device.conf (key=value): how it reboots, how a freshly
 * booted release proves it works, and where its boot state and its two slots live. A
 * simulated device gets harmless stand-ins and file-backed slots. */
#ifndef UPGRADER_DEVCONF_H
#define UPGRADER_DEVCONF_H

#include "bootctl/bootstate.h"
#include "common/error.h"
#include "device/folder.h"

/* systemd's reboot where systemd runs, the classic one elsewhere (busybox, sysvinit) */
#define DEVCONF_DEFAULT_REBOOT \
    "if [ -d /run/systemd/system ]; then exec systemctl reboot; else exec reboot; fi"
#define DEVCONF_NAME_MAX 32
#define DEVCONF_PATH_MAX 1024

struct devconf {
    char reboot_command[1024]; /* run through /bin/sh -c; default DEVCONF_DEFAULT_REBOOT */
    char health_check[1024];   /* run through /bin/sh -c; "" = the built-in check */
    /* The boot state: a backend of bootstate.h (default "file") and its location (default
     * DIR/bootenv). Paths given relative in the file are inside DIR; these are joined. */
    char bootstate_backend[DEVCONF_NAME_MAX];
    char bootstate_location[DEVCONF_PATH_MAX];
    /* The slots: "file" (default) or "block" (upgrade/slots/slot.h), and where A and B are
     * (default DIR/slot-a.img and DIR/slot-b.img; required with "block"). */
    char slot_backend[DEVCONF_NAME_MAX];
    char slot_a[DEVCONF_PATH_MAX];
    char slot_b[DEVCONF_PATH_MAX];
};

/* Reads the folder's device.conf; a missing file, key or empty value gives the default. UG_ERR_OTHER,
 * naming the file and line, for a value too long, an unknown backend, slot_backend=block
 * without both slots, or slot_a and slot_b naming the same slot. */
ug_err devconf_load(const struct state_folder *f, struct devconf *c, char *err) UG_MUST_CHECK;
/* The boot-state store c names (backend and location). */
ug_err devconf_bootstate_store(const struct devconf *c, struct bootstate_store *store,
                               char *err) UG_MUST_CHECK;
/* Writes the simulated device's device.conf (its reboot only records that one is due; its
 * boot state and slots are the files `upgrader init` makes). */
ug_err devconf_write_simulated(const struct state_folder *f, char *err) UG_MUST_CHECK;
/* Runs command with /bin/sh -c, UPGRADER_ROOT and the given extra NAME=VALUE (may be NULL)
 * in its environment; UG_ERR_OTHER naming `what` unless it exits 0. */
ug_err devconf_run(const char *command, const char *root, const char *extra_env, const char *what,
                   char *err) UG_MUST_CHECK;

#endif
