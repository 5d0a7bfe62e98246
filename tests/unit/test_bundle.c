/* SPDX-License-Identifier: MIT */
/* Unit tests of bundles (bundle.c, bundle_pack.c, sign.c): pack and stream back for each
 * codec, resume at a chunk, and every refusal: wrong signer, tampered manifest or payload,
 * reordered, unsafe, linked or extra members, truncation, a failing transport. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>

#include "bundle/bundle.h"
#include "bundle/pack.h"
#include "bundle/payload.h"
#include "bundle/sign.h"
#include "common/buf.h"
#include "common/fsutil.h"
#include "fixture.h"

static char image[300];
#define IMAGE_SIZE (600 * 1024 + 123)

static struct fixture fx;

static void path_in(char *out, size_t n, const char *name)
{
    fixture_path(&fx, name, out, n);
}

static int setup(void **state)
{
    (void)state;
    if (fixture_make(&fx, "ug-bundle", IMAGE_SIZE, 4096, 99u, "ext4 demo image ") != 0)
        return -1;
    snprintf(image, sizeof image, "%s", fx.image);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return fixture_remove(&fx);
}

static ug_err pack(enum codec codec, const char *out_name, const char *k, const char *c, char *out,
                   size_t n)
{
    static const char *const hw[] = {"1.0", "2.0"};
    char err[UG_ERRBUF] = "";
    path_in(out, n, out_name);
    struct bundle_pack_options o = {
        .product = "UG-PHONE-1",
        .version = "2.0.0",
        .hardware = hw,
        .nhardware = 2,
        .image = image,
        .compression = codec,
        .chunk_size = 64 * 1024,
        .no_index = 1, /* the member tests below are about the layout without an index */
        .key = k,
        .cert = c,
        .out = out,
    };
    ug_err rc = bundle_pack(&o, err);
    if (rc != UG_OK)
        print_message("pack: %s\n", err);
    return rc;
}

/* A sink that keeps what it is given and checks the order of calls. */
struct collect {
    struct buf data;
    size_t chunks_verified, payloads_ended, checks;
    uint64_t data_offset;
    const char *refuse_hw; /* check() refuses bundles that do not fit this */
};

static ug_err c_check(void *ctx, const struct bundle_manifest *m, char *err)
{
    struct collect *c = ctx;
    c->checks++;
    if (c->refuse_hw && !bundle_manifest_fits(m, c->refuse_hw))
        return ug_fail(err, UG_ERR_VERIFY, "does not fit hardware %s", c->refuse_hw);
    return UG_OK;
}

static ug_err c_begin(void *ctx, const struct bundle_payload *p, uint64_t data_offset, char *err)
{
    (void)p, (void)err;
    ((struct collect *)ctx)->data_offset = data_offset;
    return UG_OK;
}

static ug_err c_write(void *ctx, const struct bundle_payload *p, uint64_t offset, const void *data,
                      size_t len, char *err)
{
    struct collect *c = ctx;
    (void)p;
    if (offset != c->data.len)
        return ug_fail(err, UG_ERR_OTHER, "write at %llu, expected %zu", (unsigned long long)offset,
                       c->data.len);
    return buf_append(&c->data, data, len) == 0 ? UG_OK : UG_ERR_OTHER;
}

static ug_err c_chunk(void *ctx, const struct bundle_payload *p, size_t chunk, char *err)
{
    struct collect *c = ctx;
    (void)p, (void)err;
    assert_int_equal(chunk, c->chunks_verified);
    c->chunks_verified++;
    return UG_OK;
}

static ug_err c_end(void *ctx, const struct bundle_payload *p, char *err)
{
    (void)p, (void)err;
    ((struct collect *)ctx)->payloads_ended++;
    return UG_OK;
}

static const struct bundle_sink sink = {c_check, c_begin, c_write, c_chunk, c_end};

static ug_err read_bundle(const char *path, const char *ring, struct collect *c, char *err)
{
    struct bundle_manifest m;
    ug_err rc = bundle_read_file(path, ring, &sink, c, &m, err);
    if (rc == UG_OK) {
        assert_string_equal(m.product, "UG-PHONE-1");
        assert_int_equal(m.npayloads, 1);
        assert_int_equal(c->chunks_verified, m.payloads[0].nchunks);
        bundle_manifest_free(&m);
    }
    return rc;
}

