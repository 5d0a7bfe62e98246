/* SPDX-License-Identifier: MIT */
/* Whole-file reads and power-loss-safe replaces for the files in the state folder.
 * The replace order (write temp, fsync it, rename, fsync folder) is what makes it atomic. */
#include "common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int fs_join(char *out, size_t outsz, const char *dir, const char *name)
{
    int n = snprintf(out, outsz, "%s/%s", dir, name);
    return (n < 0 || (size_t)n >= outsz) ? -1 : 0;
}

int fs_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

ug_err fs_sync_parent(const char *path, char *err)
{
    char copy[4096];
    if (snprintf(copy, sizeof copy, "%s", path) >= (int)sizeof copy)
        return ug_fail(err, UG_ERR_OTHER, "%s: path too long", path);
    const char *dir = dirname(copy);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return ug_fail(err, UG_ERR_OTHER, "%s: cannot open folder: %s", dir, strerror(errno));
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    if (rc != 0)
        return ug_fail(err, UG_ERR_OTHER, "%s: fsync: %s", dir, strerror(saved));
    return UG_OK;
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

ug_err fs_write_atomic(const char *path, const void *data, size_t len, int mode, char *err)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return ug_fail(err, UG_ERR_OTHER, "%s: path too long", path);
    /* A new file of our own: never one a link or a stale temp file stands for. */
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        return ug_fail(err, UG_ERR_OTHER, "%s: cannot create: %s", tmp, strerror(errno));
    /* The data must be on disk before the rename makes it the file of record;
     * otherwise a power cut could leave the new name pointing at empty blocks. */
    if (write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        int saved = errno;
        close(fd);
        unlink(tmp);
        return ug_fail(err, UG_ERR_OTHER, "%s: cannot write: %s", path, strerror(saved));
    }
    if (close(fd) != 0) {
        int saved = errno;
        unlink(tmp);
        return ug_fail(err, UG_ERR_OTHER, "%s: cannot write: %s", path, strerror(saved));
    }
    if (rename(tmp, path) != 0) {
        int saved = errno;
        unlink(tmp);
        return ug_fail(err, UG_ERR_OTHER, "%s: cannot replace: %s", path, strerror(saved));
    }
    /* The rename itself is only durable once the folder's entry is flushed. */
    return fs_sync_parent(path, err);
}

static ug_err read_with(const char *path, int flags, size_t max_size, struct buf *out, char *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | flags);
    struct stat st;
    /* O_NONBLOCK asks for a regular file: a FIFO would block the open and every read. */
    if (fd >= 0 && (flags & O_NONBLOCK) && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
        close(fd);
        return ug_fail(err, UG_ERR_UNUSABLE, "%s: not a regular file", path);
    }
    if (fd < 0 && errno == ELOOP && (flags & O_NOFOLLOW))
        return ug_fail(err, UG_ERR_UNUSABLE,
                       "%s: a symbolic link; a state file is never read through one", path);
    if (fd < 0)
        return ug_fail(err, errno == ENOENT ? UG_ERR_UNUSABLE : UG_ERR_OTHER, "%s: cannot open: %s",
                       path, strerror(errno));
    ug_err rc = UG_OK;
    size_t total = 0;
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = ug_fail(err, UG_ERR_OTHER, "%s: cannot read: %s", path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        total += (size_t)n;
        if (total > max_size) {
            rc = ug_fail(err, UG_ERR_UNUSABLE, "%s: larger than the limit of %zu bytes", path,
                         max_size);
            break;
        }
        if (buf_append(out, chunk, (size_t)n) != 0) {
            rc = ug_fail(err, UG_ERR_OTHER, "%s: out of memory", path);
            break;
        }
    }
    close(fd);
    if (rc == UG_OK && !out->data)
        buf_append(out, "", 0); /* an empty file still gives a valid C string */
    return rc;
}

ug_err fs_set_aside(const char *path, char *aside, size_t asidesz, char *err)
{
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tm));
    struct stat st;
    for (int n = 0; n < 100; n++) {
        int len = n ? snprintf(aside, asidesz, "%s.damaged-%s-%d", path, stamp, n)
                    : snprintf(aside, asidesz, "%s.damaged-%s", path, stamp);
        if (len < 0 || (size_t)len >= asidesz)
            return ug_fail(err, UG_ERR_OTHER, "%s: path too long", path);
        if (lstat(aside, &st) != 0)
            break;
    }
    if (rename(path, aside) != 0)
        return ug_fail(err, UG_ERR_OTHER, "%s: cannot set aside: %s", path, strerror(errno));
    return fs_sync_parent(path, err);
}

ug_err fs_read_file(const char *path, size_t max_size, struct buf *out, char *err)
{
    return read_with(path, 0, max_size, out, err);
}

ug_err fs_read_regular_file(const char *path, size_t max_size, struct buf *out, char *err)
{
    return read_with(path, O_NONBLOCK, max_size, out, err);
}

ug_err fs_read_state_file(const char *path, size_t max_size, struct buf *out, char *err)
{
    return read_with(path, O_NOFOLLOW, max_size, out, err);
}

ug_err fs_mkdir_p(const char *path, char *err)
{
    char copy[4096];
    if (snprintf(copy, sizeof copy, "%s", path) >= (int)sizeof copy)
        return ug_fail(err, UG_ERR_OTHER, "%s: path too long", path);
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(copy, 0755) != 0 && errno != EEXIST)
            return ug_fail(err, UG_ERR_OTHER, "%s: cannot create folder: %s", copy,
                           strerror(errno));
        *p = '/';
    }
    if (mkdir(copy, 0755) != 0 && errno != EEXIST)
        return ug_fail(err, UG_ERR_OTHER, "%s: cannot create folder: %s", copy, strerror(errno));
    return UG_OK;
}

ug_err fs_copy_file(const char *from, const char *to, int mode, char *err)
{
    struct buf content = {0};
    ug_err rc = fs_read_file(from, 16u << 20, &content, err);
    if (rc == UG_OK)
        rc = fs_write_atomic(to, content.data, content.len, mode, err);
    buf_free(&content);
    return rc;
}
