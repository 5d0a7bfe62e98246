/* SPDX-License-Identifier: MIT */
/* Unit tests of the resync engine (resync.c) and the factory reset (factory_reset.c) on a
 * device made by init, with the transport wrapped (test_resync.wrap): profiles served from
 * memory, every request checked. The stored rules run in order and the first failure ends
 * them; file-not-found as configured; all-or-nothing profiles; validators and 304; the
 * provisioning states; one resync at a time; Custom_CA_Rule; factory reset and its refusals. */
#include <netdb.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/fsutil.h"
#include "common/jsonfile.h"
#include "fakeserver.h"
#include "fixture.h"
#include "lang/crypt.h"
#include "resync/dhcp.h"
#include "resync/factory_reset.h"
#include "resync/resync.h"
#include "testdevice.h"

/* ---- the wrapped transport */

ug_err __wrap_fetch_to_buffer(const struct fetch_options *o, size_t max_size, struct buf *out,
                              struct fetch_result *res, char *err);
ug_err __wrap_fetch_to_buffer(const struct fetch_options *o, size_t max_size, struct buf *out,
                              struct fetch_result *res, char *err)
{
    return fake_fetch_to_buffer(o, max_size, out, res, err);
}

/* Name lookups the engine makes of its own (the transport's are libcurl's, not these). */
static int lookups;
int __real_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                       struct addrinfo **res);
int __wrap_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                       struct addrinfo **res);
int __wrap_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                       struct addrinfo **res)
{
    lookups++;
    return __real_getaddrinfo(node, service, hints, res);
}

/* ---- the device */

static struct fixture fx; /* for a CA certificate to serve */
static char root[256];
static struct session s;
static volatile sig_atomic_t cancel_flag;

static int group_setup(void **state)
{
    (void)state;
    return fixture_make(&fx, "ug-resync-keys", 0, 1, 1u, "0123456789abcdef");
}

static int group_teardown(void **state)
{
    (void)state;
    return fixture_remove(&fx);
}

static int setup(void **state)
{
    (void)state;
    char err[UG_ERRBUF];
    fake_reset();
    cancel_flag = 0;
    lookups = 0;
    if (testdevice_make(root, sizeof root, "ug-resync", "1.0.0", "1M", NULL) != 0)
        return -1;
    struct session_options o = {.cancel = &cancel_flag};
    if (session_open(root, &o, &s, err) != UG_OK) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    session_close(&s);
    fake_reset();
    return testdevice_remove(root);
}

static void set(const char *name, const char *value)
{
    char err[UG_ERRBUF];
    if (params_set(&s.params, name, value, PARAM_ROLE_ADMIN, err) != UG_OK)
        fail_msg("%s", err);
}

static const char *value(const char *name)
{
    const char *v = params_value(&s.params, name);
    return v ? v : "(unknown)";
}

/* Serves a flat profile of name/value pairs (NULL-terminated) at path. */
static struct fake_file *serve_profile(const char *path, ...)
{
    struct buf b = {0};
    va_list ap;
    va_start(ap, path);
    buf_append_str(&b, "<flat-profile>\n");
    for (const char *n; (n = va_arg(ap, const char *)) != NULL;)
        buf_printf(&b, "  <%s>%s</%s>\n", n, va_arg(ap, const char *), n);
    va_end(ap);
    buf_append_str(&b, "</flat-profile>\n");
    struct fake_file *f = fake_serve(path, b.data, b.len);
    buf_free(&b);
    assert_non_null(f);
    return f;
}

/* One resync: the stored rules (rule NULL) or the given rule, with its report. */
static ug_err resync(const char *rule, long timeout_ms, struct resync_report *rep, char *err)
{
    struct resync_options o;
    resync_options_init(&o);
    o.rule = rule;
    o.timeout_ms = timeout_ms;
    err[0] = '\0';
    return resync_run(&s, &o, rep, err);
}

static json_object *load_json(const char *name)
{
    char path[400], err[UG_ERRBUF];
    json_object *doc = NULL;
    snprintf(path, sizeof path, "%s/%s", root, name);
    if (jsonfile_load(path, &doc, err) != UG_OK)
        fail_msg("%s", err);
    return doc;
}

