/* SPDX-License-Identifier: MIT */
/* Unit tests of CMS signing and verification (sign.c): round trip, strangers, tampering, a TLS
 * certificate refused as a code signer, and a malformed signature refused without a leak. */
#include <openssl/crypto.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bundle/sign.h"
#include "fixture.h"

static struct fixture fx;
static const char data[] = "{\"product\": \"UG-PHONE-1\", \"version\": \"2.0.0\"}";

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
    return fixture_make(&fx, "ug-sign", 16, 16, 1u, "sixteen bytes!!!");
}

static int teardown(void **state)
{
    (void)state;
    return fixture_remove(&fx);
}

static void sign_with(const char *key, const char *cert, struct buf *sig)
{
    char err[UG_ERRBUF] = "";
    assert_int_equal(sign_create(key, cert, data, strlen(data), sig, err), UG_OK);
    assert_true(sig->len > 0);
}

static void test_round_trip(void **state)
{
    (void)state;
    struct buf sig = {0};
    char err[UG_ERRBUF] = "";
    sign_with(fx.key, fx.cert, &sig);
    assert_int_equal(sign_verify(fx.keyring, data, strlen(data), sig.data, sig.len, "m", err),
                     UG_OK);
    buf_free(&sig);
}

static void test_refused(void **state)
{
    (void)state;
    struct buf sig = {0}, tls_sig = {0};
    char err[UG_ERRBUF] = "";
    sign_with(fx.key, fx.cert, &sig);
    assert_int_equal(sign_verify(fx.other_keyring, data, strlen(data), sig.data, sig.len, "m", err),
                     UG_ERR_VERIFY);
    assert_non_null(strstr(err, "does not verify"));
    assert_int_equal(sign_verify(fx.keyring, data, strlen(data) - 1, sig.data, sig.len, "m", err),
                     UG_ERR_VERIFY);
    assert_int_equal(sign_verify(fx.keyring, data, strlen(data), sig.data, 0, "m", err),
                     UG_ERR_VERIFY);
    assert_non_null(strstr(err, "not signed"));
    assert_int_equal(sign_verify(fx.keyring, data, strlen(data), data, strlen(data), "m", err),
                     UG_ERR_VERIFY);
    assert_non_null(strstr(err, "not a DER CMS"));
    /* Same CA, but a TLS server certificate: it must not sign firmware. */
    sign_with(fx.tls_key, fx.tls_cert, &tls_sig);
    assert_int_equal(
        sign_verify(fx.keyring, data, strlen(data), tls_sig.data, tls_sig.len, "m", err),
        UG_ERR_VERIFY);
    assert_non_null(strstr(err, "not allowed to sign code"));
    buf_free(&sig);
    buf_free(&tls_sig);
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
    sign_with(fx.key, fx.cert, &sig);
    unsigned char *oid = memmem(sig.data, sig.len, sha256, sizeof sha256);
    /* The first one is the SignedData's digestAlgorithms; 2.16.840.1.101.3.4.1.42 is
     * aes-256-cbc. */
    assert_non_null(oid);
    oid[9] = 0x01, oid[10] = 0x2a;
    long before = 0;
    for (int i = 0; i < 4; i++) {
        if (i == 1) /* the first pass fills OpenSSL's lazy caches: counted from the second */
            before = openssl_live;
        assert_int_equal(sign_verify(fx.keyring, data, strlen(data), sig.data, sig.len, "m", err),
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
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_cipher_as_digest_refused_without_leak),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
