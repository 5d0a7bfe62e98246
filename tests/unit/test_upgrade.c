/* SPDX-License-Identifier: MIT */
/* Unit tests of the upgrade engine (upgrade.c, pass.c, hop.c, upgrade_boot.c) on a device
 * made by init, with real signed bundles and catalogs served by the wrapped transport
 * (test_upgrade.wrap). A bundle rule installs, verifies and switches; every refusal leaves
 * slot A untouched and bootable and records the failure; Upgrade_Enable, a call, the retry
 * delay, the acted-on memory and cancels stop a pass where docs/upgrade.md says; a catalog
 * plan goes hop by hop; `upgrader boot` confirms, rolls back once, runs the health check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include "bundle/pack.h"
#include "bundle/sign.h"
#include "common/fsutil.h"
#include "common/jsonfile.h"
#include "device/call.h"
#include "fakeserver.h"
#include "fixture.h"
#include "testdevice.h"
#include "upgrade/upgrade.h"

/* ---- the wrapped transport: bundles and catalogs from the fake server */

ug_err __wrap_fetch_to_buffer(const struct fetch_options *o, size_t max_size, struct buf *out,
                              struct fetch_result *res, char *err);
ug_err __wrap_fetch_open(const struct fetch_options *o, struct fetch_reader **reader,
                         struct fetch_result *res, char *err);
ug_err __wrap_fetch_read(struct fetch_reader *reader, void *buf, size_t len, size_t *got,
                         char *err);
const struct fetch_result *__wrap_fetch_reader_result(const struct fetch_reader *reader);
void __wrap_fetch_close(struct fetch_reader *reader);

ug_err __wrap_fetch_to_buffer(const struct fetch_options *o, size_t max_size, struct buf *out,
                              struct fetch_result *res, char *err)
{
    return fake_fetch_to_buffer(o, max_size, out, res, err);
}

ug_err __wrap_fetch_open(const struct fetch_options *o, struct fetch_reader **reader,
                         struct fetch_result *res, char *err)
{
    return fake_fetch_open(o, reader, res, err);
}

ug_err __wrap_fetch_read(struct fetch_reader *reader, void *buf, size_t len, size_t *got, char *err)
{
    return fake_fetch_read(reader, buf, len, got, err);
}

const struct fetch_result *__wrap_fetch_reader_result(const struct fetch_reader *reader)
{
    return fake_fetch_reader_result(reader);
}

void __wrap_fetch_close(struct fetch_reader *reader)
{
    if (reader)
        fake_fetch_close(reader);
}

/* ---- bundles, catalogs and the device */

#define IMAGE_SIZE (1024 * 1024 + 321)
#define SLOT_SIZE  "4M"
#define MARK_SIZE  (256 * 1024) /* what slot A holds of the running release */
#define BUNDLE     "http://fw.test/bundles/2.0.0.bundle"

static struct fixture fx;
static char dir_bundles[300];
static char root[256];
static struct session s;
static volatile sig_atomic_t cancel_flag;
static uint8_t running_image[MARK_SIZE];

/* What a pass reported through its progress callback. */
struct progress_seen {
    uint64_t last_done, total;
    int backwards;
    int cancel_mid_install; /* set the cancel flag once bytes are on their way */
};
static struct progress_seen progress;

/* Packs the fixture's image as version for product, signed by key/cert, into bundles/name. */
static int pack(const char *name, const char *product, const char *version, const char *key,
                const char *cert)
{
    static const char *const hw[] = {"1.0", "2.0"};
    char out[400], err[UG_ERRBUF];
    snprintf(out, sizeof out, "%s/%s", dir_bundles, name);
    struct bundle_pack_options o = {
        .product = product,
        .version = version,
        .hardware = hw,
        .nhardware = 2,
        .image = fx.image,
        .compression = CODEC_GZIP,
        .chunk_size = 256 * 1024,
        .key = key,
        .cert = cert,
        .out = out,
    };
    if (bundle_pack(&o, err) != UG_OK) {
        fprintf(stderr, "pack %s: %s\n", name, err);
        return -1;
    }
    return 0;
}

/* Copies bundles/from to bundles/to with the signature member emptied: an unsigned bundle. */
static int strip_signature(const char *from, const char *to)
{
    char in_path[400], out_path[400], block[65536];
    snprintf(in_path, sizeof in_path, "%s/%s", dir_bundles, from);
    snprintf(out_path, sizeof out_path, "%s/%s", dir_bundles, to);
    struct archive *in = archive_read_new(), *out = archive_write_new();
    archive_read_support_format_tar(in);
    archive_write_set_format_ustar(out);
    int ok = archive_read_open_filename(in, in_path, 10240) == ARCHIVE_OK &&
             archive_write_open_filename(out, out_path) == ARCHIVE_OK;
    struct archive_entry *e;
    while (ok && archive_read_next_header(in, &e) == ARCHIVE_OK) {
        int sig = strcmp(archive_entry_pathname(e), "manifest.json.sig") == 0;
        struct archive_entry *copy = archive_entry_clone(e);
        if (sig)
            archive_entry_set_size(copy, 0);
        ok = archive_write_header(out, copy) == ARCHIVE_OK;
        la_ssize_t n;
        while (ok && (n = archive_read_data(in, block, sizeof block)) > 0)
            ok = sig || archive_write_data(out, block, (size_t)n) == n;
        archive_entry_free(copy);
    }
    archive_read_free(in);
    ok = archive_write_close(out) == ARCHIVE_OK && ok;
    archive_write_free(out);
    return ok ? 0 : -1;
}

