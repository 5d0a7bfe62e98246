/* SPDX-License-Identifier: MIT */
/* Loop devices for unit tests through losetup(8): attach a file, detach it again. */
#include "loopdev.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int loopdev_attach(const char *file, char *dev, size_t devsz)
{
    char cmd[600];
    dev[0] = '\0';
    if (snprintf(cmd, sizeof cmd, "losetup -f --show '%s'", file) >= (int)sizeof cmd)
        return -1;
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    if (!fgets(dev, (int)devsz, p))
        dev[0] = '\0';
    int status = pclose(p);
    dev[strcspn(dev, "\n")] = '\0';
    if (status != 0 || strncmp(dev, "/dev/", 5) != 0) {
        fprintf(stderr, "loopdev: '%s' failed (%d): '%s'\n", cmd, status, dev);
        dev[0] = '\0';
        return -1;
    }
    return 0;
}

void loopdev_detach(char *dev)
{
    char cmd[300];
    if (!dev[0])
        return;
    snprintf(cmd, sizeof cmd, "losetup -d '%s'", dev);
    if (system(cmd) != 0)
        fprintf(stderr, "loopdev: '%s' failed\n", cmd);
    dev[0] = '\0';
}
