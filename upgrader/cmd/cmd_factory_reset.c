/* SPDX-License-Identifier: MIT */
/* `upgrader factory-reset`: back to MFG-RESET with every parameter at its default, unless
 * the provider's profile set Protect_Factory_Reset=Yes. */
#include <stdio.h>

#include "cmd/commands.h"
#include "device/device.h"
#include "resync/resync.h"

ug_err cmd_factory_reset(const char *root, int argc, char **argv, char *err)
{
    if (argc > 1)
        return ug_fail(err, UG_ERR_USAGE, "factory-reset takes no arguments (got '%s')", argv[1]);
    struct device dev;
    ug_err rc = device_load(root, &dev, err);
    if (rc == UG_OK)
        rc = resync_factory_reset(root, err);
    if (rc == UG_OK)
        printf("factory reset: every parameter at its default, state MFG-RESET\n");
    return rc;
}
