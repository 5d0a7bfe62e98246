/* SPDX-License-Identifier: MIT */
/* Call counter in DIR/calls, changed under an exclusive flock on DIR/calls.lock so that two
 * overlapping `call start` from the SIP stack never lose an increment. */
#include "device/call.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/fsutil.h"

static ug_err read_count(const char *path, int *count, char *err)
{
    struct buf text = {0};
    *count = 0;
    if (!fs_exists(path))
        return UG_OK;
    ug_err rc = fs_read_file(path, 64, &text, err);
    if (rc == UG_OK) {
        char *end = NULL;
        long n = strtol(text.data, &end, 10);
        /* A damaged counter must not block upgrades forever nor hide a call: treat it as
         * one call active, the safe side for a phone, and let the next end repair it. */
        if (end == text.data || n < 0 || n > 1000000)
            n = 1;
        *count = (int)n;
    }
    buf_free(&text);
    return rc;
}

static ug_err change_count(const char *root, int delta, int *active_now, char *err)
{
    char path[1100], lock[1100];
    if (fs_join(path, sizeof path, root, CALL_STATE_FILE) != 0 ||
        snprintf(lock, sizeof lock, "%s.lock", path) >= (int)sizeof lock)
        return ug_fail(err, UG_ERR_OTHER, "%s: path too long", root);
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return ug_fail(err, UG_ERR_OTHER, "%s: cannot open: %s", lock, strerror(errno));
    ug_err rc = UG_OK;
    if (flock(fd, LOCK_EX) != 0) {
        rc = ug_fail(err, UG_ERR_OTHER, "%s: cannot lock: %s", lock, strerror(errno));
        goto out;
    }
    int count = 0;
    rc = read_count(path, &count, err);
    if (rc != UG_OK)
        goto out;
    count += delta;
    if (count < 0)
        count = 0;
    char text[32];
    int n = snprintf(text, sizeof text, "%d\n", count);
    rc = fs_write_atomic(path, text, (size_t)n, 0644, err);
    if (rc == UG_OK && active_now)
        *active_now = count;
out:
    close(fd); /* releases the lock */
    return rc;
}

ug_err call_start(const char *root, int *active_now, char *err)
{
    return change_count(root, +1, active_now, err);
}

ug_err call_end(const char *root, int *active_now, char *err)
{
    return change_count(root, -1, active_now, err);
}

ug_err call_active_count(const char *root, int *active, char *err)
{
    char path[1100];
    if (fs_join(path, sizeof path, root, CALL_STATE_FILE) != 0)
        return ug_fail(err, UG_ERR_OTHER, "%s: path too long", root);
    return read_count(path, active, err);
}
