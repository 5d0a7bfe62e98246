/* SPDX-License-Identifier: MIT */
/* Unit tests of profile encryption (crypt.c): round trips with both key derivations,
 * wrong keys never accepted, truncation, and the plaintext plausibility check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lang/crypt.h"

static const char profile[] = "<flat-profile><GPP_A>hello</GPP_A></flat-profile>\n";

static void test_round_trip(void **state)
{
    (void)state;
    static const enum crypt_digest mds[] = {CRYPT_MD_SHA256, CRYPT_MD_MD5};
    static const size_t sizes[] = {1, 15, 16, 17, 50, 4096};
    char text[4096];
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = (char)('a' + i % 26);
    for (size_t m = 0; m < 2; m++) {
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            struct buf enc = {0}, dec = {0};
            char err[UG_ERRBUF];
            enum crypt_digest used = 99;
            assert_int_equal(crypt_encrypt(text, sizes[s], "pass phrase", mds[m], &enc, err),
                             UG_OK);
            assert_true(crypt_is_encrypted(enc.data, enc.len));
            /* "Salted__" + salt + whole blocks, one more when the text fills its last block */
            assert_int_equal(enc.len, 16 + (sizes[s] / 16 + 1) * 16);
            assert_int_equal(crypt_decrypt(enc.data, enc.len, "pass phrase", &dec, &used, err),
                             UG_OK);
            assert_int_equal(used, mds[m]);
            assert_int_equal(dec.len, sizes[s]);
            assert_memory_equal(dec.data, text, sizes[s]);
            buf_free(&enc);
            buf_free(&dec);
        }
    }
}

static void test_wrong_keys(void **state)
{
    (void)state;
    char err[UG_ERRBUF];
    /* Padding alone lets about one wrong key in 256 through; none may be accepted. */
    for (int m = 0; m < 2; m++) {
        struct buf enc = {0};
        assert_int_equal(crypt_encrypt(profile, strlen(profile), "right",
                                       m ? CRYPT_MD_MD5 : CRYPT_MD_SHA256, &enc, err),
                         UG_OK);
        for (int k = 0; k < 2000; k++) {
            char key[32];
            snprintf(key, sizeof key, "wrong-%d", k);
            struct buf dec = {0};
            ug_err rc = crypt_decrypt(enc.data, enc.len, key, &dec, NULL, err);
            if (rc != UG_ERR_UNUSABLE)
                fail_msg("key '%s' accepted", key);
            assert_int_equal(dec.len, 0);
            buf_free(&dec);
        }
        assert_string_equal(
            err, "cannot decrypt the profile with the given key (wrong key?), tried the MD5 "
                 "and SHA-256 key derivations of openssl enc -k; files made with -pbkdf2 or "
                 "-iter are not supported");
        buf_free(&enc);
    }
}

static void test_bad_input(void **state)
{
    (void)state;
    char err[UG_ERRBUF];
    struct buf dec = {0}, enc = {0};
    assert_int_equal(crypt_decrypt(profile, strlen(profile), "k", &dec, NULL, err),
                     UG_ERR_UNUSABLE);
    /* What a -nosalt file (no header) is told: what is supported. */
    assert_string_equal(err, "not an encrypted profile (no 'Salted__' header of openssl enc "
                             "-aes-256-cbc); supported: openssl enc -aes-256-cbc -k PASSPHRASE, "
                             "salted, MD5 or SHA-256 key derivation (a -nosalt file cannot be "
                             "read)");
    assert_int_equal(crypt_decrypt("Salted__12345678", 16, "k", &dec, NULL, err), UG_ERR_UNUSABLE);
    assert_string_equal(
        err, "encrypted profile is truncated (0 bytes of ciphertext, not a whole number of "
             "16-byte blocks)");
    /* Cut inside the salt: no ciphertext at all, said as such (not 2^64-8 bytes). */
    assert_int_equal(crypt_decrypt("Salted__", 8, "k", &dec, NULL, err), UG_ERR_UNUSABLE);
    assert_string_equal(err, "encrypted profile is truncated (8 bytes: the header alone is 16)");
    assert_int_equal(crypt_encrypt(profile, strlen(profile), "k", CRYPT_MD_SHA256, &enc, err),
                     UG_OK);
    assert_int_equal(crypt_decrypt(enc.data, enc.len - 1, "k", &dec, NULL, err), UG_ERR_UNUSABLE);
    assert_non_null(strstr(err, "truncated"));
    /* Cut at a block boundary: the padding of the new last block is wrong. */
    assert_int_equal(crypt_decrypt(enc.data, enc.len - 16, "k", &dec, NULL, err), UG_ERR_UNUSABLE);
    /* A flipped ciphertext byte in the last block breaks the padding too. */
    enc.data[enc.len - 1] ^= 0x55;
    assert_int_equal(crypt_decrypt(enc.data, enc.len, "k", &dec, NULL, err), UG_ERR_UNUSABLE);
    buf_free(&enc);
    buf_free(&dec);
}

static void test_plausible(void **state)
{
    (void)state;
    assert_true(crypt_plaintext_plausible(profile, strlen(profile)));
    static const char text[] = "GPP_A \"caf\xc3\xa9\";\r\n\tx";
    assert_true(crypt_plaintext_plausible(text, sizeof text - 1));
    assert_true(crypt_plaintext_plausible("\x1f\x8b\x08\x00\xff\x00", 6));
    assert_false(crypt_plaintext_plausible("", 0));
    assert_false(crypt_plaintext_plausible("ab\0cd", 5));
    assert_false(crypt_plaintext_plausible("ab\x01", 3));
    assert_false(crypt_plaintext_plausible("ab\x7f", 3));
    assert_false(crypt_plaintext_plausible("caf\xc3", 4));
    assert_false(crypt_plaintext_plausible("\xc0\xaf", 2));
    assert_false(crypt_plaintext_plausible("\xff\xfe", 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_wrong_keys),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_plausible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
