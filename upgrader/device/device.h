/* SPDX-License-Identifier: MIT */
/* The device's state folder (--root) and its identity: where each file lives, and the
 * MAC, serial, product and hardware version that macros and the User-Agent report. */
#ifndef UPGRADER_DEVICE_H
#define UPGRADER_DEVICE_H

#include "common/error.h"

#define DEVICE_DEFAULT_ROOT "/var/lib/upgrader"

/* File names inside the state folder; docs/state-folder.md describes each. */
#define DEVICE_IDENTITY_FILE  "identity"   /* key=value: mac, serial, product, ... */
#define DEVICE_PARAMS_FILE    "params"     /* the parameter store */
#define DEVICE_STATE_FILE     "state.json" /* agent state: provisioning, last results */
#define DEVICE_BOOTENV_FILE   "bootenv"    /* boot state, as bootctl --env reads it */
#define DEVICE_SLOT_A_FILE    "slot-a.img"
#define DEVICE_SLOT_B_FILE    "slot-b.img"
#define DEVICE_KEYRING_FILE   "keyring.pem" /* CA that signs catalogs and bundles */
#define DEVICE_CA_FILE        "ca.pem"      /* TLS trust anchors for HTTPS */
#define DEVICE_CLIENT_CERT    "client.crt"
#define DEVICE_CLIENT_KEY     "client.key"
#define DEVICE_SCHEMA_FILE    "schema.conf"   /* extra parameters of the phone's own programs */
#define DEVICE_CUSTOM_CA_FILE "custom-ca.pem" /* extra TLS trust anchor from Custom_CA_Rule */

#define DEVICE_FIELD_MAX 128

struct device {
    char root[1024];
    char mac[13]; /* 12 lower-case hex digits, no separators */
    char serial[DEVICE_FIELD_MAX];
    char product[DEVICE_FIELD_MAX]; /* $PN, e.g. CP-8841-3PCC */
    char psn[DEVICE_FIELD_MAX];     /* $PSN, product series number */
    char hwver[DEVICE_FIELD_MAX];
};

/* Reads DIR/identity into dev; UG_ERR_OTHER with a clear message if DIR is no device. */
ug_err device_load(const char *root, struct device *dev, char *err) UG_MUST_CHECK;
/* Writes dev's identity to dev->root/identity atomically. */
ug_err device_save_identity(const struct device *dev, char *err) UG_MUST_CHECK;
/* Normalises a MAC given as 00:0E:08:aa:bb:cc, 000e08aabbcc or 00-0e-...; -1 if invalid. */
int device_parse_mac(const char *text, char out[13]);
/* Builds the path of a file in the state folder into out (size outsz). */
int device_path(const struct device *dev, const char *name, char *out, size_t outsz);

#endif
