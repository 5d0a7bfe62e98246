/* SPDX-License-Identifier: MIT */
/* The device's identity: the MAC, serial, product and hardware version that macros and the
 * User-Agent report, kept in the state folder's identity file. */
#ifndef UPGRADER_DEVICE_H
#define UPGRADER_DEVICE_H

#include "common/error.h"
#include "device/folder.h"

#define DEVICE_FIELD_MAX 128

struct device {
    char mac[13]; /* 12 lower-case hex digits, no separators */
    char serial[DEVICE_FIELD_MAX];
    char product[DEVICE_FIELD_MAX]; /* $PN, e.g. CP-8841-3PCC */
    char psn[DEVICE_FIELD_MAX];     /* $PSN, product series number */
    char hwver[DEVICE_FIELD_MAX];
};

/* Reads the folder's identity into dev; UG_ERR_OTHER with a clear message if the folder
 * holds no device. */
ug_err device_load(const struct state_folder *f, struct device *dev, char *err) UG_MUST_CHECK;
/* UG_ERR_USAGE when a field of dev holds a control character (a line break would add a line
 * to the identity file). */
ug_err device_check_identity(const struct device *dev, char *err) UG_MUST_CHECK;
/* Writes dev's identity into the folder atomically (checked as above). */
ug_err device_save_identity(const struct state_folder *f, const struct device *dev,
                            char *err) UG_MUST_CHECK;
/* Normalises a MAC given as 00:0E:08:aa:bb:cc, 000e08aabbcc or 00-0e-...; -1 if invalid. */
int device_parse_mac(const char *text, char out[13]);
#endif
