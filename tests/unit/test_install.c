/* SPDX-License-Identifier: MIT */
/* Unit tests of the streaming install (install.c) on local bundle files made with
 * bundle_pack: byte-identical installs, every refusal before a byte is written, tampering,
 * resuming a cut transfer at a chunk boundary (and restarting when the bundle changed), and
 * a slot on a block device (a loop device: run as root). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "bundle/pack.h"
#include "common/buf.h"
#include "common/fsutil.h"
#include "common/jsonfile.h"
#include "fixture.h"
#include "loopdev.h"
#include "upgrade/install.h"

static char image[300], slot_path[300], resume[300];
#define IMAGE_SIZE (1024 * 1024 + 4321)
#define SLOT_SIZE  (2 * 1024 * 1024)
#define CHUNK      (64 * 1024)

static struct fixture fx;
static char loop_dev[64]; /* a loop device over slot_path while a test uses one */

static void path_in(char *out, size_t n, const char *name)
{
    fixture_path(&fx, name, out, n);
}

static int setup(void **state)
{
    (void)state;
    if (fixture_make(&fx, "ug-install", IMAGE_SIZE, 8192, 7u, "firmware rootfs ") != 0)
        return -1;
    path_in(slot_path, sizeof slot_path, "slot.img");
    path_in(resume, sizeof resume, "resume.json");
    snprintf(image, sizeof image, "%s", fx.image);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    loopdev_detach(loop_dev); /* also when a block-slot test failed half-way */
    return fixture_remove(&fx);
}

/* Packs the image file img as version into dir/name. */
static void pack_image(const char *img, const char *name, const char *version, enum codec codec,
                       char *out, size_t n)
{
    static const char *const hw[] = {"1.0", "2.0"};
    char err[UG_ERRBUF] = "";
    path_in(out, n, name);
    struct bundle_pack_options o = {
        .product = "UG-PHONE-1",
        .version = version,
        .hardware = hw,
        .nhardware = 2,
        .image = image,
        .compression = codec,
        .chunk_size = CHUNK,
        .key = fx.key,
        .cert = fx.cert,
        .out = out,
    };
    o.image = img;
    if (bundle_pack(&o, err) != UG_OK)
        fail_msg("pack: %s", err);
}

/* Packs the test image as version into dir/name. */
static void pack(const char *name, const char *version, enum codec codec, char *out, size_t n)
{
    pack_image(image, name, version, codec, out, n);
}

/* A fresh slot file filled with 0xAA, so untouched bytes are recognisable. */
static void fresh_slot(void)
{
    char *fill = malloc(SLOT_SIZE), err[UG_ERRBUF];
    assert_non_null(fill);
    memset(fill, 0xAA, SLOT_SIZE);
    assert_int_equal(fs_write_atomic(slot_path, fill, SLOT_SIZE, 0644, err), UG_OK);
    free(fill);
}

static int slot_untouched(void)
{
    struct buf b = {0};
    char err[UG_ERRBUF];
    int same = fs_read_file(slot_path, SLOT_SIZE + 1, &b, err) == UG_OK && b.len == SLOT_SIZE;
    for (size_t i = 0; same && i < b.len; i++)
        same = (unsigned char)b.data[i] == 0xAA;
    buf_free(&b);
    return same;
}

static int slot_holds(const char *want)
{
    struct buf b = {0};
    char err[UG_ERRBUF];
    int same = fs_read_file(slot_path, SLOT_SIZE + 1, &b, err) == UG_OK && b.len == SLOT_SIZE &&
               memcmp(b.data, want, IMAGE_SIZE) == 0;
    buf_free(&b);
    return same;
}

static int slot_holds_image(void)
{
    return slot_holds(fx.image_data.data);
}

struct progress_log {
    uint64_t last, total;
    size_t calls;
    int out_of_order;
};

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
    struct progress_log *p = ctx;
    if (done < p->last)
        p->out_of_order = 1;
    p->last = done;
    p->total = total;
    p->calls++;
}

static struct install_request request(const char *url)
{
    struct install_request r = {
        .url = url,
        .keyring = fx.keyring,
        .slot_location = slot_path,
        .product = "UG-PHONE-1",
        .hardware = "2.0",
        .running_version = "1.0.0",
    };
    return r;
}

