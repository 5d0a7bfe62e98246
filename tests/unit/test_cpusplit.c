/* SPDX-License-Identifier: MIT */
/* Unit tests of cpusplit.c: the split leaves the lowest allowed CPU to the network thread,
 * threads started during it inherit the rest, the end restores the mask, one CPU is left alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "net/cpusplit.h"

static cpu_set_t original;

static int save_mask(void **state)
{
    (void)state;
    return sched_getaffinity(0, sizeof original, &original);
}

static int restore_mask(void **state)
{
    (void)state;
    return sched_setaffinity(0, sizeof original, &original);
}

static int lowest(const cpu_set_t *set)
{
    for (int i = 0; i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, set))
            return i;
    return -1;
}

static void *report_mask(void *arg)
{
    sched_getaffinity(0, sizeof(cpu_set_t), arg);
    return NULL;
}

static void test_split_and_restore(void **state)
{
    (void)state;
    if (CPU_COUNT(&original) < 2)
        skip(); /* a one-CPU machine: test_one_cpu covers it */
    struct cpu_split s;
    int net = cpu_split_begin(&s);
    assert_int_equal(net, lowest(&original));
    cpu_set_t now, want, child;
    assert_int_equal(sched_getaffinity(0, sizeof now, &now), 0);
    memcpy(&want, &original, sizeof want);
    CPU_CLR(net, &want);
    assert_true(CPU_EQUAL(&now, &want));
    /* The decoder's writer and the flusher are started during the split: they inherit it. */
    pthread_t t;
    CPU_ZERO(&child);
    assert_int_equal(pthread_create(&t, NULL, report_mask, &child), 0);
    pthread_join(t, NULL);
    assert_true(CPU_EQUAL(&child, &want));
    cpu_split_end(&s);
    assert_int_equal(sched_getaffinity(0, sizeof now, &now), 0);
    assert_true(CPU_EQUAL(&now, &original));
    cpu_split_end(&s); /* twice is harmless */
    assert_int_equal(sched_getaffinity(0, sizeof now, &now), 0);
    assert_true(CPU_EQUAL(&now, &original));
}

static void test_one_cpu(void **state)
{
    (void)state;
    cpu_set_t one, now;
    CPU_ZERO(&one);
    CPU_SET(lowest(&original), &one);
    assert_int_equal(sched_setaffinity(0, sizeof one, &one), 0);
    struct cpu_split s;
    assert_int_equal(cpu_split_begin(&s), -1);
    assert_int_equal(sched_getaffinity(0, sizeof now, &now), 0);
    assert_true(CPU_EQUAL(&now, &one));
    cpu_split_end(&s);
    assert_int_equal(sched_getaffinity(0, sizeof now, &now), 0);
    assert_true(CPU_EQUAL(&now, &one));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_split_and_restore, save_mask, restore_mask),
        cmocka_unit_test_setup_teardown(test_one_cpu, save_mask, restore_mask),
    };
    return cmocka_run_group_tests_name("cpusplit", tests, NULL, NULL);
}
