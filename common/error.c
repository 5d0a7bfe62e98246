/* SPDX-License-Identifier: MIT */
/* Error codes and the message buffer: formatting helpers shared by every module.
 * The codes themselves are the exit codes in docs/design.md. */
#include "common/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

ug_err ug_fail(char *err, ug_err code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, UG_ERRBUF, fmt, ap);
        va_end(ap);
    }
    return code;
}

void ug_prefix(char *err, const char *fmt, ...)
{
    if (!err)
        return;
    char joined[UG_ERRBUF];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(joined, sizeof joined, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof joined)
        return;
    /* Truncation of the tail is acceptable: the prefix says where, the start says what. */
    size_t room = sizeof joined - (size_t)n;
    size_t keep = strnlen(err, room - 1);
    memcpy(joined + n, err, keep);
    joined[(size_t)n + keep] = '\0';
    memcpy(err, joined, (size_t)n + keep + 1);
}

const char *ug_err_name(ug_err code)
{
    switch (code) {
    case UG_OK:
        return "ok";
    case UG_ERR_OTHER:
        return "failed";
    case UG_ERR_USAGE:
        return "bad-input";
    case UG_ERR_UNREACHABLE:
        return "unreachable";
    case UG_ERR_UNUSABLE:
        return "unusable";
    case UG_ERR_VERIFY:
        return "verification-failed";
    case UG_ERR_DEFERRED:
        return "deferred";
    case UG_ERR_NO_PATH:
        return "no-path";
    }
    return "unknown";
}

ug_err ug_oom(char *err)
{
    return ug_fail(err, UG_ERR_OTHER, "out of memory");
}
