/* SPDX-License-Identifier: MIT */
/* One error code for the whole agent, mapped one-to-one onto the exit codes of docs/design.md,
 * plus the one message buffer that the place which first knows what went wrong fills. */
#ifndef UPGRADER_ERROR_H
#define UPGRADER_ERROR_H

#include <stddef.h>

/* The values are the process exit codes: main() returns them unchanged. */
typedef enum {
    UG_OK = 0,
    UG_ERR_OTHER = 1,       /* failed for another reason */
    UG_ERR_USAGE = 2,       /* bad usage or bad input (rule, profile, manifest, URL) */
    UG_ERR_UNREACHABLE = 3, /* resolve, connect, timeout, TLS */
    UG_ERR_UNUSABLE = 4,    /* server answered, file missing or unusable */
    UG_ERR_VERIFY = 5,      /* signature, digest, size, product/hardware, downgrade */
    UG_ERR_DEFERRED = 6,    /* a call is active; the work waits for idle */
    UG_ERR_NO_PATH = 7,     /* the target cannot be reached from the running version */
} ug_err;

#define UG_MUST_CHECK __attribute__((warn_unused_result))

/* Every function that can fail takes `char *err` pointing at UG_ERRBUF bytes. */
#define UG_ERRBUF 512

/* Writes the formatted message into err (if err is not NULL) and returns code,
 * so that a failure is reported in one line: `return ug_fail(err, UG_ERR_USAGE, "...")`. */
ug_err ug_fail(char *err, ug_err code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prefixes an existing message with more context ("resync: " + message). */
void ug_prefix(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The one out-of-memory failure: UG_ERR_OTHER, "out of memory". */
ug_err ug_oom(char *err);

/* A short stable name for the code, for status --json and logs ("unreachable"). */
const char *ug_err_name(ug_err code);

#endif
