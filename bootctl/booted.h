/* SPDX-License-Identifier: MIT */
/* Which slot is running, as the running system tells it: the kernel command line
 * (upgrader.slot=, or RAUC's rauc.slot=), then the device mounted as root. */
#ifndef BOOTCTL_BOOTED_H
#define BOOTCTL_BOOTED_H

#include <stddef.h>

/* Tests set this to a command line that stands for /proc/cmdline (as systemd's
 * SYSTEMD_PROC_CMDLINE does). */
#define BOOTED_CMDLINE_ENV "UPGRADER_PROC_CMDLINE"

/* The slot a kernel command line names: upgrader.slot=A|B first, then rauc.slot=A|B (the
 * last of each wins, as the kernel's own parameters do); -1 when neither names A or B. */
int booted_from_cmdline(const char *cmdline);
/* The value of the last `key=` parameter of cmdline into out ("" when absent). */
void booted_cmdline_value(const char *cmdline, const char *key, char *out, size_t outsz);
/* The running kernel's command line into out: $UPGRADER_PROC_CMDLINE, else /proc/cmdline
 * ("" when neither can be read). */
void booted_cmdline(char *out, size_t outsz);
/* Which slot runs: the command line, then the root device (the device of "/", then the
 * command line's root=) against the slots' devices (paths, PARTLABEL= or PARTUUID=; NULL or
 * "" when unknown); -1 when nothing tells. */
int booted_detect(const char *slot_a, const char *slot_b);

#endif
