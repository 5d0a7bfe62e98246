/* SPDX-License-Identifier: MIT */
/* Unit tests of the parameter table (paramdefs.c): the built-in rows, every validator,
 * aliases, and the schema file that adds the phone programs' parameters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lang/paramdefs.h"

static struct param_table table;

static int setup(void **state)
{
    (void)state;
    char err[UG_ERRBUF];
    return paramdefs_load(&table, NULL, err) == UG_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    paramdefs_free(&table);
    return 0;
}

/* Every default must pass its own validator, or a factory store could not be re-applied. */
static void test_builtin_defaults(void **state)
{
    (void)state;
    size_t n;
    const struct param_def *defs = paramdefs_builtin(&n);
    assert_true(n >= 60);
    for (size_t i = 0; i < n; i++) {
        char err[UG_ERRBUF], *norm = NULL;
        if (paramdefs_validate(&defs[i], defs[i].def, &norm, err) != UG_OK)
            fail_msg("default of %s: %s", defs[i].name, err);
        assert_string_equal(norm, defs[i].def);
        free(norm);
        assert_true(paramdefs_find(&table, defs[i].name) >= 0);
    }
}

/* The names and defaults quoted from Cisco's guides (docs/provisioning.md 1.3, 3.1, 4.1, 6, 7.3). */
static void test_required_rows(void **state)
{
    (void)state;
    static const char *const rows[][3] = {
        {"Provision_Enable", "Yes", "na"},
        {"Resync_On_Reset", "Yes", "na"},
        {"Resync_Random_Delay", "2", "na"},
        {"Resync_At__HHmm_", "", "na"},
        {"Resync_At_Random_Delay", "600", "na"},
        {"Resync_Periodic", "3600", "na"},
        {"Resync_Error_Retry_Delay", "60,120,240,480,960,1920,3840,7680,15360,30720,61440,86400",
         "na"},
        {"Forced_Resync_Delay", "14400", "na"},
        {"Resync_From_SIP", "Yes", "na"},
        {"Resync_After_Upgrade_Attempt", "Yes", "na"},
        {"Resync_Trigger_1", "", "na"},
        {"Resync_Trigger_2", "", "na"},
        {"Resync_Fails_On_FNF", "Yes", "na"},
        {"Profile_Authentication_Type", "Basic HTTP Authentication", "na"},
        {"User_Configurable_Resync", "Yes", "na"},
        {"Report_Rule", "", "na"},
        {"HTTP_Report_Method", "POST", "na"},
        {"Custom_CA_Rule", "", "na"},
        {"HTTPS_Name_Validate", "Yes", "na"},
        {"Log_Request_Msg", "$PN $MAC -- Requesting resync $SCHEME://$SERVIP:$PORT$PATH", "na"},
        {"Log_Success_Msg", "$PN $MAC -- Successful resync $SCHEME://$SERVIP:$PORT$PATH -- $ERR",
         "na"},
        {"Log_Failure_Msg", "$PN $MAC -- Resync failed: $ERR", "na"},
        {"Upgrade_Enable", "Yes", "na"},
        {"Upgrade_Error_Retry_Delay", "3600", "na"},
        {"Downgrade_Rev_Limit", "", "na"},
        {"Upgrade_Rule", "", "na"},
        {"Log_Upgrade_Request_Msg", "$PN $MAC -- Requesting upgrade $SCHEME://$SERVIP:$PORT$PATH",
         "na"},
        {"Log_Upgrade_Success_Msg",
         "$PN $MAC -- Successful upgrade $SCHEME://$SERVIP:$PORT$PATH -- $ERR", "na"},
        {"Log_Upgrade_Failure_Msg", "$PN $MAC -- Upgrade failed: $ERR", "na"},
        {"Peer_Firmware_Sharing_Log_Server", "", "na"},
        {"Profile_Rule", "/$PSN.xml", "na"},
        {"Profile_Rule_B", "", "na"},
        {"Profile_Rule_C", "", "na"},
        {"Profile_Rule_D", "", "na"},
        {"DHCP_Option_To_Use", "66,160,159,150,60,43,125", "na"},
        {"GPP_A", "", "na"},
        {"GPP_P", "", "na"},
        {"GPP_SA", "", "na"},
        {"GPP_SD", "", "na"},
        {"Admin_Passwd", "", "na"},
        {"User_Password", "", "rw"},
        {"Enable_Web_Server", "Yes", "ro"},
        {"Enable_Web_Admin_Access", "Yes", "na"},
        {"Restricted_Access_Domains", "", "na"},
        {"Protect_Factory_Reset", "No", "na"},
        {"Syslog_Server", "", "ro"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        long idx = paramdefs_find(&table, rows[i][0]);
        if (idx < 0)
            fail_msg("%s is missing", rows[i][0]);
        assert_string_equal(table.defs[idx].def, rows[i][1]);
        assert_string_equal(paramdefs_access_name(table.defs[idx].access), rows[i][2]);
    }
    static const char *const secrets[] = {"GPP_SA", "GPP_SB",       "GPP_SC",
                                          "GPP_SD", "Admin_Passwd", "User_Password"};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        assert_true(table.defs[paramdefs_find(&table, secrets[i])].flags & PARAM_SECRET);
    assert_false(table.defs[paramdefs_find(&table, "GPP_A")].flags & PARAM_SECRET);
    /* Aliases and case sensitivity. */
    assert_int_equal(paramdefs_find(&table, "Resync_At"),
                     paramdefs_find(&table, "Resync_At__HHmm_"));
    assert_int_equal(paramdefs_find(&table, "Log_Resync_Failure_Msg"),
                     paramdefs_find(&table, "Log_Failure_Msg"));
    assert_int_equal(paramdefs_find(&table, "provision_enable"), -1);
    assert_int_equal(paramdefs_find(&table, "Nope"), -1);
}

struct value_case {
    const char *param;
    const char *value;
    const char *stored; /* NULL: rejected */
};

static const struct value_case values[] = {
    {"Provision_Enable", "Yes", "Yes"},
    {"Provision_Enable", "yes", "Yes"},
    {"Provision_Enable", "Enable", "Yes"},
    {"Provision_Enable", "enable", "Yes"},
    {"Provision_Enable", "1", "Yes"},
    {"Provision_Enable", "No", "No"},
    {"Provision_Enable", "no", "No"},
    {"Provision_Enable", "Disable", "No"},
    {"Provision_Enable", "disable", "No"},
    {"Provision_Enable", "0", "No"},
    {"Provision_Enable", "YES", NULL},
    {"Provision_Enable", "true", NULL},
    {"Provision_Enable", "", NULL},
    {"Resync_Random_Delay", "0", "0"},
    {"Resync_Random_Delay", "65535", "65535"},
    {"Resync_Random_Delay", "65536", NULL},
    {"Resync_Random_Delay", "-1", NULL},
    {"Resync_Random_Delay", "2x", NULL},
    {"Resync_Random_Delay", " 2", NULL},
    {"periodic_upload_to_server", "599", NULL},
    {"periodic_upload_to_server", "600", "600"},
    {"periodic_upload_to_server", "259200", "259200"},
    {"periodic_upload_to_server", "259201", NULL},
    {"Upload_Delay_On_Local_Change", "9", NULL},
    {"Upload_Delay_On_Local_Change", "900", "900"},
    {"Resync_Periodic", "3600+600", "3600+600"},
    {"Resync_Periodic", "", ""},
    {"Resync_Periodic", "0", "0"},
    {"Upgrade_Error_Retry_Delay", "1800,3600,7200,14400+3600", "1800,3600,7200,14400+3600"},
    {"Resync_Error_Retry_Delay", "60,,120", NULL},
    {"Resync_At__HHmm_", "0000", "0000"},
    {"Resync_At__HHmm_", "2400", "2400"},
    {"Resync_At__HHmm_", "0230", "0230"},
    {"Resync_At__HHmm_", "2401", NULL},
    {"Resync_At__HHmm_", "1260", NULL},
    {"Resync_At__HHmm_", "230", NULL},
    {"Resync_At__HHmm_", "", ""},
    {"Profile_Rule", "[--key $A] tftp.callme.com/profile/$B/spa962.cfg",
     "[--key $A] tftp.callme.com/profile/$B/spa962.cfg"},
    {"Profile_Rule", "( 1 eq 1 /a", NULL},
    {"Profile_Rule", "/a | /b", NULL},
    {"Upgrade_Rule", "($SWVER ge sip78xx.11-0-0MPP-7)? http://S/a.loads | http://S/b.loads",
     "($SWVER ge sip78xx.11-0-0MPP-7)? http://S/a.loads | http://S/b.loads"},
    /* Stored: a server is filled in from the profile's host, or it fails when run. */
    {"Upgrade_Rule", "/no-host.loads", "/no-host.loads"},
    {"Profile_Rule", "# http://old/$MA.cfg", "# http://old/$MA.cfg"},
    {"Profile_Rule", "gds://activate.example.com/x", "gds://activate.example.com/x"},
    /* SPA integers may be written in hex; stored in decimal. */
    {"Resync_Random_Delay", "0x0E", "14"},
    {"Resync_Periodic", "0x0E10", "3600"},
    {"Forced_Resync_Delay", "0X3840", "14400"},
    {"Resync_Random_Delay", "0x10000", NULL},
    {"Resync_Random_Delay", "0x", NULL},
    {"Resync_Random_Delay", "0xZZ", NULL},
    {"GPP_B", "0x0E10", "0x0E10"}, /* text stays text */
    {"Upgrade_Rule", "[--delta] http://h/x", NULL},
    {"Upgrade_Rule", "[--uid fw --pwd $SA] https://h/c.json#2.0",
     "[--uid fw --pwd $SA] https://h/c.json#2.0"},
    {"Report_Rule", "[--delta --key $A] http://h/r", "[--delta --key $A] http://h/r"},
    {"Profile_Rule_B", "[--delta] http://h/r", NULL},
    {"Resync_Trigger_1", "$UPGTMR gt 300 and $PRVTMR ge 600", "$UPGTMR gt 300 and $PRVTMR ge 600"},
    {"Resync_Trigger_1", "$UPGTMR gt", NULL},
    {"Syslog_Server", "log.example.com:514", "log.example.com:514"},
    {"Syslog_Server", "log.example.com", "log.example.com"},
    {"Syslog_Server", "log:0", NULL},
    {"Syslog_Server", "a b", NULL},
    {"Restricted_Access_Domains", "a.example.com, b.example.com", "a.example.com, b.example.com"},
    {"Restricted_Access_Domains", "a.example.com,,b", NULL},
    {"Restricted_Access_Domains", "http://x", NULL},
    {"Downgrade_Rev_Limit", "7.4.8", "7.4.8"},
    {"Downgrade_Rev_Limit", "sip88xx.11-0-1MPP-477", "sip88xx.11-0-1MPP-477"},
    {"Downgrade_Rev_Limit", "latest", NULL},
    {"HTTP_Report_Method", "PUT", "PUT"},
    {"HTTP_Report_Method", "put", NULL},
    {"Profile_Authentication_Type", "XSI Authentication", "XSI Authentication"},
    {"Profile_Authentication_Type", "XSI", NULL},
    {"Syslog_Identifier", "$MAU", "$MAU"},
    {"DHCP_Option_To_Use", "66,150", "66,150"},
    {"DHCP_Option_To_Use", "66,x", NULL},
    {"User_Password", "", ""},
    {"User_Password", "abcd", "abcd"},
    {"User_Password", "abc", NULL},
    {"Admin_Passwd",
     "1234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567",
     "1234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567"},
    {"Admin_Passwd",
     "12345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678",
     NULL},
    {"GPP_A", "anything at all <>&", "anything at all <>&"},
};

static void test_validators(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        const struct value_case *c = &values[i];
        long idx = paramdefs_find(&table, c->param);
        assert_true(idx >= 0);
        char err[UG_ERRBUF] = "", *norm = NULL;
        ug_err rc = paramdefs_validate(&table.defs[idx], c->value, &norm, err);
        if (c->stored && rc != UG_OK)
            fail_msg("%s = '%s' rejected: %s", c->param, c->value, err);
        if (!c->stored && rc != UG_ERR_USAGE)
            fail_msg("%s = '%s' accepted", c->param, c->value);
        if (c->stored)
            assert_string_equal(norm, c->stored);
        else if (strncmp(err, c->param, strlen(c->param)) != 0)
            fail_msg("message does not name the parameter: %s", err);
        free(norm);
    }
    /* Messages name the parameter and the value, but never a secret's value. */
    char err[UG_ERRBUF], *norm = NULL;
    assert_int_equal(paramdefs_validate(&table.defs[paramdefs_find(&table, "Resync_Random_Delay")],
                                        "70000", &norm, err),
                     UG_ERR_USAGE);
    assert_string_equal(err, "Resync_Random_Delay: '70000' is not an integer in 0..65535");
    assert_int_equal(
        paramdefs_validate(&table.defs[paramdefs_find(&table, "Admin_Passwd")], "abc", &norm, err),
        UG_ERR_USAGE);
    assert_string_equal(err, "Admin_Passwd: the value must be empty or 4 to 127 characters");
}

