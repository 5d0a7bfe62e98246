/* SPDX-License-Identifier: MIT */
/* What a device already holds: a slot's blocks by key (blockindex.h), hashed once, cached in
 * the state folder as a sorted table and looked up from the file, so memory stays bounded. */
#ifndef UPGRADER_LOCALINDEX_H
#define UPGRADER_LOCALINDEX_H

#include <stdint.h>

#include "common/error.h"
#include "upgrade/slots/slot.h"

struct local_index;

/* What a cached index must still match: the slot's backend, location and release. */
struct local_slot {
    const struct slot_backend *backend;
    const char *location;
    const char *version; /* from the boot state; "" or NULL: unknown */
    const char *cache;   /* the cache file in the state folder */
};

/* Opens the index of slot s for blocks of block_size: the cache when it still describes
 * the slot (size, modification time, inode, device, version, block size), else built by
 * reading and hashing the slot and saved (*built = 1). All-zero blocks are not listed. */
ug_err local_index_open(const struct local_slot *s, uint32_t block_size, struct local_index **out,
                        int *built, char *err) UG_MUST_CHECK;
/* 1 and *block (a block number in the slot) if a block whose key's bits under mask are key
 * is in the slot (mask: the leading bits an index keeps, blockindex.h). */
int local_index_find(struct local_index *x, uint64_t key, uint64_t mask, uint64_t *block);
/* Blocks listed (not all-zero, distinct keys). */
uint64_t local_index_count(const struct local_index *x);
/* Closes the index (NULL is fine). */
void local_index_close(struct local_index *x);
/* Removes a slot's cache (and syncs its folder): done before the slot's first byte changes. */
ug_err local_index_forget(const char *cache, char *err) UG_MUST_CHECK;

#endif
