/* SPDX-License-Identifier: MIT */
/* Bounded flock waits. flock has no timeout of its own, so the lock is tried without
 * blocking and retried with a short, growing sleep until the bound passes. */
#include "common/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#define RETRY_FIRST_US 1000  /* a holder usually lets go within a few milliseconds */
#define RETRY_MAX_US   50000 /* and a slow one is not polled more than 20 times a second */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static ug_err held_by_another(const char *path, int wait_ms, const char *what, char *err)
{
    if (wait_ms == LOCK_TRY_ONCE)
        return ug_fail(err, UG_ERR_OTHER, "%s is running already (%s is locked)", what, path);
    return ug_fail(err, UG_ERR_OTHER,
                   "%s: still locked after %d ms: another process holds %s too long", path, wait_ms,
                   what);
}

ug_err lock_take(const char *path, int wait_ms, const char *what, int *fd, char *err)
{
    *fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (*fd < 0)
        return ug_fail(err, UG_ERR_OTHER, "%s: cannot open: %s", path, strerror(errno));
    long long deadline = now_ms() + (wait_ms > 0 ? wait_ms : 0);
    useconds_t pause = RETRY_FIRST_US;
    for (;;) {
        if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
            return UG_OK;
        int e = errno;
        if (e != EWOULDBLOCK && e != EINTR) {
            lock_release(fd);
            return ug_fail(err, UG_ERR_OTHER, "%s: cannot lock: %s", path, strerror(e));
        }
        if (now_ms() >= deadline) {
            lock_release(fd);
            return held_by_another(path, wait_ms, what, err);
        }
        usleep(pause);
        pause = pause * 2 > RETRY_MAX_US ? RETRY_MAX_US : pause * 2;
    }
}

void lock_release(int *fd)
{
    if (*fd < 0)
        return;
    close(*fd); /* closing the only descriptor releases the flock */
    *fd = -1;
}
