/* SPDX-License-Identifier: MIT */
/* `upgrader dhcp [--option66 V] [--option150 V] [--option159 V] [--option160 V]`: what the
 * DHCP client hooks (upgrader/dhcp/) call on each lease to record the provisioning server. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/commands.h"
#include "resync/dhcp.h"
#include "session/session.h"

ug_err cmd_dhcp(const char *root, int argc, char **argv, char *err)
{
    static const struct option options[] = {
        {"option66", required_argument, NULL, 66},
        {"option150", required_argument, NULL, 150},
        {"option159", required_argument, NULL, 159},
        {"option160", required_argument, NULL, 160},
        {NULL, 0, NULL, 0},
    };
    struct dhcp_servers s;
    memset(&s, 0, sizeof s);
    opterr = 0;
    optind = 1;
    int opt;
    ug_err rc = UG_OK;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        char *slot = opt == 66    ? s.option66
                     : opt == 150 ? s.option150
                     : opt == 159 ? s.option159
                     : opt == 160 ? s.option160
                                  : NULL;
        if (!slot)
            return ug_fail(err, UG_ERR_USAGE, "unknown or incomplete option '%s'",
                           argv[optind - 1]);
        if ((rc = dhcp_normalise(opt, optarg, slot, DHCP_SERVER_MAX, err)) != UG_OK)
            return rc;
    }
    if (optind < argc)
        return ug_fail(err, UG_ERR_USAGE, "unexpected argument '%s'", argv[optind]);
    struct session session;
    if ((rc = session_open(root, NULL, &session, err)) != UG_OK)
        return rc;
    rc = dhcp_record(&session.folder, &s, err);
    char chosen[DHCP_SERVER_MAX];
    int option =
        dhcp_choose(&s, params_value(&session.params, "DHCP_Option_To_Use"), chosen, sizeof chosen);
    session_close(&session);
    if (rc != UG_OK)
        return rc;
    if (option)
        printf("default provisioning server: %s (DHCP option %d)\n", chosen, option);
    else
        printf("no provisioning server from DHCP\n");
    return UG_OK;
}
