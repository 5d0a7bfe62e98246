/* SPDX-License-Identifier: MIT */
/* The cancel flag of the command line: set from a signal handler, read by the work. */
#include "cmd/signals.h"

#include <string.h>

static volatile sig_atomic_t cancelled;

static void on_signal(int sig)
{
    cancelled = 1;
    /* The next one is not caught: an operator who presses ^C twice means it. */
    signal(sig, SIG_DFL);
}

ug_err signals_open_session(const char *root, struct session *s, char *err)
{
    struct session_options o = {.cancel = signals_cancel_flag()};
    return session_open(root, &o, s, err);
}

const volatile sig_atomic_t *signals_cancel_flag(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    return &cancelled;
}
