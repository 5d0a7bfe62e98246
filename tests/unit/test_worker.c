/* SPDX-License-Identifier: MIT */
/* Unit tests of the worker (worker.c) on a device made by init: a job runs on its thread
 * and its result comes back on the loop; a reboot waits while the call-state source says a
 * call is up and runs when idle; one job at a time; a resync's refusal keeps its exit code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/fsutil.h"
#include "daemon/worker.h"
#include "testdevice.h"

struct run {
    struct loop *l;
    struct worker_result *r;
    int calls;
};

static ug_err calls(void *ctx, int *active, char *err)
{
    (void)err;
    *active = ((struct run *)ctx)->calls;
    return UG_OK;
}

static void on_done(void *ctx, struct worker_result *r)
{
    struct run *run = ctx;
    run->r = r;
    loop_stop(run->l);
}

/* Runs one job to its end through the loop and returns its result. */
static struct worker_result *run_job(struct run *run, struct worker *w, const struct job *j)
{
    char err[UG_ERRBUF];
    assert_int_equal(worker_start(w, j, err), UG_OK);
    assert_true(worker_running(w));
    assert_int_equal(worker_start(w, j, err), UG_ERR_OTHER); /* one at a time */
    assert_int_equal(loop_run(run->l, err), UG_OK);
    assert_false(worker_running(w));
    return run->r;
}

static void test_jobs(void **state)
{
    (void)state;
    char root[256], err[UG_ERRBUF], path[300];
    assert_int_equal(testdevice_make(root, sizeof root, "worker", "1.0.0", "1M", NULL), 0);
    struct run run = {0};
    struct fetch_engine *e;
    static volatile sig_atomic_t cancel;
    assert_int_equal(loop_new(&run.l, err), UG_OK);
    assert_int_equal(fetch_engine_new(&e, err), UG_OK);
    assert_int_equal(loop_attach_engine(run.l, e, err), UG_OK);
    struct worker_config c = {.root = root,
                              .loop = run.l,
                              .engine = e,
                              .cancel = &cancel,
                              .calls = calls,
                              .calls_ctx = &run,
                              .cb = {NULL, on_done, &run}};
    struct worker *w;
    assert_int_equal(worker_new(&c, &w, err), UG_OK);
    snprintf(path, sizeof path, "%s/reboot-requested", root);

    struct job j = {.kind = JOB_REBOOT};
    run.calls = 1;
    struct worker_result *r = run_job(&run, w, &j);
    assert_int_equal(r->rc, UG_ERR_DEFERRED);
    assert_false(fs_exists(path));
    worker_result_free(r);

    run.calls = 0;
    r = run_job(&run, w, &j);
    assert_int_equal(r->rc, UG_OK);
    assert_true(r->rebooted);
    assert_true(fs_exists(path));
    worker_result_free(r);

    struct job rs = {.kind = JOB_RESYNC, .rule = "ftp://127.0.0.1/x.cfg"};
    r = run_job(&run, w, &rs);
    assert_int_equal(r->rc, UG_ERR_USAGE);
    assert_non_null(strstr(r->err, "ftp://"));
    assert_non_null(strstr(r->summary, "resync failed"));
    assert_string_equal(r->job.rule, "ftp://127.0.0.1/x.cfg"); /* the job comes back whole */
    worker_result_free(r);

    struct job fr = {.kind = JOB_FACTORY_RESET};
    r = run_job(&run, w, &fr);
    assert_int_equal(r->rc, UG_OK);
    worker_result_free(r);

    worker_free(w);
    loop_detach_engine(run.l);
    fetch_engine_free(e);
    loop_free(run.l);
    fetch_global_cleanup();
    assert_int_equal(testdevice_remove(root), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_jobs)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
