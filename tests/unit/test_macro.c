/* SPDX-License-Identifier: MIT */
/* Unit tests of macro expansion (macro.c): every macro of docs/provisioning.md section 2,
 * both name forms, substrings, $$, unknown names, secrets and malformed $( forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lang/macro.h"

static const char *fake_param(void *opaque, const char *name)
{
    (void)opaque;
    static const char *const table[][2] = {
        {"GPP_A", "ABCDEF"},        {"GPP_B", "rand0m"},
        {"GPP_P", "pee"},           {"GPP_SA", "s3cret"},
        {"GPP_SD", "dee"},          {"User_ID_1_", "1001"},
        {"User_ID_12_", "1012"},    {"Display_Name_2_", "Front Desk"},
        {"Auth_ID_1_", "auth1001"},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i][0], name) == 0)
            return table[i][1];
    return NULL;
}

struct expand_case {
    const char *in;
    unsigned flags;
    const char *out;
};

static const struct expand_case cases[] = {
    /* identity */
    {"$MA", 0, "000e08aabbcc"},
    {"$MAU", 0, "000E08AABBCC"},
    {"$MAC", 0, "00:0e:08:aa:bb:cc"},
    {"$(MA)", 0, "000e08aabbcc"},
    {"$PN", 0, "CP-8841-3PCC"},
    {"$PSN", 0, "8841"},
    {"$SN", 0, "88012BA01234"},
    {"$HWVER", 0, "1.88.1"},
    {"$CCERT", 0, "Not Installed"},
    /* GPP and lines */
    {"$A", 0, "ABCDEF"},
    {"$B/x", 0, "rand0m/x"},
    {"$P", 0, "pee"},
    {"$C", 0, ""},
    {"$UID1", 0, "1001"},
    {"$UID12", 0, "1012"},
    {"$(UID1)", 0, "1001"},
    /* state macros set by the caller */
    {"$SWVER", 0, "sip88xx.11-0-1MPP-477"},
    {"$PRVST", 0, "-1"},
    {"$UPGST", 0, "2"},
    {"$UPGERR", 0, "http_get failed"},
    {"$PRVTMR $UPGTMR", 0, "301 45"},
    {"$REGTMR1,$REGTMR2", 0, "12,"},
    {"$SCHEME://$SERV:$PORT$PATH", 0, "HTTPS://p.tel.com:443/cfg.xml"},
    {"$METH", 0, "HTTPS"},
    {"$SERVIP", 0, "10.0.0.5"},
    {"$ERR", 0, "ok"},
    {"$IP", 0, "192.168.1.20"},
    {"$EXTIP", 0, ""},
    {"$UPGCOND", 0, "true"},
    {"$ISCUST", 0, "0"},
    {"$EMS $MUID $ORIGTYPE $AUTHSTATUS", 0, " $MA  "},
    {"$INCOMINGNAME$REMOTENUMBER$DISPLAYNAME1$AUTHID2", 0, ""},
    /* substring forms (docs/provisioning.md: GPP_A=ABCDEF) */
    {"$(A:2)", 0, "CDEF"},
    {"$(A:2:3)", 0, "CDE"},
    {"$(A:0:1)", 0, "A"},
    {"$(A:6)", 0, ""},
    {"$(A:9:2)", 0, ""},
    {"$(A:4:10)", 0, "EF"},
    {"$(MA:6)", 0, "aabbcc"},
    {"$(MAU:0:6)-x", 0, "000E08-x"},
    /* longest name wins, the rest is text */
    {"$MAU.cfg", 0, "000E08AABBCC.cfg"},
    {"/$PSN.xml", 0, "/8841.xml"},
    {"$Abc", 0, "ABCDEFbc"},
    {"$PNx", 0, "CP-8841-3PCCx"},
    /* unknown names stay verbatim (docs/provisioning.md's example) */
    {"$STRANGE$MAU.cfg", 0, "$STRANGE000E08AABBCC.cfg"},
    {"$(STRANGE)", 0, "$(STRANGE)"},
    {"$(STRANGE:1:2)", 0, "$(STRANGE:1:2)"},
    {"$a $1 $ end$", 0, "$a $1 $ end$"},
    {"$(UID)", 0, "$(UID)"},
    /* $$ and no recursion */
    {"$$", 0, "$"},
    {"$$MAU", 0, "$MAU"},
    {"$$$MA", 0, "$000e08aabbcc"},
    {"$(MUID)", 0, "$MA"},
    {"$Q", 0, "$Q"},
    /* secrets only where the caller allows them */
    {"$SA", 0, "$SA"},
    {"$(SA)", 0, "$(SA)"},
    {"$SA", MACRO_SECRETS, "s3cret"},
    {"$(SA:0:3)", MACRO_SECRETS, "s3c"},
    {"$SD-$SB", MACRO_SECRETS, "dee-"},
    {"no macros here", 0, "no macros here"},
    {"", 0, ""},
};