static void test_round_trip(void **state)
{
    (void)state;
    static const enum codec codecs[] = {CODEC_GZIP, CODEC_ZSTD, CODEC_NONE};
    for (size_t i = 0; i < 3; i++) {
        char path[400], err[UG_ERRBUF] = "";
        struct collect c = {0};
        assert_int_equal(pack(codecs[i], "rt.bundle", fx.key, fx.cert, path, sizeof path), UG_OK);
        ug_err rc = read_bundle(path, fx.keyring, &c, err);
        if (rc != UG_OK)
            fail_msg("%s: %s", codec_name(codecs[i]), err);
        assert_int_equal(c.checks, 1);
        assert_int_equal(c.payloads_ended, 1);
        assert_int_equal(c.data.len, IMAGE_SIZE);
        assert_memory_equal(c.data.data, fx.image_data.data, IMAGE_SIZE);
        assert_int_equal(c.chunks_verified, (IMAGE_SIZE + 65535) / 65536);
        /* ustar: the payload's stored bytes start at a known offset in the file. */
        assert_true(c.data_offset != BUNDLE_OFFSET_UNKNOWN && c.data_offset % 512 == 0);
        buf_free(&c.data);
    }
}

/* A resumed transfer: decode only from chunk 5 on, reading the file from its offset. */
static void test_resume_at_chunk(void **state)
{
    (void)state;
    char path[400], err[UG_ERRBUF] = "";
    struct collect c = {0};
    struct bundle_manifest m;
    assert_int_equal(pack(CODEC_GZIP, "resume.bundle", fx.key, fx.cert, path, sizeof path), UG_OK);
    assert_int_equal(bundle_read_file(path, fx.keyring, &sink, &c, &m, err), UG_OK);
    uint64_t data_offset = c.data_offset;
    buf_free(&c.data);

    const struct bundle_payload *p = &m.payloads[0];
    struct buf file = {0};
    assert_int_equal(fs_read_file(path, 1 << 24, &file, err), UG_OK);
    struct collect tail = {0};
    /* write() asserts offsets start at data.len: pretend the first chunks are present. */
    assert_int_equal(buf_append(&tail.data, fx.image_data.data, p->chunks[5].offset), 0);
    tail.chunks_verified = 5;
    struct payload_decoder *d;
    assert_int_equal(payload_decoder_open(p, 5, NULL, &sink, &tail, "resume", &d, err), UG_OK);
    const char *from = file.data + data_offset + p->chunks[5].stored_offset;
    size_t left = p->stored_size - p->chunks[5].stored_offset;
    for (size_t at = 0; at < left; at += 1000)
        assert_int_equal(
            payload_decoder_feed(d, from + at, left - at < 1000 ? left - at : 1000, err), UG_OK);
    assert_int_equal(payload_decoder_finish(d, err), UG_OK);
    payload_decoder_close(d);
    assert_int_equal(tail.data.len, IMAGE_SIZE);
    assert_memory_equal(tail.data.data, fx.image_data.data, IMAGE_SIZE);

    /* Cut short: truncated, code 4. */
    assert_int_equal(payload_decoder_open(p, 5, NULL, &sink, &tail, "resume", &d, err), UG_OK);
    buf_reset(&tail.data);
    assert_int_equal(buf_append(&tail.data, fx.image_data.data, p->chunks[5].offset), 0);
    tail.chunks_verified = 5;
    assert_int_equal(payload_decoder_feed(d, from, p->chunks[5].stored_size + 10, err), UG_OK);
    assert_int_equal(payload_decoder_finish(d, err), UG_ERR_UNUSABLE);
    assert_non_null(strstr(err, "truncated"));
    payload_decoder_close(d);
    buf_free(&tail.data);
    buf_free(&file);
    bundle_manifest_free(&m);
}

