/* SPDX-License-Identifier: MIT */
/* Unit tests of the upgrade's pure decisions (upgrade_state.c): what `upgrader boot` does for
 * each boot state and pending record, when a slot is reused, retry delays, the acted-on memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "upgrade/upgrade_state.h"

/* A boot state in a few words: per slot priority, tries, successful, version; booted; fallback. */
struct slot_spec {
    unsigned priority, tries;
    int successful;
    const char *version;
};

static struct bootstate make_bs(struct slot_spec a, struct slot_spec b, int booted, int fallback)
{
    struct bootstate bs;
    memset(&bs, 0, sizeof bs);
    struct slot_spec spec[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        bs.slot[i].priority = spec[i].priority;
        bs.slot[i].tries = spec[i].tries;
        bs.slot[i].successful = spec[i].successful;
        snprintf(bs.slot[i].version, sizeof bs.slot[i].version, "%s", spec[i].version);
    }
    bs.booted = booted;
    bs.fallback = fallback;
    return bs;
}

static struct upgrade_pending pending(enum upgrade_pending_state state, char slot,
                                      const char *version)
{
    struct upgrade_pending p;
    memset(&p, 0, sizeof p);
    p.state = state;
    p.slot = slot;
    snprintf(p.version, sizeof p.version, "%s", version);
    snprintf(p.url, sizeof p.url, "http://h/%s.bundle", version);
    return p;
}

#define GOOD(v)     \
    {               \
        15, 0, 1, v \
    }
#define OLD_GOOD(v) \
    {               \
        14, 0, 1, v \
    }
#define BAD(v)     \
    {              \
        0, 0, 0, v \
    }
#define NEW(v, t)   \
    {               \
        15, t, 0, v \
    }

static void test_decide_boot(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        struct slot_spec a, b;
        int booted, fallback;
        enum upgrade_pending_state pstate;
        char pslot;
        const char *pversion;
        enum upgrade_boot_action want;
    } cases[] = {
        {"nothing pending, good slot", GOOD("1.0"), BAD(""), 0, 0, PENDING_NONE, 0, "",
         BOOT_ACTION_NONE},
        {"nothing pending, unconfirmed slot", OLD_GOOD("1.0"), NEW("2.0", 2), 1, 0, PENDING_NONE, 0,
         "", BOOT_ACTION_MARK_GOOD},
        {"switched slot booted: confirm", OLD_GOOD("1.0"), NEW("2.0", 2), 1, 0, PENDING_SWITCHED,
         'B', "2.0", BOOT_ACTION_CONFIRM_NEW},
        {"switched slot booted, other version in it", OLD_GOOD("1.0"), NEW("2.1", 2), 1, 0,
         PENDING_SWITCHED, 'B', "2.0", BOOT_ACTION_STALE_PENDING},
        {"killed after set-active, before recording it", OLD_GOOD("1.0"), NEW("2.0", 2), 1, 0,
         PENDING_VERIFIED, 'B', "2.0", BOOT_ACTION_CONFIRM_NEW},
        {"out of tries: fallback to A", OLD_GOOD("1.0"), NEW("2.0", 0), 0, 1, PENDING_SWITCHED, 'B',
         "2.0", BOOT_ACTION_ROLLBACK},
        {"switched slot made unbootable", GOOD("1.0"), BAD("2.0"), 0, 0, PENDING_SWITCHED, 'B',
         "2.0", BOOT_ACTION_ROLLBACK},
        {"switched, reboot not yet happened", OLD_GOOD("1.0"), NEW("2.0", 3), 0, 0,
         PENDING_SWITCHED, 'B', "2.0", BOOT_ACTION_KEEP_PENDING},
        {"verified, deferred by a call", GOOD("1.0"), BAD("2.0"), 0, 0, PENDING_VERIFIED, 'B',
         "2.0", BOOT_ACTION_KEEP_PENDING},
        {"verified, but version cleared since", GOOD("1.0"), BAD(""), 0, 0, PENDING_VERIFIED, 'B',
         "2.0", BOOT_ACTION_STALE_PENDING},
        {"verified, but someone made it bootable", GOOD("1.0"), OLD_GOOD("2.0"), 0, 0,
         PENDING_VERIFIED, 'B', "2.0", BOOT_ACTION_STALE_PENDING},
        {"power cut while writing", GOOD("1.0"), BAD(""), 0, 0, PENDING_WRITING, 'B', "2.0",
         BOOT_ACTION_KEEP_PENDING},
        {"writing record names the booted slot", GOOD("1.0"), BAD(""), 0, 0, PENDING_WRITING, 'A',
         "2.0", BOOT_ACTION_STALE_PENDING},
        {"B to A: confirm", NEW("3.0", 1), OLD_GOOD("2.0"), 0, 0, PENDING_SWITCHED, 'A', "3.0",
         BOOT_ACTION_CONFIRM_NEW},
        {"B to A: rollback", NEW("3.0", 0), OLD_GOOD("2.0"), 1, 1, PENDING_SWITCHED, 'A', "3.0",
         BOOT_ACTION_ROLLBACK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct bootstate bs = make_bs(cases[i].a, cases[i].b, cases[i].booted, cases[i].fallback);
        struct upgrade_pending p = pending(cases[i].pstate, cases[i].pslot, cases[i].pversion);
        enum upgrade_boot_action got = upgrade_decide_boot(&bs, &p);
        if (got != cases[i].want)
            fail_msg("%s: action %d, expected %d", cases[i].what, got, cases[i].want);
    }
}

