/* SPDX-License-Identifier: MIT */
/* Log sinks: a message is formatted once here; a sink only places the finished line. */
#include "common/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#define LOG_LINE_MAX 1024

static void write_stderr(void *ctx, enum log_level level, const char *message)
{
    (void)ctx;
    if (level == LOG_LEVEL_INFO)
        fprintf(stderr, "upgrader: %s\n", message);
    else
        fprintf(stderr, "upgrader: %s: %s\n", log_level_name(level), message);
}

const struct log_sink log_stderr = {write_stderr, NULL};

static pthread_once_t syslog_once = PTHREAD_ONCE_INIT;

static void open_syslog(void)
{
    openlog("upgrader", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

static void write_syslog(void *ctx, enum log_level level, const char *message)
{
    (void)ctx;
    pthread_once(&syslog_once, open_syslog);
    int priority = level == LOG_LEVEL_ERROR     ? LOG_ERR
                   : level == LOG_LEVEL_WARNING ? LOG_WARNING
                                                : LOG_INFO;
    syslog(priority, "%s", message);
}

const struct log_sink log_syslog = {write_syslog, NULL};

const char *log_level_name(enum log_level level)
{
    switch (level) {
    case LOG_LEVEL_ERROR:
        return "error";
    case LOG_LEVEL_WARNING:
        return "warning";
    case LOG_LEVEL_INFO:
        return "info";
    }
    return "?";
}

void log_msg(const struct log_sink *sink, enum log_level level, const char *fmt, ...)
{
    char line[LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (!sink)
        sink = &log_stderr;
    sink->write(sink->ctx, level, line);
}