static json_object *member(json_object *o, const char *key)
{
    json_object *v = NULL;
    return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *recorded_state(void)
{
    static char state[32];
    json_object *doc = load_json("resync.json");
    snprintf(state, sizeof state, "%s", jsonfile_get_string(doc, "state", "MFG-RESET"));
    json_object_put(doc);
    return state;
}

static int file_in_root(const char *name)
{
    char path[400];
    snprintf(path, sizeof path, "%s/%s", root, name);
    return fs_exists(path);
}

static void read_in_root(const char *name, struct buf *out)
{
    char path[400], err[UG_ERRBUF];
    snprintf(path, sizeof path, "%s/%s", root, name);
    buf_reset(out);
    if (fs_read_file(path, 1 << 20, out, err) != UG_OK)
        fail_msg("%s", err);
}

/* ---- the tests */

/* A store that cannot be written (here: the temporary file's name is taken by a folder, as
 * a full or failing disk would refuse it) is said as such in $ERR, not as a bad assignment. */
static void test_assignment_write_failure(void **state)
{
    (void)state;
    char err[UG_ERRBUF], tmp[400];
    struct resync_report rep;
    snprintf(tmp, sizeof tmp, "%s/params.tmp.%ld", root, (long)getpid());
    assert_int_equal(mkdir(tmp, 0700), 0);
    ug_err rc = resync("( GPP_A = \"x\"; )!", 0, &rep, err);
    rmdir(tmp);
    assert_int_not_equal(rc, UG_OK);
    assert_string_equal(rep.reason, "cannot save parameters");
    assert_non_null(strstr(err, "params"));
}

/* Profile_Rule .. _D run in order, each seeing what the earlier ones applied; the first
 * failure ends the sequence, and what was applied before it stays. */
static void test_rules_in_order(void **state)
{
    (void)state;
    serve_profile("/first.xml", "GPP_A", "one", "GPP_B", "second", NULL);
    serve_profile("/second.xml", "GPP_C", "two", NULL);
    serve_profile("/last.xml", "GPP_D", "four", NULL);
    set("Profile_Rule", "http://prov.test/first.xml");
    set("Profile_Rule_B", "http://prov.test/$B.xml"); /* $B is GPP_B, set by the first file */
    set("Profile_Rule_C", "http://prov.test/missing.xml");
    set("Profile_Rule_D", "http://prov.test/last.xml");
    struct resync_report rep;
    char err[UG_ERRBUF];
    assert_int_equal(resync(NULL, 0, &rep, err), UG_ERR_UNUSABLE);
    assert_non_null(strstr(err, "missing.xml"));
    assert_int_equal(fake_request_count(), 3);
    assert_non_null(strstr(fake_request_at(0)->url, "/first.xml"));
    assert_non_null(strstr(fake_request_at(1)->url, "/second.xml"));
    assert_non_null(strstr(fake_request_at(2)->url, "/missing.xml"));
    assert_string_equal(value("GPP_A"), "one");
    assert_string_equal(value("GPP_C"), "two");
    assert_string_equal(value("GPP_D"), "");
    assert_string_equal(rep.rule, "Profile_Rule_C");
    assert_string_equal(rep.reason, "file not found");
    assert_string_equal(rep.led, "fast-blink");
    resync_report_free(&rep);

    json_object *doc = load_json("resync.json");
    json_object *last = member(doc, "last");
    assert_int_equal(jsonfile_get_int(last, "result", -1), UG_ERR_UNUSABLE);
    assert_string_equal(jsonfile_get_string(last, "rule", ""), "Profile_Rule_C");
    assert_non_null(strstr(jsonfile_get_string(last, "url", ""), "/missing.xml"));
    assert_string_equal(jsonfile_get_string(last, "err", ""), "file not found");
    /* Profiles were applied before the failure: the store holds the provider's values. */
    assert_string_equal(jsonfile_get_string(doc, "state", ""), "SP-CUST");
    json_object_put(doc);
}

/* A missing file fails the resync unless Resync_Fails_On_FNF is No; other errors always do. */
static void test_file_not_found(void **state)
{
    (void)state;
    static const struct {
        const char *fnf;
        enum fake_answer answer;
        ug_err rc;
        int next_rule_runs;
        const char *reason, *led;
    } cases[] = {
        {"Yes", FAKE_NOT_FOUND, UG_ERR_UNUSABLE, 0, "file not found", "fast-blink"},
        {"No", FAKE_NOT_FOUND, UG_OK, 1, "ok", "off"},
        {"No", FAKE_SERVER_FAIL, UG_ERR_UNUSABLE, 0, "http error 500", "fast-blink"},
        {"No", FAKE_UNREACHABLE, UG_ERR_UNREACHABLE, 0, "connection refused", "slow-blink"},
    };
    serve_profile("/b.xml", "GPP_B", "from b", NULL);
    set("Profile_Rule", "http://prov.test/a.xml");
    set("Profile_Rule_B", "http://prov.test/b.xml");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fake_fail("/a.xml", cases[i].answer);
        set("Resync_Fails_On_FNF", cases[i].fnf);
        set("GPP_B", "");
        size_t before = fake_requests_of("/b.xml");
        struct resync_report rep;
        char err[UG_ERRBUF];
        ug_err rc = resync(NULL, 0, &rep, err);
        if (rc != cases[i].rc)
            fail_msg("case %zu: rc %d (%s)", i, rc, err);
        assert_int_equal(fake_requests_of("/b.xml") - before, cases[i].next_rule_runs);
        assert_string_equal(value("GPP_B"), cases[i].next_rule_runs ? "from b" : "");
        assert_string_equal(rep.reason, cases[i].reason);
        assert_string_equal(rep.led, cases[i].led);
        /* FNF=No: the missing file is logged as ignored, not as a failure. */
        if (cases[i].rc == UG_OK)
            assert_non_null(strstr(rep.log.data, "file not found, ignored"));
        resync_report_free(&rep);
    }
}