static void test_signer_refused(void **state)
{
    (void)state;
    char path[400], err[UG_ERRBUF] = "";
    struct collect c = {0};
    assert_int_equal(pack(CODEC_GZIP, "signer.bundle", fx.key, fx.cert, path, sizeof path), UG_OK);
    assert_int_equal(read_bundle(path, fx.other_keyring, &c, err), UG_ERR_VERIFY);
    assert_non_null(strstr(err, "signature"));
    assert_int_equal(c.data.len, 0);
    assert_int_equal(c.checks, 0);
    /* Same CA, but a TLS certificate: not allowed to sign firmware. */
    assert_int_equal(pack(CODEC_GZIP, "tls.bundle", fx.tls_key, fx.tls_cert, path, sizeof path),
                     UG_OK);
    assert_int_equal(read_bundle(path, fx.keyring, &c, err), UG_ERR_VERIFY);
    assert_non_null(strstr(err, "not allowed to sign"));
    assert_int_equal(c.data.len, 0);
    /* The device refuses from the verified manifest before any byte is written. */
    assert_int_equal(pack(CODEC_GZIP, "hw.bundle", fx.key, fx.cert, path, sizeof path), UG_OK);
    c.refuse_hw = "3.0";
    assert_int_equal(read_bundle(path, fx.keyring, &c, err), UG_ERR_VERIFY);
    assert_int_equal(c.checks, 1);
    assert_int_equal(c.data.len, 0);
    /* A missing keyring is no verification at all. */
    assert_int_equal(read_bundle(path, "/nonexistent/keyring.pem", &c, err), UG_ERR_OTHER);
}

/* ---- rewriting archives member by member */

struct member {
    char name[256];
    char link[256];
    int type;
    struct buf data;
};

static size_t load_members(const char *path, struct member *m, size_t max)
{
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    size_t n = 0;
    archive_read_support_format_tar(a);
    assert_int_equal(archive_read_open_filename(a, path, 10240), ARCHIVE_OK);
    while (n < max && archive_read_next_header(a, &e) == ARCHIVE_OK) {
        memset(&m[n], 0, sizeof m[n]);
        snprintf(m[n].name, sizeof m[n].name, "%s", archive_entry_pathname(e));
        m[n].type = AE_IFREG;
        char block[8192];
        la_ssize_t got;
        while ((got = archive_read_data(a, block, sizeof block)) > 0)
            buf_append(&m[n].data, block, (size_t)got);
        n++;
    }
    archive_read_free(a);
    return n;
}

static void write_members(const char *path, struct member *m, size_t n)
{
    struct archive *a = archive_write_new();
    archive_write_set_format_ustar(a);
    assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, m[i].name);
        archive_entry_set_filetype(e, (unsigned)m[i].type);
        archive_entry_set_perm(e, 0644);
        if (m[i].type == AE_IFLNK) {
            archive_entry_set_symlink(e, m[i].link);
            archive_entry_set_size(e, 0);
        } else {
            archive_entry_set_size(e, (la_int64_t)m[i].data.len);
        }
        assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
        if (m[i].type == AE_IFREG && m[i].data.len)
            assert_int_equal(archive_write_data(a, m[i].data.data, m[i].data.len),
                             (la_ssize_t)m[i].data.len);
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
}

static void free_members(struct member *m, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf_free(&m[i].data);
}

enum tamper {
    MANIFEST_BYTE,
    PAYLOAD_BYTE,
    SWAP_MANIFEST_SIG,
    DOTDOT,
    ABSOLUTE,
    SYMLINK,
    EXTRA,
    RENAMED,
    MISSING_SIG,
    LONGER_PAYLOAD
};

static const struct {
    enum tamper how;
    ug_err rc;
    const char *says;
} tamper_cases[] = {
    {MANIFEST_BYTE, UG_ERR_VERIFY, "signature"},    {PAYLOAD_BYTE, UG_ERR_VERIFY, "signed digest"},
    {SWAP_MANIFEST_SIG, UG_ERR_VERIFY, "expected"}, {DOTDOT, UG_ERR_VERIFY, "unsafe path"},
    {ABSOLUTE, UG_ERR_VERIFY, "unsafe path"},       {SYMLINK, UG_ERR_VERIFY, "link"},
    {EXTRA, UG_ERR_VERIFY, "not listed"},           {RENAMED, UG_ERR_VERIFY, "expected"},
    {MISSING_SIG, UG_ERR_VERIFY, "expected"},       {LONGER_PAYLOAD, UG_ERR_VERIFY, "bytes"},
};

