/* SPDX-License-Identifier: MIT */
/* Condition parsing and evaluation. Each operand is macro-expanded on its own after the
 * structure is parsed, so a macro value with spaces or operators cannot change the
 * structure, and every error points at a column of the text as written. */
#include "lang/cond.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/version.h"

enum cond_op {
    OP_EQ,
    OP_NE,
    OP_LT,
    OP_LE,
    OP_GT,
    OP_GE
};

static const char *const op_names[] = {"eq", "ne", "lt", "le", "gt", "ge"};

enum token_kind {
    TK_END,
    TK_QUOTED,
    TK_BARE,
    TK_OP,
    TK_AND
};

struct token {
    enum token_kind kind;
    size_t pos, len; /* raw text of the token (inside the quotes for TK_QUOTED) */
    enum cond_op op;
};

struct lexer {
    const char *text;
    size_t i, end;
};

static int is_op_char(char c)
{
    return c == '=' || c == '!' || c == '<' || c == '>';
}

static ug_err next_token(struct lexer *lx, struct token *t, char *err)
{
    const char *s = lx->text;
    while (lx->i < lx->end && isspace((unsigned char)s[lx->i]))
        lx->i++;
    memset(t, 0, sizeof *t);
    t->pos = lx->i;
    if (lx->i >= lx->end) {
        t->kind = TK_END;
        return UG_OK;
    }
    char c = s[lx->i];
    if (c == '"') {
        const char *close = memchr(s + lx->i + 1, '"', lx->end - lx->i - 1);
        if (!close)
            return ug_fail(err, UG_ERR_USAGE, "column %zu: quoted string is not closed", lx->i + 1);
        t->kind = TK_QUOTED;
        t->pos = lx->i + 1;
        t->len = (size_t)(close - (s + lx->i + 1));
        lx->i = (size_t)(close - s) + 1;
        return UG_OK;
    }
    if (is_op_char(c)) {
        char d = lx->i + 1 < lx->end ? s[lx->i + 1] : '\0';
        t->kind = TK_OP;
        if (d == '=' && c != '=') {
            t->op = c == '!' ? OP_NE : c == '<' ? OP_LE : OP_GE;
            t->len = 2;
        } else if (c == '=') {
            t->op = OP_EQ;
            t->len = 1;
        } else {
            /* A lone '!' is the legacy SPA spelling of '!='. */
            t->op = c == '!' ? OP_NE : c == '<' ? OP_LT : OP_GT;
            t->len = 1;
        }
        lx->i += t->len;
        return UG_OK;
    }
    size_t start = lx->i;
    while (lx->i < lx->end && !isspace((unsigned char)s[lx->i]) && s[lx->i] != '"' &&
           !is_op_char(s[lx->i]))
        lx->i++;
    t->len = lx->i - start;
    t->kind = TK_BARE;
    if (t->len == 3 && strncasecmp(s + start, "and", 3) == 0) {
        t->kind = TK_AND;
    } else if (t->len == 2) {
        for (int k = 0; k < 6; k++) {
            if (strncasecmp(s + start, op_names[k], 2) == 0) {
                t->kind = TK_OP;
                t->op = (enum cond_op)k;
            }
        }
    }
    return UG_OK;
}

struct operand {
    int quoted;
    size_t column;
    char *value; /* expanded */
    int raw_len;
    const char *raw;
};

static ug_err expand_operand(const char *text, const struct token *t,
                             const struct macro_context *ctx, struct operand *o, char *err)
{
    struct buf b = {0};
    o->quoted = t->kind == TK_QUOTED;
    o->column = t->kind == TK_QUOTED ? t->pos : t->pos + 1;
    o->raw = text + t->pos;
    o->raw_len = (int)t->len;
    ug_err rc = macro_expand_span(ctx, text + t->pos, t->len, 0, t->pos + 1, &b, err);
    if (rc != UG_OK) {
        buf_free(&b);
        return rc;
    }
    o->value = b.data;
    return UG_OK;
}

static int parse_int(const char *s, long long *out)
{
    const char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    if (!*p)
        return -1;
    for (; *p; p++)
        if (!isdigit((unsigned char)*p))
            return -1;
    errno = 0;
    *out = strtoll(s, NULL, 10);
    return errno ? -1 : 0;
}

static int apply_op(enum cond_op op, int cmp)
{
    switch (op) {
    case OP_EQ:
        return cmp == 0;
    case OP_NE:
        return cmp != 0;
    case OP_LT:
        return cmp < 0;
    case OP_LE:
        return cmp <= 0;
    case OP_GT:
        return cmp > 0;
    case OP_GE:
        return cmp >= 0;
    }
    return 0;
}

