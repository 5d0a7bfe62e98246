/* SPDX-License-Identifier: MIT */
/* Unit tests of the block slot backend (slots/slot_block.c) on a real loop device: capacity
 * from the device, write, flush and read back, and the refusals (mounted, in use, a file
 * given as a block device and a block device given as a file). Run as root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/sysmacros.h>

#include "loopdev.h"
#include "upgrade/slots/slot.h"

#define SLOT_SIZE (1024 * 1024) /* a whole number of sectors, as a loop device needs */

struct tmp {
    char dir[64];
    char file[128]; /* the loop device's backing file */
    char mnt[128];  /* where a test mounts it */
    char dev[64];   /* the loop device */
    int mounted;
};

/* A backing file full of 0xAA (an older image) on a loop device. */
static int tmp_setup(void **state)
{
    struct tmp *t = calloc(1, sizeof *t);
    snprintf(t->dir, sizeof t->dir, "/tmp/test_slot_block.XXXXXX");
    if (!t || !mkdtemp(t->dir))
        return -1;
    snprintf(t->file, sizeof t->file, "%s/slot-b.img", t->dir);
    snprintf(t->mnt, sizeof t->mnt, "%s/mnt", t->dir);
    FILE *f = fopen(t->file, "wb");
    if (!f)
        return -1;
    for (int i = 0; i < SLOT_SIZE; i++)
        fputc(0xAA, f);
    fclose(f);
    *state = t;
    return loopdev_attach(t->file, t->dev, sizeof t->dev);
}

static int tmp_teardown(void **state)
{
    struct tmp *t = *state;
    char cmd[200];
    if (t->mounted) {
        snprintf(cmd, sizeof cmd, "umount '%s'", t->mnt);
        if (system(cmd) != 0)
            fprintf(stderr, "%s failed\n", cmd);
    }
    loopdev_detach(t->dev);
    rmdir(t->mnt);
    unlink(t->file);
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
        IMAGE = 300001 /* not a whole number of sectors */
    };
    static uint8_t image[IMAGE], back[SLOT_SIZE];
    pattern(image, sizeof image, 11);

    struct slot s;
    assert_int_equal(slot_open_write(&s, &slot_block_backend, t->dev, err), UG_OK);
    assert_true(s.size == SLOT_SIZE); /* the device's capacity */
    static const size_t chunks[] = {1, 4095, 100000, 3, 195902};
    size_t at = 0;
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        assert_int_equal(slot_write(&s, image + at, chunks[i], err), UG_OK);
        at += chunks[i];
    }
    assert_int_equal(at, IMAGE);
    assert_int_equal(slot_write(&s, image, SLOT_SIZE, err), UG_ERR_VERIFY);
    assert_non_null(strstr(err, "larger than the slot"));
    /* A resumed install continues at an offset; the bytes before it stay. */
    assert_int_equal(slot_seek(&s, 1000, err), UG_OK);
    assert_int_equal(slot_write(&s, image + 1000, 5000, err), UG_OK);
    assert_int_equal(slot_flush(&s, err), UG_OK);
    slot_close(&s);

    assert_int_equal(slot_open_read(&s, &slot_block_backend, t->dev, err), UG_OK);
    size_t got = 0;
    assert_int_equal(slot_read(&s, back, sizeof back, &got, err), UG_OK);
    assert_int_equal(got, SLOT_SIZE);
    assert_memory_equal(back, image, IMAGE);
    for (size_t i = IMAGE; i < SLOT_SIZE; i++)
        if (back[i] != 0xAA)
            fail_msg("byte %zu past the image changed to %u", i, back[i]);
    slot_close(&s);

    /* Flushed through the device: the backing file holds the image, at its old size. */
    FILE *f = fopen(t->file, "rb");
    assert_non_null(f);
    assert_int_equal(fread(back, 1, sizeof back, f), SLOT_SIZE);
    fclose(f);
    assert_memory_equal(back, image, IMAGE);
    struct stat st;
    assert_int_equal(stat(t->file, &st), 0);
    assert_int_equal(st.st_size, SLOT_SIZE);
}