static struct device dev = {
    .mac = "000e08aabbcc",
    .serial = "88012BA01234",
    .product = "CP-8841-3PCC",
    .psn = "8841",
    .hwver = "1.88.1",
};

static void fill(struct macro_context *ctx)
{
    char err[UG_ERRBUF];
    macro_init(ctx, &dev, fake_param, NULL);
    static const char *const vars[][2] = {
        {"SWVER", "sip88xx.11-0-1MPP-477"},
        {"PRVST", "-1"},
        {"UPGST", "2"},
        {"UPGERR", "http_get failed"},
        {"PRVTMR", "301"},
        {"UPGTMR", "45"},
        {"REGTMR1", "12"},
        {"SCHEME", "HTTPS"},
        {"SERV", "p.tel.com"},
        {"PORT", "443"},
        {"PATH", "/cfg.xml"},
        {"SERVIP", "10.0.0.5"},
        {"ERR", "ok"},
        {"IP", "192.168.1.20"},
        {"MUID", "$MA"},
        {"Q", "set, but no macro name"},
    };
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        assert_int_equal(macro_set(ctx, vars[i][0], vars[i][1], err), UG_OK);
}

static void test_expand(void **state)
{
    (void)state;
    struct macro_context ctx;
    fill(&ctx);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct expand_case *c = &cases[i];
        struct buf out = {0};
        char err[UG_ERRBUF] = "";
        ug_err rc = macro_expand(&ctx, c->in, c->flags, &out, err);
        if (rc != UG_OK)
            fail_msg("expand '%s': error %s", c->in, err);
        const char *want = c->out;
        if (strcmp(out.data, want) != 0)
            fail_msg("expand '%s' = '%s', expected '%s'", c->in, out.data, want);
        buf_free(&out);
    }
    macro_free(&ctx);
}

static void test_without_device(void **state)
{
    (void)state;
    struct macro_context ctx;
    macro_init(&ctx, NULL, NULL, NULL);
    struct buf out = {0};
    char err[UG_ERRBUF];
    assert_int_equal(macro_expand(&ctx, "[$MA][$A][$SWVER]", 0, &out, err), UG_OK);
    assert_string_equal(out.data, "[][][]");
    buf_free(&out);
    /* Replacing a value keeps one entry. */
    assert_int_equal(macro_set(&ctx, "ERR", "one", err), UG_OK);
    assert_int_equal(macro_set(&ctx, "ERR", "two", err), UG_OK);
    assert_int_equal(ctx.nvars, 1);
    assert_int_equal(macro_expand(&ctx, "$ERR", 0, &out, err), UG_OK);
    assert_string_equal(out.data, "two");
    buf_free(&out);
    macro_free(&ctx);
}

static void test_known(void **state)
{
    (void)state;
    assert_true(macro_is_known("MAU"));
    assert_true(macro_is_known("UID3"));
    assert_true(macro_is_known("REGTMR2"));
    assert_true(macro_is_known("SA"));
    assert_false(macro_is_known("UID"));
    assert_false(macro_is_known("MAUX"));
    assert_false(macro_is_known(""));
    assert_false(macro_is_known("Q"));
}

