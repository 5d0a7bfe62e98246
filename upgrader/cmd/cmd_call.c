/* SPDX-License-Identifier: MIT */
/* `upgrader call start|end|status`: the SIP stack tells the agent when calls begin and end;
 * reboots wait until no call is active. */
#include <stdio.h>
#include <string.h>

#include "cmd/commands.h"
#include "cmd/via_daemon.h"
#include "device/call.h"
#include "session/session.h"

ug_err cmd_call(const char *root, int argc, char **argv, char *err)
{
    if (argc != 2)
        return ug_fail(err, UG_ERR_USAGE, "usage: upgrader call start|end|status");
    const char *action = argv[1];
    if (strcmp(action, "start") != 0 && strcmp(action, "end") != 0 && strcmp(action, "status") != 0)
        return ug_fail(err, UG_ERR_USAGE, "unknown call action '%s' (start, end or status)",
                       action);
    struct session s;
    ug_err rc = session_open(root, NULL, &s, err);
    if (rc != UG_OK)
        return rc;
    int active = 0;
    if (strcmp(action, "start") == 0)
        rc = call_start(&s.folder, &active, err);
    else if (strcmp(action, "end") == 0)
        rc = call_end(&s.folder, &active, err);
    else
        rc = call_active_count(&s.folder, &active, err);
    session_close(&s);
    /* The counter is the file, changed above under its lock either way; a running daemon
     * is told at once so that a waiting reboot or a paused download follows. */
    if (rc == UG_OK && strcmp(action, "status") != 0) {
        json_object *req = json_object_new_object(), *reply = NULL;
        json_object_object_add(req, "cmd", json_object_new_string("call"));
        int handled = 0;
        char ignored[UG_ERRBUF];
        (void)!via_daemon(root, req, 5000, &handled, &reply, ignored);
        json_object_put(reply);
    }
    if (rc == UG_OK)
        printf("%d call%s active\n", active, active == 1 ? "" : "s");
    return rc;
}
