/* SPDX-License-Identifier: MIT */
/* Identity of the device and the layout of its state folder. The identity file is plain
 * key=value lines so a factory script can write it without this program. */
#include "device/device.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/fsutil.h"

int device_parse_mac(const char *text, char out[13])
{
    int n = 0;
    for (const char *p = text; *p; p++) {
        if (*p == ':' || *p == '-')
            continue;
        if (!isxdigit((unsigned char)*p) || n == 12)
            return -1;
        out[n++] = (char)tolower((unsigned char)*p);
    }
    out[n] = '\0';
    return n == 12 ? 0 : -1;
}

static void copy_field(char *dst, const char *src)
{
    snprintf(dst, DEVICE_FIELD_MAX, "%s", src);
}

ug_err device_load(const struct state_folder *f, struct device *dev, char *err)
{
    memset(dev, 0, sizeof *dev);
    const char *path = state_path(f, STATE_IDENTITY);
    struct buf text = {0};
    ug_err rc = fs_read_state_file(path, 65536, &text, err);
    if (rc != UG_OK) {
        buf_free(&text);
        return ug_fail(err, UG_ERR_OTHER,
                       "%s is not a device state folder (no readable %s); "
                       "create one with 'upgrader --root %s init'",
                       f->root, state_file_name(STATE_IDENTITY), f->root);
    }
    char *save = NULL;
    for (char *line = strtok_r(text.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');
        if (!eq || line[0] == '#')
            continue;
        *eq = '\0';
        const char *key = line, *value = eq + 1;
        if (strcmp(key, "mac") == 0) {
            if (device_parse_mac(value, dev->mac) != 0) {
                rc = ug_fail(err, UG_ERR_OTHER, "%s: invalid mac '%s'", path, value);
                break;
            }
        } else if (strcmp(key, "serial") == 0) {
            copy_field(dev->serial, value);
        } else if (strcmp(key, "product") == 0) {
            copy_field(dev->product, value);
        } else if (strcmp(key, "psn") == 0) {
            copy_field(dev->psn, value);
        } else if (strcmp(key, "hwver") == 0) {
            copy_field(dev->hwver, value);
        }
    }
    buf_free(&text);
    if (rc == UG_OK && !dev->mac[0])
        rc = ug_fail(err, UG_ERR_OTHER, "%s: no mac= line", path);
    return rc;
}

/* One key=value line each: a value may hold no line break (it would add a line, a key of its
 * own) nor any other control character. */
static ug_err check_field(const char *key, const char *value, char *err)
{
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return ug_fail(err, UG_ERR_USAGE, "the %s holds a control character (0x%02x)", key, *p);
    return UG_OK;
}

ug_err device_check_identity(const struct device *dev, char *err)
{
    ug_err rc = check_field("serial", dev->serial, err);
    if (rc == UG_OK)
        rc = check_field("product", dev->product, err);
    if (rc == UG_OK)
        rc = check_field("psn", dev->psn, err);
    if (rc == UG_OK)
        rc = check_field("hwver", dev->hwver, err);
    return rc;
}

ug_err device_save_identity(const struct state_folder *f, const struct device *dev, char *err)
{
    const char *path = state_path(f, STATE_IDENTITY);
    struct buf text = {0};
    ug_err rc = device_check_identity(dev, err);
    if (rc != UG_OK)
        return rc;
    if (buf_printf(&text, "mac=%s\nserial=%s\nproduct=%s\npsn=%s\nhwver=%s\n", dev->mac,
                   dev->serial, dev->product, dev->psn, dev->hwver) != 0)
        rc = ug_oom(err);
    else
        rc = fs_write_atomic(path, text.data, text.len, 0644, err);
    buf_free(&text);
    return rc;
}
