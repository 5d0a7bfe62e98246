/* SPDX-License-Identifier: MIT */
/* Conditions of rules and Resync_Trigger_*: comparisons joined by `and`, on integers,
 * versions (version.h) and quoted strings, as docs/provisioning.md 1.5 and 1.6 define them. */
#ifndef UPGRADER_COND_H
#define UPGRADER_COND_H

#include <stddef.h>

#include "common/error.h"
#include "lang/macro.h"

/* Evaluates expr with its macros expanded from ctx; *result is 1 (true) or 0.
 * UG_ERR_USAGE "column N: why" when it is malformed or compares mismatched types. */
ug_err cond_eval(const char *expr, const struct macro_context *ctx, int *result,
                 char *err) UG_MUST_CHECK;
/* Same on text[start..end), with columns counted in the whole text (for rules). */
ug_err cond_eval_span(const char *text, size_t start, size_t end, const struct macro_context *ctx,
                      int *result, char *err) UG_MUST_CHECK;
/* Checks expr's structure only (macros not expanded, types not compared): the validator
 * of Resync_Trigger_* values. */
ug_err cond_check_syntax(const char *expr, char *err) UG_MUST_CHECK;
/* cond_check_syntax on text[start..end), columns counted in the whole text. */
ug_err cond_check_span(const char *text, size_t start, size_t end, char *err) UG_MUST_CHECK;

#endif
