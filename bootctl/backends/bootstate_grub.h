/* SPDX-License-Identifier: MIT */
/* The grub backend of the boot state: RAUC's GRUB variables (ORDER, A_OK, A_TRY, B_OK,
 * B_TRY) in two sealed grubenv copies, PATH and PATH.1. docs/bootstate.md has the layout. */
#ifndef BOOTCTL_BOOTSTATE_GRUB_H
#define BOOTCTL_BOOTSTATE_GRUB_H

#include "bootctl/backends/grubenv.h"
#include "bootctl/bootstate.h"

#define BOOTSTATE_GRUB_DEFAULT_ENV "/boot/efi/EFI/upgrader/grubenv"
#define BOOTSTATE_GRUB_COPY1       ".1" /* copy 1 is the location with this suffix */

/* The backend, as bootstate_backend_find("grub") gives it. */
extern const struct bootstate_backend bootstate_grub_backend;

/* What one copy's variables hold: its status, and when valid its state (booted -1 when the
 * environment records none) and generation (0 for an unsealed environment, as RAUC's). */
enum bootstate_copy_status bootstate_grub_decode(const struct grubenv *env, struct bootstate *st,
                                                 uint64_t *generation);
/* The variables of st sealed with generation, over base (variables of other tools kept);
 * -1 when they do not fit. */
int bootstate_grub_encode(const struct bootstate *st, uint64_t generation,
                          const struct grubenv *base, struct grubenv *out);

#endif