static void test_good_install(void **state)
{
    (void)state;
    static const enum codec codecs[] = {CODEC_GZIP, CODEC_ZSTD, CODEC_NONE};
    for (size_t i = 0; i < 3; i++) {
        char path[400], err[UG_ERRBUF] = "";
        pack("good.bundle", "2.0.0", codecs[i], path, sizeof path);
        fresh_slot();
        struct progress_log log = {0};
        struct install_request r = request(path);
        r.progress = on_progress;
        r.progress_ctx = &log;
        r.resume_file = resume;
        r.expected_version = "2.0"; /* the same version as 2.0.0 */
        r.downgrade_limit = "2.0.0";
        struct install_result res;
        ug_err rc = install_bundle(&r, &res, err);
        if (rc != UG_OK)
            fail_msg("%s: %s", codec_name(codecs[i]), err);
        assert_true(slot_holds_image());
        assert_string_equal(res.version, "2.0.0");
        assert_int_equal(res.image_size, IMAGE_SIZE);
        assert_int_equal(res.resumed, 0);
        assert_true(res.bytes_fetched > res.image_size / 3);
        assert_int_equal(log.last, IMAGE_SIZE);
        assert_int_equal(log.total, IMAGE_SIZE);
        assert_true(log.calls >= IMAGE_SIZE / (256 * 1024));
        assert_false(log.out_of_order);
        /* A finished install leaves nothing to resume. */
        assert_false(fs_exists(resume));
    }
}

