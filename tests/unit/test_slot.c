/* SPDX-License-Identifier: MIT */
/* Unit tests of the slot writers (slots/slot.c, with the file backend of slot_file.c): write
 * from offset 0, flush, read back, the slot's size as a hard limit, clear errors, dispatch
 * through the ops table and backends found by name. The block backend: test_slot_block.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "upgrade/slots/slot.h"

#define SLOT_SIZE 65536

struct tmp {
    char dir[64];
    char path[128];
};

/* A slot file full of 0xAA, as if an older image were in it. */
static int tmp_setup(void **state)
{
    struct tmp *t = calloc(1, sizeof *t);
    snprintf(t->dir, sizeof t->dir, "/tmp/test_slot.XXXXXX");
    if (!mkdtemp(t->dir))
        return -1;
    snprintf(t->path, sizeof t->path, "%s/slot-b.img", t->dir);
    FILE *f = fopen(t->path, "wb");
    if (!f)
        return -1;
    for (int i = 0; i < SLOT_SIZE; i++)
        fputc(0xAA, f);
    fclose(f);
    *state = t;
    return 0;
}

static int tmp_teardown(void **state)
{
    struct tmp *t = *state;
    unlink(t->path);
    rmdir(t->dir);
    free(t);
    return 0;
}

static void pattern(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)((i * 31u + seed) ^ (i >> 8));
}

static void test_write_flush_read_back(void **state)
{
    struct tmp *t = *state;
    char err[UG_ERRBUF];
    enum {
        IMAGE = 40000
    };
    static uint8_t image[IMAGE], back[SLOT_SIZE];
    pattern(image, sizeof image, 7);

    struct slot s;
    assert_int_equal(slot_open_write(&s, &slot_file_backend, t->path, err), UG_OK);
    assert_true(s.size == SLOT_SIZE);
    /* Uneven chunks, as a decompressor hands them over. */
    static const size_t chunks[] = {1, 4095, 10000, 3, 25901};
    size_t at = 0;
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        assert_int_equal(slot_write(&s, image + at, chunks[i], err), UG_OK);
        at += chunks[i];
    }
    assert_int_equal(at, IMAGE);
    assert_true(s.position == IMAGE);
    assert_int_equal(slot_flush(&s, err), UG_OK);
    slot_close(&s);
    slot_close(&s); /* closing twice is harmless */

    assert_int_equal(slot_open_read(&s, &slot_file_backend, t->path, err), UG_OK);
    size_t got = 0;
    assert_int_equal(slot_read(&s, back, sizeof back + 0, &got, err), UG_OK);
    assert_int_equal(got, SLOT_SIZE);
    assert_memory_equal(back, image, IMAGE);
    /* Bytes past the image keep the old contents: a slot is never truncated. */
    for (size_t i = IMAGE; i < SLOT_SIZE; i++)
        if (back[i] != 0xAA)
            fail_msg("byte %zu past the image changed to %u", i, back[i]);
    assert_int_equal(slot_read(&s, back, 10, &got, err), UG_OK);
    assert_int_equal(got, 0);
    slot_close(&s);

    struct stat st;
    assert_int_equal(stat(t->path, &st), 0);
    assert_int_equal(st.st_size, SLOT_SIZE);
}

static void test_image_larger_than_slot(void **state)
{
    struct tmp *t = *state;
    char err[UG_ERRBUF];
    static uint8_t image[SLOT_SIZE + 1];
    pattern(image, sizeof image, 3);
    struct slot s;
    assert_int_equal(slot_open_write(&s, &slot_file_backend, t->path, err), UG_OK);
    assert_int_equal(slot_write(&s, image, SLOT_SIZE - 10, err), UG_OK);
    assert_int_equal(slot_write(&s, image, 11, err), UG_ERR_VERIFY);
    assert_non_null(strstr(err, "larger than the slot"));
    assert_non_null(strstr(err, t->path));
    assert_true(s.position == SLOT_SIZE - 10);
    assert_int_equal(slot_write(&s, image, 10, err), UG_OK); /* exactly full is fine */
    slot_close(&s);
    struct stat st;
    assert_int_equal(stat(t->path, &st), 0);
    assert_int_equal(st.st_size, SLOT_SIZE);
}