static int group_setup(void **state)
{
    (void)state;
    if (fixture_make(&fx, "ug-upgrade-fw", IMAGE_SIZE, 16384, 5u, "ext4 rootfs v2  ") != 0)
        return -1;
    fixture_path(&fx, "bundles", dir_bundles, sizeof dir_bundles);
    char stranger_key[300], stranger_cert[300], err[UG_ERRBUF];
    fixture_path(&fx, "b/signer.key", stranger_key, sizeof stranger_key);
    fixture_path(&fx, "b/signer.pem", stranger_cert, sizeof stranger_cert);
    if (fs_mkdir_p(dir_bundles, err) != UG_OK ||
        pack("1.5.0.bundle", "UG-PHONE-1", "1.5.0", fx.key, fx.cert) != 0 ||
        pack("2.0.0.bundle", "UG-PHONE-1", "2.0.0", fx.key, fx.cert) != 0 ||
        pack("3.0.0.bundle", "UG-PHONE-1", "3.0.0", fx.key, fx.cert) != 0 ||
        pack("other-product.bundle", "UG-PHONE-2", "2.0.0", fx.key, fx.cert) != 0 ||
        pack("stranger.bundle", "UG-PHONE-1", "2.0.0", stranger_key, stranger_cert) != 0 ||
        strip_signature("2.0.0.bundle", "unsigned.bundle") != 0)
        return -1;
    for (size_t i = 0; i < MARK_SIZE; i++)
        running_image[i] = (uint8_t) "running 1.0.0 / "[i % 16];
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    return fixture_remove(&fx);
}

static void root_path(const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", root, name);
}

/* Serves bundles/name at /bundles/name. */
static void serve_bundle(const char *name)
{
    char local[400], path[300];
    snprintf(local, sizeof local, "%s/%s", dir_bundles, name);
    snprintf(path, sizeof path, "/bundles/%s", name);
    assert_non_null(fake_serve_file(path, local));
}