/* Each refusal comes before a payload byte: the slot keeps its old content. */
static void test_refusals(void **state)
{
    (void)state;
    char path[400];
    pack("refuse.bundle", "2.0.0", CODEC_GZIP, path, sizeof path);
    struct {
        const char *what, *product, *hardware, *limit, *expected, *ring;
        ug_err rc;
        const char *message;
    } cases[] = {
        {"wrong product", "UG-PHONE-2", "2.0", NULL, NULL, fx.keyring, UG_ERR_VERIFY,
         "is for product UG-PHONE-1"},
        {"wrong hardware", "UG-PHONE-1", "3.0", NULL, NULL, fx.keyring, UG_ERR_VERIFY,
         "does not fit hardware 3.0"},
        {"no hardware", "UG-PHONE-1", NULL, NULL, NULL, fx.keyring, UG_ERR_VERIFY,
         "does not fit hardware"},
        {"below the limit", "UG-PHONE-1", "1.0", "2.0.1", NULL, fx.keyring, UG_ERR_VERIFY,
         "Downgrade_Rev_Limit is 2.0.1"},
        {"bad limit", "UG-PHONE-1", "1.0", "x.y", NULL, fx.keyring, UG_ERR_USAGE,
         "is not a version"},
        {"unexpected version", "UG-PHONE-1", "1.0", NULL, "2.0.1", fx.keyring, UG_ERR_VERIFY,
         "the plan expects 2.0.1"},
        {"other signer", "UG-PHONE-1", "1.0", NULL, NULL, fx.other_keyring, UG_ERR_VERIFY, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[UG_ERRBUF] = "";
        fresh_slot();
        struct install_request r = request(path);
        r.product = cases[i].product;
        r.hardware = cases[i].hardware;
        r.downgrade_limit = cases[i].limit;
        r.expected_version = cases[i].expected;
        r.keyring = cases[i].ring;
        struct install_result res;
        ug_err rc = install_bundle(&r, &res, err);
        if (rc != cases[i].rc || !strstr(err, cases[i].message))
            fail_msg("%s: got %d '%s'", cases[i].what, rc, err);
        if (!slot_untouched())
            fail_msg("%s: the slot was written", cases[i].what);
    }
}

/* A bundle whose image is larger than the slot is refused before writing. */
static void test_too_large_for_slot(void **state)
{
    (void)state;
    char path[400], err[UG_ERRBUF] = "";
    pack("large.bundle", "2.0.0", CODEC_ZSTD, path, sizeof path);
    char *fill = calloc(1, IMAGE_SIZE - 1);
    assert_non_null(fill);
    memset(fill, 0xAA, IMAGE_SIZE - 1);
    assert_int_equal(fs_write_atomic(slot_path, fill, IMAGE_SIZE - 1, 0644, err), UG_OK);
    struct install_request r = request(path);
    struct install_result res;
    assert_int_equal(install_bundle(&r, &res, err), UG_ERR_VERIFY);
    assert_non_null(strstr(err, "does not fit slot"));
    struct buf b = {0};
    assert_int_equal(fs_read_file(slot_path, SLOT_SIZE, &b, err), UG_OK);
    assert_memory_equal(b.data, fill, IMAGE_SIZE - 1);
    buf_free(&b);
    free(fill);
}

/* Flips one byte of the payload: the call fails, whatever landed in the slot. */
static void test_tampered_payload(void **state)
{
    (void)state;
    char path[400], err[UG_ERRBUF] = "";
    pack("tamper.bundle", "2.0.0", CODEC_GZIP, path, sizeof path);
    struct buf b = {0};
    assert_int_equal(fs_read_file(path, 1 << 24, &b, err), UG_OK);
    /* Past the manifest and signature: well inside the payload's stored bytes. */
    b.data[b.len / 2] ^= 0x20;
    assert_int_equal(fs_write_atomic(path, b.data, b.len, 0644, err), UG_OK);
    buf_free(&b);
    fresh_slot();
    struct install_request r = request(path);
    r.resume_file = resume;
    struct install_result res;
    assert_int_equal(install_bundle(&r, &res, err), UG_ERR_VERIFY);
    assert_non_null(strstr(err, "does not match its signed digest"));
    assert_int_equal(res.image_size, 0);
    unlink(resume);
}

static void test_missing_file(void **state)
{
    (void)state;
    char path[400], err[UG_ERRBUF] = "";
    path_in(path, sizeof path, "no-such.bundle");
    fresh_slot();
    struct install_request r = request(path);
    struct install_result res;
    assert_int_equal(install_bundle(&r, &res, err), UG_ERR_UNUSABLE);
    assert_non_null(strstr(err, "no-such.bundle"));
    assert_true(slot_untouched());
}

/* Writes the first len bytes of from to to (a transfer cut after len bytes). */
static void cut_copy(const char *from, const char *to, size_t len)
{
    struct buf b = {0};
    char err[UG_ERRBUF];
    assert_int_equal(fs_read_file(from, 1 << 24, &b, err), UG_OK);
    assert_true(len <= b.len);
    assert_int_equal(fs_write_atomic(to, b.data, len, 0644, err), UG_OK);
    buf_free(&b);
}

static long long file_size(const char *path)
{
    struct buf b = {0};
    char err[UG_ERRBUF];
    long long n = fs_read_file(path, 1 << 24, &b, err) == UG_OK ? (long long)b.len : -1;
    buf_free(&b);
    return n;
}

/* The bundle ends half-way (a cut transfer); the next call continues at the first chunk
 * not yet recorded, reading only the head and the rest. */
static void test_resume_after_cut(void **state)
{
    (void)state;
    char full[400], served[400], err[UG_ERRBUF] = "";
    pack("full.bundle", "2.0.0", CODEC_GZIP, full, sizeof full);
    path_in(served, sizeof served, "served.bundle");
    long long size = file_size(full);
    cut_copy(full, served, (size_t)size / 2);
    fresh_slot();
    unlink(resume);
    struct install_request r = request(served);
    r.resume_file = resume;
    r.checkpoint_bytes = 1; /* a checkpoint at every chunk */
    struct install_result res;
    assert_int_equal(install_bundle(&r, &res, err), UG_ERR_UNUSABLE);
    json_object *st = NULL;
    assert_int_equal(jsonfile_load(resume, &st, err), UG_OK);
    long long done = jsonfile_get_int(st, "chunks_done", 0),
              bytes_done = jsonfile_get_int(st, "bytes_done", 0);
    json_object_put(st);
    assert_true(done >= 3);
    assert_int_equal(bytes_done, done * CHUNK);

    /* The whole bundle is there now: only the head and the missing part are read. */
    cut_copy(full, served, (size_t)size);
    memset(&res, 0, sizeof res);
    if (install_bundle(&r, &res, err) != UG_OK)
        fail_msg("resume: %s", err);
    assert_int_equal(res.resumed, 1);
    assert_int_equal(res.resume_offset, (uint64_t)bytes_done);
    assert_int_equal(res.image_size, IMAGE_SIZE);
    assert_true(res.bytes_fetched < (uint64_t)size - (uint64_t)size / 3);
    assert_true(slot_holds_image());
    assert_false(fs_exists(resume));
}

/* A resume file that names another bundle's content (here: another release at the same
 * path), or that is damaged, costs a full transfer but never a wrong slot. */
static void test_resume_restarts(void **state)
{
    (void)state;
    char full[400], other[400], served[400], image3[400], err[UG_ERRBUF] = "";
    struct buf v3 = {0};
    assert_int_equal(buf_append(&v3, fx.image_data.data, fx.image_data.len), 0);
    v3.data[10] ^= 1; /* in the first chunk, which the cut transfer had written */
    path_in(image3, sizeof image3, "image3.img");
    assert_int_equal(fs_write_atomic(image3, v3.data, v3.len, 0644, err), UG_OK);
    pack("v2.bundle", "2.0.0", CODEC_GZIP, full, sizeof full);
    pack_image(image3, "v3.bundle", "3.0.0", CODEC_GZIP, other, sizeof other);
    path_in(served, sizeof served, "served.bundle");
    cut_copy(full, served, (size_t)file_size(full) / 2);
    fresh_slot();
    unlink(resume);
    struct install_request r = request(served);
    r.resume_file = resume;
    r.checkpoint_bytes = 1;
    struct install_result res;
    assert_int_equal(install_bundle(&r, &res, err), UG_ERR_UNUSABLE);
    assert_true(fs_exists(resume));
    cut_copy(other, served, (size_t)file_size(other));
    if (install_bundle(&r, &res, err) != UG_OK)
        fail_msg("restart: %s", err);
    assert_int_equal(res.resumed, 0);
    assert_string_equal(res.version, "3.0.0");
    assert_true(slot_holds(v3.data));

    assert_int_equal(fs_write_atomic(resume, "{not json", 9, 0644, err), UG_OK);
    fresh_slot();
    if (install_bundle(&r, &res, err) != UG_OK)
        fail_msg("damaged resume file: %s", err);
    assert_int_equal(res.resumed, 0);
    assert_true(slot_holds(v3.data));
    buf_free(&v3);
}

/* The slot is a block device (a loop device over the slot file): the same install, cut and
 * resumed, through the block backend; the other backends' slots are refused with a reason. */
static void test_block_slot(void **state)
{
    (void)state;
    char full[400], served[400], err[UG_ERRBUF] = "";
    pack("block.bundle", "2.0.0", CODEC_ZSTD, full, sizeof full);
    path_in(served, sizeof served, "served-block.bundle");
    long long size = file_size(full);
    cut_copy(full, served, (size_t)size / 2);
    fresh_slot();
    unlink(resume);
    assert_int_equal(loopdev_attach(slot_path, loop_dev, sizeof loop_dev), 0);
    struct install_request r = request(served);
    r.slot_backend = "block";
    r.slot_location = loop_dev;
    r.resume_file = resume;
    r.checkpoint_bytes = 1;
    struct install_result res;
    assert_int_equal(install_bundle(&r, &res, err), UG_ERR_UNUSABLE);
    cut_copy(full, served, (size_t)size);
    if (install_bundle(&r, &res, err) != UG_OK)
        fail_msg("block slot: %s", err);
    assert_int_equal(res.resumed, 1);
    assert_int_equal(res.image_size, IMAGE_SIZE);
    assert_true(slot_holds_image()); /* flushed through the device into its backing file */

    /* A block device named as a file slot, a file named as a block slot, an unknown backend:
     * refused before anything is written. */
    r.resume_file = NULL;
    r.slot_backend = "file";
    assert_int_equal(install_bundle(&r, &res, err), UG_ERR_OTHER);
    assert_non_null(strstr(err, "(slot_backend=block)"));
    loopdev_detach(loop_dev);
    fresh_slot();
    r.slot_backend = "block";
    r.slot_location = slot_path;
    assert_int_equal(install_bundle(&r, &res, err), UG_ERR_OTHER);
    assert_non_null(strstr(err, "not a block device"));
    r.slot_backend = "mtd";
    assert_int_equal(install_bundle(&r, &res, err), UG_ERR_USAGE);
    assert_string_equal(err, "unknown slot backend 'mtd' (known: file, block)");
    r.slot_backend = NULL; /* the file backend */
    r.slot_location = "";
    assert_int_equal(install_bundle(&r, &res, err), UG_ERR_USAGE);
    assert_true(slot_untouched());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_install),       cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_too_large_for_slot), cmocka_unit_test(test_tampered_payload),
        cmocka_unit_test(test_missing_file),       cmocka_unit_test(test_resume_after_cut),
        cmocka_unit_test(test_resume_restarts),    cmocka_unit_test(test_block_slot),
    };
    return cmocka_run_group_tests_name("install", tests, setup, teardown);
}
