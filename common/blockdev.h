/* SPDX-License-Identifier: MIT */
/* Block devices named the way fstab and the kernel command line name them: a path, or a tag
 * (PARTLABEL=, PARTUUID=, LABEL=, UUID=) found through libblkid, which needs no udev. */
#ifndef UPGRADER_BLOCKDEV_H
#define UPGRADER_BLOCKDEV_H

#include <stddef.h>

#include "common/error.h"

/* 1 if spec is a tag (PARTLABEL=, PARTUUID=, LABEL=, UUID=) rather than a path. */
int blockdev_is_tag(const char *spec);
/* The device path that spec names into out: a path as it is, a tag looked up by libblkid.
 * UG_ERR_OTHER when no device carries the tag (or the path does not fit). */
ug_err blockdev_resolve(const char *spec, char *out, size_t outsz, char *err) UG_MUST_CHECK;

#endif