struct bad_case {
    const char *in;
    const char *message;
};

static const struct bad_case bad[] = {
    {"x$(A", "column 2: '$(A' is not closed by ')'"},
    {"$(A:2", "column 1: '$(A' is not closed by ')'"},
    {"$(A:x)", "column 5: expected an offset after ':' in $(A"},
    {"ab$(A:1:)", "column 9: expected a length after ':' in $(A"},
    {"$()", "column 3: expected a macro name after '$('"},
    {"$(A-1)", "column 1: '$(A' is not closed by ')'"},
};

/* The macros the state gives ($VERSION, timers) and those read from line parameters. */
static void test_state_and_line_macros(void **state)
{
    (void)state;
    struct macro_context ctx;
    char err[UG_ERRBUF];
    macro_init(&ctx, NULL, fake_param, NULL);
    assert_int_equal(macro_set(&ctx, "VERSION", "Cisco-CP-8841-3PCC/11.3.1", err), UG_OK);
    assert_int_equal(macro_set(&ctx, "REGTMR", "77", err), UG_OK);
    assert_int_equal(macro_set(&ctx, "REGTMR2", "5", err), UG_OK);
    struct buf out = {0};
    assert_int_equal(macro_expand(&ctx,
                                  "$VERSION ($DISPLAYNAME2/$AUTHID1) $REGTMR1 $REGTMR2 "
                                  "$(REGTMR12) $DISPLAYNAME3.",
                                  0, &out, err),
                     UG_OK);
    assert_string_equal(out.data, "Cisco-CP-8841-3PCC/11.3.1 (Front Desk/auth1001) 77 5 77 .");
    buf_free(&out);
    assert_true(macro_is_known("VERSION"));
    macro_free(&ctx);
}

static void test_malformed(void **state)
{
    (void)state;
    struct macro_context ctx;
    fill(&ctx);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct buf out = {0};
        char err[UG_ERRBUF] = "";
        assert_int_equal(macro_expand(&ctx, bad[i].in, 0, &out, err), UG_ERR_USAGE);
        if (strcmp(err, bad[i].message) != 0)
            fail_msg("'%s': message '%s', expected '%s'", bad[i].in, err, bad[i].message);
        buf_free(&out);
    }
    macro_free(&ctx);
}

/* A rule naming a long macro thousands of times is refused as the expansion grows, before
 * anything near its full size is built. */
static void test_expansion_bounded(void **state)
{
    (void)state;
    struct macro_context ctx;
    char err[UG_ERRBUF] = "";
    macro_init(&ctx, NULL, NULL, NULL);
    char *big = malloc(100001), *rule = malloc(3 * 5000 + 1);
    assert_non_null(big);
    assert_non_null(rule);
    memset(big, 'x', 100000);
    big[100000] = '\0';
    for (size_t i = 0; i < 5000; i++)
        memcpy(rule + 3 * i, "$IP", 3);
    rule[3 * 5000] = '\0';
    assert_int_equal(macro_set(&ctx, "IP", big, err), UG_OK);
    struct buf out = {0};
    assert_int_equal(macro_expand(&ctx, rule, 0, &out, err), UG_ERR_USAGE);
    assert_string_equal(err, "the expansion is over the limit of 262144 bytes");
    assert_true(out.len <= MACRO_EXPANSION_MAX);
    buf_free(&out);
    /* up to the bound it expands as before */
    rule[3 * 2] = '\0';
    assert_int_equal(macro_expand(&ctx, rule, 0, &out, err), UG_OK);
    assert_int_equal(out.len, 200000);
    buf_free(&out);
    free(big);
    free(rule);
    macro_free(&ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expand),
        cmocka_unit_test(test_without_device),
        cmocka_unit_test(test_known),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_state_and_line_macros),
        cmocka_unit_test(test_expansion_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
