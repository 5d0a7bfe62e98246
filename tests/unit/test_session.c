/* SPDX-License-Identifier: MIT */
/* Unit tests of the device session (session.c): the folder opened once with its identity,
 * parameters and boot state; optional files found; a damaged boot state tolerated; the
 * transport settings, macros and cancel flag it hands to resync and upgrade. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "session/session.h"
#include "session/state_macros.h"

static char dir[64];

static void write_text(const char *path, const char *text)
{
    char err[UG_ERRBUF];
    assert_int_equal(fs_write_atomic(path, text, strlen(text), 0644, err), UG_OK);
}

/* A device as init makes one: identity, default parameters, boot state running 2.1.0. */
static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/test_session.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    struct state_folder f;
    struct device dev = {.mac = "000e08aabbcc",
                         .serial = "SN1",
                         .product = "UG-PHONE-1",
                         .psn = "1",
                         .hwver = "1.0"};
    char err[UG_ERRBUF];
    int rc = state_folder_open(dir, &f, err) == UG_OK && params_create_defaults(&f, err) == UG_OK &&
                     bootstate_create(state_path(&f, STATE_BOOTENV), "2.1.0", err) == UG_OK &&
                     device_save_identity(&f, &dev, err) == UG_OK
                 ? 0
                 : -1;
    state_folder_close(&f);
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_open(void **state)
{
    (void)state;
    struct session s;
    char err[UG_ERRBUF];
    assert_int_equal(session_open(dir, NULL, &s, err), UG_OK);
    assert_string_equal(s.dev.mac, "000e08aabbcc");
    assert_string_equal(s.dev.product, "UG-PHONE-1");
    assert_true(s.boot_valid);
    assert_int_equal(s.running_slot, 'A');
    assert_string_equal(s.running_version, "2.1.0");
    assert_string_equal(params_value(&s.params, "Provision_Enable"), "Yes");
    assert_null(s.keyring);
    assert_null(s.ca_file);
    assert_null(s.client_cert);
    assert_true(s.log == &log_stderr);
    assert_false(session_cancelled(&s));
    /* HTTP_User_Agent_Name's default, $VERSION ($MA): the phones' own form. */
    assert_string_equal(s.user_agent, "Cisco-UG-PHONE-1/2.1.0 (000e08aabbcc)");
    session_close(&s);
    session_close(&s); /* safe twice */
}

static void test_not_a_device(void **state)
{
    (void)state;
    struct session s;
    char err[UG_ERRBUF];
    assert_int_equal(session_open("/nonexistent-folder", NULL, &s, err), UG_ERR_OTHER);
    assert_non_null(strstr(err, "/nonexistent-folder is not a device state folder"));
    assert_int_equal(session_open("", NULL, &s, err), UG_ERR_USAGE);
}

/* Optional files count only when present; a certificate only with its key. */
static void test_optional_files(void **state)
{
    (void)state;
    struct session s;
    char err[UG_ERRBUF], path[128];
    snprintf(path, sizeof path, "%s/client.crt", dir);
    write_text(path, "cert");
    snprintf(path, sizeof path, "%s/keyring.pem", dir);
    write_text(path, "ca");
    assert_int_equal(session_open(dir, NULL, &s, err), UG_OK);
    assert_string_equal(s.keyring, path);
    assert_null(s.client_cert); /* no key */
    struct macro_context ctx;
    struct buf out = {0};
    assert_int_equal(session_macro_context(&s, &ctx, err), UG_OK);
    assert_int_equal(macro_expand(&ctx, "$SWVER $CCERT $MA", 0, &out, err), UG_OK);
    assert_string_equal(out.data, "2.1.0 Not Installed 000e08aabbcc");
    macro_free(&ctx);
    session_close(&s);
    snprintf(path, sizeof path, "%s/client.key", dir);
    write_text(path, "key");
    assert_int_equal(session_open(dir, NULL, &s, err), UG_OK);
    assert_non_null(s.client_cert);
    struct fetch_options o;
    session_fetch_options(&s, &o);
    assert_string_equal(o.client_cert, s.client_cert);
    assert_string_equal(o.client_key, path);
    assert_null(o.ca_file);
    assert_string_equal(o.user_agent, s.user_agent);
    buf_reset(&out);
    assert_int_equal(session_macro_context(&s, &ctx, err), UG_OK);
    assert_int_equal(macro_expand(&ctx, "$CCERT", 0, &out, err), UG_OK);
    assert_string_equal(out.data, "Installed");
    macro_free(&ctx);
    buf_free(&out);
    session_close(&s);
}

/* A damaged boot state leaves the running version unknown, and the device usable. */
static void test_damaged_boot_state(void **state)
{
    (void)state;
    struct session s;
    char err[UG_ERRBUF], path[128];
    snprintf(path, sizeof path, "%s/bootenv", dir);
    write_text(path, "garbage");
    assert_int_equal(session_open(dir, NULL, &s, err), UG_OK);
    assert_false(s.boot_valid);
    assert_int_equal(s.running_slot, 0);
    assert_string_equal(s.running_version, "");
    session_close(&s);
}

