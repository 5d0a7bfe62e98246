/* SPDX-License-Identifier: MIT */
/* File helpers every store in the state folder uses: whole-file reads and the atomic
 * replace (temp file, fsync, rename, fsync of the folder) that survives power loss. */
#ifndef UPGRADER_FSUTIL_H
#define UPGRADER_FSUTIL_H

#include <stddef.h>

#include "common/buf.h"
#include "common/error.h"

/* Replaces path with data so that a crash at any point leaves the old or the new file; a
 * link at path is replaced, never followed. */
ug_err fs_write_atomic(const char *path, const void *data, size_t len, int mode,
                       char *err) UG_MUST_CHECK;
/* Reads a whole file into out (appended); refuses files larger than max_size bytes. */
ug_err fs_read_file(const char *path, size_t max_size, struct buf *out, char *err) UG_MUST_CHECK;
/* fs_read_file for a file a command is given: a directory, FIFO or device is refused
 * (UG_ERR_UNUSABLE) without blocking. */
ug_err fs_read_regular_file(const char *path, size_t max_size, struct buf *out,
                            char *err) UG_MUST_CHECK;
/* fs_read_file for a file of the state folder: a symbolic link in its place is refused
 * (UG_ERR_UNUSABLE), never followed out of the folder. */
ug_err fs_read_state_file(const char *path, size_t max_size, struct buf *out,
                          char *err) UG_MUST_CHECK;
/* fsyncs the folder that holds path, so a rename or create in it is durable. */
ug_err fs_sync_parent(const char *path, char *err) UG_MUST_CHECK;
/* Creates a folder and its parents (mode 0755 for new ones); an existing folder is fine. */
ug_err fs_mkdir_p(const char *path, char *err) UG_MUST_CHECK;
/* Copies a file atomically (used for certificates and keys given to init). */
ug_err fs_copy_file(const char *from, const char *to, int mode, char *err) UG_MUST_CHECK;
/* Renames a damaged state file to PATH.damaged-YYYYMMDDTHHMMSSZ (a free name), durably, and
 * writes that name into aside (asidesz bytes), so a rebuilt file can take its place while
 * the damaged copy stays for whoever wants to look at it. */
ug_err fs_set_aside(const char *path, char *aside, size_t asidesz, char *err) UG_MUST_CHECK;
/* 1 if path exists (any type), else 0. */
int fs_exists(const char *path);
/* Joins folder and name into out (size outsz); returns 0, or -1 if it does not fit. */
int fs_join(char *out, size_t outsz, const char *dir, const char *name);

#endif