static void test_slot_holds(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        struct slot_spec a, b;
        int booted;
        enum upgrade_pending_state pstate;
        char pslot;
        const char *pversion;
        const char *version, *url; /* the hop asked for */
        int want;
    } cases[] = {
        {"verified, same version", GOOD("1.0"), BAD("2.0"), 0, PENDING_VERIFIED, 'B', "2.0", "2.0",
         NULL, 1},
        {"switched, same version", OLD_GOOD("1.0"), NEW("2.0", 3), 0, PENDING_SWITCHED, 'B', "2.0",
         "2.0", NULL, 1},
        {"verified, other version asked", GOOD("1.0"), BAD("2.0"), 0, PENDING_VERIFIED, 'B', "3.0",
         "3.0", NULL, 0},
        {"boot state disagrees", GOOD("1.0"), BAD(""), 0, PENDING_VERIFIED, 'B', "2.0", "2.0", NULL,
         0},
        {"still writing", GOOD("1.0"), BAD(""), 0, PENDING_WRITING, 'B', "2.0", "2.0", NULL, 0},
        {"pending slot is the running one", GOOD("2.0"), BAD("1.0"), 0, PENDING_VERIFIED, 'A',
         "2.0", "2.0", NULL, 0},
        {"bundle rule: same URL", GOOD("1.0"), BAD("2.0"), 0, PENDING_VERIFIED, 'B', "2.0", "",
         "http://h/2.0.bundle", 1},
        {"bundle rule: other URL", GOOD("1.0"), BAD("2.0"), 0, PENDING_VERIFIED, 'B', "2.0", "",
         "http://h/x.bundle", 0},
        {"nothing pending", GOOD("1.0"), BAD("2.0"), 0, PENDING_NONE, 0, "", "2.0", NULL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct bootstate bs = make_bs(cases[i].a, cases[i].b, cases[i].booted, 0);
        struct upgrade_pending p = pending(cases[i].pstate, cases[i].pslot, cases[i].pversion);
        int got = upgrade_slot_holds(&bs, &p, cases[i].version, cases[i].url);
        if (got != cases[i].want)
            fail_msg("%s: %d, expected %d", cases[i].what, got, cases[i].want);
    }
}