/* One bad value costs that value, never the file: the rest is applied, the note is in the log
 * and in resync.json; a file that cannot be read as a whole changes nothing and keeps no
 * validator. */
static void test_profile_per_value(void **state)
{
    (void)state;
    set("GPP_A", "before");
    struct fake_file *f = serve_profile("/mixed.xml", "GPP_A", "after", "GPP_B", "new",
                                        "Resync_Random_Delay", "70000", "Upgrade_Enable", "", NULL);
    snprintf(f->etag, sizeof f->etag, "\"mixed-1\"");
    set("Profile_Rule", "http://prov.test/mixed.xml");
    set("Upgrade_Enable", "No");
    struct resync_report rep;
    char err[UG_ERRBUF];
    assert_int_equal(resync(NULL, 0, &rep, err), UG_OK);
    assert_string_equal(rep.reason, "ok");
    assert_non_null(strstr(rep.log.data, "Profile_Rule: applied http://prov.test:80/mixed.xml: 3 "
                                         "parameters, 3 changed, 1 defaulted, 1 ignored\n"));
    assert_non_null(strstr(rep.log.data, "http://prov.test:80/mixed.xml line 4: "
                                         "Resync_Random_Delay: '70000' is not an integer in "
                                         "0..65535; ignored, the old value stays\n"));
    resync_report_free(&rep);
    assert_int_equal(session_reload(&s, err), UG_OK);
    assert_string_equal(value("GPP_A"), "after");
    assert_string_equal(value("GPP_B"), "new");
    assert_string_equal(value("Resync_Random_Delay"), "2");
    assert_string_equal(value("Upgrade_Enable"), "Yes");
    json_object *doc = load_json("resync.json"), *last = member(doc, "last");
    json_object *applied = member(last, "applied");
    assert_non_null(applied);
    assert_int_equal(jsonfile_get_int(applied, "files", 0), 1);
    assert_int_equal(jsonfile_get_int(applied, "ignored", 0), 1);
    assert_int_equal(jsonfile_get_int(applied, "defaulted", 0), 1);
    json_object *notes = member(applied, "notes");
    assert_int_equal(json_object_array_length(notes), 2);
    assert_non_null(member(doc, "validators")); /* the file was applied */
    json_object_put(doc);

    /* Not well-formed: refused whole, the store byte for byte as it was. */
    static const char broken[] = "<flat-profile><GPP_A>x</GPP_B></flat-profile>";
    fake_serve("/broken.xml", broken, sizeof broken - 1);
    set("Profile_Rule", "http://prov.test/broken.xml");
    struct buf store = {0}, after = {0};
    read_in_root("params", &store);
    assert_int_equal(resync(NULL, 0, &rep, err), UG_ERR_UNUSABLE);
    assert_non_null(strstr(err, "not well-formed XML"));
    assert_string_equal(rep.reason, "bad profile");
    resync_report_free(&rep);
    read_in_root("params", &after);
    assert_int_equal(after.len, store.len);
    assert_memory_equal(after.data, store.data, store.len);
    doc = load_json("resync.json");
    assert_null(member(member(doc, "last"), "applied"));
    json_object_put(doc);
    buf_free(&store);
    buf_free(&after);
}

static void record_dhcp(int option, const char *value)
{
    struct dhcp_servers d;
    char err[UG_ERRBUF];
    memset(&d, 0, sizeof d);
    char *slot = option == 66 ? d.option66 : option == 160 ? d.option160 : d.option159;
    if (dhcp_normalise(option, value, slot, DHCP_SERVER_MAX, err) != UG_OK ||
        dhcp_record(&s.folder, &d, err) != UG_OK)
        fail_msg("%s", err);
}

/* DHCP's URL keeps its scheme, port and path: with a path it is the factory Profile_Rule;
 * without, its scheme and port serve the rules that name no server. */
static void test_dhcp_urls(void **state)
{
    (void)state;
    struct resync_report rep;
    char err[UG_ERRBUF];
    serve_profile("/cisco/1.xml", "GPP_A", "from-160", NULL);
    serve_profile("/1.xml", "GPP_A", "from-66", NULL);
    record_dhcp(160, "http://prov.test/cisco/$PSN.xml");
    assert_int_equal(resync(NULL, 0, &rep, err), UG_OK);
    assert_string_equal(fake_request_at(0)->url, "http://prov.test:80/cisco/1.xml");
    resync_report_free(&rep);
    assert_string_equal(value("GPP_A"), "from-160");
    record_dhcp(66, "http://prov.test:8080");
    assert_int_equal(resync(NULL, 0, &rep, err), UG_OK);
    assert_string_equal(fake_request_at(1)->url, "http://prov.test:8080/1.xml");
    resync_report_free(&rep);
    /* A Profile_Rule set by the operator is the operator's: DHCP's rule no longer replaces it. */
    record_dhcp(160, "http://prov.test/cisco/$PSN.xml");
    set("Profile_Rule", "http://prov.test/1.xml");
    assert_int_equal(resync(NULL, 0, &rep, err), UG_OK);
    assert_string_equal(fake_request_at(2)->url, "http://prov.test:80/1.xml");
    resync_report_free(&rep);
}

