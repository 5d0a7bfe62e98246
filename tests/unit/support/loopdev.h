/* SPDX-License-Identifier: MIT */
/* Loop devices for the unit tests that need a real block device (the tests run as root):
 * a file attached with `losetup -f --show`, detached by the test when it is done. */
#ifndef TESTS_LOOPDEV_H
#define TESTS_LOOPDEV_H

#include <stddef.h>

/* Attaches file to a free loop device; dev (devsz bytes) gets its node, e.g. /dev/loop3.
 * Returns 0, or -1 (dev then "") with the reason on stderr. */
int loopdev_attach(const char *file, char *dev, size_t devsz);
/* Detaches dev (losetup -d) and empties it; a no-op on "". */
void loopdev_detach(char *dev);

#endif
