/* SPDX-License-Identifier: MIT */
/* `upgrader boot`: what runs once at every boot, after the bootloader chose a slot: confirm
 * a new release (health check, mark good, next hop) or report the rollback from it. */
#include <stdio.h>
#include <string.h>

#include "cmd/commands.h"
#include "upgrade/upgrade.h"

ug_err cmd_boot(const char *root, int argc, char **argv, char *err)
{
    struct upgrade_options o = {0};
    if (argc == 2 && strcmp(argv[1], "--no-reboot") == 0)
        o.no_reboot = 1;
    else if (argc != 1)
        return ug_fail(err, UG_ERR_USAGE, "usage: upgrader boot [--no-reboot]");
    struct upgrade_outcome out;
    ug_err rc = upgrade_boot(root, &o, &out, err);
    if (out.summary[0])
        printf("boot: %s\n", out.summary);
    return rc;
}
