/* SPDX-License-Identifier: MIT */
/* `upgrader daemon [--pidfile FILE] [--log stderr|syslog] [--listen ADDR:PORT|off]`: the long-running agent in the
 * foreground, for systemd or any supervisor (docs/daemon.md). */
#include <string.h>

#include "cmd/commands.h"
#include "daemon/daemon.h"

ug_err cmd_daemon(const char *root, int argc, char **argv, char *err)
{
    struct daemon_options o = {.root = root, .log = &log_stderr};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--pidfile") == 0 && i + 1 < argc && argv[i + 1][0]) {
            o.pidfile = argv[++i];
        } else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc && argv[i + 1][0]) {
            o.listen = argv[++i];
        } else if (strcmp(argv[i], "--log") == 0 && i + 1 < argc) {
            const char *sink = argv[++i];
            if (strcmp(sink, "syslog") == 0)
                o.log = &log_syslog;
            else if (strcmp(sink, "stderr") != 0)
                return ug_fail(err, UG_ERR_USAGE, "--log '%s': stderr or syslog", sink);
        } else {
            return ug_fail(err, UG_ERR_USAGE,
                           "unknown or incomplete option '%s' (daemon [--pidfile FILE] "
                           "[--log stderr|syslog] [--listen ADDR:PORT|off])",
                           argv[i]);
        }
    }
    return daemon_run(&o, err);
}
