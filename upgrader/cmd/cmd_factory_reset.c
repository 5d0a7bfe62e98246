/* SPDX-License-Identifier: MIT */
/* `upgrader factory-reset`: back to MFG-RESET with every parameter at its default, unless
 * the provider's profile set Protect_Factory_Reset=Yes. */
#include <stdio.h>

#include "cmd/commands.h"
#include "resync/factory_reset.h"
#include "session/session.h"

ug_err cmd_factory_reset(const char *root, int argc, char **argv, char *err)
{
    if (argc > 1)
        return ug_fail(err, UG_ERR_USAGE, "factory-reset takes no arguments (got '%s')", argv[1]);
    struct session s;
    ug_err rc = session_open(root, NULL, &s, err);
    if (rc != UG_OK)
        return rc;
    rc = factory_reset(&s, err);
    session_close(&s);
    if (rc == UG_OK)
        printf("factory reset: every parameter at its default, state MFG-RESET\n");
    return rc;
}
