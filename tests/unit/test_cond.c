/* SPDX-License-Identifier: MIT */
/* Unit tests of conditions (cond.c): every operator on integers, versions and quoted
 * strings, `and`, macros, the examples of docs/provisioning.md 1.5/1.6, and malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lang/cond.h"

struct cond_case {
    const char *expr;
    int expected;
};

static const struct cond_case cases[] = {
    /* integers, every operator both ways */
    {"1 = 1", 1},
    {"1 = 2", 0},
    {"1 eq 1", 1},
    {"2 eq 1", 0},
    {"1 != 2", 1},
    {"1 != 1", 0},
    {"1 ne 2", 1},
    {"3 ne 3", 0},
    {"1 < 2", 1},
    {"2 < 2", 0},
    {"1 lt 2", 1},
    {"2 lt 1", 0},
    {"2 <= 2", 1},
    {"3 <= 2", 0},
    {"2 le 2", 1},
    {"3 le 2", 0},
    {"3 > 2", 1},
    {"2 > 2", 0},
    {"3 gt 2", 1},
    {"2 gt 3", 0},
    {"2 >= 2", 1},
    {"1 >= 2", 0},
    {"2 ge 2", 1},
    {"1 ge 2", 0},
    {"-1 lt 0", 1},
    {"-1 eq $PRVST", 1},
    {"10 gt 9", 1},
    {"007 eq 7", 1},
    {"1<2", 1},
    {"2>=3", 0},
    {"1!=1", 0},
    {"EQ", -1},
    /* versions: dotted, SPA and Cisco loads (docs/provisioning.md 1.6) */
    {"9.4.2 lt 10.0.0", 1},
    {"11.0.10 gt 11.0.9", 1},
    {"1.0 eq 1.0.0", 1},
    {"1.0.31(b) > 1.0.31(a)", 1},
    {"2.0.3(0412s) ge 2.0.3", 1},
    {"1.0.33 != 1.0.33", 0},
    {"sip88xx.11-0-0MPP-BN > sip88xx.9-3-1-7MPP-BN", 1},
    {"sipyyyy.11-3-2MPP0002-256 > sipyyyy.11-3-2MPP0001-609", 1},
    {"sip88xx.11-1-1MSR-1dev.loads eq sip8845_65.11-1-1MSR-1dev.loads", 1},
    {"$SWVER ge sip78xx.11-0-0MPP-7", 1},
    {"$SWVER lt sip78xx.11-0-0MPP-7", 0},
    {"$SWVER ge sip78xx.11-2-1MES-3", 0},
    {"$SWVER = 11-1-0MPP-19", 1},
    {"PHONEOS-8875.1-0-1-0001-1.loads < PHONEOS-8875.1-0-1-0001-2.loads", 1},
    {"300 lt 1.2.3", 0},
    /* quoted strings: eq and ne only */
    {"\"abc\" eq \"abc\"", 1},
    {"\"abc\" = \"abd\"", 0},
    {"\"abc\" ne \"abd\"", 1},
    {"\"a\" != \"a\"", 0},
    {"\"$EXTIP\" ne \"\"", 0},
    {"\"$EXTIP\" eq \"\"", 1},
    {"\"$A\" ne \"Provisioned\"", 1},
    {"\"$B\" eq \"Provisioned\"", 1},
    {"\"$SWVER\" eq \"sip78xx.11-1-0MPP-19\"", 1},
    {"\"a b\" eq \"a b\"", 1},
    {"\"10\" eq \"010\"", 0},
    /* and: all must hold; AND accepted */
    {"$UPGTMR gt 300 and $PRVTMR ge 600", 1},
    {"$UPGTMR gt 300 and $PRVTMR ge 601", 0},
    {"1 eq 1 AND 2 eq 2 and 3 eq 3", 1},
    {"1 eq 1 and 2 eq 3 and 3 eq 3", 0},
    {"$REGTMR1 gt 300", 1},
    /* legacy SPA: no left operand compares $SWVER, lone ! is != */
    {"! 11-1-0MPP-19", 0},
    {"! 11-1-0MPP-20", 1},
    {"ge 11-0-0MPP-1", 1},
};

static void fill(struct macro_context *ctx)
{
    char err[UG_ERRBUF];
    macro_init(ctx, NULL, NULL, NULL);
    static const char *const vars[][2] = {
        {"SWVER", "sip78xx.11-1-0MPP-19"},
        {"PRVST", "-1"},
        {"UPGTMR", "301"},
        {"PRVTMR", "600"},
        {"REGTMR1", "301"},
        {"A", "new"},
        {"B", "Provisioned"},
    };
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        assert_int_equal(macro_set(ctx, vars[i][0], vars[i][1], err), UG_OK);
}

static void test_eval(void **state)
{
    (void)state;
    struct macro_context ctx;
    fill(&ctx);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct cond_case *c = &cases[i];
        int result = 42;
        char err[UG_ERRBUF] = "";
        ug_err rc = cond_eval(c->expr, &ctx, &result, err);
        if (c->expected < 0) {
            if (rc != UG_ERR_USAGE)
                fail_msg("'%s' accepted", c->expr);
            continue;
        }
        if (rc != UG_OK)
            fail_msg("'%s': %s", c->expr, err);
        if (result != c->expected)
            fail_msg("'%s' = %d, expected %d", c->expr, result, c->expected);
        assert_int_equal(cond_check_syntax(c->expr, err), UG_OK);
    }
    macro_free(&ctx);
}

struct bad_case {
    const char *expr;
    const char *message;
};

