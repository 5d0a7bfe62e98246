/* SPDX-License-Identifier: MIT */
/* `upgrader call start|end|status`: the SIP stack tells the agent when calls begin and end;
 * reboots wait until no call is active. */
#include <stdio.h>
#include <string.h>

#include "cmd/commands.h"
#include "device/call.h"
#include "device/device.h"

ug_err cmd_call(const char *root, int argc, char **argv, char *err)
{
    if (argc != 2)
        return ug_fail(err, UG_ERR_USAGE, "usage: upgrader call start|end|status");
    struct device dev;
    ug_err rc = device_load(root, &dev, err);
    if (rc != UG_OK)
        return rc;
    int active = 0;
    if (strcmp(argv[1], "start") == 0)
        rc = call_start(root, &active, err);
    else if (strcmp(argv[1], "end") == 0)
        rc = call_end(root, &active, err);
    else if (strcmp(argv[1], "status") == 0)
        rc = call_active_count(root, &active, err);
    else
        return ug_fail(err, UG_ERR_USAGE, "unknown call action '%s' (start, end or status)",
                       argv[1]);
    if (rc == UG_OK)
        printf("%d call%s active\n", active, active == 1 ? "" : "s");
    return rc;
}
