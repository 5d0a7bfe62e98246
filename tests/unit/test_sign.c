/* SPDX-License-Identifier: MIT */
/* Unit tests of signatures (sign.c): what a vendor signs verifies on the device, and every
 * refusal (another CA, tampered data, a blob that is no CMS, an attached signature, an empty
 * keyring, a TLS certificate as signer) is UG_ERR_VERIFY with a message naming the file,
 * leaving no OpenSSL error behind. Under SAN=1, LeakSanitizer checks each refusal path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "bundle/sign.h"
#include "common/buf.h"
#include "common/fsutil.h"
#include "fixture.h"

static struct fixture fx;
static const char data[] = "{\"product\": \"UG-PHONE-1\", \"releases\": []}\n";
static struct buf good_sig; /* data signed by CA a's code signer */
static struct buf tls_sig;  /* data signed by CA a's TLS server certificate */
static char empty_ring[300], junk_ring[300];

static void write_file(const char *path, const void *bytes, size_t len)
{
    char err[UG_ERRBUF];
    if (fs_write_atomic(path, bytes, len, 0644, err) != UG_OK)
        fail_msg("%s", err);
}

/* OpenSSL's allocations still live: its allocator is ours for the whole test program, so a
 * leak shows in the plain build too, not only under LeakSanitizer. */
static long openssl_live;
static int counting;

static void *count_malloc(size_t n, const char *file, int line)
{
    (void)file, (void)line;
    void *p = malloc(n);
    openssl_live += p != NULL;
    return p;
}

static void *count_realloc(void *p, size_t n, const char *file, int line)
{
    (void)file, (void)line;
    void *q = realloc(p, n);
    if (!p && q)
        openssl_live++;
    else if (p && n == 0)
        openssl_live--;
    return q;
}

static void count_free(void *p, const char *file, int line)
{
    (void)file, (void)line;
    openssl_live -= p != NULL;
    free(p);
}

static int setup(void **state)
{
    (void)state;
    char err[UG_ERRBUF];
    if (fixture_make(&fx, "ug-sign", 0, 1, 1u, "0123456789abcdef") != 0)
        return -1;
    fixture_path(&fx, "empty.pem", empty_ring, sizeof empty_ring);
    fixture_path(&fx, "junk.pem", junk_ring, sizeof junk_ring);
    static const char junk[] = "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n"
                               "-----END CERTIFICATE-----\n";
    if (fs_write_atomic(empty_ring, "", 0, 0644, err) != UG_OK ||
        fs_write_atomic(junk_ring, junk, sizeof junk - 1, 0644, err) != UG_OK)
        return -1;
    if (sign_create(fx.key, fx.cert, data, sizeof data - 1, &good_sig, err) != UG_OK ||
        sign_create(fx.tls_key, fx.tls_cert, data, sizeof data - 1, &tls_sig, err) != UG_OK) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    buf_free(&good_sig);
    buf_free(&tls_sig);
    return fixture_remove(&fx);
}

static void test_round_trip(void **state)
{
    (void)state;
    char err[UG_ERRBUF] = "";
    if (sign_verify(fx.keyring, data, sizeof data - 1, good_sig.data, good_sig.len, "catalog.json",
                    err) != UG_OK)
        fail_msg("%s", err);
    /* Made twice, a signature verifies each time: nothing is kept between calls. */
    struct buf again = {0};
    assert_int_equal(sign_create(fx.key, fx.cert, data, sizeof data - 1, &again, err), UG_OK);
    assert_int_equal(
        sign_verify(fx.keyring, data, sizeof data - 1, again.data, again.len, "catalog.json", err),
        UG_OK);
    buf_free(&again);
    assert_int_equal(ERR_peek_error(), 0);
}