/* Opens the device's session, as each command of the program does. */
static int open_session(void)
{
    char err[UG_ERRBUF];
    struct session_options o = {.cancel = &cancel_flag};
    if (session_open(root, &o, &s, err) != UG_OK) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

/* A device running 1.0.0 from slot A (whose first bytes are the running release), keyring
 * installed, the bundles served. */
static int setup(void **state)
{
    (void)state;
    fake_reset();
    cancel_flag = 0;
    memset(&progress, 0, sizeof progress);
    if (testdevice_make(root, sizeof root, "ug-upgrade", "1.0.0", SLOT_SIZE, fx.keyring) != 0 ||
        open_session() != 0)
        return -1;
    int fd = open(session_path(&s, STATE_SLOT_A), O_WRONLY | O_CLOEXEC);
    if (fd < 0 || pwrite(fd, running_image, MARK_SIZE, 0) != MARK_SIZE || close(fd) != 0)
        return -1;
    static const char *const names[] = {"1.5.0.bundle",    "2.0.0.bundle",
                                        "3.0.0.bundle",    "other-product.bundle",
                                        "stranger.bundle", "unsigned.bundle"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        serve_bundle(names[i]);
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

/* ---- what the device looks like */

static struct bootstate boot_state(void)
{
    char err[UG_ERRBUF];
    struct bootstate bs;
    if (bootstate_load(session_path(&s, STATE_BOOTENV), &bs, err) != UG_OK)
        fail_msg("%s", err);
    return bs;
}

/* The bootloader's part of a power-on (`bootctl boot`): choose, use up a try, store. */
static char power_on(void)
{
    char err[UG_ERRBUF];
    struct bootstate bs = boot_state();
    int slot;
    if (bootstate_select_boot(&bs, &slot, err) != UG_OK ||
        bootstate_save(session_path(&s, STATE_BOOTENV), &bs, err) != UG_OK)
        fail_msg("%s", err);
    unlink(session_path(&s, STATE_REBOOT_REQUESTED));
    return bootstate_slot_letter(slot);
}

static int in_root(const char *name)
{
    char path[400];
    root_path(name, path, sizeof path);
    return fs_exists(path);
}

/* Whether the slot file starts with want[0..len). */
static int slot_starts_with(char letter, const void *want, size_t len)
{
    char err[UG_ERRBUF];
    struct buf b = {0};
    const char *path = session_path(&s, letter == 'A' ? STATE_SLOT_A : STATE_SLOT_B);
    int same = fs_read_file(path, 8u << 20, &b, err) == UG_OK && b.len >= len &&
               memcmp(b.data, want, len) == 0;
    buf_free(&b);
    return same;
}

/* The running release is as it was: slot A's bytes, booted, good, bootable, its version. */
static void assert_running_untouched(const char *what)
{
    struct bootstate bs = boot_state();
    const struct bootstate_slot *a = &bs.slot[BOOTSTATE_SLOT_A], *b = &bs.slot[BOOTSTATE_SLOT_B];
    if (!slot_starts_with('A', running_image, MARK_SIZE))
        fail_msg("%s: slot A was written", what);
    if (bs.booted != BOOTSTATE_SLOT_A || !a->successful || !bootstate_slot_bootable(a) ||
        strcmp(a->version, "1.0.0") != 0)
        fail_msg("%s: slot A is no longer the good running slot", what);
    if (bootstate_slot_bootable(b) || b->priority != 0)
        fail_msg("%s: slot B became bootable", what);
}

static json_object *upgrade_json(void)
{
    char err[UG_ERRBUF];
    json_object *doc = NULL;
    if (jsonfile_load(session_path(&s, STATE_UPGRADE), &doc, err) != UG_OK)
        fail_msg("%s", err);
    return doc;
}

static json_object *member(json_object *o, const char *key)
{
    json_object *v = NULL;
    return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* One field of upgrade.json's "status" (or of another object: "pending.state"). */
static const char *recorded(const char *key)
{
    static char text[UG_ERRBUF];
    json_object *doc = upgrade_json();
    char object[32] = "status";
    const char *dot = strchr(key, '.');
    if (dot) {
        snprintf(object, sizeof object, "%.*s", (int)(dot - key), key);
        key = dot + 1;
    }
    json_object *v = member(member(doc, object), key);
    snprintf(text, sizeof text, "%s", v ? json_object_get_string(v) : "(absent)");
    json_object_put(doc);
    return text;
}

static size_t recorded_failures(void)
{
    json_object *doc = upgrade_json();
    json_object *f = member(doc, "failures");
    size_t n = f ? json_object_array_length(f) : 0;
    json_object_put(doc);
    return n;
}

/* ---- running the engine */

static void on_progress(void *ctx, const struct upgrade_status *st)
{
    struct progress_seen *p = ctx;
    if (st->state != UPGRADE_DOWNLOADING)
        return;
    if (st->bytes_done < p->last_done)
        p->backwards = 1;
    p->last_done = st->bytes_done;
    p->total = st->bytes_total;
    if (p->cancel_mid_install && st->bytes_done > 0 && st->bytes_done < st->bytes_total)
        cancel_flag = 1;
}

static ug_err run_pass(int force, int continuing, struct upgrade_outcome *out, char *err)
{
    struct upgrade_options o = {
        .force = force,
        .continuing = continuing,
        .progress = on_progress,
        .progress_ctx = &progress,
    };
    err[0] = '\0';
    return upgrade_pass(&s, &o, out, err);
}

static ug_err pass(char *err)
{
    struct upgrade_outcome out;
    return run_pass(0, 0, &out, err);
}

/* An on-demand pass: `upgrader upgrade RULE`. */
static ug_err pass_rule(const char *rule, char *err)
{
    struct upgrade_outcome out;
    struct upgrade_options o = {.rule = rule};
    err[0] = '\0';
    return upgrade_pass(&s, &o, &out, err);
}

static ug_err boot(struct upgrade_outcome *out, char *err)
{
    struct upgrade_options o = {0};
    err[0] = '\0';
    return upgrade_boot(&s, &o, out, err);
}

static void serve_catalog(const char *key, const char *cert, const char *product);

/* The stored rule names the 2.0.0 bundle; the pass switches to it. */
static void install_and_switch(void)
{
    char err[UG_ERRBUF];
    set("Upgrade_Rule", BUNDLE);
    if (pass(err) != UG_OK)
        fail_msg("pass: %s", err);
}

/* ---- the tests */

/* A bundle rule: written into the inactive slot B, verified, switched to (top priority, 3
 * tries, its version), rebooted into; slot A as it was. */
static void test_bundle_rule_switches(void **state)
{
    (void)state;
    set("Upgrade_Rule", BUNDLE);
    struct upgrade_outcome out;
    char err[UG_ERRBUF];
    if (run_pass(0, 0, &out, err) != UG_OK)
        fail_msg("%s", err);
    assert_non_null(strstr(out.summary, "slot B holds verified 2.0.0; rebooting into it"));
    assert_true(in_root("reboot-requested"));
    assert_true(slot_starts_with('B', fx.image_data.data, IMAGE_SIZE));
    assert_true(slot_starts_with('A', running_image, MARK_SIZE));

    struct bootstate bs = boot_state();
    const struct bootstate_slot *a = &bs.slot[BOOTSTATE_SLOT_A], *b = &bs.slot[BOOTSTATE_SLOT_B];
    assert_int_equal(b->priority, BOOTSTATE_PRIORITY_MAX);
    assert_int_equal(b->tries, 3);
    assert_false(b->successful);
    assert_string_equal(b->version, "2.0.0");
    assert_true(a->successful);
    assert_true(a->priority > 0 && a->priority < b->priority);
    assert_int_equal(bs.booted, BOOTSTATE_SLOT_A);

    assert_string_equal(recorded("state"), "switched-awaiting-boot");
    assert_string_equal(recorded("last_result"), "ok");
    assert_string_equal(recorded("version"), "2.0.0");
    assert_string_equal(recorded("slot"), "B");
    assert_string_equal(recorded("pending.state"), "switched");
    assert_int_equal(recorded_failures(), 0);

    /* One transfer of the bundle, from its start; progress up to the image's size. */
    assert_int_equal(fake_request_count(), 1);
    assert_int_equal(fake_requests_of("/bundles/2.0.0.bundle"), 1);
    assert_int_equal(fake_request_at(0)->resume_from, 0);
    assert_int_equal(progress.total, IMAGE_SIZE);
    assert_int_equal(progress.last_done, IMAGE_SIZE);
    assert_false(progress.backwards);
}

/* After the reboot: `upgrader boot` marks slot B good and the plan done; the stored rule is
 * then acted on, and is not fetched again until its text or URL changes, or --force. */
static void test_boot_confirms_then_rule_acted_on(void **state)
{
    (void)state;
    char err[UG_ERRBUF];
    struct upgrade_outcome out;
    install_and_switch();
    assert_int_equal(power_on(), 'B');
    /* Booted but not confirmed: no pass may write the other slot yet. */
    assert_int_equal(pass(err), UG_ERR_OTHER);
    assert_non_null(strstr(err, "run 'upgrader boot' first"));

    if (boot(&out, err) != UG_OK)
        fail_msg("boot: %s", err);
    assert_false(out.plan_continues);
    assert_non_null(strstr(out.summary, "slot B booted 2.0.0 and is marked good"));
    struct bootstate bs = boot_state();
    assert_true(bs.slot[BOOTSTATE_SLOT_B].successful);
    assert_string_equal(recorded("state"), "done");
    assert_string_equal(recorded("pending.state"), "(absent)");
    assert_string_equal(recorded("acted.rule"), BUNDLE);

    size_t fetched = fake_request_count();
    assert_int_equal(pass(err), UG_OK);
    assert_string_equal(recorded("last_result"), "nothing-to-do");
    assert_non_null(strstr(recorded("reason"), "acted on already"));
    assert_int_equal(fake_request_count(), fetched);

    /* --force acts all the same (here: the bundle again, into slot A). */
    assert_int_equal(run_pass(1, 0, &out, err), UG_OK);
    assert_int_equal(fake_request_count(), fetched + 1);
    assert_string_equal(recorded("slot"), "A");

    /* A changed rule acts too. */
    assert_int_equal(power_on(), 'A');
    assert_int_equal(boot(&out, err), UG_OK);
    set("Upgrade_Rule", "http://fw.test/bundles/3.0.0.bundle");
    assert_int_equal(pass(err), UG_OK);
    assert_int_equal(fake_requests_of("/bundles/3.0.0.bundle"), 1);
    assert_string_equal(recorded("version"), "3.0.0");
}

/* Every failure of the hop leaves slot A untouched, good and booting, slot B unbootable,
 * and records it: failed, the error class, $UPGERR, $UPGST=2, a retry time. */
static void test_failures_leave_slot_a(void **state)
{
    (void)state;
    static const struct {
        const char *what, *url, *limit;
        enum fake_answer answer;
        ug_err rc;
        const char *says;
    } cases[] = {
        {"another product", "http://fw.test/bundles/other-product.bundle", NULL, FAKE_OK,
         UG_ERR_VERIFY, "is for product UG-PHONE-2, this device is UG-PHONE-1"},
        {"below Downgrade_Rev_Limit", BUNDLE, "2.5.0", FAKE_OK, UG_ERR_VERIFY,
         "downgrade to 2.0.0 refused: Downgrade_Rev_Limit is 2.5.0"},
        {"signed by another CA", "http://fw.test/bundles/stranger.bundle", NULL, FAKE_OK,
         UG_ERR_VERIFY, "signature does not verify"},
        {"unsigned", "http://fw.test/bundles/unsigned.bundle", NULL, FAKE_OK, UG_ERR_VERIFY,
         "manifest.json.sig is empty"},
        {"not on the server", "http://fw.test/bundles/none.bundle", NULL, FAKE_NOT_FOUND,
         UG_ERR_UNUSABLE, "file not found"},
        {"server unreachable", "http://fw.test/bundles/down.bundle", NULL, FAKE_UNREACHABLE,
         UG_ERR_UNREACHABLE, "connection refused"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (i > 0) { /* a fresh device for each case */
            assert_int_equal(teardown(NULL), 0);
            assert_int_equal(setup(NULL), 0);
        }
        if (cases[i].answer != FAKE_OK)
            fake_fail(strstr(cases[i].url, "/bundles/"), cases[i].answer);
        set("Upgrade_Rule", cases[i].url);
        if (cases[i].limit)
            set("Downgrade_Rev_Limit", cases[i].limit);
        char err[UG_ERRBUF];
        ug_err rc = pass(err);
        if (rc != cases[i].rc || !strstr(err, cases[i].says))
            fail_msg("%s: rc %d '%s', expected %d with '%s'", cases[i].what, rc, err, cases[i].rc,
                     cases[i].says);
        assert_running_untouched(cases[i].what);
        assert_string_equal(boot_state().slot[BOOTSTATE_SLOT_B].version, "");
        assert_false(in_root("reboot-requested"));
        assert_string_equal(recorded("state"), "failed");
        assert_string_equal(recorded("last_result"), ug_err_name(cases[i].rc));
        assert_string_equal(recorded("last_error"), err);
        assert_string_equal(recorded("upgst"), "2");
        assert_int_equal(recorded_failures(), 1);
        json_object *doc = upgrade_json();
        json_object *f = json_object_array_get_idx(member(doc, "failures"), 0);
        assert_non_null(strstr(jsonfile_get_string(f, "url", ""), strstr(cases[i].url, "/b")));
        assert_true(jsonfile_get_int(f, "retry_after", 0) >= (long long)time(NULL) + 3000);
        json_object_put(doc);
    }
}

/* A hop that fails half-way through writing the old slot (its 1.0.0 bytes partly
 * overwritten) leaves that slot unbootable and without a version: the bootloader keeps
 * booting the confirmed 2.0.0 and never picks the half-written slot. */
static void test_cut_bundle_leaves_its_slot_unbootable(void **state)
{
    (void)state;
    char err[UG_ERRBUF], local[400];
    struct upgrade_outcome out;
    install_and_switch();
    assert_int_equal(power_on(), 'B');
    assert_int_equal(boot(&out, err), UG_OK);
    struct buf bundle = {0};
    snprintf(local, sizeof local, "%s/3.0.0.bundle", dir_bundles);
    assert_int_equal(fs_read_file(local, 8u << 20, &bundle, err), UG_OK);
    assert_non_null(fake_serve("/bundles/cut.bundle", bundle.data, bundle.len * 2 / 3));
    buf_free(&bundle);
    set("Upgrade_Rule", "http://fw.test/bundles/cut.bundle");
    assert_int_equal(pass(err), UG_ERR_UNUSABLE);
    assert_non_null(strstr(err, "cut.bundle"));
    assert_false(slot_starts_with('A', running_image, MARK_SIZE)); /* it was being written */
    struct bootstate bs = boot_state();
    const struct bootstate_slot *a = &bs.slot[BOOTSTATE_SLOT_A], *b = &bs.slot[BOOTSTATE_SLOT_B];
    assert_false(bootstate_slot_bootable(a));
    assert_string_equal(a->version, "");
    assert_true(b->successful);
    assert_string_equal(b->version, "2.0.0");
    assert_int_equal(power_on(), 'B');
}

/* A pass that fails before its first byte reaches the inactive slot (unreachable, missing,
 * another product's bundle, a refused downgrade) leaves the boot state exactly as it was:
 * the confirmed fallback in that slot stays bootable with its version. */
static void test_failure_before_writing_keeps_the_fallback(void **state)
{
    (void)state;
    static const struct {
        const char *url, *limit;
        enum fake_answer answer;
    } cases[] = {
        {"http://fw.test/bundles/down.bundle", NULL, FAKE_UNREACHABLE},
        {"http://fw.test/bundles/none.bundle", NULL, FAKE_NOT_FOUND},
        {"http://fw.test/bundles/other-product.bundle", NULL, FAKE_OK},
        {"http://fw.test/bundles/1.5.0.bundle", "1.8.0", FAKE_OK},
    };
    char err[UG_ERRBUF];
    struct upgrade_outcome out;
    install_and_switch();
    assert_int_equal(power_on(), 'B');
    assert_int_equal(boot(&out, err), UG_OK);
    struct buf before = {0}, after = {0};
    assert_int_equal(fs_read_file(session_path(&s, STATE_BOOTENV), 1 << 20, &before, err), UG_OK);
    assert_true(boot_state().slot[BOOTSTATE_SLOT_A].successful);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].answer != FAKE_OK)
            fake_fail(strstr(cases[i].url, "/bundles/"), cases[i].answer);
        set("Downgrade_Rev_Limit", cases[i].limit ? cases[i].limit : "");
        set("Upgrade_Rule", cases[i].url);
        assert_int_not_equal(pass_rule(cases[i].url, err), UG_OK);
        buf_reset(&after);
        assert_int_equal(fs_read_file(session_path(&s, STATE_BOOTENV), 1 << 20, &after, err),
                         UG_OK);
        if (after.len != before.len || memcmp(after.data, before.data, before.len) != 0)
            fail_msg("%s (%s): the boot state changed", cases[i].url, err);
    }
    struct bootstate bs = boot_state();
    assert_true(bootstate_slot_bootable(&bs.slot[BOOTSTATE_SLOT_A]));
    assert_string_equal(bs.slot[BOOTSTATE_SLOT_A].version, "1.0.0");
    buf_free(&before);
    buf_free(&after);
}

/* Refused before anything is fetched (here as `upgrader upgrade RULE`): options that mean
 * nothing for a bundle, a URL without a server, a device without a keyring. */
static void test_refused_before_any_request(void **state)
{
    (void)state;
    static const struct {
        const char *rule;
        int drop_keyring;
        ug_err rc;
        const char *says;
    } cases[] = {
        {"[--key secret] " BUNDLE, 0, UG_ERR_USAGE, "--key, --post and --alias mean nothing"},
        {"/bundles/2.0.0.bundle", 0, UG_ERR_USAGE, "must name the server"},
        {BUNDLE, 1, UG_ERR_VERIFY, "nothing can be verified"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[UG_ERRBUF];
        if (cases[i].drop_keyring)
            assert_int_equal(unlink(session_path(&s, STATE_KEYRING)), 0);
        ug_err rc = pass_rule(cases[i].rule, err);
        if (rc != cases[i].rc || !strstr(err, cases[i].says))
            fail_msg("case %zu: rc %d '%s'", i, rc, err);
        assert_int_equal(fake_request_count(), 0);
        assert_running_untouched(cases[i].rule);
        assert_string_equal(recorded("state"), "failed");
        assert_string_equal(recorded("last_error"), err);
    }
}

/* Upgrade_Enable=No: nothing fetched, nothing written but the status. */
static void test_disabled(void **state)
{
    (void)state;
    char err[UG_ERRBUF];
    const char *env = session_path(&s, STATE_BOOTENV);
    struct buf before = {0}, after = {0};
    set("Upgrade_Rule", BUNDLE);
    set("Upgrade_Enable", "No");
    assert_int_equal(fs_read_file(env, 1 << 20, &before, err), UG_OK);
    assert_int_equal(pass(err), UG_OK);
    assert_int_equal(fake_request_count(), 0);
    assert_string_equal(recorded("state"), "disabled");
    assert_string_equal(recorded("last_result"), "disabled");
    assert_int_equal(fs_read_file(env, 1 << 20, &after, err), UG_OK);
    assert_int_equal(after.len, before.len);
    assert_memory_equal(after.data, before.data, before.len);
    buf_free(&before);
    buf_free(&after);
}

/* A call keeps the verified slot pending (exit 6, unbootable, no reboot); a reboot meanwhile
 * changes nothing; the pass after the call only switches: no catalog, no bundle fetched. */
static void test_call_defers_the_switch(void **state)
{
    (void)state;
    char err[UG_ERRBUF];
    struct upgrade_outcome out;
    int calls = 0;
    assert_int_equal(call_start(&s.folder, &calls, err), UG_OK);
    serve_catalog(fx.key, fx.cert, "UG-PHONE-1");
    set("Upgrade_Rule", "http://fw.test/catalog.json");
    assert_int_equal(pass(err), UG_ERR_DEFERRED);
    assert_non_null(strstr(err, "1 call active: slot B holds verified 1.5.0"));
    assert_string_equal(recorded("state"), "deferred-call-active");
    assert_string_equal(recorded("pending.state"), "verified");
    struct bootstate bs = boot_state();
    assert_string_equal(bs.slot[BOOTSTATE_SLOT_B].version, "1.5.0");
    assert_false(bootstate_slot_bootable(&bs.slot[BOOTSTATE_SLOT_B]));
    assert_false(in_root("reboot-requested"));
    assert_true(slot_starts_with('B', fx.image_data.data, IMAGE_SIZE));
    size_t fetched = fake_request_count();

    /* A reboot for some other reason: A again, the verified slot still waits. */
    assert_int_equal(power_on(), 'A');
    assert_int_equal(boot(&out, err), UG_OK);
    assert_non_null(strstr(out.summary, "the next upgrade pass switches to it"));
    assert_string_equal(recorded("pending.state"), "verified");

    /* The call ends; the pass switches without a single request (the server is down). */
    assert_int_equal(call_end(&s.folder, &calls, err), UG_OK);
    fake_fail("/catalog.json", FAKE_UNREACHABLE);
    if (pass(err) != UG_OK)
        fail_msg("%s", err);
    assert_int_equal(fake_request_count(), fetched);
    assert_string_equal(recorded("state"), "switched-awaiting-boot");
    assert_true(in_root("reboot-requested"));
    assert_int_equal(boot_state().slot[BOOTSTATE_SLOT_B].priority, BOOTSTATE_PRIORITY_MAX);
}

/* A release that failed is not tried again before its retry time, unless forced; a retry
 * delay of 0 tries again at once. */
static void test_retry_delay(void **state)
{
    (void)state;
    static const struct {
        const char *delay;
        int force;
        int fetches;
    } cases[] = {
        {"3600", 0, 0},
        {"3600", 1, 1},
        {"0", 0, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (i > 0) {
            assert_int_equal(teardown(NULL), 0);
            assert_int_equal(setup(NULL), 0);
        }
        char err[UG_ERRBUF];
        struct upgrade_outcome out;
        set("Upgrade_Error_Retry_Delay", cases[i].delay);
        set("Upgrade_Rule", BUNDLE);
        fake_fail("/bundles/2.0.0.bundle", FAKE_NOT_FOUND);
        assert_int_equal(pass(err), UG_ERR_UNUSABLE);
        serve_bundle("2.0.0.bundle"); /* the server has it now */
        ug_err rc = run_pass(cases[i].force, 0, &out, err);
        if (rc != UG_OK)
            fail_msg("case %zu: %s", i, err);
        assert_int_equal(fake_request_count(), 1 + cases[i].fetches);
        if (cases[i].fetches) {
            assert_string_equal(recorded("state"), "switched-awaiting-boot");
            assert_string_equal(recorded("upgst"), "2"); /* $UPGST stays 2 until it booted */
        } else {
            assert_string_equal(recorded("state"), "failed");
            assert_string_equal(recorded("last_result"), "retry-not-due");
            assert_non_null(strstr(recorded("reason"), "not retried before"));
            assert_non_null(strstr(out.summary, "Upgrade_Error_Retry_Delay"));
        }
    }
}

/* $UPGST and $UPGERR reach the rule: after a failure, another alternative is taken. */
static void test_upgst_in_the_rule(void **state)
{
    (void)state;
    char err[UG_ERRBUF];
    set("Upgrade_Error_Retry_Delay", "0");
    set("Upgrade_Rule",
        "( $UPGST eq 2 and \"$UPGERR\" ne \"\" )? " BUNDLE " | http://fw.test/bundles/none.bundle");
    assert_int_equal(pass(err), UG_ERR_UNUSABLE);
    assert_int_equal(fake_requests_of("/bundles/none.bundle"), 1);
    assert_int_equal(pass(err), UG_OK);
    assert_int_equal(fake_requests_of("/bundles/2.0.0.bundle"), 1);
}

/* The catalog and its signature, releases 1.5.0 -> 2.0.0 -> 3.0.0 one hop each. */
static void serve_catalog(const char *key, const char *cert, const char *product)
{
    static const char releases[] =
        "\"releases\": ["
        "{\"version\": \"1.5.0\", \"bundle\": \"bundles/1.5.0.bundle\", \"size\": 900000, "
        "\"sha256\": \"" /* the device does not need it */
        "0000000000000000000000000000000000000000000000000000000000000000\", "
        "\"min_from\": \"1.0.0\"},"
        "{\"version\": \"2.0.0\", \"bundle\": \"bundles/2.0.0.bundle\", \"size\": 900000, "
        "\"sha256\": \"0000000000000000000000000000000000000000000000000000000000000000\", "
        "\"min_from\": \"1.5.0\"},"
        "{\"version\": \"3.0.0\", \"bundle\": \"/bundles/3.0.0.bundle\", \"size\": 900000, "
        "\"sha256\": \"0000000000000000000000000000000000000000000000000000000000000000\", "
        "\"min_from\": \"2.0.0\"}]}";
    struct buf catalog = {0}, sig = {0};
    char err[UG_ERRBUF];
    assert_int_equal(buf_printf(&catalog, "{\"product\": \"%s\", %s", product, releases), 0);
    if (sign_create(key, cert, catalog.data, catalog.len, &sig, err) != UG_OK)
        fail_msg("%s", err);
    assert_non_null(fake_serve("/catalog.json", catalog.data, catalog.len));
    assert_non_null(fake_serve("/catalog.json.sig", sig.data, sig.len));
    buf_free(&catalog);
    buf_free(&sig);
}

/* A catalog plan of three hops: each pass takes one hop and records the plan; each boot
 * confirms the hop and says the plan goes on; the pass after the last hop finds the target
 * reached and the rule acted on. */
static void test_catalog_plan(void **state)
{
    (void)state;
    char err[UG_ERRBUF];
    struct upgrade_outcome out;
    serve_catalog(fx.key, fx.cert, "UG-PHONE-1");
    set("GPP_B", "s3cret");
    set("Upgrade_Rule", "[--uid fw --pwd $B] http://fw.test/catalog.json#3.0.0");
    if (pass(err) != UG_OK)
        fail_msg("hop 1: %s", err);
    assert_int_equal(fake_request_count(), 3);
    for (size_t i = 0; i < 3; i++) { /* the rule's credentials, the device's User-Agent */
        const struct fake_request *rq = fake_request_at(i);
        assert_string_equal(rq->username, "fw");
        assert_string_equal(rq->password, "s3cret");
        assert_string_equal(rq->user_agent, "Cisco-UG-PHONE-1/1.0.0 (000e08aabbcc)");
    }
    assert_non_null(strstr(fake_request_at(0)->url, "/catalog.json"));
    assert_null(strchr(fake_request_at(0)->url, '#')); /* the fragment is never sent */
    assert_non_null(strstr(fake_request_at(1)->url, "/catalog.json.sig"));
    assert_non_null(strstr(fake_request_at(2)->url, "/bundles/1.5.0.bundle"));
    assert_string_equal(recorded("plan.catalog"), "1");
    assert_string_equal(recorded("plan.target"), "3.0.0");
    assert_string_equal(recorded("plan.hops_total"), "3");
    assert_string_equal(recorded("plan.hops_done"), "0");
    assert_string_equal(recorded("hop"), "1");
    assert_string_equal(recorded("hops"), "3");
    assert_string_equal(recorded("version"), "1.5.0");
    assert_string_equal(recorded("target"), "3.0.0");
    assert_string_equal(boot_state().slot[BOOTSTATE_SLOT_B].version, "1.5.0");

    static const struct {
        char boots;
        const char *version, *bundle;
    } hops[] = {{'B', "2.0.0", "/bundles/2.0.0.bundle"}, {'A', "3.0.0", "/bundles/3.0.0.bundle"}};
    for (size_t h = 0; h < 2; h++) {
        assert_int_equal(power_on(), hops[h].boots);
        if (boot(&out, err) != UG_OK)
            fail_msg("boot %zu: %s", h + 1, err);
        assert_true(out.plan_continues);
        char done[8];
        snprintf(done, sizeof done, "%zu", h + 1);
        assert_string_equal(recorded("plan.hops_done"), done);
        if (run_pass(0, 1, &out, err) != UG_OK)
            fail_msg("hop %zu: %s", h + 2, err);
        assert_int_equal(fake_requests_of(hops[h].bundle), 1);
        assert_string_equal(recorded("version"), hops[h].version);
        snprintf(done, sizeof done, "%zu", h + 2);
        assert_string_equal(recorded("hop"), done);
    }
    assert_int_equal(power_on(), 'B');
    assert_int_equal(boot(&out, err), UG_OK);
    assert_true(out.plan_continues); /* re-planned by the next pass: the target is reached */
    size_t fetched = fake_request_count();
    assert_int_equal(run_pass(0, 1, &out, err), UG_OK);
    assert_non_null(strstr(out.summary, "already at 3.0.0"));
    assert_int_equal(fake_request_count(), fetched + 2); /* the catalog and its signature */
    assert_string_equal(recorded("state"), "done");
    assert_string_equal(recorded("plan.catalog"), "(absent)");
    assert_string_equal(recorded("acted.url"), "http://fw.test:80/catalog.json#3.0.0");
    assert_int_equal(boot(&out, err), UG_OK);
    assert_false(out.plan_continues);
}

/* A catalog that is not signed, signed by a stranger, of another product, or without a
 * way to the target: no bundle is fetched and slot A stays as it was. */
static void test_catalog_refusals(void **state)
{
    (void)state;
    char stranger_key[300], stranger_cert[300];
    fixture_path(&fx, "b/signer.key", stranger_key, sizeof stranger_key);
    fixture_path(&fx, "b/signer.pem", stranger_cert, sizeof stranger_cert);
    static const struct {
        int stranger, no_sig;
        const char *product, *target;
        ug_err rc;
        const char *says;
    } cases[] = {
        {0, 1, "UG-PHONE-1", "3.0.0", UG_ERR_VERIFY, "catalog is not signed"},
        {1, 0, "UG-PHONE-1", "3.0.0", UG_ERR_VERIFY, "signature does not verify"},
        {0, 0, "UG-PHONE-2", "3.0.0", UG_ERR_VERIFY,
         "a catalog of product UG-PHONE-2; this device is UG-PHONE-1"},
        {0, 0, "UG-PHONE-1", "9.9.9", UG_ERR_NO_PATH, "9.9.9"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[UG_ERRBUF], rule[128];
        serve_catalog(cases[i].stranger ? stranger_key : fx.key,
                      cases[i].stranger ? stranger_cert : fx.cert, cases[i].product);
        if (cases[i].no_sig)
            fake_fail("/catalog.json.sig", FAKE_NOT_FOUND);
        snprintf(rule, sizeof rule, "http://fw.test/catalog.json#%s", cases[i].target);
        set("Upgrade_Rule", rule);
        set("Upgrade_Error_Retry_Delay", "0");
        ug_err rc = pass(err);
        if (rc != cases[i].rc || !strstr(err, cases[i].says))
            fail_msg("case %zu: rc %d '%s'", i, rc, err);
        assert_int_equal(fake_requests_of("/bundles/1.5.0.bundle"), 0);
        assert_running_untouched(rule);
        assert_string_equal(recorded("last_result"), ug_err_name(cases[i].rc));
    }
}

/* The new slot never reached mark-good: after its 3 tries the bootloader falls back to A;
 * `upgrader boot` records the rollback once, marks B bad, holds the release until its retry
 * time, and never loops. */
static void test_rollback(void **state)
{
    (void)state;
    char err[UG_ERRBUF];
    struct upgrade_outcome out;
    install_and_switch();
    for (int i = 0; i < 3; i++)
        assert_int_equal(power_on(), 'B'); /* each boot hangs before `upgrader boot` */
    assert_int_equal(power_on(), 'A');
    assert_true(boot_state().fallback);
    if (boot(&out, err) != UG_OK)
        fail_msg("boot: %s", err);
    assert_false(out.plan_continues);
    assert_non_null(strstr(out.summary, "not retried before"));
    assert_string_equal(recorded("last_result"), "rolled-back");
    assert_string_equal(recorded("state"), "failed");
    assert_string_equal(recorded("upgst"), "2");
    assert_non_null(strstr(recorded("last_error"), "rollback: 2.0.0 in slot B never reached"));
    assert_int_equal(recorded_failures(), 1);
    assert_running_untouched("after the rollback");
    assert_false(in_root("reboot-requested"));

    /* The next boot has nothing to record, and the next pass waits for the retry time. */
    assert_int_equal(power_on(), 'A');
    assert_int_equal(boot(&out, err), UG_OK);
    assert_false(out.plan_continues);
    assert_int_equal(recorded_failures(), 1);
    size_t fetched = fake_request_count();
    assert_int_equal(pass(err), UG_OK);
    assert_string_equal(recorded("last_result"), "retry-not-due");
    assert_int_equal(fake_request_count(), fetched);
}

/* Sets health_check=command in device.conf (init's other lines kept); the integrator's
 * change is seen by the next command, so the session is opened again. */
static void set_health_check(const char *command)
{
    char err[UG_ERRBUF];
    struct buf conf = {0}, out = {0};
    assert_int_equal(fs_read_file(session_path(&s, STATE_DEVICE_CONF), 1 << 20, &conf, err), UG_OK);
    for (char *line = conf.data, *end; line && *line; line = end ? end + 1 : NULL) {
        end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (strncmp(line, "health_check=", 13) != 0)
            buf_printf(&out, "%.*s\n", (int)len, line);
    }
    buf_printf(&out, "health_check=%s\n", command);
    assert_int_equal(
        fs_write_atomic(session_path(&s, STATE_DEVICE_CONF), out.data, out.len, 0644, err), UG_OK);
    buf_free(&conf);
    buf_free(&out);
    session_close(&s);
    assert_int_equal(open_session(), 0);
}

/* The health check of device.conf decides: passing, the slot is marked good; failing, it is
 * not, and the device reboots to spend another try. */
static void test_health_check(void **state)
{
    (void)state;
    static const struct {
        const char *command;
        ug_err rc;
        int marked_good;
        const char *result;
    } cases[] = {
        {"test \"$UPGRADER_VERSION\" = 2.0.0 && touch \"$UPGRADER_ROOT/health-ran\"", UG_OK, 1,
         "ok"},
        {"touch \"$UPGRADER_ROOT/health-ran\"; exit 3", UG_ERR_OTHER, 0, "health-check-failed"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (i > 0) {
            assert_int_equal(teardown(NULL), 0);
            assert_int_equal(setup(NULL), 0);
        }
        char err[UG_ERRBUF];
        struct upgrade_outcome out;
        set_health_check(cases[i].command);
        install_and_switch();
        assert_int_equal(power_on(), 'B');
        ug_err rc = boot(&out, err);
        if (rc != cases[i].rc)
            fail_msg("case %zu: rc %d '%s'", i, rc, err);
        assert_true(in_root("health-ran"));
        struct bootstate bs = boot_state();
        assert_int_equal(bs.slot[BOOTSTATE_SLOT_B].successful, cases[i].marked_good);
        assert_string_equal(recorded("last_result"), cases[i].result);
        assert_int_equal(in_root("reboot-requested"), !cases[i].marked_good);
        if (!cases[i].marked_good) {
            assert_non_null(strstr(err, "slot B (2.0.0) not marked good"));
            assert_int_equal(bs.slot[BOOTSTATE_SLOT_B].tries, 2);
        }
    }
}

/* A cancel before the pass or in the middle of the download ends it as cancelled: nothing
 * held against the release, slot B unbootable, and the next pass completes. */
static void test_cancel(void **state)
{
    (void)state;
    static const struct {
        int before;
        const char *where;
        size_t fetched;
    } cases[] = {
        {1, "cancelled before the download", 0},
        {0, "cancelled during the download", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (i > 0) {
            assert_int_equal(teardown(NULL), 0);
            assert_int_equal(setup(NULL), 0);
        }
        char err[UG_ERRBUF];
        set("Upgrade_Rule", BUNDLE);
        cancel_flag = cases[i].before;
        progress.cancel_mid_install = !cases[i].before;
        assert_int_equal(pass(err), UG_ERR_OTHER);
        assert_non_null(strstr(err, cases[i].where));
        assert_int_equal(fake_request_count(), cases[i].fetched);
        if (!cases[i].before) /* stopped part-way, not after the last byte */
            assert_true(progress.last_done > 0 && progress.last_done < IMAGE_SIZE);
        assert_string_equal(recorded("state"), "cancelled");
        assert_string_equal(recorded("last_result"), "cancelled");
        assert_string_equal(recorded("upgst"), "1");
        assert_string_equal(recorded("last_error"), "");
        assert_int_equal(recorded_failures(), 0);
        assert_running_untouched(cases[i].where);

        cancel_flag = 0;
        progress.cancel_mid_install = 0;
        if (pass(err) != UG_OK)
            fail_msg("the pass after '%s': %s", cases[i].where, err);
        assert_string_equal(recorded("state"), "switched-awaiting-boot");
        assert_true(slot_starts_with('B', fx.image_data.data, IMAGE_SIZE));
    }
}

#define DEVICE_TEST(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        DEVICE_TEST(test_bundle_rule_switches),
        DEVICE_TEST(test_boot_confirms_then_rule_acted_on),
        DEVICE_TEST(test_failures_leave_slot_a),
        DEVICE_TEST(test_cut_bundle_leaves_its_slot_unbootable),
        DEVICE_TEST(test_failure_before_writing_keeps_the_fallback),
        DEVICE_TEST(test_refused_before_any_request),
        DEVICE_TEST(test_disabled),
        DEVICE_TEST(test_call_defers_the_switch),
        DEVICE_TEST(test_retry_delay),
        DEVICE_TEST(test_upgst_in_the_rule),
        DEVICE_TEST(test_catalog_plan),
        DEVICE_TEST(test_catalog_refusals),
        DEVICE_TEST(test_rollback),
        DEVICE_TEST(test_health_check),
        DEVICE_TEST(test_cancel),
    };
    return cmocka_run_group_tests_name("upgrade", tests, group_setup, group_teardown);
}