/* MPP and SPA names of one parameter, empty values, access words, secrets' access. */
static void test_cisco_names_and_rules(void **state)
{
    (void)state;
    static const char *const aliases[][2] = {
        {"Admin_Password", "Admin_Passwd"},
        {"Report_To_Server", "Report_to_Server"},
        {"Periodic_Upload_To_Server", "periodic_upload_to_server"},
        {"Protect_IVR_FactoryReset", "Protect_Factory_Reset"},
        {"Resync_At", "Resync_At__HHmm_"},
    };
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
        long a = paramdefs_find(&table, aliases[i][0]), n = paramdefs_find(&table, aliases[i][1]);
        if (a < 0 || a != n)
            fail_msg("%s is not %s", aliases[i][0], aliases[i][1]);
    }
    assert_true(paramdefs_find(&table, "HTTP_User_Agent_Name") >= 0);
    assert_string_equal(paramdefs_factory("HTTP_User_Agent_Name"), "$VERSION ($MA)");
    assert_string_equal(paramdefs_factory("Profile_Rule"), "/$PSN.xml");
    assert_null(paramdefs_factory("No_Such"));
    /* Cisco's data types: an empty Yes/No, integer or choice restores the default. */
    static const char *const empty_defaults[] = {"Upgrade_Enable", "Resync_On_Reset",
                                                 "Resync_Random_Delay", "HTTP_Report_Method"};
    for (size_t i = 0; i < sizeof empty_defaults / sizeof empty_defaults[0]; i++)
        assert_true(paramdefs_empty_restores_default(
            &table.defs[paramdefs_find(&table, empty_defaults[i])]));
    static const char *const empty_ok[] = {"Upgrade_Rule", "Resync_At__HHmm_", "GPP_A",
                                           "Resync_Periodic", "Admin_Passwd"};
    for (size_t i = 0; i < sizeof empty_ok / sizeof empty_ok[0]; i++)
        assert_false(
            paramdefs_empty_restores_default(&table.defs[paramdefs_find(&table, empty_ok[i])]));
    assert_int_equal(paramdefs_parse_access("RW"), PARAM_RW);
    assert_int_equal(paramdefs_parse_access("Na"), PARAM_NA);
    assert_int_equal(paramdefs_parse_access("ua"), -1);
    /* A secret is never more open to the user than its factory access. */
    const struct param_def *admin = &table.defs[paramdefs_find(&table, "Admin_Passwd")];
    const struct param_def *sa = &table.defs[paramdefs_find(&table, "GPP_SA")];
    const struct param_def *user = &table.defs[paramdefs_find(&table, "User_Password")];
    const struct param_def *gpp = &table.defs[paramdefs_find(&table, "GPP_A")];
    assert_int_equal(paramdefs_user_access(admin, PARAM_RW), PARAM_NA);
    assert_int_equal(paramdefs_user_access(sa, PARAM_RO), PARAM_NA);
    assert_int_equal(paramdefs_user_access(user, PARAM_RW), PARAM_RW);
    assert_int_equal(paramdefs_user_access(user, PARAM_NA), PARAM_NA);
    assert_int_equal(paramdefs_user_access(gpp, PARAM_RW), PARAM_RW);
}

