/* SPDX-License-Identifier: MIT */
/* Unit tests of the deferred-work queue (jobs.c): what waits for idle and what runs, the
 * forced resync, merging equal jobs, the wake-up time, the file kept across a restart, a
 * damaged file set aside, and no rule text in status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/fsutil.h"
#include "daemon/jobs.h"

static char dir[64], path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s/jobs-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/jobs.json", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char bad[160];
    snprintf(bad, sizeof bad, "%s.bad", path);
    unlink(path);
    unlink(bad);
    rmdir(dir);
    return 0;
}

static struct job make(enum job_kind kind, int64_t due, int64_t force_at, const char *rule)
{
    struct job j = {0};
    j.kind = kind;
    j.due = due;
    j.queued = due;
    j.force_at = force_at;
    j.rule = (char *)rule;
    snprintf(j.origin, sizeof j.origin, "test");
    return j;
}

static void test_idle_rules(void **state)
{
    (void)state;
    struct job_queue q;
    char err[UG_ERRBUF];
    int64_t wake;
    assert_int_equal(jobs_open(&q, path, err), UG_OK);
    struct job r = make(JOB_RESYNC, 100, 150, NULL), s = make(JOB_SWITCH, 100, 0, NULL),
               u = make(JOB_UPGRADE, 120, 0, NULL);
    assert_int_equal(jobs_add(&q, &r, NULL, err), UG_OK);
    assert_int_equal(jobs_add(&q, &s, NULL, err), UG_OK);
    assert_int_equal(jobs_add(&q, &u, NULL, err), UG_OK);
    /* Idle: the switch goes first (a more urgent kind), at its due time. */
    assert_null(jobs_next(&q, 99, 0, &wake));
    assert_int_equal(wake, 100);
    struct job *j = jobs_next(&q, 100, 0, &wake);
    assert_non_null(j);
    assert_int_equal(j->kind, JOB_SWITCH);
    /* Busy: the switch and the resync wait; the upgrade pass (download) does not. */
    assert_null(jobs_next(&q, 110, 1, &wake));
    assert_int_equal(wake, 120);
    j = jobs_next(&q, 130, 1, &wake);
    assert_int_equal(j->kind, JOB_UPGRADE);
    jobs_remove(&q, j->id);
    /* Still busy: the resync is forced at its force_at; the switch never is. */
    assert_null(jobs_next(&q, 140, 1, &wake));
    assert_int_equal(wake, 150);
    j = jobs_next(&q, 150, 1, &wake);
    assert_int_equal(j->kind, JOB_RESYNC);
    char why[256];
    jobs_why(j, 140, 1, why, sizeof why);
    assert_non_null(strstr(why, "at the latest"));
    jobs_remove(&q, j->id);
    assert_null(jobs_next(&q, 1000000, 1, &wake));
    assert_int_equal(wake, -1); /* only the end of the call can free the switch */
    jobs_why(jobs_find_kind(&q, JOB_SWITCH), 1000, 1, why, sizeof why);
    assert_non_null(strstr(why, "never cuts a call"));
    jobs_close(&q);
}

static void test_merge(void **state)
{
    (void)state;
    struct job_queue q;
    char err[UG_ERRBUF];
    struct job *a, *b;
    assert_int_equal(jobs_open(&q, path, err), UG_OK);
    struct job late = make(JOB_RESYNC, 500, 900, NULL), early = make(JOB_RESYNC, 100, 400, NULL);
    assert_int_equal(jobs_add(&q, &late, &a, err), UG_OK);
    unsigned id = a->id;
    assert_int_equal(jobs_add(&q, &early, &b, err), UG_OK);
    assert_int_equal(q.n, 1);
    assert_int_equal(b->id, id);
    assert_int_equal(b->due, 100);
    assert_int_equal(b->force_at, 400);
    /* Another rule is another job. */
    struct job given = make(JOB_RESYNC, 100, 0, "http://h/x.xml");
    assert_int_equal(jobs_add(&q, &given, &b, err), UG_OK);
    assert_int_equal(q.n, 2);
    assert_int_not_equal(b->id, id);
    jobs_close(&q);
}

static void test_file(void **state)
{
    (void)state;
    struct job_queue q;
    char err[UG_ERRBUF];
    assert_int_equal(jobs_open(&q, path, err), UG_OK);
    struct job u = make(JOB_UPGRADE, 10, 0, "[--pwd secret] http://h/b.bundle");
    u.force = 1;
    struct job s = make(JOB_SWITCH, 20, 0, NULL);
    assert_int_equal(jobs_add(&q, &u, NULL, err), UG_OK);
    assert_int_equal(jobs_add(&q, &s, NULL, err), UG_OK);
    assert_int_equal(jobs_save(&q, err), UG_OK);
    /* Status never shows a rule's text. */
    json_object *a = jobs_to_json(&q, 0, 0);
    assert_null(strstr(json_object_to_json_string(a), "secret"));
    json_object_put(a);
    jobs_close(&q);
    assert_int_equal(jobs_open(&q, path, err), UG_OK);
    assert_int_equal(q.n, 2);
    struct job *j = jobs_find_kind(&q, JOB_UPGRADE);
    assert_non_null(j);
    assert_string_equal(j->rule, "[--pwd secret] http://h/b.bundle");
    assert_int_equal(j->force, 1);
    assert_int_equal(j->due, 10);
    assert_non_null(jobs_find_kind(&q, JOB_SWITCH));
    jobs_close(&q);
    /* A damaged file is set aside; the queue starts empty. */
    assert_int_equal(fs_write_atomic(path, "{not json", 9, 0600, err), UG_OK);
    assert_int_equal(jobs_open(&q, path, err), UG_OK);
    assert_int_equal(q.n, 0);
    char bad[160];
    snprintf(bad, sizeof bad, "%s.bad", path);
    assert_true(fs_exists(bad));
    jobs_close(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_idle_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
