/* SPDX-License-Identifier: MIT */
/* The block slot backend: a partition or whole device (/dev/mmcblk0p3), its capacity from
 * BLKGETSIZE64; refused while mounted or otherwise in use, since writing under a mounted
 * file system corrupts both. */
#include "upgrade/slots/slot.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/blockdev.h"
#include "upgrade/slots/slot_fd.h"

/* Finds where the device dev is mounted (the first such line of mountinfo) into at;
 * 0 when it is not mounted (or mountinfo cannot be read: the O_EXCL open still refuses). */
static int mounted_at(dev_t dev, char *at, size_t atsz)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return 0;
    char line[4096];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        unsigned maj, min;
        char point[1024];
        /* "36 35 98:0 /root /mount/point options ...": device, root, mount point. */
        if (sscanf(line, "%*u %*u %u:%u %*s %1023s", &maj, &min, point) == 3 && maj == major(dev) &&
            min == minor(dev)) {
            snprintf(at, atsz, "%s", point);
            found = 1;
        }
    }
    fclose(f);
    return found;
}

/* Opens the device for writing, claiming it: O_EXCL on a block device fails with EBUSY while
 * a file system, swap, RAID or device mapper holds it, and keeps any of them from taking it
 * while the slot is written. */
static ug_err open_claimed(const char *location, dev_t dev, int *fd, char *err)
{
    char at[1024];
    struct stat root;
    /* The running root first: an initramfs's switch_root can leave mountinfo naming it as
     * /dev/root, and no slot write is worse than one under the running system. */
    if (stat("/", &root) == 0 && root.st_dev == dev)
        return ug_fail(err, UG_ERR_OTHER,
                       "%s: the running root file system is on it; refusing to write the booted "
                       "slot",
                       location);
    if (mounted_at(dev, at, sizeof at))
        return ug_fail(err, UG_ERR_OTHER, "%s: mounted at %s; refusing to write a slot in use",
                       location, at);
    *fd = open(location, O_WRONLY | O_EXCL | O_CLOEXEC);
    if (*fd < 0 && errno == EBUSY)
        return ug_fail(err, UG_ERR_OTHER,
                       "%s: in use (a mounted file system, swap, RAID or device mapper holds "
                       "it); refusing to write a slot in use",
                       location);
    if (*fd < 0)
        return ug_fail(err, UG_ERR_OTHER, "%s: cannot open slot: %s", location, strerror(errno));
    return UG_OK;
}

static ug_err block_open(const char *spec, int writable, void **handle, uint64_t *size, char *err)
{
    char location[1024];
    ug_err rc = blockdev_resolve(spec, location, sizeof location, err);
    if (rc != UG_OK)
        return rc;
    struct stat st;
    if (stat(location, &st) != 0)
        return ug_fail(err, UG_ERR_OTHER, "%s: cannot open slot: %s", location, strerror(errno));
    if (!S_ISBLK(st.st_mode))
        return ug_fail(err, UG_ERR_OTHER, "%s: not a block device%s", location,
                       S_ISREG(st.st_mode) ? " but a file (slot_backend=file)" : "");
    int fd = -1;
    if (writable)
        rc = open_claimed(location, st.st_rdev, &fd, err);
    else if ((fd = open(location, O_RDONLY | O_CLOEXEC)) < 0)
        rc = ug_fail(err, UG_ERR_OTHER, "%s: cannot open slot: %s", location, strerror(errno));
    if (rc != UG_OK)
        return rc;
    /* The capacity is the device's, not a file length: no truncation, no growth. The node
     * is checked again through the descriptor, in case it was replaced since the stat. */
    struct stat opened;
    if (fstat(fd, &opened) != 0 || opened.st_rdev != st.st_rdev || !S_ISBLK(opened.st_mode))
        rc = ug_fail(err, UG_ERR_OTHER, "%s: changed while being opened", location);
    else if (ioctl(fd, BLKGETSIZE64, size) != 0)
        rc = ug_fail(err, UG_ERR_OTHER, "%s: cannot find the device's size: %s", location,
                     strerror(errno));
    if (rc != UG_OK) {
        close(fd);
        return rc;
    }
    return slot_fd_handle(fd, location, handle, err);
}

/* fsync (which on a block device also flushes the device's write cache), then BLKFLSBUF:
 * the kernel's cached pages of the device are dropped, so the read-back that follows reads
 * the medium, not the memory the writes came from. */
static ug_err block_flush(void *handle, char *err)
{
    ug_err rc = slot_fd_flush(handle, err);
    if (rc == UG_OK && ioctl(slot_fd_of(handle), BLKFLSBUF, 0) != 0)
        rc = ug_fail(err, UG_ERR_OTHER, "%s: cannot flush the device's buffers: %s",
                     slot_fd_path(handle), strerror(errno));
    return rc;
}

const struct slot_backend slot_block_backend = {
    .name = "block",
    .open = block_open,
    .write = slot_fd_write,
    .read = slot_fd_read,
    .flush = block_flush,
    .close = slot_fd_close,
    .seek = slot_fd_seek,
    .readback = 1,
};
