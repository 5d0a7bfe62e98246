/* SPDX-License-Identifier: MIT */
/* Slot writers for the installer: write an image into a slot from offset 0, make it
 * durable, read it back, through a backend chosen by name (a file, a block device). */
#ifndef UPGRADER_SLOT_H
#define UPGRADER_SLOT_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* How one kind of slot (a file, a block device, an MTD/UBI volume) is reached. */
struct slot_backend {
    const char *name;
    /* Opens an existing slot for writing (writable) or reading, positioned at offset 0;
     * *size is the slot's capacity in bytes. */
    ug_err (*open)(const char *location, int writable, void **handle, uint64_t *size, char *err);
    /* Writes all len bytes at the current position. */
    ug_err (*write)(void *handle, const void *data, size_t len, char *err);
    /* Reads up to len bytes at the current position; *got is 0 only at the end. */
    ug_err (*read)(void *handle, void *data, size_t len, size_t *got, char *err);
    /* Makes every byte written so far durable (fsync). */
    ug_err (*flush)(void *handle, char *err);
    void (*close)(void *handle);
    /* Moves the write position to offset (resuming an install); NULL: cannot resume. */
    ug_err (*seek)(void *handle, uint64_t offset, char *err);
    /* 1: the medium may acknowledge writes it loses, so the install reads the image back
     * (readback.h) after the last flush, which also drops the device's cached pages. */
    int readback;
};

/* A slot file of fixed size, as `upgrader init` makes them; never truncated or grown. */
extern const struct slot_backend slot_file_backend;
/* A block device (partition) by path or PARTLABEL=/PARTUUID=; capacity from BLKGETSIZE64;
 * refused for writing while it is the running root, mounted or otherwise in use; read back
 * after the install. */
extern const struct slot_backend slot_block_backend;

/* The backend of that name ("file", "block"); NULL if this build has none. */
const struct slot_backend *slot_backend_find(const char *name);
/* The names of the backends, ", "-separated, into out (for messages). */
void slot_backend_names(char *out, size_t outsz);
/* As slot_backend_find; UG_ERR_USAGE naming the known backends when there is none. */
ug_err slot_backend_lookup(const char *name, const struct slot_backend **be,
                           char *err) UG_MUST_CHECK;

/* An open slot; the fields are for reading, the functions below keep them right. */
struct slot {
    const struct slot_backend *backend;
    void *handle;
    char location[1024];
    uint64_t size;     /* capacity */
    uint64_t position; /* bytes written or read since open */
    int writable;
};

/* Opens the slot at location for writing from offset 0 (its old bytes stay until overwritten). */
ug_err slot_open_write(struct slot *s, const struct slot_backend *be, const char *location,
                       char *err) UG_MUST_CHECK;
/* Opens the slot at location for reading from offset 0 (read-back verification). */
ug_err slot_open_read(struct slot *s, const struct slot_backend *be, const char *location,
                      char *err) UG_MUST_CHECK;
/* Appends len bytes; UG_ERR_VERIFY if they would pass the slot's end (image too large). */
ug_err slot_write(struct slot *s, const void *data, size_t len, char *err) UG_MUST_CHECK;
/* Reads the next bytes into data; *got < len only at the slot's end. */
ug_err slot_read(struct slot *s, void *data, size_t len, size_t *got, char *err) UG_MUST_CHECK;
/* Continues writing at offset (bytes before it stay as they are); UG_ERR_OTHER if the
 * backend cannot seek or offset is past the slot's end. */
ug_err slot_seek(struct slot *s, uint64_t offset, char *err) UG_MUST_CHECK;
/* Makes the written bytes durable; a slot may be switched to only after this returned UG_OK. */
ug_err slot_flush(struct slot *s, char *err) UG_MUST_CHECK;
/* Closes the slot (unflushed writes are not guaranteed durable); safe on a closed slot. */
void slot_close(struct slot *s);

#endif
