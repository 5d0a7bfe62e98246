/* SPDX-License-Identifier: MIT */
/* Descriptor I/O of the file and block slot backends: whole writes and reads across short
 * transfers and EINTR, fsync, seek; every message names the slot. */
#include "upgrade/slots/slot_fd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct slot_fd {
    int fd;
    char path[];
};

ug_err slot_fd_handle(int fd, const char *path, void **handle, char *err)
{
    size_t n = strlen(path) + 1;
    struct slot_fd *f = malloc(sizeof *f + n);
    if (!f) {
        close(fd);
        return ug_fail(err, UG_ERR_OTHER, "%s: out of memory", path);
    }
    f->fd = fd;
    memcpy(f->path, path, n);
    *handle = f;
    return UG_OK;
}

ug_err slot_fd_write(void *handle, const void *data, size_t len, char *err)
{
    struct slot_fd *f = handle;
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(f->fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return ug_fail(err, UG_ERR_OTHER, "%s: cannot write slot: %s", f->path,
                           strerror(errno));
        p += w;
        len -= (size_t)w;
    }
    return UG_OK;
}

ug_err slot_fd_read(void *handle, void *data, size_t len, size_t *got, char *err)
{
    struct slot_fd *f = handle;
    *got = 0;
    while (*got < len) {
        ssize_t r = read(f->fd, (char *)data + *got, len - *got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return ug_fail(err, UG_ERR_OTHER, "%s: cannot read slot: %s", f->path, strerror(errno));
        if (r == 0)
            break;
        *got += (size_t)r;
    }
    return UG_OK;
}

ug_err slot_fd_flush(void *handle, char *err)
{
    struct slot_fd *f = handle;
    if (fsync(f->fd) != 0)
        return ug_fail(err, UG_ERR_OTHER, "%s: fsync: %s", f->path, strerror(errno));
    return UG_OK;
}

ug_err slot_fd_seek(void *handle, uint64_t offset, char *err)
{
    struct slot_fd *f = handle;
    if (lseek(f->fd, (off_t)offset, SEEK_SET) != (off_t)offset)
        return ug_fail(err, UG_ERR_OTHER, "%s: cannot seek to %llu: %s", f->path,
                       (unsigned long long)offset, strerror(errno));
    return UG_OK;
}

int slot_fd_of(void *handle)
{
    return ((struct slot_fd *)handle)->fd;
}

const char *slot_fd_path(void *handle)
{
    return ((struct slot_fd *)handle)->path;
}

void slot_fd_close(void *handle)
{
    struct slot_fd *f = handle;
    close(f->fd);
    free(f);
}
