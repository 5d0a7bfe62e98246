/* SPDX-License-Identifier: MIT */
/* Device tags resolved through libblkid: it reads the partition tables itself, so a
 * PARTUUID= works in an initramfs or a busybox system without /dev/disk/by-* links. */
#include "common/blockdev.h"

#include <blkid/blkid.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const tags[] = {"PARTLABEL=", "PARTUUID=", "LABEL=", "UUID="};

int blockdev_is_tag(const char *spec)
{
    for (size_t i = 0; spec && i < sizeof tags / sizeof tags[0]; i++)
        if (strncmp(spec, tags[i], strlen(tags[i])) == 0)
            return 1;
    return 0;
}

ug_err blockdev_resolve(const char *spec, char *out, size_t outsz, char *err)
{
    if (!blockdev_is_tag(spec)) {
        if (snprintf(out, outsz, "%s", spec) >= (int)outsz)
            return ug_fail(err, UG_ERR_OTHER, "%.64s...: device path too long", spec);
        return UG_OK;
    }
    blkid_cache cache = NULL;
    char *dev = blkid_evaluate_spec(spec, &cache);
    blkid_put_cache(cache);
    if (!dev)
        return ug_fail(err, UG_ERR_OTHER, "%s: no block device carries this tag", spec);
    int n = snprintf(out, outsz, "%s", dev);
    free(dev);
    if (n < 0 || (size_t)n >= outsz)
        return ug_fail(err, UG_ERR_OTHER, "%s: device path too long", spec);
    return UG_OK;
}
