/* SPDX-License-Identifier: MIT */
/* The file backend of the boot state: two copies of a 256-byte CRC-checked record in one
 * file, written older-first. docs/bootstate.md has the layout. */
#ifndef BOOTCTL_BOOTSTATE_FILE_H
#define BOOTCTL_BOOTSTATE_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "bootctl/bootstate.h"

#define BOOTSTATE_RECORD_SIZE      256  /* one copy on the medium, CRC included */
#define BOOTSTATE_FILE_COPY_OFFSET 4096 /* copy 1's offset: never in copy 0's sector or page */

/* The backend, as bootstate_backend_find("file") gives it. */
extern const struct bootstate_backend bootstate_file_backend;

/* Serialises st as one copy with the given generation. */
void bootstate_file_encode(const struct bootstate *st, uint64_t generation,
                           uint8_t rec[BOOTSTATE_RECORD_SIZE]);
/* Checks and parses one copy of len bytes; st (but its health) and *generation are filled
 * only when it is valid. */
enum bootstate_copy_status bootstate_file_decode(const uint8_t *rec, size_t len,
                                                 struct bootstate *st, uint64_t *generation);

#endif