/* Cisco's own rules: timers always have a number, so a new device's first resync and the
 * Resync_Trigger example evaluate; the second resync right after the first is under 600 s. */
static void test_timer_rules(void **state)
{
    (void)state;
    struct resync_report rep;
    char err[UG_ERRBUF];
    serve_profile("/a.xml", "GPP_B", "a", NULL);
    serve_profile("/b.xml", "GPP_B", "b", NULL);
    set("GPP_A", "status=up");
    set("Profile_Rule",
        "($PRVTMR ge 600)? [--post a] http://prov.test/a.xml | http://prov.test/b.xml");
    set("Profile_Rule_B", "($UPGTMR gt 300 and $PRVTMR ge 600)? http://prov.test/a.xml");
    set("Profile_Rule_C", "( $REGTMR1 ge 0 and \"$IP\" eq \"$IP\" )? http://prov.test/b.xml");
    assert_int_equal(resync(NULL, 0, &rep, err), UG_OK);
    resync_report_free(&rep);
    size_t first = fake_request_count();
    assert_true(first >= 2);
    assert_int_equal(resync(NULL, 0, &rep, err), UG_OK);
    assert_int_equal(fake_request_count(), first + 2); /* b.xml (rule A), B skipped, C's b.xml */
    assert_non_null(strstr(fake_request_at(first)->url, "/b.xml"));
    assert_non_null(strstr(rep.log.data, "Profile_Rule_B: no alternative applies, skipped"));
    resync_report_free(&rep);
}

/* What a profile from a server may leave out, the server that served it fills in; --alias
 * maps a foreign document; HTTP_User_Agent_Name is the User-Agent, with its macros. */
static void test_served_profile(void **state)
{
    (void)state;
    struct resync_report rep;
    char err[UG_ERRBUF];
    serve_profile("/fw.xml", "Upgrade_Rule", "( $SWVER ne 7.6.2 )? /fw/spa-762.bin",
                  "HTTP_User_Agent_Name", "Acme-$PSN ($MAU)", NULL);
    static const char acct[] = "<acct><num>42</num></acct>";
    fake_serve("/acct.xml", acct, sizeof acct - 1);
    set("GPP_C", "/acct/num = /flat-profile/GPP_D ;");
    set("Profile_Rule", "http://prov.test/fw.xml");
    set("Profile_Rule_B", "[--alias c] http://prov.test/acct.xml");
    assert_int_equal(resync(NULL, 0, &rep, err), UG_OK);
    resync_report_free(&rep);
    assert_string_equal(value("Upgrade_Rule"), "( $SWVER ne 7.6.2 )? prov.test/fw/spa-762.bin");
    assert_string_equal(value("GPP_D"), "42");
    assert_int_equal(resync("http://prov.test/acct.xml", 0, &rep, err), UG_ERR_UNUSABLE);
    resync_report_free(&rep); /* without --alias it is no profile */
    assert_string_equal(fake_request_at(2)->user_agent, "Acme-1 (000E08AABBCC)");
}

/* An applied profile's ETag and Last-Modified go back with the next request; a 304 applies
 * nothing, even over a value changed locally since. */
static void test_validators_and_304(void **state)
{
    (void)state;
    static const char lm[] = "Wed, 21 Oct 2015 07:28:00 GMT";
    struct fake_file *f = serve_profile("/a.xml", "GPP_A", "served", NULL);
    snprintf(f->etag, sizeof f->etag, "\"v1\"");
    snprintf(f->last_modified, sizeof f->last_modified, "%s", lm);
    set("Profile_Rule", "http://prov.test/a.xml");
    struct resync_report rep;
    char err[UG_ERRBUF];
    assert_int_equal(resync(NULL, 0, &rep, err), UG_OK);
    assert_null(fake_last_request_of("/a.xml")->if_none_match);
    assert_string_equal(value("GPP_A"), "served");
    resync_report_free(&rep);
    json_object *doc = load_json("resync.json");
    json_object *kept = member(member(doc, "validators"), rep.url);
    assert_non_null(kept);
    assert_string_equal(jsonfile_get_string(kept, "etag", ""), "\"v1\"");
    assert_string_equal(jsonfile_get_string(kept, "last_modified", ""), lm);
    json_object_put(doc);

    set("GPP_A", "changed here");
    assert_int_equal(resync(NULL, 0, &rep, err), UG_OK);
    const struct fake_request *rq = fake_last_request_of("/a.xml");
    assert_string_equal(rq->if_none_match, "\"v1\"");
    assert_string_equal(rq->if_modified_since, lm);
    assert_string_equal(rep.reason, "not modified");
    assert_string_equal(value("GPP_A"), "changed here");
    assert_non_null(strstr(rep.log.data, "not modified"));
    resync_report_free(&rep);

    /* The file changed on the server: applied, and its new ETag kept. */
    serve_profile("/a.xml", "GPP_A", "served again", NULL);
    snprintf(f->etag, sizeof f->etag, "\"v2\"");
    f->last_modified[0] = '\0';
    assert_int_equal(resync(NULL, 0, &rep, err), UG_OK);
    assert_string_equal(value("GPP_A"), "served again");
    resync_report_free(&rep);
    assert_int_equal(resync(NULL, 0, &rep, err), UG_OK);
    assert_string_equal(fake_last_request_of("/a.xml")->if_none_match, "\"v2\"");
    resync_report_free(&rep);
}

