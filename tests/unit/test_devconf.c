/* SPDX-License-Identifier: MIT */
/* Unit tests of DIR/device.conf (devconf.c): the defaults that keep every existing state
 * folder working, the keys naming the boot-state and slot backends and their locations
 * parsed, and wrong values refused with the file and line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bootctl/bootstate.h"
#include "common/fsutil.h"
#include "device/devconf.h"
#include "upgrade/slots/slot.h"

struct tmp {
    char dir[64];
    char conf[128];
    struct state_folder folder;
};

static int tmp_setup(void **state)
{
    struct tmp *t = calloc(1, sizeof *t);
    snprintf(t->dir, sizeof t->dir, "/tmp/test_devconf.XXXXXX");
    if (!t || !mkdtemp(t->dir))
        return -1;
    snprintf(t->conf, sizeof t->conf, "%s/device.conf", t->dir);
    char err[UG_ERRBUF];
    if (state_folder_open(t->dir, &t->folder, err) != UG_OK)
        return -1;
    *state = t;
    return 0;
}

static int tmp_teardown(void **state)
{
    struct tmp *t = *state;
    unlink(t->conf);
    rmdir(t->dir);
    state_folder_close(&t->folder);
    free(t);
    return 0;
}

static void write_conf(const struct tmp *t, const char *text)
{
    char err[UG_ERRBUF];
    assert_int_equal(fs_write_atomic(t->conf, text, strlen(text), 0644, err), UG_OK);
}

/* The path of name inside the state folder. */
static const char *in_dir(const struct tmp *t, const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", t->dir, name);
    return path;
}

static void assert_simulated_locations(const struct tmp *t, const struct devconf *c)
{
    assert_string_equal(c->bootstate_backend, "file");
    assert_string_equal(c->bootstate_location, in_dir(t, "bootenv"));
    assert_string_equal(c->slot_backend, "file");
    assert_string_equal(c->slot_a, in_dir(t, "slot-a.img"));
    assert_string_equal(c->slot_b, in_dir(t, "slot-b.img"));
}

/* No device.conf (every folder made before these keys): the files `upgrader init` makes. */
static void test_defaults(void **state)
{
    struct tmp *t = *state;
    char err[UG_ERRBUF];
    struct devconf c;
    assert_int_equal(devconf_load(&t->folder, &c, err), UG_OK);
    assert_string_equal(c.reboot_command, DEVCONF_DEFAULT_REBOOT);
    assert_string_equal(c.health_check, "");
    assert_simulated_locations(t, &c);
    struct bootstate_store store;
    assert_int_equal(devconf_bootstate_store(&c, &store, err), UG_OK);
    assert_string_equal(store.backend->name, "file");
    assert_string_equal(store.location, in_dir(t, "bootenv"));

    /* An older device.conf with only the two commands: the same locations. */
    write_conf(t, "reboot_command=reboot -f\nhealth_check=\n");
    assert_int_equal(devconf_load(&t->folder, &c, err), UG_OK);
    assert_string_equal(c.reboot_command, "reboot -f");
    assert_simulated_locations(t, &c);
}

/* What `upgrader init` writes names exactly the defaults: nothing moves. */
static void test_simulated_device(void **state)
{
    struct tmp *t = *state;
    char err[UG_ERRBUF];
    struct devconf c;
    assert_int_equal(devconf_write_simulated(&t->folder, err), UG_OK);
    struct buf text = {0};
    assert_int_equal(fs_read_file(t->conf, 65536, &text, err), UG_OK);
    assert_non_null(strstr(text.data, "\nslot_backend=file\n"));
    assert_non_null(strstr(text.data, "\nbootstate_location=bootenv\n"));
    buf_free(&text);
    assert_int_equal(devconf_load(&t->folder, &c, err), UG_OK);
    assert_string_equal(c.reboot_command, "touch \"$UPGRADER_ROOT/reboot-requested\"");
    assert_simulated_locations(t, &c);
}

