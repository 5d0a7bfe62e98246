/* SPDX-License-Identifier: MIT */
/* Detached CMS signatures (DER, as `openssl cms -sign -binary -outform DER` makes them)
 * over catalogs and bundle manifests: made with a key and certificate, checked against
 * the device's keyring (a PEM file of CA certificates). */
#ifndef UPGRADER_SIGN_H
#define UPGRADER_SIGN_H

#include <stddef.h>

#include "common/buf.h"
#include "common/error.h"

/* Checks that sig (DER CMS, detached) signs exactly data[0..len) and that its signer's
 * certificate chains to a CA in keyring (PEM file) and may sign code (an extended key
 * usage, where present, must allow codeSigning; a key usage must allow digitalSignature).
 * UG_ERR_VERIFY naming `what` otherwise, also when the keyring holds no certificate (it
 * trusts nobody); UG_ERR_OTHER if the keyring is missing or cannot be read. */
ug_err sign_verify(const char *keyring, const void *data, size_t len, const void *sig,
                   size_t sig_len, const char *what, char *err) UG_MUST_CHECK;
/* Reads path and path.sig (or sig_path when not NULL) and verifies them as above; on
 * success the file's bytes are appended to data (NULL: not kept); files over max_size refused. */
ug_err sign_verify_file(const char *keyring, const char *path, const char *sig_path,
                        size_t max_size, struct buf *data, char *err) UG_MUST_CHECK;
/* Checks a file of trust anchors before a device takes it (init --keyring, --ca): PEM with at
 * least one certificate and no private key. UG_ERR_USAGE naming the file and what is wrong. */
ug_err sign_check_anchors(const char *path, char *err) UG_MUST_CHECK;
/* Signs data[0..len) with the PEM key and certificate files (further certificates in the
 * certificate file go into the signature as its chain); appends the DER CMS to sig. */
ug_err sign_create(const char *key_file, const char *cert_file, const void *data, size_t len,
                   struct buf *sig, char *err) UG_MUST_CHECK;

#endif