/* What the transport is asked for: the expanded URL, the rule's credentials, the timeout,
 * TFTP's block size, a --post body, the User-Agent; the ETag of an applied profile goes back
 * with the next GET of its URL, never over TFTP or with a POST. */
static void test_request_options(void **state)
{
    (void)state;
    static const struct {
        const char *rule;
        long timeout_ms;
        const char *path, *user, *password;
        long want_timeout_ms;
        int blksize;
        enum fetch_method method;
        const char *body, *if_none_match;
    } cases[] = {
        {"[--uid alice --pwd s3cret] https://prov.test/a.xml", 0, "/a.xml", "alice", "s3cret",
         RESYNC_DEFAULT_TIMEOUT_MS, 0, FETCH_GET, NULL, NULL},
        {"[--uid alice --pwd s3cret] https://prov.test/a.xml", 0, "/a.xml", "alice", "s3cret",
         RESYNC_DEFAULT_TIMEOUT_MS, 0, FETCH_GET, NULL, "\"a1\""},
        {"tftp://prov.test/a.xml", 5000, "/a.xml", NULL, NULL, 5000, RESYNC_TFTP_BLKSIZE, FETCH_GET,
         NULL, NULL},
        {"tftp://prov.test/a.xml", 5000, "/a.xml", NULL, NULL, 5000, RESYNC_TFTP_BLKSIZE, FETCH_GET,
         NULL, NULL},
        {"http://prov.test/$MA.xml", 2000, "/000e08aabbcc.xml", NULL, NULL, 2000, 0, FETCH_GET,
         NULL, NULL},
        {"[--post c] http://prov.test/a.xml", 0, "/a.xml", NULL, NULL, RESYNC_DEFAULT_TIMEOUT_MS, 0,
         FETCH_POST, "mac=000e08aabbcc", NULL},
        {"[--post c] http://prov.test/a.xml", 0, "/a.xml", NULL, NULL, RESYNC_DEFAULT_TIMEOUT_MS, 0,
         FETCH_POST, "mac=000e08aabbcc", NULL},
    };
    struct fake_file *a = serve_profile("/a.xml", "GPP_A", "a", NULL);
    snprintf(a->etag, sizeof a->etag, "\"a1\"");
    serve_profile("/000e08aabbcc.xml", "GPP_A", "mine", NULL);
    set("GPP_C", "mac=$MA");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct resync_report rep;
        char err[UG_ERRBUF];
        size_t before = fake_request_count();
        if (resync(cases[i].rule, cases[i].timeout_ms, &rep, err) != UG_OK)
            fail_msg("case %zu: %s", i, err);
        resync_report_free(&rep);
        assert_int_equal(fake_request_count(), before + 1);
        const struct fake_request *rq = fake_request_at(before);
        assert_non_null(strstr(rq->url, cases[i].path));
        assert_non_null(strstr(rq->url, "prov.test"));
        if (cases[i].user) {
            assert_string_equal(rq->username, cases[i].user);
            assert_string_equal(rq->password, cases[i].password);
        } else {
            assert_null(rq->username);
        }
        assert_int_equal(rq->timeout_ms, cases[i].want_timeout_ms);
        assert_int_equal(rq->tftp_blksize, cases[i].blksize);
        assert_int_equal(rq->method, cases[i].method);
        if (cases[i].body)
            assert_string_equal(rq->body, cases[i].body);
        if (cases[i].if_none_match)
            assert_string_equal(rq->if_none_match, cases[i].if_none_match);
        else if (rq->if_none_match)
            fail_msg("case %zu: If-None-Match %s sent", i, rq->if_none_match);
        assert_string_equal(rq->user_agent, "Cisco-UG-PHONE-1/1.0.0 (000e08aabbcc)");
    }
    /* No server in the rule and none from DHCP: refused before any request. */
    struct resync_report rep;
    char err[UG_ERRBUF];
    size_t before = fake_request_count();
    assert_int_equal(resync("/$PSN.xml", 0, &rep, err), UG_ERR_USAGE);
    assert_non_null(strstr(err, "no default (DHCP) server"));
    assert_int_equal(fake_request_count(), before);
    resync_report_free(&rep);
}

/* MFG-RESET, then SP-CUST once a profile is applied, SEC-PRV-1 once a --key rule is armed,
 * SEC-PRV-2 once an encrypted profile was fetched and applied; a resync that applies
 * nothing keeps the state. Each is recorded in resync.json. */