static void test_tampering(void **state)
{
    (void)state;
    char good[400], bad[400];
    path_in(bad, sizeof bad, "bad.bundle");
    assert_int_equal(pack(CODEC_GZIP, "good.bundle", fx.key, fx.cert, good, sizeof good), UG_OK);
    for (size_t i = 0; i < sizeof tamper_cases / sizeof tamper_cases[0]; i++) {
        struct member m[6];
        size_t n = load_members(good, m, 5);
        assert_int_equal(n, 3);
        switch (tamper_cases[i].how) {
        case MANIFEST_BYTE: {
            char *v = strstr(m[0].data.data, "2.0.0");
            v[0] = '9';
            break;
        }
        case PAYLOAD_BYTE:
            m[2].data.data[m[2].data.len / 2] ^= 0x20;
            break;
        case SWAP_MANIFEST_SIG: {
            struct member t = m[0];
            m[0] = m[1];
            m[1] = t;
            break;
        }
        case DOTDOT:
            snprintf(m[2].name, sizeof m[2].name, "../rootfs.img.gz");
            break;
        case ABSOLUTE:
            snprintf(m[2].name, sizeof m[2].name, "/rootfs.img.gz");
            break;
        case SYMLINK:
            m[2].type = AE_IFLNK;
            snprintf(m[2].link, sizeof m[2].link, "/dev/mmcblk0");
            break;
        case EXTRA:
            memset(&m[3], 0, sizeof m[3]);
            snprintf(m[3].name, sizeof m[3].name, "post-install.sh");
            m[3].type = AE_IFREG;
            buf_append_str(&m[3].data, "#!/bin/sh\nrm -rf /\n");
            n = 4;
            break;
        case RENAMED:
            snprintf(m[2].name, sizeof m[2].name, "kernel.img.gz");
            break;
        case MISSING_SIG:
            buf_free(&m[1].data);
            m[1] = m[2];
            n = 2;
            break;
        case LONGER_PAYLOAD:
            /* Signed manifest intact, member longer than it says. */
            buf_append(&m[2].data, "0123456789", 10);
            break;
        }
        write_members(bad, m, n);
        free_members(m, n);
        struct collect c = {0};
        char err[UG_ERRBUF] = "";
        ug_err rc = read_bundle(bad, fx.keyring, &c, err);
        if (rc != tamper_cases[i].rc || !strstr(err, tamper_cases[i].says))
            fail_msg("tamper case %zu: rc %d '%s', expected %d with '%s'", i, rc, err,
                     tamper_cases[i].rc, tamper_cases[i].says);
        if (tamper_cases[i].how != PAYLOAD_BYTE && tamper_cases[i].how != EXTRA)
            assert_int_equal(c.data.len, 0); /* refused before any payload byte */
        assert_int_equal(c.payloads_ended, 0 + (tamper_cases[i].how == EXTRA));
        buf_free(&c.data);
    }
}

static void test_truncated(void **state)
{
    (void)state;
    char good[400], cut[400], err[UG_ERRBUF];
    struct buf file = {0};
    path_in(cut, sizeof cut, "cut.bundle");
    assert_int_equal(pack(CODEC_ZSTD, "trunc.bundle", fx.key, fx.cert, good, sizeof good), UG_OK);
    assert_int_equal(fs_read_file(good, 1 << 24, &file, err), UG_OK);
    const size_t points[] = {0, 100, 512, 700, 2048, 4000, file.len / 2, file.len - 10240 - 700};
    for (size_t i = 0; i < sizeof points / sizeof points[0]; i++) {
        assert_int_equal(fs_write_atomic(cut, file.data, points[i], 0644, err), UG_OK);
        struct collect c = {0};
        ug_err rc = read_bundle(cut, fx.keyring, &c, err);
        if (rc != UG_ERR_UNUSABLE && rc != UG_ERR_VERIFY)
            fail_msg("cut at %zu: rc %d (%s)", points[i], rc, err);
        assert_int_equal(c.payloads_ended, 0);
        buf_free(&c.data);
    }
    buf_free(&file);
}

/* The transport's own error (here: unreachable) comes through unchanged. */
struct failing_pull {
    struct buf *file;
    size_t at, fail_after;
};

static ug_err failing_pull(void *ctx, const void **data, size_t *len, char *err)
{
    struct failing_pull *f = ctx;
    if (f->at >= f->fail_after)
        return ug_fail(err, UG_ERR_UNREACHABLE, "http://server/b.bundle: connection reset");
    size_t n = f->file->len - f->at < 3000 ? f->file->len - f->at : 3000;
    *data = f->file->data + f->at;
    *len = n;
    f->at += n;
    return UG_OK;
}

