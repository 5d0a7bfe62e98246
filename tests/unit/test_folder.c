/* SPDX-License-Identifier: MIT */
/* Unit tests of the state folder (folder.c): every path built once from one table, the one
 * length limit checked at open, names unique. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/folder.h"

static void test_paths(void **state)
{
    (void)state;
    struct state_folder f;
    char err[UG_ERRBUF];
    assert_int_equal(state_folder_open("/var/lib/upgrader", &f, err), UG_OK);
    assert_string_equal(f.root, "/var/lib/upgrader");
    assert_string_equal(state_path(&f, STATE_PARAMS), "/var/lib/upgrader/params");
    assert_string_equal(state_path(&f, STATE_UPGRADE_LOCK), "/var/lib/upgrader/upgrade.lock");
    assert_string_equal(state_path(&f, STATE_BOOTENV), "/var/lib/upgrader/bootenv");
    state_folder_close(&f);
    /* A trailing slash is not doubled; a relative folder stays relative. */
    assert_int_equal(state_folder_open("dev/", &f, err), UG_OK);
    assert_string_equal(state_path(&f, STATE_IDENTITY), "dev/identity");
    state_folder_close(&f);
    state_folder_close(&f); /* safe twice */
}

static void test_every_file_has_its_own_name(void **state)
{
    (void)state;
    for (int i = 0; i < STATE_FILE_COUNT; i++) {
        assert_non_null(state_file_name((enum state_file)i));
        assert_true(strlen(state_file_name((enum state_file)i)) > 0);
        for (int k = 0; k < i; k++)
            assert_string_not_equal(state_file_name((enum state_file)i),
                                    state_file_name((enum state_file)k));
    }
}

static void test_length_limit(void **state)
{
    (void)state;
    struct state_folder f;
    char err[UG_ERRBUF];
    char *root = malloc(STATE_PATH_MAX + 1);
    memset(root, 'd', STATE_PATH_MAX);
    root[0] = '/';
    root[STATE_PATH_MAX] = '\0';
    assert_int_equal(state_folder_open(root, &f, err), UG_ERR_USAGE);
    assert_non_null(strstr(err, "state folder path too long"));
    /* The longest accepted leaves room for every file and a temporary suffix. */
    root[STATE_PATH_MAX - 64] = '\0';
    assert_int_equal(state_folder_open(root, &f, err), UG_OK);
    for (int i = 0; i < STATE_FILE_COUNT; i++)
        assert_true(strlen(state_path(&f, (enum state_file)i)) + 32 < STATE_PATH_MAX);
    state_folder_close(&f);
    assert_int_equal(state_folder_open("", &f, err), UG_ERR_USAGE);
    free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_every_file_has_its_own_name),
        cmocka_unit_test(test_length_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
