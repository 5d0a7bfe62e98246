/* SPDX-License-Identifier: MIT */
/* openssl-enc compatible AES-256-CBC. The digest used by EVP_BytesToKey is not stored in
 * the file, so decryption tries both; padding alone accepts a wrong key one time in ~256,
 * hence the extra plausibility check on the plaintext. */
#include "lang/crypt.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#define SALT_MAGIC "Salted__"
#define SALT_LEN   8
#define HEADER_LEN (sizeof SALT_MAGIC - 1 + SALT_LEN)

int crypt_is_encrypted(const void *data, size_t len)
{
    return len >= sizeof SALT_MAGIC - 1 && memcmp(data, SALT_MAGIC, sizeof SALT_MAGIC - 1) == 0;
}

int crypt_plaintext_plausible(const void *data, size_t len)
{
    const unsigned char *p = data;
    if (len >= 2 && p[0] == 0x1f && p[1] == 0x8b)
        return 1;
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = p[i];
        if (c < 0x80) {
            if (c < 0x20 && c != '\t' && c != '\r' && c != '\n')
                return 0;
            if (c == 0x7f)
                return 0;
            i++;
            continue;
        }
        size_t n = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (n == 0 || i + n > len || c == 0xc0 || c == 0xc1)
            return 0;
        for (size_t k = 1; k < n; k++)
            if ((p[i + k] & 0xc0) != 0x80)
                return 0;
        i += n;
    }
    return 1;
}

static const EVP_MD *digest_of(enum crypt_digest md)
{
    return md == CRYPT_MD_MD5 ? EVP_md5() : EVP_sha256();
}

/* One attempt: 0 and out filled on success, -1 on a padding failure, -2 out of memory. */
static int try_decrypt(const unsigned char *data, size_t len, const char *pass,
                       enum crypt_digest md, struct buf *out)
{
    unsigned char key[EVP_MAX_KEY_LENGTH], iv[EVP_MAX_IV_LENGTH];
    const unsigned char *salt = data + sizeof SALT_MAGIC - 1;
    if (EVP_BytesToKey(EVP_aes_256_cbc(), digest_of(md), salt, (const unsigned char *)pass,
                       (int)strlen(pass), 1, key, iv) <= 0)
        return -1;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int rc = -2, n1 = 0, n2 = 0;
    size_t body = len - HEADER_LEN;
    unsigned char *plain = OPENSSL_malloc(body + 32);
    buf_reset(out);
    if (!ctx || !plain)
        goto out;
    rc = -1;
    if (EVP_DecryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, key, iv) == 1 &&
        EVP_DecryptUpdate(ctx, plain, &n1, data + HEADER_LEN, (int)body) == 1 &&
        EVP_DecryptFinal_ex(ctx, plain + n1, &n2) == 1 &&
        crypt_plaintext_plausible(plain, (size_t)(n1 + n2)))
        rc = buf_append(out, plain, (size_t)(n1 + n2)) == 0 ? 0 : -2;
out:
    if (plain)
        OPENSSL_clear_free(plain, body + 32);
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(iv, sizeof iv);
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

ug_err crypt_decrypt(const void *data, size_t len, const char *pass, struct buf *out,
                     enum crypt_digest *used, char *err)
{
    if (!crypt_is_encrypted(data, len))
        return ug_fail(err, UG_ERR_UNUSABLE,
                       "not an encrypted profile (no 'Salted__' header of "
                       "openssl enc -aes-256-cbc); supported: openssl enc -aes-256-cbc -k "
                       "PASSPHRASE, salted, MD5 or SHA-256 key derivation (a -nosalt file "
                       "cannot be read)");
    if (len < HEADER_LEN)
        return ug_fail(err, UG_ERR_UNUSABLE,
                       "encrypted profile is truncated (%zu bytes: the header alone is %d)", len,
                       (int)HEADER_LEN);
    size_t body = len - HEADER_LEN;
    if (len < HEADER_LEN + 16 || body % 16 != 0 || body > (size_t)1 << 30)
        return ug_fail(err, UG_ERR_UNUSABLE,
                       "encrypted profile is truncated (%zu bytes of ciphertext, "
                       "not a whole number of 16-byte blocks)",
                       body);
    static const enum crypt_digest order[] = {CRYPT_MD_SHA256, CRYPT_MD_MD5};
    for (size_t k = 0; k < 2; k++) {
        int rc = try_decrypt(data, len, pass, order[k], out);
        if (rc == 0) {
            if (used)
                *used = order[k];
            return UG_OK;
        }
        if (rc == -2) {
            buf_reset(out);
            return ug_oom(err);
        }
    }
    buf_reset(out);
    return ug_fail(err, UG_ERR_UNUSABLE,
                   "cannot decrypt the profile with the given key (wrong key?), "
                   "tried the MD5 and SHA-256 key derivations of openssl enc -k; files "
                   "made with -pbkdf2 or -iter are not supported");
}

ug_err crypt_encrypt(const void *data, size_t len, const char *pass, enum crypt_digest md,
                     struct buf *out, char *err)
{
    unsigned char salt[SALT_LEN], key[EVP_MAX_KEY_LENGTH], iv[EVP_MAX_IV_LENGTH];
    ug_err rc = UG_OK;
    unsigned char *cipher = NULL;
    EVP_CIPHER_CTX *ctx = NULL;
    int n1 = 0, n2 = 0;
    if (len > (size_t)1 << 30)
        return ug_fail(err, UG_ERR_OTHER, "data too large to encrypt");
    if (RAND_bytes(salt, sizeof salt) != 1 ||
        EVP_BytesToKey(EVP_aes_256_cbc(), digest_of(md), salt, (const unsigned char *)pass,
                       (int)strlen(pass), 1, key, iv) <= 0) {
        rc = ug_fail(err, UG_ERR_OTHER, "cannot derive the encryption key");
        goto out;
    }
    ctx = EVP_CIPHER_CTX_new();
    cipher = OPENSSL_malloc(len + 32);
    if (!ctx || !cipher) {
        rc = ug_oom(err);
        goto out;
    }
    if (EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, key, iv) != 1 ||
        EVP_EncryptUpdate(ctx, cipher, &n1, data, (int)len) != 1 ||
        EVP_EncryptFinal_ex(ctx, cipher + n1, &n2) != 1) {
        rc = ug_fail(err, UG_ERR_OTHER, "encryption failed");
        goto out;
    }
    if (buf_append(out, SALT_MAGIC, sizeof SALT_MAGIC - 1) != 0 ||
        buf_append(out, salt, sizeof salt) != 0 || buf_append(out, cipher, (size_t)(n1 + n2)) != 0)
        rc = ug_oom(err);
out:
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(iv, sizeof iv);
    OPENSSL_free(cipher);
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}
