/* SPDX-License-Identifier: MIT */
/* Profile encryption as `openssl enc -aes-256-cbc -k PASS` makes it: "Salted__", an
 * 8-byte salt, then AES-256-CBC with key and IV from EVP_BytesToKey (MD5 or SHA-256). */
#ifndef UPGRADER_CRYPT_H
#define UPGRADER_CRYPT_H

#include <stddef.h>

#include "common/buf.h"
#include "common/error.h"

enum crypt_digest {
    CRYPT_MD_SHA256, /* openssl 1.1.0 and later: the default of current tools */
    CRYPT_MD_MD5,    /* openssl 0.9.x / 1.0.x, `-md md5` */
};

/* 1 if data starts with the "Salted__" magic of openssl enc, else 0. */
int crypt_is_encrypted(const void *data, size_t len);
/* Decrypts data with passphrase pass into out (appended), trying SHA-256 then MD5; a
 * result counts only with valid padding and plaintext that is gzip or profile-like text.
 * UG_ERR_UNUSABLE "cannot decrypt ... (wrong key?)" otherwise; out is left empty then.
 * *used (may be NULL) receives the digest that worked. */
ug_err crypt_decrypt(const void *data, size_t len, const char *pass, struct buf *out,
                     enum crypt_digest *used, char *err) UG_MUST_CHECK;
/* Encrypts data with pass (random salt) in the same format; for reports and tests. */
ug_err crypt_encrypt(const void *data, size_t len, const char *pass, enum crypt_digest md,
                     struct buf *out, char *err) UG_MUST_CHECK;
/* 1 if data is a gzip stream or text that can be a profile (UTF-8, no control
 * characters but tab, CR and LF, no NUL), else 0. */
int crypt_plaintext_plausible(const void *data, size_t len);

#endif
