/* SPDX-License-Identifier: MIT */
/* The file slot backend: a regular file of fixed size, as `upgrader init` makes slot-a.img
 * and slot-b.img for a simulated device; never created, truncated or grown. */
#include "upgrade/slots/slot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "upgrade/slots/slot_fd.h"

static ug_err file_open(const char *location, int writable, void **handle, uint64_t *size,
                        char *err)
{
    /* No O_CREAT and no O_TRUNC: a slot is a medium of fixed size that must already exist. */
    int fd = open(location, (writable ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
    if (fd < 0)
        return ug_fail(err, UG_ERR_OTHER, "%s: cannot open slot: %s", location, strerror(errno));
    struct stat st = {0};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        bool blk = S_ISBLK(st.st_mode);
        close(fd);
        /* A device goes through the block backend, which checks it is not in use. */
        return ug_fail(err, UG_ERR_OTHER, "%s: not a slot file%s", location,
                       blk ? " but a block device (slot_backend=block)" : "");
    }
    *size = (uint64_t)st.st_size;
    return slot_fd_handle(fd, location, handle, err);
}

const struct slot_backend slot_file_backend = {
    .name = "file",
    .open = file_open,
    .write = slot_fd_write,
    .read = slot_fd_read,
    .flush = slot_fd_flush,
    .close = slot_fd_close,
    .seek = slot_fd_seek,
};
