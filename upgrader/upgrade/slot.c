/* SPDX-License-Identifier: MIT */
/* Slot writers: the ops-table dispatch and the file backend that the simulated device's
 * slot-a.img and slot-b.img use (a block device node works through the same calls). */
#include "upgrade/slot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct slot_file {
    int fd;
    char path[];
};

static ug_err file_open(const char *location, int writable, void **handle, uint64_t *size,
                        char *err)
{
    /* No O_CREAT and no O_TRUNC: a slot is a device of fixed size that must already exist. */
    int fd = open(location, (writable ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
    if (fd < 0)
        return ug_fail(err, UG_ERR_OTHER, "%s: cannot open slot: %s", location, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
        close(fd);
        return ug_fail(err, UG_ERR_OTHER, "%s: not a slot (neither a file nor a block device)",
                       location);
    }
    off_t end = S_ISBLK(st.st_mode) ? lseek(fd, 0, SEEK_END) : st.st_size;
    if (end < 0 || lseek(fd, 0, SEEK_SET) != 0) {
        int saved = errno;
        close(fd);
        return ug_fail(err, UG_ERR_OTHER, "%s: cannot find slot size: %s", location,
                       strerror(saved));
    }
    size_t n = strlen(location) + 1;
    struct slot_file *f = malloc(sizeof *f + n);
    if (!f) {
        close(fd);
        return ug_fail(err, UG_ERR_OTHER, "%s: out of memory", location);
    }
    f->fd = fd;
    memcpy(f->path, location, n);
    *handle = f;
    *size = (uint64_t)end;
    return UG_OK;
}

static ug_err file_write(void *handle, const void *data, size_t len, char *err)
{
    struct slot_file *f = handle;
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

static ug_err file_read(void *handle, void *data, size_t len, size_t *got, char *err)
{
    struct slot_file *f = handle;
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

static ug_err file_flush(void *handle, char *err)
{
    struct slot_file *f = handle;
    if (fsync(f->fd) != 0)
        return ug_fail(err, UG_ERR_OTHER, "%s: fsync: %s", f->path, strerror(errno));
    return UG_OK;
}

static ug_err file_seek(void *handle, uint64_t offset, char *err)
{
    struct slot_file *f = handle;
    if (lseek(f->fd, (off_t)offset, SEEK_SET) != (off_t)offset)
        return ug_fail(err, UG_ERR_OTHER, "%s: cannot seek to %llu: %s", f->path,
                       (unsigned long long)offset, strerror(errno));
    return UG_OK;
}

static void file_close(void *handle)
{
    struct slot_file *f = handle;
    close(f->fd);
    free(f);
}

const struct slot_backend slot_file_backend = {
    .name = "file",
    .open = file_open,
    .write = file_write,
    .read = file_read,
    .flush = file_flush,
    .close = file_close,
    .seek = file_seek,
};

static ug_err slot_open(struct slot *s, const struct slot_backend *be, const char *location,
                        int writable, char *err)
{
    memset(s, 0, sizeof *s);
    if (snprintf(s->location, sizeof s->location, "%s", location) >= (int)sizeof s->location)
        return ug_fail(err, UG_ERR_OTHER, "%s: path too long", location);
    ug_err rc = be->open(location, writable, &s->handle, &s->size, err);
    if (rc != UG_OK)
        return rc;
    s->backend = be;
    s->writable = writable;
    return UG_OK;
}

ug_err slot_open_write(struct slot *s, const struct slot_backend *be, const char *location,
                       char *err)
{
    return slot_open(s, be, location, 1, err);
}

ug_err slot_open_read(struct slot *s, const struct slot_backend *be, const char *location,
                      char *err)
{
    return slot_open(s, be, location, 0, err);
}

ug_err slot_write(struct slot *s, const void *data, size_t len, char *err)
{
    if (!s->handle || !s->writable)
        return ug_fail(err, UG_ERR_OTHER, "%s: slot not open for writing", s->location);
    /* Refused before any byte lands: an image that does not fit must not half-fill the slot
     * past what a later read-back could check. */
    if (len > s->size - s->position)
        return ug_fail(err, UG_ERR_VERIFY, "%s: image larger than the slot (%llu bytes)",
                       s->location, (unsigned long long)s->size);
    ug_err rc = s->backend->write(s->handle, data, len, err);
    if (rc == UG_OK)
        s->position += len;
    return rc;
}

ug_err slot_read(struct slot *s, void *data, size_t len, size_t *got, char *err)
{
    *got = 0;
    if (!s->handle)
        return ug_fail(err, UG_ERR_OTHER, "%s: slot not open", s->location);
    if (len > s->size - s->position)
        len = (size_t)(s->size - s->position);
    ug_err rc = s->backend->read(s->handle, data, len, got, err);
    if (rc == UG_OK)
        s->position += *got;
    return rc;
}

ug_err slot_seek(struct slot *s, uint64_t offset, char *err)
{
    if (!s->handle || !s->backend->seek)
        return ug_fail(err, UG_ERR_OTHER, "%s: slot cannot continue at an offset", s->location);
    if (offset > s->size)
        return ug_fail(err, UG_ERR_OTHER, "%s: offset %llu is past the slot's end", s->location,
                       (unsigned long long)offset);
    ug_err rc = s->backend->seek(s->handle, offset, err);
    if (rc == UG_OK)
        s->position = offset;
    return rc;
}

ug_err slot_flush(struct slot *s, char *err)
{
    if (!s->handle)
        return ug_fail(err, UG_ERR_OTHER, "%s: slot not open", s->location);
    return s->backend->flush(s->handle, err);
}

void slot_close(struct slot *s)
{
    if (s->handle)
        s->backend->close(s->handle);
    s->handle = NULL;
}