static void test_errors_name_the_slot(void **state)
{
    struct tmp *t = *state;
    char err[UG_ERRBUF], missing[160];
    snprintf(missing, sizeof missing, "%s/slot-c.img", t->dir);
    struct slot s;
    assert_int_equal(slot_open_write(&s, &slot_file_backend, missing, err), UG_ERR_OTHER);
    assert_non_null(strstr(err, missing));
    assert_non_null(strstr(err, "No such file"));
    assert_false(access(missing, F_OK) == 0); /* not created */
    assert_int_equal(slot_open_write(&s, &slot_file_backend, t->dir, err), UG_ERR_OTHER);

    assert_int_equal(slot_open_read(&s, &slot_file_backend, t->path, err), UG_OK);
    assert_int_equal(slot_write(&s, "x", 1, err), UG_ERR_OTHER);
    assert_non_null(strstr(err, "not open for writing"));
    slot_close(&s);
}

/* A second backend goes through the same calls: here one that keeps the slot in memory. */
static uint8_t mem_slot[64];
static size_t mem_pos;
static int mem_flushes;
static ug_err mem_open(const char *location, int writable, void **handle, uint64_t *size, char *err)
{
    (void)location, (void)writable, (void)err;
    mem_pos = 0;
    *handle = mem_slot;
    *size = sizeof mem_slot;
    return UG_OK;
}
static ug_err mem_write(void *handle, const void *data, size_t len, char *err)
{
    (void)handle, (void)err;
    memcpy(mem_slot + mem_pos, data, len);
    mem_pos += len;
    return UG_OK;
}
static ug_err mem_read(void *handle, void *data, size_t len, size_t *got, char *err)
{
    (void)handle, (void)err;
    memcpy(data, mem_slot + mem_pos, len);
    mem_pos += len;
    *got = len;
    return UG_OK;
}
static ug_err mem_flush(void *handle, char *err)
{
    (void)handle, (void)err;
    mem_flushes++;
    return UG_OK;
}
static void mem_close(void *handle)
{
    (void)handle;
}

static void test_other_backend(void **unused)
{
    (void)unused;
    static const struct slot_backend mem = {"mem",     mem_open,  mem_write, mem_read,
                                            mem_flush, mem_close, NULL,      0};
    char err[UG_ERRBUF];
    struct slot s;
    assert_int_equal(slot_open_write(&s, &mem, "mem0", err), UG_OK);
    assert_int_equal(slot_write(&s, "hello", 5, err), UG_OK);
    assert_int_equal(slot_write(&s, mem_slot, 60, err), UG_ERR_VERIFY); /* 65 > 64 */
    assert_int_equal(slot_flush(&s, err), UG_OK);
    assert_int_equal(mem_flushes, 1);
    slot_close(&s);
    assert_int_equal(slot_open_read(&s, &mem, "mem0", err), UG_OK);
    char back[100];
    size_t got;
    assert_int_equal(slot_read(&s, back, sizeof back, &got, err), UG_OK);
    assert_int_equal(got, 64); /* clamped to the slot's size */
    assert_memory_equal(back, "hello", 5);
    slot_close(&s);
}

static void test_backends_by_name(void **unused)
{
    (void)unused;
    char err[UG_ERRBUF], names[64];
    const struct slot_backend *be = NULL;
    assert_ptr_equal(slot_backend_find("block"), &slot_block_backend);
    assert_ptr_equal(slot_backend_find("file"), &slot_file_backend);
    assert_null(slot_backend_find("mtd"));
    assert_null(slot_backend_find(NULL));
    slot_backend_names(names, sizeof names);
    assert_string_equal(names, "file, block");
    assert_int_equal(slot_backend_lookup("block", &be, err), UG_OK);
    assert_ptr_equal(be, &slot_block_backend);
    assert_int_equal(slot_backend_lookup("ubi", &be, err), UG_ERR_USAGE);
    assert_null(be);
    assert_string_equal(err, "unknown slot backend 'ubi' (known: file, block)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_flush_read_back, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_image_larger_than_slot, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_errors_name_the_slot, tmp_setup, tmp_teardown),
        cmocka_unit_test(test_other_backend),
        cmocka_unit_test(test_backends_by_name),
    };
    return cmocka_run_group_tests_name("slot", tests, NULL, NULL);
}
