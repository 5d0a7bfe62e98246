/* SPDX-License-Identifier: MIT */
/* `upgrader daemon`: the long-running agent. One loop owns every timer, signal, socket and
 * call-state source; one worker thread runs the queued jobs (docs/daemon.md). */
#ifndef UPGRADER_DAEMON_DAEMON_H
#define UPGRADER_DAEMON_DAEMON_H

#include "common/error.h"
#include "common/log.h"

struct daemon_options {
    const char *root;           /* the state folder */
    const char *pidfile;        /* written once the folder's lock is held; NULL: none */
    const struct log_sink *log; /* NULL: stderr */
    const char *listen;         /* the web server's ADDR:PORT or "off"; NULL: the parameters */
};

/* Runs the daemon in the foreground until SIGTERM or SIGINT (a running job is cancelled at
 * its next step and stays queued for the next start). UG_ERR_OTHER at once when another
 * daemon holds the folder. */
ug_err daemon_run(const struct daemon_options *o, char *err) UG_MUST_CHECK;

#endif
