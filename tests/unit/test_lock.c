/* SPDX-License-Identifier: MIT */
/* Unit tests of the lock helper (lock.c): taken and released, a holder in another process
 * makes a try-once fail at once and a bounded wait fail after its bound, with messages that
 * name the file and what it guards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/lock.h"

static char dir[] = "/tmp/test_lock.XXXXXX";
static char path[64];

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/x.lock", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return rmdir(dir);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A child process that holds the lock until it is killed; returns its pid once it holds it. */
static pid_t hold_in_child(void)
{
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = -1;
        char err[UG_ERRBUF];
        if (lock_take(path, 1000, "the test's thing", &fd, err) != UG_OK)
            _exit(1);
        if (write(ready[1], "x", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    close(ready[1]);
    return pid;
}

static void stop_child(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void test_take_and_release(void **state)
{
    (void)state;
    int fd = -1, again = -1;
    char err[UG_ERRBUF];
    assert_int_equal(lock_take(path, LOCK_TRY_ONCE, "x", &fd, err), UG_OK);
    assert_true(fd >= 0);
    lock_release(&fd);
    assert_int_equal(fd, -1);
    lock_release(&fd); /* a no-op on -1 */
    assert_int_equal(lock_take(path, LOCK_TRY_ONCE, "x", &again, err), UG_OK);
    lock_release(&again);
}

static void test_try_once_fails_at_once(void **state)
{
    (void)state;
    pid_t holder = hold_in_child();
    int fd = -1;
    char err[UG_ERRBUF];
    double t0 = now();
    assert_int_equal(lock_take(path, LOCK_TRY_ONCE, "another pass", &fd, err), UG_ERR_OTHER);
    assert_true(now() - t0 < 0.5);
    assert_int_equal(fd, -1);
    assert_non_null(strstr(err, "another pass is running"));
    assert_non_null(strstr(err, path));
    stop_child(holder);
}

static void test_bounded_wait(void **state)
{
    (void)state;
    pid_t holder = hold_in_child();
    int fd = -1;
    char err[UG_ERRBUF];
    double t0 = now();
    assert_int_equal(lock_take(path, 300, "the store", &fd, err), UG_ERR_OTHER);
    double waited = now() - t0;
    assert_true(waited >= 0.29 && waited < 2.0);
    assert_non_null(strstr(err, "still locked after 300 ms"));
    assert_non_null(strstr(err, "the store"));
    /* The holder dies: the kernel lets go, and the next take succeeds within its bound. */
    stop_child(holder);
    assert_int_equal(lock_take(path, 300, "the store", &fd, err), UG_OK);
    lock_release(&fd);
}

static void test_unopenable(void **state)
{
    (void)state;
    int fd = -1;
    char err[UG_ERRBUF];
    assert_int_equal(lock_take("/nonexistent-dir/x.lock", 100, "x", &fd, err), UG_ERR_OTHER);
    assert_non_null(strstr(err, "/nonexistent-dir/x.lock: cannot open"));
    assert_int_equal(fd, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_take_and_release),
        cmocka_unit_test(test_try_once_fails_at_once),
        cmocka_unit_test(test_bounded_wait),
        cmocka_unit_test(test_unopenable),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
