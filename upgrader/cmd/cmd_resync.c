/* SPDX-License-Identifier: MIT */
/* `upgrader resync [RULE] [--timeout S]`: one resync now, of the stored Profile_Rule.._D or
 * of RULE alone (the /admin/resync?URL path), printed line by line as it went. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/commands.h"
#include "cmd/signals.h"
#include "resync/resync.h"

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
    struct session s;
    ug_err rc = signals_open_session(root, &s, err);
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
