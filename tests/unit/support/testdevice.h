/* SPDX-License-Identifier: MIT */
/* Simulated devices for the unit tests of the engines: a state folder made by `upgrader init`
 * itself (file-backed slots, the file boot state, the default parameter store). */
#ifndef TESTS_TESTDEVICE_H
#define TESTS_TESTDEVICE_H

#include <stddef.h>

/* Makes $TMPDIR/TAG-XXXXXX into root (n bytes) and runs init there: the device runs version
 * from slot A, slots of slot_size (e.g. "8M"), keyring installed when not NULL. Returns 0,
 * or -1 with the reason on stderr. */
int testdevice_make(char *root, size_t n, const char *tag, const char *version,
                    const char *slot_size, const char *keyring);
/* Removes the folder; returns 0, or -1. */
int testdevice_remove(const char *root);
/* Writes text into the file name of the folder (replacing it); returns 0, or -1. */
int testdevice_write(const char *root, const char *name, const char *text);

#endif