static ug_err compare(const struct operand *a, enum cond_op op, size_t op_column,
                      const struct operand *b, int *result, char *err)
{
    if (a->quoted != b->quoted)
        return ug_fail(err, UG_ERR_USAGE,
                       "column %zu: cannot compare a quoted string with an unquoted "
                       "value (quote both for a string compare)",
                       op_column);
    if (a->quoted) {
        if (op != OP_EQ && op != OP_NE)
            return ug_fail(err, UG_ERR_USAGE,
                           "column %zu: quoted strings compare only with eq/= or ne/!=", op_column);
        *result = apply_op(op, strcmp(a->value, b->value));
        return UG_OK;
    }
    const struct operand *both[2] = {a, b};
    /* A bare operand that expands to nothing (a macro the device has no value for) makes the
     * comparison false, whatever the operator: a rule guarded by it is not taken. */
    if (!a->value[0] || !b->value[0]) {
        *result = 0;
        return UG_OK;
    }
    long long ia, ib;
    if (parse_int(a->value, &ia) == 0 && parse_int(b->value, &ib) == 0) {
        *result = apply_op(op, ia < ib ? -1 : ia > ib);
        return UG_OK;
    }
    struct version va, vb;
    for (int k = 0; k < 2; k++)
        if (version_parse(both[k]->value, k ? &vb : &va) != 0)
            return ug_fail(err, UG_ERR_USAGE,
                           "column %zu: '%s' is neither a number nor a version "
                           "(quote strings)",
                           both[k]->column, both[k]->value);
    if (va.format != vb.format)
        return ug_fail(err, UG_ERR_USAGE,
                       "column %zu: format parsing error: '%s' and '%s' are versions "
                       "of different formats",
                       op_column, a->value, b->value);
    *result = apply_op(op, version_compare_parsed(&va, &vb));
    return UG_OK;
}

/* ctx NULL: structure only. */
static ug_err evaluate(const char *text, size_t start, size_t end, const struct macro_context *ctx,
                       int *result, char *err)
{
    struct lexer lx = {text, start, end};
    struct token t;
    int all = 1, comparisons = 0;
    ug_err rc = UG_OK;
    struct operand a = {0}, b = {0};
    for (;;) {
        struct token left = {0}, op;
        if ((rc = next_token(&lx, &t, err)) != UG_OK)
            goto out;
        if (t.kind == TK_END)
            rc = ug_fail(err, UG_ERR_USAGE,
                         comparisons ? "column %zu: expected a comparison after 'and'"
                                     : "column %zu: empty condition",
                         t.pos + 1);
        else if (t.kind == TK_AND)
            rc = ug_fail(err, UG_ERR_USAGE, "column %zu: expected a value before 'and'", t.pos + 1);
        if (rc != UG_OK)
            goto out;
        if (t.kind == TK_OP) {
            op = t; /* legacy SPA: a comparison without a left operand compares $SWVER */
        } else {
            left = t;
            if ((rc = next_token(&lx, &op, err)) != UG_OK)
                goto out;
            if (op.kind != TK_OP) {
                rc = ug_fail(err, UG_ERR_USAGE,
                             "column %zu: expected an operator (= != < <= > >= eq ne lt "
                             "le gt ge) after '%.*s'",
                             op.pos + 1, (int)left.len, text + left.pos);
                goto out;
            }
        }
        struct token right;
        if ((rc = next_token(&lx, &right, err)) != UG_OK)
            goto out;
        if (right.kind != TK_QUOTED && right.kind != TK_BARE) {
            rc = ug_fail(err, UG_ERR_USAGE, "column %zu: expected a value after '%.*s'",
                         right.pos + 1, (int)op.len, text + op.pos);
            goto out;
        }
        comparisons++;
        if (ctx) {
            if (left.len == 0 && left.kind != TK_QUOTED) {
                static const char swver[] = "$SWVER";
                struct token implied = {TK_BARE, 0, sizeof swver - 1, OP_EQ};
                rc = expand_operand(swver, &implied, ctx, &a, err);
                a.column = op.pos + 1;
            } else {
                rc = expand_operand(text, &left, ctx, &a, err);
            }
            if (rc == UG_OK)
                rc = expand_operand(text, &right, ctx, &b, err);
            int one = 0;
            if (rc == UG_OK)
                rc = compare(&a, op.op, op.pos + 1, &b, &one, err);
            free(a.value);
            free(b.value);
            a.value = b.value = NULL;
            if (rc != UG_OK)
                goto out;
            all = all && one;
        }
        if ((rc = next_token(&lx, &t, err)) != UG_OK)
            goto out;
        if (t.kind == TK_END)
            break;
        if (t.kind != TK_AND) {
            rc = ug_fail(err, UG_ERR_USAGE,
                         "column %zu: expected 'and' or the end of the condition, "
                         "found '%.*s'",
                         t.pos + 1, (int)(t.len ? t.len : 1), text + t.pos);
            goto out;
        }
    }
    *result = all;
out:
    return rc;
}

ug_err cond_eval_span(const char *text, size_t start, size_t end, const struct macro_context *ctx,
                      int *result, char *err)
{
    static const struct macro_context empty;
    return evaluate(text, start, end, ctx ? ctx : &empty, result, err);
}

ug_err cond_eval(const char *expr, const struct macro_context *ctx, int *result, char *err)
{
    return cond_eval_span(expr, 0, strlen(expr), ctx, result, err);
}

ug_err cond_check_span(const char *text, size_t start, size_t end, char *err)
{
    int ignored = 0;
    return evaluate(text, start, end, NULL, &ignored, err);
}

ug_err cond_check_syntax(const char *expr, char *err)
{
    return cond_check_span(expr, 0, strlen(expr), err);
}
