/* SPDX-License-Identifier: MIT */
/* Macro expansion of rules, options, conditions and Log_* templates: $NAME, $(NAME),
 * $(NAME:p), $(NAME:p:q) and $$, with the names of docs/provisioning.md section 2. */
#ifndef UPGRADER_MACRO_H
#define UPGRADER_MACRO_H

#include "common/buf.h"
#include "common/error.h"
#include "device/device.h"

#define MACRO_MAX_VARS      48
#define MACRO_NAME_MAX      24
/* The longest text one expansion may produce (bytes), checked as it grows: four times the
 * longest parameter value, far beyond any URL or condition, so a rule naming a long macro
 * thousands of times fails at once instead of building hundreds of megabytes. */
#define MACRO_EXPANSION_MAX (256u << 10)

/* Reads a parameter's current value by its name ("GPP_A", "User_ID_1_"); NULL = unknown. */
typedef const char *(*macro_param_fn)(void *opaque, const char *name);

struct macro_var {
    char name[MACRO_NAME_MAX];
    char *value;
};

/* What the macros expand to. The caller fills it: identity from device.h, parameters
 * through `param`, and the state macros ($SWVER, $PRVST, $UPGST, $UPGERR, $PRVTMR,
 * $UPGTMR, $SCHEME, $SERV, $SERVIP, $PORT, $PATH, $ERR, $IP, $CCERT ...) with macro_set(). */
struct macro_context {
    const struct device *device; /* $MA $MAU $MAC $SN $PN $PSN $HWVER; may be NULL */
    macro_param_fn param;        /* $A..$P, $SA..$SD, $UIDn; may be NULL */
    void *param_opaque;
    int nvars;
    struct macro_var vars[MACRO_MAX_VARS];
};

/* Expand $SA..$SD (GPP_SA..GPP_SD): only for arguments of --key, --uid and --pwd. */
#define MACRO_SECRETS 0x1u

/* Zeroes ctx and points it at device (may be NULL) and a parameter reader (may be NULL). */
void macro_init(struct macro_context *ctx, const struct device *device, macro_param_fn param,
                void *opaque);
/* Sets (or replaces) a state macro by its name without '$' ("PRVST"); value is copied. */
ug_err macro_set(struct macro_context *ctx, const char *name, const char *value,
                 char *err) UG_MUST_CHECK;
/* Frees the values macro_set copied. */
void macro_free(struct macro_context *ctx);
/* 1 if name (without '$') is a macro of docs/provisioning.md section 2, else 0. */
int macro_is_known(const char *name);
/* Appends the expansion of text to out: once, never recursively; unknown names stay
 * verbatim; a known macro with no value expands to "". UG_ERR_USAGE with the column of
 * a malformed $( form, or when the expansion would pass MACRO_EXPANSION_MAX. */
ug_err macro_expand(const struct macro_context *ctx, const char *text, unsigned flags,
                    struct buf *out, char *err) UG_MUST_CHECK;
/* macro_expand of a span (text, len), columns in errors counted from column_base (1-based). */
ug_err macro_expand_span(const struct macro_context *ctx, const char *text, size_t len,
                         unsigned flags, size_t column_base, struct buf *out,
                         char *err) UG_MUST_CHECK;

#endif