static void test_schema(void **state)
{
    (void)state;
    static const char schema[] = "# phone programs\n"
                                 "Line_Enable_{1..4}_   \"Yes\"  rw  bool\n"
                                 "\n"
                                 "Display_Name_{1..2}_  \"\"     rw  text   # trailing comment\n"
                                 "Password_{1..2}_      \"\"     na  secret\n"
                                 "Hunt_Group_Size       \"8\"    ro  int:1..32\n"
                                 "Ring_Type             \"Classic\" rw choice:Classic|Chirp\n"
                                 "Speed_Dial_2_2_       \"5551212\" rw text\n";
    struct param_table t;
    char err[UG_ERRBUF] = "";
    assert_int_equal(paramdefs_load(&t, NULL, err), UG_OK);
    size_t before = t.n;
    if (paramdefs_add_schema(&t, schema, "schema.conf", err) != UG_OK)
        fail_msg("%s", err);
    assert_int_equal(t.n, before + 4 + 2 + 2 + 1 + 1 + 1);
    long i = paramdefs_find(&t, "Line_Enable_3_");
    assert_true(i >= 0);
    assert_string_equal(t.defs[i].def, "Yes");
    assert_int_equal(t.defs[i].type, PT_BOOL);
    assert_int_equal(t.defs[i].access, PARAM_RW);
    assert_int_equal(paramdefs_find(&t, "Line_Enable_5_"), -1);
    assert_true(t.defs[paramdefs_find(&t, "Password_2_")].flags & PARAM_SECRET);
    i = paramdefs_find(&t, "Hunt_Group_Size");
    assert_int_equal(t.defs[i].min, 1);
    assert_int_equal(t.defs[i].max, 32);
    char *norm = NULL;
    assert_int_equal(paramdefs_validate(&t.defs[i], "33", &norm, err), UG_ERR_USAGE);
    i = paramdefs_find(&t, "Ring_Type");
    assert_int_equal(paramdefs_validate(&t.defs[i], "Chirp", &norm, err), UG_OK);
    free(norm);
    assert_true(paramdefs_find(&t, "GPP_A") >= 0); /* built-ins are still there */
    paramdefs_free(&t);

    static const struct {
        const char *text, *message;
    } bad[] = {
        {"X \"1\" rw", "schema.conf line 1: expected NAME \"DEFAULT\" ACCESS TYPE"},
        {"\nX \"1\" admin text", "schema.conf line 2: access 'admin' is not na, ro or rw"},
        {"X \"1\" rw number",
         "schema.conf line 1: unknown type 'number' (text, secret, bool, int:MIN..MAX, "
         "choice:A|B, delays, hhmm, rule, condition, url, hostport, domains, version, password)"},
        {"X \"1\" rw int:5..1",
         "schema.conf line 1: unknown type 'int:5..1' (text, secret, bool, int:MIN..MAX, "
         "choice:A|B, delays, hhmm, rule, condition, url, hostport, domains, version, password)"},
        {"X_{1..}_ \"\" rw text",
         "schema.conf line 1: 'X_{1..}_': a range is written {FIRST..LAST}"},
        {"X \"maybe\" rw bool",
         "schema.conf line 1: default of X: 'maybe' is not Yes or No (also yes/Enable/enable/1, no/Disable/disable/0)"},
        {"X<y> \"\" rw text", "schema.conf line 1: 'X<y>' is not a parameter name"},
        {"X \"unclosed rw text", "schema.conf line 1: expected NAME \"DEFAULT\" ACCESS TYPE"},
        {"GPP_A \"\" rw text", "schema.conf: parameter GPP_A is defined twice"},
        {"L_{1..3}_ \"\" rw text\nL_2_ \"\" rw text",
         "schema.conf: parameter L_2_ is defined twice"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        assert_int_equal(paramdefs_load(&t, NULL, err), UG_OK);
        err[0] = '\0';
        assert_int_equal(paramdefs_add_schema(&t, bad[k].text, "schema.conf", err), UG_ERR_USAGE);
        if (strcmp(err, bad[k].message) != 0)
            fail_msg("'%s': message\n  '%s', expected\n  '%s'", bad[k].text, err, bad[k].message);
        paramdefs_free(&t);
    }
}

static void test_doc(void **state)
{
    (void)state;
    struct buf doc = {0};
    assert_int_equal(paramdefs_write_doc(&doc), 0);
    size_t n;
    const struct param_def *defs = paramdefs_builtin(&n);
    for (size_t i = 0; i < n; i++) {
        char needle[160];
        snprintf(needle, sizeof needle, "| `%s` |", defs[i].name);
        if (!strstr(doc.data, needle))
            fail_msg("%s missing from the generated doc", defs[i].name);
    }
    assert_non_null(strstr(doc.data, "one of PUT\\|POST"));
    buf_free(&doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_defaults), cmocka_unit_test(test_required_rows),
        cmocka_unit_test(test_validators),       cmocka_unit_test(test_cisco_names_and_rules),
        cmocka_unit_test(test_schema),           cmocka_unit_test(test_doc),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
