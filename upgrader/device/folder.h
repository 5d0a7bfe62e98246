/* SPDX-License-Identifier: MIT */
/* The device's state folder (--root), opened once: every file the agent keeps there gets its
 * path built and length-checked at open, so no caller joins paths or meets one that does
 * not fit. docs/state-folder.md describes each file. */
#ifndef UPGRADER_DEVICE_FOLDER_H
#define UPGRADER_DEVICE_FOLDER_H

#include "common/error.h"

#define DEVICE_DEFAULT_ROOT "/var/lib/upgrader"
/* The one path-length limit: the folder and its longest file name, with the NUL. */
#define STATE_PATH_MAX      4096

enum state_file {
    STATE_IDENTITY,    /* key=value: mac, serial, product, psn, hwver */
    STATE_PARAMS,      /* the parameter store */
    STATE_PARAMS_LOCK, /* held while the store is changed (reload, apply, save) */
    STATE_SCHEMA,      /* extra parameters of the phone's own programs */
    STATE_BOOTENV,     /* boot state, as bootctl --env reads it */
    STATE_SLOT_A,      /* the simulated device's slot files */
    STATE_SLOT_B,
    STATE_KEYRING,     /* CA that signs catalogs and bundles */
    STATE_CA,          /* TLS trust anchors for HTTPS */
    STATE_CLIENT_CERT, /* the device's TLS identity */
    STATE_CLIENT_KEY,
    STATE_CUSTOM_CA,        /* extra TLS trust anchor from Custom_CA_Rule */
    STATE_DEVICE_CONF,      /* reboot command, health check */
    STATE_REBOOT_REQUESTED, /* what the simulated device's reboot leaves */
    STATE_CALLS,            /* the active-call counter */
    STATE_CALLS_LOCK,
    STATE_RESYNC,         /* resync.json: provisioning state, last resync, validators */
    STATE_RESYNC_LOCK,    /* held for a whole resync or factory reset */
    STATE_DHCP,           /* dhcp.json: the lease's provisioning servers */
    STATE_UPGRADE,        /* upgrade.json: plan, pending slot, failures, status */
    STATE_UPGRADE_LOCK,   /* held for a whole upgrade pass or boot */
    STATE_UPGRADE_RESUME, /* where a cut transfer resumes */
    STATE_JOBS,           /* jobs.json: the daemon's deferred-work queue */
    STATE_CONTROL,        /* control.sock: the running daemon's control socket */
    STATE_DAEMON_LOCK,    /* held by the one daemon of the folder for its whole life */
    STATE_EVENTS,         /* events.json: the recent job outcomes the web log page shows */
    STATE_BLOCKS_A,       /* slot A's block table for delta installs (a cache) */
    STATE_BLOCKS_B,
    STATE_FILE_COUNT
};

struct state_folder {
    char *root;
    char *path[STATE_FILE_COUNT];
};

/* Checks root once (not empty; root plus every file name within STATE_PATH_MAX) and builds
 * every path. The folder need not exist yet (init creates it). UG_ERR_USAGE when too long. */
ug_err state_folder_open(const char *root, struct state_folder *f, char *err) UG_MUST_CHECK;
/* Frees the paths; safe on a zeroed or closed folder. */
void state_folder_close(struct state_folder *f);
/* The path of one file of the folder. */
const char *state_path(const struct state_folder *f, enum state_file which);
/* The file's name inside the folder ("params", "upgrade.json", ...). */
const char *state_file_name(enum state_file which);

#endif