/* session_reload sees a change another process made since the open. */
static void test_reload(void **state)
{
    (void)state;
    struct session s, other;
    char err[UG_ERRBUF];
    assert_int_equal(session_open(dir, NULL, &s, err), UG_OK);
    assert_int_equal(session_open(dir, NULL, &other, err), UG_OK);
    assert_int_equal(params_set(&other.params, "GPP_A", "changed", PARAM_ROLE_ADMIN, err), UG_OK);
    assert_string_equal(params_value(&s.params, "GPP_A"), "");
    assert_int_equal(session_reload(&s, err), UG_OK);
    assert_string_equal(params_value(&s.params, "GPP_A"), "changed");
    session_close(&other);
    session_close(&s);
}

static void test_url_macros_and_rule_options(void **state)
{
    (void)state;
    struct session s;
    char err[UG_ERRBUF];
    struct buf out = {0};
    struct macro_context ctx;
    assert_int_equal(session_open(dir, NULL, &s, err), UG_OK);
    assert_int_equal(session_macro_context(&s, &ctx, err), UG_OK);
    struct rule_result r = {0};
    assert_int_equal(rule_eval("[--uid u1 --pwd p1] https://prov.example:8443/p/$MA.xml",
                               RULE_PROFILE, &ctx, NULL, &r, err),
                     UG_OK);
    assert_int_equal(session_url_macros(&ctx, &r.url, err), UG_OK);
    assert_int_equal(macro_expand(&ctx, "$SCHEME $METH $SERV $PORT $PATH", 0, &out, err), UG_OK);
    assert_string_equal(out.data, "HTTPS HTTPS prov.example 8443 /p/000e08aabbcc.xml");
    struct fetch_options o;
    session_fetch_options_for(&s, &r, &o);
    assert_string_equal(o.url, r.url.text);
    assert_string_equal(o.username, "u1");
    assert_string_equal(o.password, "p1");
    rule_result_free(&r);
    macro_free(&ctx);
    buf_free(&out);
    session_close(&s);
}

static void test_cancel_flag(void **state)
{
    (void)state;
    static volatile sig_atomic_t flag;
    struct session_options o = {.cancel = &flag};
    struct session s;
    char err[UG_ERRBUF];
    assert_int_equal(session_open(dir, &o, &s, err), UG_OK);
    assert_false(session_cancelled(&s));
    flag = 1;
    assert_true(session_cancelled(&s));
    session_close(&s);
}

static long long expand_number(const struct macro_context *ctx, const char *text)
{
    struct buf out = {0};
    char err[UG_ERRBUF], *end = NULL;
    assert_int_equal(macro_expand(ctx, text, 0, &out, err), UG_OK);
    long long v = strtoll(out.data, &end, 10);
    if (!out.data[0] || *end)
        fail_msg("%s is '%s', not a number", text, out.data);
    buf_free(&out);
    return v;
}

/* Every timer has a number: since the event when it happened, since boot when not. */
static void test_state_macros(void **state)
{
    (void)state;
    struct session s;
    struct macro_context ctx;
    char err[UG_ERRBUF], path[128];
    assert_int_equal(session_open(dir, NULL, &s, err), UG_OK);
    assert_int_equal(session_macro_context(&s, &ctx, err), UG_OK);
    assert_true(expand_number(&ctx, "$PRVTMR") >= 0);
    assert_true(expand_number(&ctx, "$UPGTMR") >= 0);
    assert_true(expand_number(&ctx, "$REGTMR1") >= 0);
    assert_int_equal(expand_number(&ctx, "$UPGST"), 1);
    struct buf out = {0};
    assert_int_equal(macro_expand(&ctx, "$VERSION|$EMS|$ORIGTYPE|$AUTHSTATUS|$EXTIP", 0, &out, err),
                     UG_OK);
    char ip[64];
    state_macros_lan_address(ip, sizeof ip);
    char want[256];
    snprintf(want, sizeof want, "Cisco-UG-PHONE-1/2.1.0|No|none|none|%s", ip);
    assert_string_equal(out.data, want);
    buf_free(&out);
    macro_free(&ctx);
    /* After a resync 1000 s ago and an upgrade attempt 50 s ago. */
    long long now = (long long)time(NULL);
    char json[256];
    snprintf(path, sizeof path, "%s/resync.json", dir);
    snprintf(json, sizeof json, "{\"last\": {\"time\": %lld}}", now - 1000);
    write_text(path, json);
    snprintf(path, sizeof path, "%s/upgrade.json", dir);
    snprintf(
        json, sizeof json,
        "{\"status\": {\"last_time\": %lld, \"upgst\": 2, \"last_error\": \"http_get failed\"}}",
        now - 50);
    write_text(path, json);
    assert_int_equal(session_macro_context(&s, &ctx, err), UG_OK);
    long long prvtmr = expand_number(&ctx, "$PRVTMR"), upgtmr = expand_number(&ctx, "$UPGTMR");
    assert_true(prvtmr >= 1000 && prvtmr < 1100);
    assert_true(upgtmr >= 50 && upgtmr < 150);
    assert_int_equal(expand_number(&ctx, "$UPGST"), 2);
    assert_int_equal(macro_expand(&ctx, "$UPGERR", 0, &out, err), UG_OK);
    assert_string_equal(out.data, "http_get failed");
    buf_free(&out);
    macro_free(&ctx);
    session_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open, setup, teardown),
        cmocka_unit_test(test_not_a_device),
        cmocka_unit_test_setup_teardown(test_optional_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_boot_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_url_macros_and_rule_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_flag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_macros, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
