/* SPDX-License-Identifier: MIT */
/* Call counter in the folder's calls file, changed under the lock of calls.lock so that two
 * overlapping `call start` from the SIP stack never lose an increment. */
#include "device/call.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/fsutil.h"
#include "common/lock.h"

static ug_err read_count(const char *path, int *count, char *err)
{
    struct buf text = {0};
    *count = 0;
    if (!fs_exists(path))
        return UG_OK;
    ug_err rc = fs_read_state_file(path, 64, &text, err);
    if (rc == UG_ERR_UNUSABLE) { /* over 64 bytes, or a link: damaged, as below */
        *count = 1;
        rc = UG_OK;
    } else if (rc == UG_OK) {
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

static ug_err change_count(const struct state_folder *f, int delta, int *active_now, char *err)
{
    const char *path = state_path(f, STATE_CALLS);
    int lock_fd = -1;
    ug_err rc = lock_take(state_path(f, STATE_CALLS_LOCK), CALL_LOCK_WAIT_MS, "the call counter",
                          &lock_fd, err);
    if (rc != UG_OK)
        return rc;
    int count = 0;
    rc = read_count(path, &count, err);
    if (rc == UG_OK) {
        count += delta;
        if (count < 0)
            count = 0;
        char text[32];
        int n = snprintf(text, sizeof text, "%d\n", count);
        rc = fs_write_atomic(path, text, (size_t)n, 0644, err);
    }
    if (rc == UG_OK && active_now)
        *active_now = count;
    lock_release(&lock_fd);
    return rc;
}

ug_err call_start(const struct state_folder *f, int *active_now, char *err)
{
    return change_count(f, +1, active_now, err);
}

ug_err call_end(const struct state_folder *f, int *active_now, char *err)
{
    return change_count(f, -1, active_now, err);
}

ug_err call_active_count(const struct state_folder *f, int *active, char *err)
{
    return read_count(state_path(f, STATE_CALLS), active, err);
}
