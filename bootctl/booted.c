/* SPDX-License-Identifier: MIT */
/* The booted slot from the running system. A bootloader writes what it chose into the kernel
 * command line (RAUC's convention, and ours); the root device is the fallback for one that
 * does not, compared by device number so a PARTLABEL= and a /dev path of the same partition
 * agree. */
#include "bootctl/booted.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/blockdev.h"

/* Walks the space-separated parameters; quotes group spaces as the kernel's parser does. */
void booted_cmdline_value(const char *cmdline, const char *key, char *out, size_t outsz)
{
    size_t klen = strlen(key);
    out[0] = '\0';
    for (const char *p = cmdline; p && *p;) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        const char *start = p;
        int quoted = 0;
        while (*p && (quoted || (*p != ' ' && *p != '\t' && *p != '\n')))
            quoted ^= *p++ == '"';
        if ((size_t)(p - start) > klen && strncmp(start, key, klen) == 0 && start[klen] == '=') {
            const char *v = start + klen + 1;
            size_t n = (size_t)(p - v);
            if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
                v++, n -= 2;
            snprintf(out, outsz, "%.*s", (int)n, v);
        }
    }
}

static int slot_letter(const char *value)
{
    if ((value[0] == 'A' || value[0] == 'a') && !value[1])
        return 0;
    if ((value[0] == 'B' || value[0] == 'b') && !value[1])
        return 1;
    return -1;
}

int booted_from_cmdline(const char *cmdline)
{
    char value[64];
    booted_cmdline_value(cmdline, "upgrader.slot", value, sizeof value);
    int slot = slot_letter(value);
    if (slot >= 0)
        return slot;
    booted_cmdline_value(cmdline, "rauc.slot", value, sizeof value);
    return slot_letter(value);
}

void booted_cmdline(char *out, size_t outsz)
{
    const char *forced = getenv(BOOTED_CMDLINE_ENV);
    out[0] = '\0';
    if (forced) {
        snprintf(out, outsz, "%s", forced);
        return;
    }
    FILE *f = fopen("/proc/cmdline", "re");
    if (!f)
        return;
    size_t n = fread(out, 1, outsz - 1, f);
    out[n] = '\0';
    fclose(f);
}

/* The device number of a slot's block device (spec resolved); 0 when it cannot be told. */
static dev_t slot_rdev(const char *spec)
{
    char path[1024], ignored[256];
    struct stat st;
    if (!spec || !spec[0] || blockdev_resolve(spec, path, sizeof path, ignored) != UG_OK ||
        stat(path, &st) != 0 || !S_ISBLK(st.st_mode))
        return 0;
    return st.st_rdev;
}

/* The slot whose device is dev; -1 for neither. */
static int slot_of_device(dev_t dev, const char *slot_a, const char *slot_b)
{
    if (dev == 0)
        return -1;
    if (slot_rdev(slot_a) == dev)
        return 0;
    if (slot_rdev(slot_b) == dev)
        return 1;
    return -1;
}

int booted_detect(const char *slot_a, const char *slot_b)
{
    char cmdline[4096];
    booted_cmdline(cmdline, sizeof cmdline);
    int slot = booted_from_cmdline(cmdline);
    if (slot >= 0)
        return slot;
    struct stat root;
    if (stat("/", &root) == 0 && (slot = slot_of_device(root.st_dev, slot_a, slot_b)) >= 0)
        return slot;
    /* The root= of the command line: an initramfs may have mounted it elsewhere first. */
    char root_spec[1024];
    booted_cmdline_value(cmdline, "root", root_spec, sizeof root_spec);
    return root_spec[0] ? slot_of_device(slot_rdev(root_spec), slot_a, slot_b) : -1;
}