static const struct bad_case bad[] = {
    {"", "column 1: empty condition"},
    {"   ", "column 4: empty condition"},
    {"1 eq", "column 5: expected a value after 'eq'"},
    {"1 2", "column 3: expected an operator (= != < <= > >= eq ne lt le gt ge) after '1'"},
    {"1 eq 1 and", "column 11: expected a comparison after 'and'"},
    {"1 eq 1 or 2 eq 2", "column 8: expected 'and' or the end of the condition, found 'or'"},
    {"and 1 eq 1", "column 1: expected a value before 'and'"},
    {"1 eq \"abc", "column 6: quoted string is not closed"},
    {"\"a\" lt \"b\"", "column 5: quoted strings compare only with eq/= or ne/!="},
    {"\"a\" ge \"b\"", "column 5: quoted strings compare only with eq/= or ne/!="},
    {"\"1\" eq 1",
     "column 5: cannot compare a quoted string with an unquoted value (quote both for a string compare)"},
    {"11.0.0 lt sip88xx.11-0-0MPP-BN",
     "column 8: format parsing error: '11.0.0' and 'sip88xx.11-0-0MPP-BN' are versions of different formats"},
    {"abc eq 1", "column 1: 'abc' is neither a number nor a version (quote strings)"},
    {"1 eq x.y", "column 6: 'x.y' is neither a number nor a version (quote strings)"},
    {"1 eq 1 and 2 lt \"b\"",
     "column 14: cannot compare a quoted string with an unquoted value (quote both for a string compare)"},
    {"$(A:x) eq 1", "column 5: expected an offset after ':' in $(A"},
};

static void test_malformed(void **state)
{
    (void)state;
    struct macro_context ctx;
    fill(&ctx);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int result = 0;
        char err[UG_ERRBUF] = "";
        assert_int_equal(cond_eval(bad[i].expr, &ctx, &result, err), UG_ERR_USAGE);
        if (strcmp(err, bad[i].message) != 0)
            fail_msg("'%s': message '%s', expected '%s'", bad[i].expr, err, bad[i].message);
    }
    macro_free(&ctx);
}

static void test_syntax_only(void **state)
{
    (void)state;
    char err[UG_ERRBUF];
    /* Structure is checked, types are not: values are only known at evaluation. */
    assert_int_equal(cond_check_syntax("$UPGTMR gt 300 and $PRVTMR ge 600", err), UG_OK);
    assert_int_equal(cond_check_syntax("\"$A\" lt \"b\"", err), UG_OK);
    assert_int_equal(cond_check_syntax("1 eq", err), UG_ERR_USAGE);
    assert_int_equal(cond_check_syntax("1 eq 2 or 3", err), UG_ERR_USAGE);
    /* Columns of a span count in the whole text. */
    int result;
    assert_int_equal(cond_eval_span("( 1 eq )?", 1, 7, NULL, &result, err), UG_ERR_USAGE);
    assert_string_equal(err, "column 8: expected a value after 'eq'");
    assert_int_equal(cond_eval_span("xx 2 gt 1 yy", 3, 9, NULL, &result, err), UG_OK);
    assert_int_equal(result, 1);
}

/* A bare operand that expands to nothing makes its comparison false, never an error: Cisco's
 * own rules ($PRVTMR ge 600, $UPGTMR gt 300) must evaluate on any device. */
static void test_empty_operand(void **state)
{
    (void)state;
    static const char *const exprs[] = {
        "$EXTIP ne 1",
        "$EXTIP eq 1",
        "1 lt $EXTIP",
        "$PRVTMR ge 600",
        "$UPGTMR gt 300 and $PRVTMR ge 600",
        "$REGTMR1 gt 300",
        "1 eq 1 and $EXTIP ne 2",
    };
    struct macro_context ctx;
    macro_init(&ctx, NULL, NULL, NULL);
    for (size_t i = 0; i < sizeof exprs / sizeof exprs[0]; i++) {
        int result = 1;
        char err[UG_ERRBUF] = "";
        if (cond_eval(exprs[i], &ctx, &result, err) != UG_OK)
            fail_msg("'%s': %s", exprs[i], err);
        if (result != 0)
            fail_msg("'%s' held with an empty operand", exprs[i]);
    }
    /* Quoted, the empty string is a value like any other. */
    int result = 0;
    char err[UG_ERRBUF];
    assert_int_equal(cond_eval("\"$EXTIP\" eq \"\"", &ctx, &result, err), UG_OK);
    assert_int_equal(result, 1);
    /* With the timers set, Cisco's Resync_Trigger example evaluates. */
    assert_int_equal(macro_set(&ctx, "UPGTMR", "400", err), UG_OK);
    assert_int_equal(macro_set(&ctx, "PRVTMR", "900", err), UG_OK);
    assert_int_equal(cond_eval("$UPGTMR gt 300 and $PRVTMR ge 600", &ctx, &result, err), UG_OK);
    assert_int_equal(result, 1);
    /* "7.6.2.a" is a format error, not a version equal to or above 7.6.2. */
    assert_int_equal(cond_eval("7.6.2.a eq 7.6.2", &ctx, &result, err), UG_ERR_USAGE);
    assert_string_equal(err, "column 1: '7.6.2.a' is neither a number nor a version (quote "
                             "strings)");
    assert_int_equal(cond_eval("7.6.2a gt 7.6.2", &ctx, &result, err), UG_OK);
    assert_int_equal(result, 1);
    macro_free(&ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eval),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_syntax_only),
        cmocka_unit_test(test_empty_operand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