static void test_retry_delay(void **state)
{
    (void)state;
    struct upgrade_state st;
    memset(&st, 0, sizeof st);
    struct delay_list list;
    char err[UG_ERRBUF];
    assert_int_equal(delay_parse("60,120,240", &list, err), UG_OK);
    time_t t0 = 1000000;
    assert_true(upgrade_retry_due(&st, "2.0", NULL, t0));
    /* The k-th failure in a row waits the k-th delay, the last one repeating. */
    upgrade_record_failure(&st, "2.0", "http://h/2.0.bundle", "rollback", &list, NULL, NULL, t0);
    assert_false(upgrade_retry_due(&st, "2.0", NULL, t0 + 59));
    assert_true(upgrade_retry_due(&st, "2.0", NULL, t0 + 60));
    /* Found by its URL too: a bundle rule knows only the URL before the install. */
    assert_false(upgrade_retry_due(&st, "", "http://h/2.0.bundle", t0 + 59));
    assert_true(upgrade_retry_due(&st, "3.0", "http://h/3.0.bundle", t0));
    upgrade_record_failure(&st, "2.0", NULL, "again", &list, NULL, NULL, t0 + 100);
    assert_int_equal(upgrade_find_failure(&st, "2.0", NULL)->count, 2);
    assert_int_equal(upgrade_find_failure(&st, "2.0", NULL)->retry_after, t0 + 100 + 120);
    upgrade_record_failure(&st, "", "http://h/x.bundle", "404", &list, NULL, NULL, t0 + 200);
    assert_int_equal(upgrade_find_failure(&st, NULL, "http://h/x.bundle")->retry_after,
                     t0 + 200 + 240);
    upgrade_record_failure(&st, "", "http://h/x.bundle", "404", &list, NULL, NULL, t0 + 500);
    assert_int_equal(upgrade_find_failure(&st, NULL, "http://h/x.bundle")->retry_after,
                     t0 + 500 + 240);
    assert_int_equal(st.nfailures, 2);
    /* Success clears the record and restarts the list. */
    upgrade_record_success(&st, "2.0", "http://h/2.0.bundle");
    assert_null(upgrade_find_failure(&st, "2.0", NULL));
    assert_int_equal(st.failure_streak, 0);
    /* An empty list (Upgrade_Error_Retry_Delay empty or 0): retry at once. */
    struct delay_list none = {0};
    upgrade_record_failure(&st, "4.0", NULL, "x", &none, NULL, NULL, t0);
    assert_true(upgrade_retry_due(&st, "4.0", NULL, t0));
    /* A full list evicts its oldest record. */
    for (int i = 0; i < UPGRADE_MAX_FAILURES + 3; i++) {
        char v[16];
        snprintf(v, sizeof v, "9.%d", i);
        upgrade_record_failure(&st, v, NULL, "x", &list, NULL, NULL, t0 + 1000 + i);
    }
    assert_int_equal(st.nfailures, UPGRADE_MAX_FAILURES);
    assert_null(upgrade_find_failure(&st, "9.0", NULL));
    assert_non_null(upgrade_find_failure(&st, "9.18", NULL));
    upgrade_state_free(&st);
}

static void test_rule_acted(void **state)
{
    (void)state;
    struct upgrade_state st;
    memset(&st, 0, sizeof st);
    assert_false(upgrade_rule_acted(&st, 0, "http://h/c.json", "http://h:80/c.json"));
    assert_int_equal(upgrade_state_set_acted(&st, "http://h/c.json", "http://h:80/c.json"), 0);
    assert_true(upgrade_rule_acted(&st, 0, "http://h/c.json", "http://h:80/c.json"));
    /* A conditional rule is governed by its condition, not by this memory. */
    assert_false(upgrade_rule_acted(&st, 1, "http://h/c.json", "http://h:80/c.json"));
    /* A changed text, or the same text expanding to another URL, is a new rule. */
    assert_false(upgrade_rule_acted(&st, 0, "http://h/c.json ", "http://h:80/c.json"));
    assert_false(upgrade_rule_acted(&st, 0, "http://h/c.json", "http://h:80/d.json"));
    upgrade_state_free(&st);
}

static void test_round_trip(void **state)
{
    (void)state;
    char dir[] = "/tmp/upgrade-state-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char err[UG_ERRBUF], path[256];
    snprintf(path, sizeof path, "%s/upgrade.json", dir);
    struct upgrade_state st, back;
    assert_int_equal(upgrade_state_load(path, &st, err), UG_OK);
    assert_int_equal(st.status.state, UPGRADE_IDLE);
    assert_int_equal(st.pending.state, PENDING_NONE);
    st.status.state = UPGRADE_VERIFIED;
    st.status.hop = 2;
    st.status.hops = 3;
    st.status.bytes_done = 5000000000ull;
    st.pending = pending(PENDING_VERIFIED, 'A', "2.0");
    st.plan.active = 1;
    st.plan.catalog = 1;
    st.plan.stored_rule = 0;
    st.plan.hops_total = 3;
    assert_int_equal(upgrade_state_set_plan_rule(&st, "( $SWVER ne 3.0 )? http://h/c.json#3.0"), 0);
    assert_int_equal(upgrade_state_set_acted(&st, "http://h/b", "http://h:80/b"), 0);
    struct delay_list list = {0};
    upgrade_record_failure(&st, "1.9", "http://h/1.9.bundle", "digest", &list, NULL, NULL, 7);
    assert_int_equal(upgrade_state_save(path, &st, err), UG_OK);
    assert_int_equal(upgrade_state_load(path, &back, err), UG_OK);
    assert_int_equal(back.status.state, UPGRADE_VERIFIED);
    assert_int_equal(back.status.hop, 2);
    assert_true(back.status.bytes_done == 5000000000ull);
    assert_int_equal(back.pending.state, PENDING_VERIFIED);
    assert_int_equal(back.pending.slot, 'A');
    assert_string_equal(back.pending.url, "http://h/2.0.bundle");
    assert_int_equal(back.plan.active, 1);
    assert_int_equal(back.plan.stored_rule, 0);
    assert_string_equal(back.plan.rule, "( $SWVER ne 3.0 )? http://h/c.json#3.0");
    assert_string_equal(back.acted_rule, "http://h/b");
    assert_string_equal(back.acted_url, "http://h:80/b");
    assert_int_equal(back.nfailures, 1);
    assert_string_equal(back.failures[0].url, "http://h/1.9.bundle");
    upgrade_state_free(&st);
    upgrade_state_free(&back);
    /* A damaged file (cut short) is set aside and the state starts afresh, saying so; the
     * damaged copy stays beside it. */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{ \"status\": { \"sta", f);
    fclose(f);
    assert_int_equal(upgrade_state_load(path, &back, err), UG_OK);
    assert_non_null(strstr(back.recovered, "upgrade.json: not a JSON object"));
    assert_non_null(strstr(back.recovered, "set aside as"));
    assert_int_equal(back.status.state, UPGRADE_IDLE);
    assert_int_equal(back.plan.active, 0);
    upgrade_state_free(&back);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "grep -q sta %s/upgrade.json.damaged-* && rm -r %s", dir, dir);
    assert_int_equal(system(cmd), 0);
}