/* The file form: path and path.sig, the content handed back only when it verifies. */
static void test_verify_file(void **state)
{
    (void)state;
    char path[300], sig[310], err[UG_ERRBUF] = "";
    fixture_path(&fx, "catalog.json", path, sizeof path);
    snprintf(sig, sizeof sig, "%s.sig", path);
    write_file(path, data, sizeof data - 1);
    write_file(sig, good_sig.data, good_sig.len);
    struct buf content = {0};
    if (sign_verify_file(fx.keyring, path, NULL, 1 << 20, &content, err) != UG_OK)
        fail_msg("%s", err);
    assert_int_equal(content.len, sizeof data - 1);
    assert_memory_equal(content.data, data, sizeof data - 1);

    /* Tampered on disk: refused, and nothing handed back. */
    write_file(path, "{\"product\": \"UG-PHONE-2\", \"releases\": []}\n", sizeof data - 1);
    buf_reset(&content);
    assert_int_equal(sign_verify_file(fx.keyring, path, NULL, 1 << 20, &content, err),
                     UG_ERR_VERIFY);
    assert_non_null(strstr(err, path));
    assert_int_equal(content.len, 0);

    /* No .sig beside it: not signed. */
    char unsigned_path[300];
    fixture_path(&fx, "unsigned.json", unsigned_path, sizeof unsigned_path);
    write_file(unsigned_path, data, sizeof data - 1);
    assert_int_equal(sign_verify_file(fx.keyring, unsigned_path, NULL, 1 << 20, &content, err),
                     UG_ERR_VERIFY);
    assert_non_null(strstr(err, "not signed"));
    assert_non_null(strstr(err, unsigned_path));

    /* A file over the caller's bound is not read. */
    write_file(path, data, sizeof data - 1);
    assert_int_not_equal(sign_verify_file(fx.keyring, path, NULL, 8, &content, err), UG_OK);
    assert_int_equal(content.len, 0);
    buf_free(&content);
}

/* An attached (not detached) CMS signature over the same data, as `openssl cms -sign`
 * without -detached makes one. */
static void attached_signature(struct buf *out)
{
    BIO *kb = BIO_new_file(fx.key, "r"), *cb = BIO_new_file(fx.cert, "r");
    BIO *in = BIO_new_mem_buf(data, sizeof data - 1), *der = BIO_new(BIO_s_mem());
    EVP_PKEY *key = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
    X509 *cert = PEM_read_bio_X509(cb, NULL, NULL, NULL);
    CMS_ContentInfo *cms = CMS_sign(cert, key, NULL, in, CMS_BINARY);
    assert_non_null(cms);
    assert_int_equal(i2d_CMS_bio(der, cms), 1);
    char *bytes;
    long n = BIO_get_mem_data(der, &bytes);
    assert_int_equal(buf_append(out, bytes, (size_t)n), 0);
    CMS_ContentInfo_free(cms);
    X509_free(cert);
    EVP_PKEY_free(key);
    BIO_free(kb);
    BIO_free(cb);
    BIO_free(in);
    BIO_free(der);
}

enum sig_kind {
    SIG_GOOD,
    SIG_TLS,
    SIG_JUNK,
    SIG_EMPTY,
    SIG_TRUNCATED,
    SIG_ATTACHED
};

/* Every refusal: UG_ERR_VERIFY, the file named, the cause said. */
static void test_refusals(void **state)
{
    (void)state;
    char tampered[sizeof data];
    memcpy(tampered, data, sizeof data);
    tampered[14] ^= 0x01; /* one bit of the product name */
    struct buf attached = {0};
    attached_signature(&attached);
    const struct {
        const char *what;
        const char *ring;
        const char *bytes;
        enum sig_kind sig;
        const char *says;
    } cases[] = {
        {"signed by another CA", fx.other_keyring, data, SIG_GOOD, "does not verify"},
        {"tampered data", fx.keyring, tampered, SIG_GOOD, "does not verify"},
        {"a blob that is no CMS", fx.keyring, data, SIG_JUNK, "not a DER CMS"},
        {"an empty signature", fx.keyring, data, SIG_EMPTY, "not signed"},
        {"a cut signature", fx.keyring, data, SIG_TRUNCATED, "not a DER CMS"},
        {"an attached signature", fx.keyring, data, SIG_ATTACHED, "not a detached"},
        {"a TLS certificate as signer", fx.keyring, data, SIG_TLS, "not allowed to sign code"},
        {"an empty keyring", empty_ring, data, SIG_GOOD, empty_ring},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const void *sig = good_sig.data;
        size_t sig_len = good_sig.len;
        switch (cases[i].sig) {
        case SIG_GOOD:
            break;
        case SIG_TLS:
            sig = tls_sig.data, sig_len = tls_sig.len;
            break;
        case SIG_JUNK:
            sig = "PK\003\004 this is a zip, not a signature", sig_len = 36;
            break;
        case SIG_EMPTY:
            sig_len = 0;
            break;
        case SIG_TRUNCATED:
            sig_len = good_sig.len / 2;
            break;
        case SIG_ATTACHED:
            sig = attached.data, sig_len = attached.len;
            break;
        }
        char err[UG_ERRBUF] = "";
        ug_err rc = sign_verify(cases[i].ring, cases[i].bytes, sizeof data - 1, sig, sig_len,
                                "releases/catalog.json", err);
        if (rc != UG_ERR_VERIFY || !strstr(err, "releases/catalog.json") ||
            !strstr(err, cases[i].says))
            fail_msg("%s: rc %d '%s', expected %d naming the file and '%s'", cases[i].what, rc, err,
                     UG_ERR_VERIFY, cases[i].says);
        /* The OpenSSL error queue is left empty: no stale reason in a later message. */
        if (ERR_peek_error() != 0)
            fail_msg("%s: OpenSSL errors left behind", cases[i].what);
    }
    buf_free(&attached);
}

