/* SPDX-License-Identifier: MIT */
/* Where the agent's messages go: a sink chosen by the program (stderr for the command line,
 * syslog for the daemon). Modules below the commands never print; they log to a sink. */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

enum log_level {
    LOG_LEVEL_ERROR,
    LOG_LEVEL_WARNING,
    LOG_LEVEL_INFO
};

struct log_sink {
    /* Receives one message without a trailing newline. */
    void (*write)(void *ctx, enum log_level level, const char *message);
    void *ctx;
};

/* "upgrader: message" on stderr, one line each. */
extern const struct log_sink log_stderr;

/* syslog(3), facility daemon, ident "upgrader" with the PID: a daemon's log. */
extern const struct log_sink log_syslog;

/* Formats one message and hands it to sink (NULL: log_stderr). */
void log_msg(const struct log_sink *sink, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The level's name ("error", "warning", "info"). */
const char *log_level_name(enum log_level level);

#endif