/* upgrade.json (world-readable) never holds a --pwd or --key argument: the plan's RULE is
 * kept whole in upgrade.json.secret (0600) for the boot that continues it, the acted-on
 * memory only hidden; both still work. */
static void test_no_secret_in_upgrade_json(void **state)
{
    (void)state;
    char dir[] = "/tmp/upgrade-state-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char err[UG_ERRBUF], path[256], secret[300];
    snprintf(path, sizeof path, "%s/upgrade.json", dir);
    snprintf(secret, sizeof secret, "%s.secret", path);
    const char *plan_rule = "[--uid fw --pwd S3cretPw] http://h/c.json#3.0";
    const char *stored = "[--pwd \"An0ther pw\" --key K3y] http://h/b.bundle";
    struct upgrade_state st, back;
    assert_int_equal(upgrade_state_load(path, &st, err), UG_OK);
    st.plan.active = 1;
    st.plan.stored_rule = 0;
    assert_int_equal(upgrade_state_set_plan_rule(&st, plan_rule), 0);
    assert_int_equal(upgrade_state_set_acted(&st, stored, "http://h:80/b.bundle"), 0);
    assert_int_equal(upgrade_state_save(path, &st, err), UG_OK);
    FILE *f = fopen(path, "r");
    char text[8192] = "";
    assert_non_null(f);
    text[fread(text, 1, sizeof text - 1, f)] = '\0';
    fclose(f);
    assert_null(strstr(text, "S3cretPw"));
    assert_null(strstr(text, "An0ther"));
    assert_null(strstr(text, "K3y"));
    assert_non_null(strstr(text, "[--uid fw --pwd ********] http:"));
    struct stat sb;
    assert_int_equal(stat(secret, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(upgrade_state_load(path, &back, err), UG_OK);
    assert_string_equal(back.plan.rule, plan_rule);
    assert_true(upgrade_rule_acted(&back, 0, stored, "http://h:80/b.bundle"));
    upgrade_state_free(&back);
    /* the plan over: the secret goes with it */
    st.plan.active = 0;
    assert_int_equal(upgrade_state_save(path, &st, err), UG_OK);
    assert_int_equal(stat(secret, &sb), -1);
    upgrade_state_free(&st);
    unlink(path);
    rmdir(dir);
}

/* Every phase has a name that reads back as itself; an unknown name is no phase. */
static void test_phase_names(void **state)
{
    (void)state;
    for (int ph = UPGRADE_IDLE; ph <= UPGRADE_CANCELLED; ph++)
        assert_int_equal(upgrade_phase_parse(upgrade_phase_name((enum upgrade_phase)ph)), ph);
    assert_string_equal(upgrade_phase_name(UPGRADE_VERIFIED), "verified-pending-switch");
    assert_string_equal(upgrade_phase_name(UPGRADE_DEFERRED), "deferred-call-active");
    assert_int_equal(upgrade_phase_parse("sleeping"), -1);
    assert_int_equal(upgrade_phase_parse(NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decide_boot),
        cmocka_unit_test(test_slot_holds),
        cmocka_unit_test(test_retry_delay),
        cmocka_unit_test(test_rule_acted),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_phase_names),
        cmocka_unit_test(test_no_secret_in_upgrade_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
