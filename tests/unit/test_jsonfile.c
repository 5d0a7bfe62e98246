/* SPDX-License-Identifier: MIT */
/* Unit tests of jsonfile.c: missing file reads as empty, a round trip keeps values, a damaged
 * file is an error that names it and is left untouched. */
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
#include "common/jsonfile.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/test_jsonfile.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static void test_missing_is_empty(void **state)
{
    (void)state;
    char path[128], err[UG_ERRBUF];
    snprintf(path, sizeof path, "%s/none.json", dir);
    json_object *obj = NULL;
    assert_int_equal(jsonfile_load(path, &obj, err), UG_OK);
    assert_int_equal(json_object_object_length(obj), 0);
    assert_string_equal(jsonfile_get_string(obj, "x", "fallback"), "fallback");
    assert_int_equal(jsonfile_get_int(obj, "n", -5), -5);
    json_object_put(obj);
}

static void test_round_trip(void **state)
{
    (void)state;
    char path[128], err[UG_ERRBUF];
    snprintf(path, sizeof path, "%s/state.json", dir);
    json_object *obj = json_object_new_object();
    jsonfile_set_string(obj, "url", "http://example/p.xml");
    jsonfile_set_int(obj, "time", 1700000000123LL);
    assert_int_equal(jsonfile_save(path, obj, err), UG_OK);
    json_object_put(obj);
    assert_int_equal(jsonfile_load(path, &obj, err), UG_OK);
    assert_string_equal(jsonfile_get_string(obj, "url", NULL), "http://example/p.xml");
    assert_true(jsonfile_get_int(obj, "time", 0) == 1700000000123LL);
    /* A key of the wrong type falls back rather than misreading. */
    assert_int_equal(jsonfile_get_int(obj, "url", 7), 7);
    jsonfile_set_string(obj, "url", NULL);
    assert_null(jsonfile_get_string(obj, "url", NULL));
    json_object_put(obj);
}

static void test_damaged_is_error(void **state)
{
    (void)state;
    static const char *const damaged[] = {"{\"a\": 1", "[1, 2]", "not json", "\"text\""};
    for (size_t i = 0; i < sizeof damaged / sizeof damaged[0]; i++) {
        char path[128], err[UG_ERRBUF] = "";
        snprintf(path, sizeof path, "%s/bad%zu.json", dir, i);
        assert_int_equal(fs_write_atomic(path, damaged[i], strlen(damaged[i]), 0644, err), UG_OK);
        json_object *obj = (json_object *)1;
        assert_int_equal(jsonfile_load(path, &obj, err), UG_ERR_OTHER);
        assert_null(obj);
        assert_non_null(strstr(err, path));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_is_empty),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_damaged_is_error),
    };
    return cmocka_run_group_tests_name("jsonfile", tests, setup, teardown);
}