static void test_keys_parsed(void **state)
{
    struct tmp *t = *state;
    char err[UG_ERRBUF];
    struct devconf c;
    write_conf(t, "# a real board\n"
                  "\n"
                  "  bootstate_backend = file \n"
                  "bootstate_location=/var/lib/boot/state\r\n"
                  "slot_backend=block\n"
                  "slot_a=/dev/mmcblk0p2\n"
                  "slot_b=\t/dev/mmcblk0p3\n"
                  "future_key=kept for later versions\n");
    assert_int_equal(devconf_load(&t->folder, &c, err), UG_OK);
    assert_string_equal(c.bootstate_backend, "file");
    assert_string_equal(c.bootstate_location, "/var/lib/boot/state");
    assert_string_equal(c.slot_backend, "block");
    assert_string_equal(c.slot_a, "/dev/mmcblk0p2");
    assert_string_equal(c.slot_b, "/dev/mmcblk0p3");
    assert_string_equal(c.reboot_command, DEVCONF_DEFAULT_REBOOT);

    /* Relative paths are inside the state folder; an empty value is the default. */
    write_conf(t, "bootstate_location=state/bootenv\nslot_a=a.img\nslot_b=\nslot_backend=\n");
    if (devconf_load(&t->folder, &c, err) != UG_OK)
        fail_msg("%s", err);
    assert_string_equal(c.bootstate_location, in_dir(t, "state/bootenv"));
    assert_string_equal(c.slot_a, in_dir(t, "a.img"));
    assert_string_equal(c.slot_b, in_dir(t, "slot-b.img"));
    assert_string_equal(c.slot_backend, "file");

    /* Device tags stay as written; a bootloader store learns the block slots. */
    write_conf(t, "bootstate_backend=grub\nbootstate_location=/boot/efi/EFI/upgrader/grubenv\n"
                  "slot_backend=block\nslot_a=PARTLABEL=slot-a\nslot_b=PARTUUID=0fc63daf-1\n");
    if (devconf_load(&t->folder, &c, err) != UG_OK)
        fail_msg("%s", err);
    assert_string_equal(c.slot_a, "PARTLABEL=slot-a");
    assert_string_equal(c.slot_b, "PARTUUID=0fc63daf-1");
    struct bootstate_store store;
    assert_int_equal(devconf_bootstate_store(&c, &store, err), UG_OK);
    assert_string_equal(store.backend->name, "grub");
    assert_string_equal(store.slot_device[1], "PARTUUID=0fc63daf-1");
    assert_string_equal(store.lock_path, "/boot/efi/EFI/upgrader/grubenv.lock");
}

/* Each refusal names the file and the line, and what would have been right. */
static void test_refusals(void **state)
{
    struct tmp *t = *state;
    char err[UG_ERRBUF], want[400], names[128], long_line[1200];
    memset(long_line, 'x', sizeof long_line);
    memcpy(long_line, "slot_a=/", 8);
    long_line[sizeof long_line - 1] = '\0';
    static const struct {
        const char *text, *message;
    } cases[] = {
        {"health_check=\nbootstate_backend=barebox\n",
         ":2: unknown bootstate_backend 'barebox' (known: file, grub, uboot)"},
        {"slot_backend=mtd\n", ":1: unknown slot_backend 'mtd' (known: file, block)"},
        {"slot_backend=Block\n", ":1: unknown slot_backend 'Block'"},
        {"slot_a=/dev/sda2\nslot_backend=block\n",
         ":2: slot_backend=block needs slot_a= and slot_b= (the two partitions)"},
        {"slot_backend=block\nslot_a=/dev/sda2\nslot_b=/dev/sda3\nslot_b=\n",
         ":1: slot_backend=block needs slot_a= and slot_b="},
        {"slot_a=/dev/sda2\nslot_b=/dev/sda2\n", ":2: slot_a and slot_b both name /dev/sda2"},
        {"slot_b=slot-a.img\n", ":1: slot_a and slot_b both name"},
    };
    struct devconf c;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_conf(t, cases[i].text);
        snprintf(want, sizeof want, "%s%s", t->conf, cases[i].message);
        if (devconf_load(&t->folder, &c, err) != UG_ERR_OTHER || strncmp(err, want, strlen(want)))
            fail_msg("case %zu: '%s', expected '%s'", i, err, want);
    }
    write_conf(t, long_line);
    assert_int_equal(devconf_load(&t->folder, &c, err), UG_ERR_OTHER);
    snprintf(want, sizeof want, "%s:1: slot_a is too long", t->conf);
    assert_string_equal(err, want);

    /* devconf keeps its own list of slot backends (device/ cannot include upgrade/); it must
     * be slot.c's: every backend there is accepted, and the refusal lists exactly those. */
    slot_backend_names(names, sizeof names);
    snprintf(want, sizeof want, "(known: %s)", names);
    write_conf(t, "slot_backend=none\n");
    assert_int_equal(devconf_load(&t->folder, &c, err), UG_ERR_OTHER);
    assert_non_null(strstr(err, want));
    for (char *name = strtok(names, ", "); name; name = strtok(NULL, ", ")) {
        char text[200];
        snprintf(text, sizeof text, "slot_backend=%s\nslot_a=/dev/x1\nslot_b=/dev/x2\n", name);
        write_conf(t, text);
        if (devconf_load(&t->folder, &c, err) != UG_OK)
            fail_msg("slot backend %s refused: %s", name, err);
        assert_non_null(slot_backend_find(c.slot_backend));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_simulated_device, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_keys_parsed, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_refusals, tmp_setup, tmp_teardown),
    };
    return cmocka_run_group_tests_name("devconf", tests, NULL, NULL);
}