static void test_provisioning_states(void **state)
{
    (void)state;
    struct resync_report rep;
    char err[UG_ERRBUF];
    assert_false(file_in_root("resync.json"));

    serve_profile("/plain.xml", "GPP_A", "plain", NULL);
    set("Profile_Rule", "http://prov.test/plain.xml");
    assert_int_equal(resync(NULL, 0, &rep, err), UG_OK);
    assert_int_equal(rep.state, PROV_SP_CUST);
    assert_string_equal(recorded_state(), "SP-CUST");
    resync_report_free(&rep);

    /* The provider's profile arms a key and the rule that uses it. */
    serve_profile("/arm.xml", "GPP_B", "k3y", "Profile_Rule", "[--key $B] http://prov.test/sec.cfg",
                  NULL);
    assert_int_equal(resync("http://prov.test/arm.xml", 0, &rep, err), UG_OK);
    assert_int_equal(rep.state, PROV_SEC_PRV_1);
    assert_string_equal(recorded_state(), "SEC-PRV-1");
    resync_report_free(&rep);

    static const char secret[] = "<flat-profile><GPP_D>secret</GPP_D></flat-profile>\n";
    struct buf enc = {0};
    assert_int_equal(crypt_encrypt(secret, sizeof secret - 1, "k3y", CRYPT_MD_SHA256, &enc, err),
                     UG_OK);
    assert_non_null(fake_serve("/sec.cfg", enc.data, enc.len));
    buf_free(&enc);
    assert_int_equal(resync(NULL, 0, &rep, err), UG_OK);
    assert_string_equal(value("GPP_D"), "secret");
    assert_int_equal(rep.state, PROV_SEC_PRV_2);
    assert_string_equal(recorded_state(), "SEC-PRV-2");
    resync_report_free(&rep);

    /* Nothing applied (the file is gone, and that is allowed): the state stays. */
    set("Resync_Fails_On_FNF", "No");
    fake_fail("/sec.cfg", FAKE_NOT_FOUND);
    assert_int_equal(resync(NULL, 0, &rep, err), UG_OK);
    assert_string_equal(recorded_state(), "SEC-PRV-2");
    resync_report_free(&rep);
    /* A failure applies nothing either. */
    fake_fail("/sec.cfg", FAKE_UNREACHABLE);
    assert_int_equal(resync(NULL, 0, &rep, err), UG_ERR_UNREACHABLE);
    assert_string_equal(recorded_state(), "SEC-PRV-2");
    resync_report_free(&rep);
}

/* Provision_Enable=No: refused, for the stored rules and a given one alike; nothing fetched,
 * nothing recorded. */
static void test_provision_disabled(void **state)
{
    (void)state;
    serve_profile("/a.xml", "GPP_A", "a", NULL);
    set("Profile_Rule", "http://prov.test/a.xml");
    set("Provision_Enable", "No");
    const char *rules[] = {NULL, "http://prov.test/a.xml"};
    for (size_t i = 0; i < 2; i++) {
        struct resync_report rep;
        char err[UG_ERRBUF];
        assert_int_equal(resync(rules[i], 0, &rep, err), UG_ERR_OTHER);
        assert_non_null(strstr(err, "Provision_Enable is No"));
        resync_report_free(&rep);
    }
    assert_int_equal(fake_request_count(), 0);
    assert_string_equal(value("GPP_A"), "");
    assert_false(file_in_root("resync.json"));
}

/* While a resync is in the network: a second resync and a factory reset are refused at
 * once, and a parameter set meanwhile is kept by the resync's apply. */
struct meanwhile {
    int ran;
    ug_err second, reset, set;
    char second_err[UG_ERRBUF], reset_err[UG_ERRBUF];
    double seconds;
};

