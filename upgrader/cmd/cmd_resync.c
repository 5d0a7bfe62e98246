/* SPDX-License-Identifier: MIT */
/* `upgrader resync [RULE] [--timeout S]`: one resync now, of the stored Profile_Rule.._D or
 * of RULE alone (the /admin/resync?URL path), printed line by line as it went. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/commands.h"
#include "cmd/signals.h"
#include "cmd/via_daemon.h"
#include "common/jsonfile.h"
#include "resync/resync.h"

/* A running daemon runs the resync (queued, one at a time) and answers with its lines. */
static ug_err through_daemon(const char *root, const struct resync_options *o, int *handled,
                             char *err)
{
    json_object *req = json_object_new_object(), *reply = NULL;
    if (!req)
        return ug_oom(err);
    jsonfile_set_string(req, "cmd", "resync");
    jsonfile_set_string(req, "rule", o->rule);
    jsonfile_set_int(req, "timeout_ms", o->timeout_ms);
    ug_err rc = via_daemon(root, req, -1, handled, &reply, err);
    if (*handled) {
        fputs(jsonfile_get_string(reply, "log", ""), stdout);
        const char *summary = jsonfile_get_string(reply, "summary", "");
        if (summary[0])
            printf("%s\n", summary);
    }
    json_object_put(reply);
    return rc;
}

ug_err cmd_resync(const char *root, int argc, char **argv, char *err)
{
    struct resync_options o;
    resync_options_init(&o);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
            char *end = NULL;
            errno = 0;
            long s = strtol(argv[++i], &end, 10);
            if (errno || *end || end == argv[i] || s < 1 || s > 86400)
                return ug_fail(err, UG_ERR_USAGE, "--timeout '%s' is not 1..86400 seconds",
                               argv[i]);
            o.timeout_ms = s * 1000;
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            return ug_fail(err, UG_ERR_USAGE, "unknown or incomplete option '%s'", argv[i]);
        } else if (!o.rule) {
            o.rule = argv[i];
        } else {
            return ug_fail(err, UG_ERR_USAGE, "one RULE only (quote it): unexpected '%s'", argv[i]);
        }
    }
    int handled = 0;
    ug_err rc = through_daemon(root, &o, &handled, err);
    if (handled)
        return rc;
    struct session s;
    rc = signals_open_session(root, &s, err);
    if (rc != UG_OK)
        return rc;
    struct resync_report report;
    rc = resync_run(&s, &o, &report, err);
    session_close(&s);
    if (report.log.data)
        fputs(report.log.data, stdout);
    if (report.reason[0]) {
        if (rc == UG_OK)
            printf("resync ok (%s): state %s\n", report.reason, provstate_name(report.state));
        else
            printf("resync failed (%s): state %s, LED %s\n", report.reason,
                   provstate_name(report.state), report.led);
    }
    resync_report_free(&report);
    return rc;
}
