/* SPDX-License-Identifier: MIT */
/* The uboot backend of the boot state: RAUC's U-Boot variables (BOOT_ORDER, BOOT_A_LEFT,
 * BOOT_B_LEFT, counters in hex) in the U-Boot environment, read and stored through
 * libubootenv as its fw_env.config describes it (two lines: the redundant environment). */
#ifndef BOOTCTL_BOOTSTATE_UBOOT_H
#define BOOTCTL_BOOTSTATE_UBOOT_H

#include "bootctl/bootstate.h"

#define BOOTSTATE_UBOOT_DEFAULT_CONFIG "/etc/fw_env.config"
#define BOOTSTATE_UBOOT_ATTEMPTS       3 /* BOOT_x_LEFT of a good slot, as RAUC's default */

/* The backend, as bootstate_backend_find("uboot") gives it. */
extern const struct bootstate_backend bootstate_uboot_backend;

/* Looks up a variable: its value (owned by the caller's ctx), or NULL when unset. */
typedef const char *(*bootstate_uboot_get_fn)(void *ctx, const char *name);
/* Sets a variable (NULL value: removes it); 0 on success. */
typedef int (*bootstate_uboot_set_fn)(void *ctx, const char *name, const char *value);

/* The state the variables hold (booted -1 when UPGRADER_BOOTED is not set); the copy status
 * (BOOTSTATE_COPY_MISSING when none of RAUC's variables is set). */
enum bootstate_copy_status bootstate_uboot_decode(bootstate_uboot_get_fn get, void *ctx,
                                                  struct bootstate *st);
/* Sets every variable of st through set (to be stored in one step); -1 if one fails. */
int bootstate_uboot_encode(const struct bootstate *st, bootstate_uboot_set_fn set, void *ctx);

#endif