/* A keyring that is missing or damaged is the device's own problem, not the file's. */
static void test_unusable_keyring(void **state)
{
    (void)state;
    const char *rings[] = {"/nonexistent/keyring.pem", junk_ring};
    for (size_t i = 0; i < 2; i++) {
        char err[UG_ERRBUF] = "";
        assert_int_equal(sign_verify(rings[i], data, sizeof data - 1, good_sig.data, good_sig.len,
                                     "catalog.json", err),
                         UG_ERR_OTHER);
        assert_non_null(strstr(err, rings[i]));
        assert_int_equal(ERR_peek_error(), 0);
    }
}

/* Signing refuses a key that is not the certificate's, and files that are not PEM. */
static void test_create_refusals(void **state)
{
    (void)state;
    char other_key[300];
    fixture_path(&fx, "b/signer.key", other_key, sizeof other_key);
    const struct {
        const char *key, *cert, *says;
    } cases[] = {
        {other_key, fx.cert, "does not belong to the key"},
        {junk_ring, fx.cert, "cannot read a PEM private key"},
        {fx.key, junk_ring, "cannot read a PEM certificate"},
        {"/nonexistent/signer.key", fx.cert, "/nonexistent/signer.key"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct buf sig = {0};
        char err[UG_ERRBUF] = "";
        ug_err rc = sign_create(cases[i].key, cases[i].cert, data, sizeof data - 1, &sig, err);
        if (rc != UG_ERR_USAGE || !strstr(err, cases[i].says))
            fail_msg("case %zu: rc %d '%s'", i, rc, err);
        assert_int_equal(sig.len, 0);
        assert_int_equal(ERR_peek_error(), 0);
        buf_free(&sig);
    }
}

/* A valid signature whose SignedData digestAlgorithms names AES-256-CBC instead of SHA-256,
 * as a fuzzer made it: the signer and its signed attributes still check out, so OpenSSL gets
 * as far as hashing the content, where it cannot, and refuses. That path lost a BIO each time
 * inside CMS_verify until sign_verify stopped handing it a memory BIO. */
static void test_cipher_as_digest_refused_without_leak(void **state)
{
    (void)state;
    static const unsigned char sha256[] = {0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                           0x65, 0x03, 0x04, 0x02, 0x01};
    struct buf sig = {0};
    char err[UG_ERRBUF] = "";
    assert_true(counting);
    assert_int_equal(buf_append(&sig, good_sig.data, good_sig.len), 0);
    unsigned char *oid = memmem(sig.data, sig.len, sha256, sizeof sha256);
    /* The first one is the SignedData's digestAlgorithms; 2.16.840.1.101.3.4.1.42 is
     * aes-256-cbc. */
    assert_non_null(oid);
    oid[9] = 0x01, oid[10] = 0x2a;
    long before = 0;
    for (int i = 0; i < 4; i++) {
        if (i == 1) /* the first pass fills OpenSSL's lazy caches: counted from the second */
            before = openssl_live;
        assert_int_equal(
            sign_verify(fx.keyring, data, sizeof data - 1, sig.data, sig.len, "m", err),
            UG_ERR_VERIFY);
        assert_non_null(strstr(err, "does not verify"));
    }
    assert_int_equal(openssl_live - before, 0);
    buf_free(&sig);
}

int main(void)
{
    /* Before OpenSSL allocates anything: it refuses a new allocator after its first malloc. */
    counting = CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_verify_file),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_unusable_keyring),
        cmocka_unit_test(test_create_refusals),
        cmocka_unit_test(test_cipher_as_digest_refused_without_leak),
    };
    return cmocka_run_group_tests_name("sign", tests, setup, teardown);
}
