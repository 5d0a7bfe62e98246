/* SPDX-License-Identifier: MIT */
/* The state folder's layout: one table of file names, every path built once at open. */
#include "device/folder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[STATE_FILE_COUNT] = {
    [STATE_IDENTITY] = "identity",
    [STATE_PARAMS] = "params",
    [STATE_PARAMS_LOCK] = "params.lock",
    [STATE_SCHEMA] = "schema.conf",
    [STATE_BOOTENV] = "bootenv",
    [STATE_SLOT_A] = "slot-a.img",
    [STATE_SLOT_B] = "slot-b.img",
    [STATE_KEYRING] = "keyring.pem",
    [STATE_CA] = "ca.pem",
    [STATE_CLIENT_CERT] = "client.crt",
    [STATE_CLIENT_KEY] = "client.key",
    [STATE_CUSTOM_CA] = "custom-ca.pem",
    [STATE_DEVICE_CONF] = "device.conf",
    [STATE_REBOOT_REQUESTED] = "reboot-requested",
    [STATE_CALLS] = "calls",
    [STATE_CALLS_LOCK] = "calls.lock",
    [STATE_RESYNC] = "resync.json",
    [STATE_RESYNC_LOCK] = "resync.lock",
    [STATE_DHCP] = "dhcp.json",
    [STATE_UPGRADE] = "upgrade.json",
    [STATE_UPGRADE_LOCK] = "upgrade.lock",
    [STATE_UPGRADE_RESUME] = "upgrade.resume",
    [STATE_JOBS] = "jobs.json",
    [STATE_CONTROL] = "control.sock",
    [STATE_DAEMON_LOCK] = "daemon.lock",
    [STATE_EVENTS] = "events.json",
    [STATE_BLOCKS_A] = "blocks-a.idx",
    [STATE_BLOCKS_B] = "blocks-b.idx",
};

const char *state_file_name(enum state_file which)
{
    return names[which];
}

const char *state_path(const struct state_folder *f, enum state_file which)
{
    return f->path[which];
}

void state_folder_close(struct state_folder *f)
{
    free(f->root);
    for (int i = 0; i < STATE_FILE_COUNT; i++)
        free(f->path[i]);
    memset(f, 0, sizeof *f);
}

/* "DIR/name", or "DIR" + "name" when DIR already ends in '/'. */
static char *join(const char *root, const char *name)
{
    size_t n = strlen(root);
    const char *sep = n && root[n - 1] == '/' ? "" : "/";
    char *out = malloc(n + strlen(sep) + strlen(name) + 1);
    if (out)
        sprintf(out, "%s%s%s", root, sep, name);
    return out;
}

ug_err state_folder_open(const char *root, struct state_folder *f, char *err)
{
    memset(f, 0, sizeof *f);
    if (!root[0])
        return ug_fail(err, UG_ERR_USAGE, "the state folder path is empty");
    size_t longest = 0;
    for (int i = 0; i < STATE_FILE_COUNT; i++)
        longest = strlen(names[i]) > longest ? strlen(names[i]) : longest;
    /* Room for the file name, the separator and the temporary suffix fs_write_atomic adds. */
    if (strlen(root) + 1 + longest + 32 >= STATE_PATH_MAX)
        return ug_fail(err, UG_ERR_USAGE, "%.64s...: state folder path too long (at most %d bytes)",
                       root, STATE_PATH_MAX - (int)longest - 34);
    if (!(f->root = strdup(root)))
        return ug_oom(err);
    for (int i = 0; i < STATE_FILE_COUNT; i++) {
        if (!(f->path[i] = join(root, names[i]))) {
            state_folder_close(f);
            return ug_oom(err);
        }
    }
    return UG_OK;
}