static void test_pull_error(void **state)
{
    (void)state;
    char good[400], err[UG_ERRBUF];
    struct buf file = {0};
    assert_int_equal(pack(CODEC_GZIP, "pull.bundle", fx.key, fx.cert, good, sizeof good), UG_OK);
    assert_int_equal(fs_read_file(good, 1 << 24, &file, err), UG_OK);
    struct failing_pull f = {&file, 0, file.len / 2};
    struct collect c = {0};
    struct bundle_manifest m;
    assert_int_equal(
        bundle_read(failing_pull, &f, "http://server/b.bundle", fx.keyring, &sink, &c, &m, err),
        UG_ERR_UNREACHABLE);
    assert_non_null(strstr(err, "connection reset"));
    f = (struct failing_pull){&file, 0, SIZE_MAX};
    buf_free(&c.data);
    memset(&c, 0, sizeof c);
    assert_int_equal(
        bundle_read(failing_pull, &f, "http://server/b.bundle", fx.keyring, &sink, &c, &m, err),
        UG_OK);
    assert_int_equal(c.data.len, IMAGE_SIZE);
    bundle_manifest_free(&m);
    buf_free(&c.data);
    buf_free(&file);
}

static void test_manifest_fields(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{}",
        "{\"format\": 2, \"product\": \"P\", \"version\": \"1.0\", \"hardware\": [\"1\"], \"payloads\": []}",
        "{\"format\": 1, \"product\": \"P\", \"version\": \"x\", \"hardware\": [\"1\"], \"payloads\": []}",
        "{\"format\": 1, \"product\": \"P\", \"version\": \"1.0\", \"hardware\": [], \"payloads\": []}",
        /* 69 characters: more than the boot state records */
        "{\"format\": 1, \"product\": \"P\", \"version\": "
        "\"sip88xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.11-0-1MPP-477\", \"hardware\": "
        "[\"1\"], \"payloads\": [{\"name\": \"x\", \"slot\": \"rootfs\", \"compression\": "
        "\"none\", \"size\": 1, \"stored_size\": 1, \"sha256\": "
        "\"0000000000000000000000000000000000000000000000000000000000000000\", \"chunks\": [{\"offset\": 0, "
        "\"size\": 1, \"stored_offset\": 0, \"stored_size\": 1, \"sha256\": "
        "\"0000000000000000000000000000000000000000000000000000000000000000\", \"stored_sha256\": "
        "\"0000000000000000000000000000000000000000000000000000000000000000\"}]}]}",
        "{\"format\": 1, \"product\": \"P\", \"version\": \"1.0\", \"hardware\": [\"1\"], \"payloads\": []}",
        "{\"format\": 1, \"product\": \"P\", \"version\": \"1.0\", \"hardware\": [\"1\"], \"payloads\": [{\"name\": \"../x\"}]}",
        "{\"format\": 1, \"product\": \"P\", \"version\": \"1.0\", \"hardware\": [\"1\"], \"payloads\": [{\"name\": \"x\", "
        "\"slot\": \"rootfs\", \"compression\": \"xz\"}]}",
        "{\"format\": 1, \"product\": \"P\", \"version\": \"1.0\", \"hardware\": [\"1\"], \"payloads\": [{\"name\": \"x\", "
        "\"slot\": \"rootfs\", \"compression\": \"gzip\", \"size\": 10, \"stored_size\": 5, \"sha256\": "
        "\"0000000000000000000000000000000000000000000000000000000000000000\", \"chunks\": [{\"offset\": 0, "
        "\"size\": 9, \"stored_offset\": 0, \"stored_size\": 5, \"sha256\": "
        "\"0000000000000000000000000000000000000000000000000000000000000000\", \"stored_sha256\": "
        "\"0000000000000000000000000000000000000000000000000000000000000000\"}]}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct bundle_manifest m;
        char err[UG_ERRBUF];
        ug_err rc = bundle_manifest_parse(bad[i], strlen(bad[i]), &m, err);
        if (rc == UG_OK)
            fail_msg("manifest %zu accepted", i);
        assert_non_null(strstr(err, "manifest"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),      cmocka_unit_test(test_resume_at_chunk),
        cmocka_unit_test(test_signer_refused),  cmocka_unit_test(test_tampering),
        cmocka_unit_test(test_truncated),       cmocka_unit_test(test_pull_error),
        cmocka_unit_test(test_manifest_fields),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
