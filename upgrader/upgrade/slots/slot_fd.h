/* SPDX-License-Identifier: MIT */
/* What the file and block slot backends share: an open descriptor and its path as the
 * backend's handle, written, read, flushed and positioned the same way for both. */
#ifndef UPGRADER_SLOT_FD_H
#define UPGRADER_SLOT_FD_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* Wraps fd (now owned by the handle, closed on failure) and a copy of path as *handle. */
ug_err slot_fd_handle(int fd, const char *path, void **handle, char *err) UG_MUST_CHECK;
/* Writes all len bytes at the current position. */
ug_err slot_fd_write(void *handle, const void *data, size_t len, char *err) UG_MUST_CHECK;
/* Reads up to len bytes; *got < len only at the end. */
ug_err slot_fd_read(void *handle, void *data, size_t len, size_t *got, char *err) UG_MUST_CHECK;
/* fsync: every byte written so far is on the medium. */
ug_err slot_fd_flush(void *handle, char *err) UG_MUST_CHECK;
/* Moves the position to offset. */
ug_err slot_fd_seek(void *handle, uint64_t offset, char *err) UG_MUST_CHECK;
/* The handle's descriptor and path. */
int slot_fd_of(void *handle);
const char *slot_fd_path(void *handle);
/* Closes the descriptor and frees the handle. */
void slot_fd_close(void *handle);

#endif