static void test_mounted_device_refused(void **state)
{
    struct tmp *t = *state;
    char err[UG_ERRBUF], cmd[300];
    assert_int_equal(mkdir(t->mnt, 0755), 0);
    snprintf(cmd, sizeof cmd, "mke2fs -q -F -t ext2 '%s' && mount '%s' '%s'", t->dev, t->dev,
             t->mnt);
    assert_int_equal(system(cmd), 0);
    t->mounted = 1;
    struct slot s;
    assert_int_equal(slot_open_write(&s, &slot_block_backend, t->dev, err), UG_ERR_OTHER);
    assert_non_null(strstr(err, t->dev));
    assert_non_null(strstr(err, "mounted at "));
    assert_non_null(strstr(err, t->mnt));
    assert_non_null(strstr(err, "refusing to write a slot in use"));
    /* Reading (say, to compare the running slot) is harmless and allowed. */
    assert_int_equal(slot_open_read(&s, &slot_block_backend, t->dev, err), UG_OK);
    slot_close(&s);
    snprintf(cmd, sizeof cmd, "umount '%s'", t->mnt);
    assert_int_equal(system(cmd), 0);
    t->mounted = 0;
    assert_int_equal(slot_open_write(&s, &slot_block_backend, t->dev, err), UG_OK);
    slot_close(&s);
}

/* Held exclusively by someone (a file system, device mapper, or here another open with
 * O_EXCL) without a mount to name: refused all the same, and the write open holds the claim. */
static void test_device_in_use_refused(void **state)
{
    struct tmp *t = *state;
    char err[UG_ERRBUF];
    int holder = open(t->dev, O_RDONLY | O_EXCL);
    assert_true(holder >= 0);
    struct slot s;
    assert_int_equal(slot_open_write(&s, &slot_block_backend, t->dev, err), UG_ERR_OTHER);
    assert_non_null(strstr(err, "in use"));
    close(holder);
    assert_int_equal(slot_open_write(&s, &slot_block_backend, t->dev, err), UG_OK);
    assert_true(open(t->dev, O_RDONLY | O_EXCL) < 0); /* nobody mounts it meanwhile */
    slot_close(&s);
    holder = open(t->dev, O_RDONLY | O_EXCL);
    assert_true(holder >= 0);
    close(holder);
}

/* Each backend refuses the other's kind of slot, saying which one to name. */
static void test_wrong_kind_refused(void **state)
{
    struct tmp *t = *state;
    char err[UG_ERRBUF], missing[160];
    struct slot s;
    assert_int_equal(slot_open_write(&s, &slot_block_backend, t->file, err), UG_ERR_OTHER);
    assert_non_null(strstr(err, t->file));
    assert_non_null(strstr(err, "not a block device but a file (slot_backend=file)"));
    assert_int_equal(slot_open_read(&s, &slot_block_backend, t->dir, err), UG_ERR_OTHER);
    assert_non_null(strstr(err, "not a block device"));
    assert_int_equal(slot_open_write(&s, &slot_file_backend, t->dev, err), UG_ERR_OTHER);
    assert_non_null(strstr(err, "not a slot file but a block device (slot_backend=block)"));
    snprintf(missing, sizeof missing, "%s/no-such-device", t->dir);
    assert_int_equal(slot_open_write(&s, &slot_block_backend, missing, err), UG_ERR_OTHER);
    assert_non_null(strstr(err, "No such file"));
    assert_false(access(missing, F_OK) == 0); /* not created */
}

/* The device holding the running root is refused for writing before it is opened, and a
 * tag that names no device says so. */
static void test_running_root_and_unknown_tag_refused(void **state)
{
    (void)state;
    struct stat root;
    char dev[64], err[UG_ERRBUF];
    struct slot s;
    assert_int_equal(stat("/", &root), 0);
    snprintf(dev, sizeof dev, "/dev/block/%u:%u", major(root.st_dev), minor(root.st_dev));
    struct stat node;
    if (stat(dev, &node) == 0 && S_ISBLK(node.st_mode)) {
        assert_int_equal(slot_open_write(&s, &slot_block_backend, dev, err), UG_ERR_OTHER);
        assert_non_null(strstr(err, "refusing to write the booted slot"));
    }
    assert_int_equal(
        slot_open_write(&s, &slot_block_backend, "PARTLABEL=upgrader-test-no-such-label", err),
        UG_ERR_OTHER);
    assert_non_null(strstr(err, "no block device carries this tag"));
}

int main(void)
{
    if (geteuid() != 0) {
        fprintf(stderr, "test_slot_block needs root (loop devices)\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_flush_read_back, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_mounted_device_refused, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_device_in_use_refused, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_wrong_kind_refused, tmp_setup, tmp_teardown),
        cmocka_unit_test(test_running_root_and_unknown_tag_refused),
    };
    return cmocka_run_group_tests_name("slot_block", tests, NULL, NULL);
}
