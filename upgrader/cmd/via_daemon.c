/* SPDX-License-Identifier: MIT */
/* A command's request handed to the running daemon, and its answer turned back into the
 * command's exit code and message. */
#include "cmd/via_daemon.h"

#include <stdio.h>

#include "common/jsonfile.h"
#include "daemon/control.h"
#include "device/folder.h"

ug_err via_daemon(const char *root, json_object *req, int timeout_ms, int *handled,
                  json_object **reply, char *err)
{
    struct state_folder f;
    *handled = 0;
    *reply = NULL;
    ug_err rc = state_folder_open(root, &f, err);
    if (rc == UG_OK) {
        rc = control_call(state_path(&f, STATE_CONTROL), req, timeout_ms, handled, reply, err);
        state_folder_close(&f);
    }
    json_object_put(req);
    if (rc != UG_OK || !*handled)
        return rc;
    rc = (ug_err)jsonfile_get_int(*reply, "rc", UG_ERR_OTHER);
    if (rc != UG_OK)
        snprintf(err, UG_ERRBUF, "%s", jsonfile_get_string(*reply, "error", "the daemon failed"));
    return rc;
}