static void during_download(void *ctx, const struct fake_request *rq)
{
    struct meanwhile *m = ctx;
    (void)rq;
    if (m->ran++)
        return;
    struct session other;
    struct resync_options o;
    struct resync_report rep;
    char err[UG_ERRBUF];
    if (session_open(root, NULL, &other, err) != UG_OK)
        return;
    resync_options_init(&o);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    m->second = resync_run(&other, &o, &rep, m->second_err);
    m->reset = factory_reset(&other, m->reset_err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    m->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    m->set = params_set(&other.params, "GPP_D", "set meanwhile", PARAM_ROLE_ADMIN, err);
    resync_report_free(&rep);
    session_close(&other);
}

static void test_one_resync_at_a_time(void **state)
{
    (void)state;
    struct meanwhile m = {0};
    serve_profile("/a.xml", "GPP_A", "from the server", NULL);
    set("Profile_Rule", "http://prov.test/a.xml");
    fake_set_hook(during_download, &m);
    struct resync_report rep;
    char err[UG_ERRBUF];
    assert_int_equal(resync(NULL, 0, &rep, err), UG_OK);
    resync_report_free(&rep);
    assert_int_equal(m.ran, 1);
    assert_int_equal(m.second, UG_ERR_OTHER);
    assert_non_null(strstr(m.second_err, "another resync or factory reset"));
    assert_int_equal(m.reset, UG_ERR_OTHER);
    assert_non_null(strstr(m.reset_err, "a resync or another factory reset"));
    assert_true(m.seconds < 2.0); /* not a wait for the lock's holder */
    assert_int_equal(m.set, UG_OK);
    assert_string_equal(value("GPP_A"), "from the server");
    assert_string_equal(value("GPP_D"), "set meanwhile");
    /* The resync is over: the next one runs. */
    assert_int_equal(resync(NULL, 0, &rep, err), UG_OK);
    resync_report_free(&rep);
}

/* A cancel during the download: the profile is not applied, later rules do not run. */
static void cancel_now(void *ctx, const struct fake_request *rq)
{
    (void)ctx, (void)rq;
    cancel_flag = 1;
}

static void test_cancel(void **state)
{
    (void)state;
    serve_profile("/a.xml", "GPP_A", "a", NULL);
    serve_profile("/b.xml", "GPP_B", "b", NULL);
    set("Profile_Rule", "http://prov.test/a.xml");
    set("Profile_Rule_B", "http://prov.test/b.xml");
    fake_set_hook(cancel_now, NULL);
    struct resync_report rep;
    char err[UG_ERRBUF];
    assert_int_equal(resync(NULL, 0, &rep, err), UG_ERR_OTHER);
    assert_non_null(strstr(err, "cancelled"));
    assert_int_equal(fake_request_count(), 1);
    assert_string_equal(value("GPP_A"), "");
    resync_report_free(&rep);
}

/* Custom_CA_Rule: the CA is fetched once per URL and trusted for the transfers after it; a
 * file that is no certificate is recorded as failed and the resync goes on. */
static void test_custom_ca(void **state)
{
    (void)state;
    assert_non_null(fake_serve_file("/ca.pem", fx.keyring));
    fake_serve("/junk.pem", "not a certificate\n", 18);
    serve_profile("/a.xml", "GPP_A", "a", NULL);
    set("Profile_Rule", "https://prov.test/a.xml");
    set("Custom_CA_Rule", "http://prov.test/junk.pem");
    struct resync_report rep;
    char err[UG_ERRBUF];
    assert_int_equal(resync(NULL, 0, &rep, err), UG_OK);
    resync_report_free(&rep);
    assert_false(file_in_root("custom-ca.pem"));
    json_object *doc = load_json("resync.json");
    assert_string_equal(jsonfile_get_string(member(doc, "custom_ca"), "err", ""),
                        "not a certificate");
    json_object_put(doc);
    assert_null(fake_last_request_of("/a.xml")->extra_ca_file);

    set("Custom_CA_Rule", "http://prov.test/ca.pem");
    assert_int_equal(resync(NULL, 0, &rep, err), UG_OK);
    resync_report_free(&rep);
    assert_true(file_in_root("custom-ca.pem"));
    const char *extra = fake_last_request_of("/a.xml")->extra_ca_file;
    assert_non_null(extra);
    assert_non_null(strstr(extra, "custom-ca.pem"));
    assert_int_equal(resync(NULL, 0, &rep, err), UG_OK);
    resync_report_free(&rep);
    assert_int_equal(fake_requests_of("/ca.pem"), 1);
}

/* Factory reset: every parameter and access level back to the defaults (the store is
 * what init writes), the custom CA and the resync record gone; identity and boot state kept. */
static void test_factory_reset(void **state)
{
    (void)state;
    assert_non_null(fake_serve_file("/ca.pem", fx.keyring));
    static const char profile[] = "<flat-profile><GPP_A ua=\"rw\">x</GPP_A>"
                                  "<Profile_Rule_B>http://prov.test/b.xml</Profile_Rule_B>"
                                  "</flat-profile>";
    struct fake_file *f = fake_serve("/a.xml", profile, sizeof profile - 1);
    snprintf(f->etag, sizeof f->etag, "\"e\"");
    serve_profile("/b.xml", "GPP_B", "b", NULL);
    set("Profile_Rule", "http://prov.test/a.xml");
    set("Custom_CA_Rule", "http://prov.test/ca.pem");
    struct resync_report rep;
    char err[UG_ERRBUF];
    assert_int_equal(resync(NULL, 0, &rep, err), UG_OK);
    resync_report_free(&rep);
    const char *v;
    assert_int_equal(params_get(&s.params, "GPP_A", PARAM_ROLE_USER, 0, &v, err), UG_OK);
    assert_string_equal(v, "x");
    assert_true(file_in_root("custom-ca.pem"));

    struct buf identity = {0}, bootenv = {0}, b = {0};
    read_in_root("identity", &identity);
    read_in_root("bootenv", &bootenv);
    assert_int_equal(factory_reset(&s, err), UG_OK);
    assert_false(file_in_root("custom-ca.pem"));
    assert_null(s.custom_ca);
    json_object *doc = load_json("resync.json");
    assert_string_equal(jsonfile_get_string(doc, "state", ""), "MFG-RESET");
    assert_null(member(doc, "validators"));
    assert_null(member(doc, "last"));
    assert_null(member(doc, "custom_ca"));
    json_object_put(doc);
    assert_string_equal(value("GPP_A"), "");
    assert_string_equal(value("Profile_Rule"), "/$PSN.xml");
    assert_string_equal(value("Profile_Rule_B"), "");
    assert_int_equal(params_get(&s.params, "GPP_A", PARAM_ROLE_USER, 0, &v, err), UG_ERR_OTHER);

    /* The store is the factory's: the same file init writes. */
    char fresh[256];
    struct buf store = {0}, factory = {0};
    assert_int_equal(testdevice_make(fresh, sizeof fresh, "ug-resync-fresh", "1.0.0", "1M", NULL),
                     0);
    char path[400];
    snprintf(path, sizeof path, "%s/params", fresh);
    assert_int_equal(fs_read_file(path, 1 << 20, &factory, err), UG_OK);
    read_in_root("params", &store);
    assert_int_equal(store.len, factory.len);
    assert_memory_equal(store.data, factory.data, factory.len);
    assert_int_equal(testdevice_remove(fresh), 0);

    read_in_root("identity", &b);
    assert_int_equal(b.len, identity.len);
    assert_memory_equal(b.data, identity.data, b.len);
    read_in_root("bootenv", &b);
    assert_int_equal(b.len, bootenv.len);
    assert_memory_equal(b.data, bootenv.data, b.len);
    /* The next request asks for the whole file: the validators went with the record. */
    assert_int_equal(resync(NULL, 0, &rep, err), UG_ERR_USAGE); /* "/$PSN.xml": no server */
    resync_report_free(&rep);
    set("Profile_Rule", "http://prov.test/a.xml");
    assert_int_equal(resync(NULL, 0, &rep, err), UG_OK);
    assert_null(fake_last_request_of("/a.xml")->if_none_match);
    resync_report_free(&rep);
    buf_free(&identity);
    buf_free(&bootenv);
    buf_free(&b);
    buf_free(&store);
    buf_free(&factory);
}

/* Protect_Factory_Reset=Yes: refused, nothing changed. */
static void test_factory_reset_protected(void **state)
{
    (void)state;
    set("GPP_A", "provisioned");
    set("Protect_Factory_Reset", "Yes");
    assert_int_equal(testdevice_write(root, "custom-ca.pem", "kept\n"), 0);
    char err[UG_ERRBUF];
    struct buf before = {0}, after = {0};
    read_in_root("params", &before);
    assert_int_equal(factory_reset(&s, err), UG_ERR_OTHER);
    assert_non_null(strstr(err, "Protect_Factory_Reset=Yes"));
    read_in_root("params", &after);
    assert_int_equal(after.len, before.len);
    assert_memory_equal(after.data, before.data, before.len);
    assert_true(file_in_root("custom-ca.pem"));
    assert_false(file_in_root("resync.json"));
    buf_free(&before);
    buf_free(&after);
}

/* Syslog: with Syslog_Server set, the request and success messages go out, $SERVIP the
 * server's address; without it nothing is sent and no name is looked up for it (a lookup
 * with the network down would cost the resolver's timeout before every transfer). */
static void test_syslog(void **state)
{
    (void)state;
    char err[UG_ERRBUF];
    struct resync_report rep;
    serve_profile("/a.xml", "GPP_A", "a", NULL);
    set("Profile_Rule", "http://localhost/a.xml");
    assert_int_equal(resync(NULL, 0, &rep, err), UG_OK);
    resync_report_free(&rep);
    assert_int_equal(lookups, 0);

    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    char server[32];
    snprintf(server, sizeof server, "127.0.0.1:%d", ntohs(addr.sin_port));
    set("Syslog_Server", server);
    set("Log_Request_Msg", "request $SERVIP $PATH");
    set("Log_Success_Msg", "success $PATH $ERR");
    assert_int_equal(resync(NULL, 0, &rep, err), UG_OK);
    resync_report_free(&rep);
    assert_true(lookups > 0);
    char datagram[2][1100];
    for (int i = 0; i < 2; i++) {
        ssize_t n = recv(fd, datagram[i], sizeof datagram[i] - 1, MSG_DONTWAIT);
        assert_true(n > 0);
        datagram[i][n] = '\0';
    }
    assert_non_null(strstr(datagram[0], "upgrader: request 127.0.0.1 /a.xml"));
    assert_non_null(strstr(datagram[1], "upgrader: success /a.xml ok"));
    close(fd);
}

#define DEVICE_TEST(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        DEVICE_TEST(test_rules_in_order),
        DEVICE_TEST(test_assignment_write_failure),
        DEVICE_TEST(test_file_not_found),
        DEVICE_TEST(test_profile_per_value),
        DEVICE_TEST(test_dhcp_urls),
        DEVICE_TEST(test_timer_rules),
        DEVICE_TEST(test_served_profile),
        DEVICE_TEST(test_validators_and_304),
        DEVICE_TEST(test_request_options),
        DEVICE_TEST(test_provisioning_states),
        DEVICE_TEST(test_provision_disabled),
        DEVICE_TEST(test_one_resync_at_a_time),
        DEVICE_TEST(test_cancel),
        DEVICE_TEST(test_custom_ca),
        DEVICE_TEST(test_factory_reset),
        DEVICE_TEST(test_factory_reset_protected),
        DEVICE_TEST(test_syslog),
    };
    return cmocka_run_group_tests_name("resync", tests, group_setup, group_teardown);
}
