/* SPDX-License-Identifier: MIT */
/* CMS signing and verification with OpenSSL: the one place that decides whether a
 * catalog or bundle manifest comes from the device's vendor. */
#include "bundle/sign.h"

#include <limits.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "common/fsutil.h"

#define SIG_MAX_SIZE (256 * 1024)

/* The most telling OpenSSL reason, then the queue is cleared so it cannot leak into a
 * later, unrelated message. */
static const char *ssl_reason(char *out, size_t outsz)
{
    unsigned long e = ERR_peek_last_error();
    if (e == 0)
        snprintf(out, outsz, "unknown reason");
    else
        ERR_error_string_n(e, out, outsz);
    ERR_clear_error();
    return out;
}

/* A signer's certificate must be meant for signing code, not only chain to the CA: a TLS
 * server certificate issued by the same CA must not be able to sign firmware. */
static int may_sign_code(X509 *cert)
{
    uint32_t flags = X509_get_extension_flags(cert);
    if ((flags & EXFLAG_XKUSAGE) &&
        !(X509_get_extended_key_usage(cert) & (XKU_CODE_SIGN | XKU_ANYEKU)))
        return 0;
    if ((flags & EXFLAG_KUSAGE) && !(X509_get_key_usage(cert) & KU_DIGITAL_SIGNATURE))
        return 0;
    return 1;
}

/* The keyring read without one certificate in it (empty, or text without a PEM block). */
static int holds_no_certificate(unsigned long e)
{
    return ERR_GET_LIB(e) == ERR_LIB_X509 &&
           ERR_GET_REASON(e) == X509_R_NO_CERTIFICATE_OR_CRL_FOUND;
}

static ug_err load_keyring(const char *keyring, const char *what, X509_STORE **out, char *err)
{
    char why[256];
    X509_STORE *store = X509_STORE_new();
    if (!store)
        return ug_oom(err);
    if (!fs_exists(keyring)) {
        X509_STORE_free(store);
        return ug_fail(err, UG_ERR_OTHER,
                       "%s: no keyring (CA file that signs catalogs and bundles)", keyring);
    }
    if (X509_STORE_load_file(store, keyring) != 1) {
        X509_STORE_free(store);
        /* A keyring that trusts nobody verifies nothing: the file is refused as unverified,
         * as the upgrade engine refuses everything on a device without a keyring. */
        if (holds_no_certificate(ERR_peek_last_error())) {
            ERR_clear_error();
            return ug_fail(err, UG_ERR_VERIFY,
                           "%s: cannot be verified: the keyring %s holds no CA certificate", what,
                           keyring);
        }
        return ug_fail(err, UG_ERR_OTHER, "%s: cannot read keyring: %s", keyring,
                       ssl_reason(why, sizeof why));
    }
    /* The chain is checked for any purpose here; may_sign_code() checks the signer's own
     * usage, since OpenSSL 3.0 has no code-signing purpose to hand to the verifier. */
    X509_STORE_set_purpose(store, X509_PURPOSE_ANY);
    *out = store;
    return UG_OK;
}

ug_err sign_check_anchors(const char *path, char *err)
{
    struct buf pem = {0};
    ug_err rc = fs_read_file(path, 1u << 20, &pem, err);
    if (rc != UG_OK) {
        buf_free(&pem);
        return rc;
    }
    int certs = 0;
    BIO *bio = NULL;
    if (memmem(pem.data, pem.len, "PRIVATE KEY-----", 16))
        rc = ug_fail(err, UG_ERR_USAGE,
                     "%s holds a private key: give the CA's certificate, never its key", path);
    else if (!(bio = BIO_new_mem_buf(pem.data, (int)pem.len)))
        rc = ug_oom(err);
    for (X509 *c; bio && (c = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL; certs++)
        X509_free(c);
    ERR_clear_error();
    if (rc == UG_OK && certs == 0)
        rc = ug_fail(err, UG_ERR_USAGE, "%s holds no PEM certificate", path);
    BIO_free(bio);
    buf_free(&pem);
    return rc;
}

/* The signed data as CMS_verify() reads it. CMS_verify copies content held in a memory BIO
 * into a temporary one, and loses that copy when the SignedData names a digest algorithm it
 * cannot use (CMS_dataInit fails): a leak for every such signature anyone sends (OpenSSL 3.0.19
 * and the releases before the fix upstream). Behind a null filter the content is no memory
 * BIO, so CMS_verify reads through this chain and frees only what it put in front of it. */
static BIO *content_bio(const void *data, size_t len)
{
    BIO *mem = BIO_new_mem_buf(len ? data : "", (int)len);
    BIO *filter = mem ? BIO_new(BIO_f_null()) : NULL;
    if (!filter) {
        BIO_free(mem);
        return NULL;
    }
    return BIO_push(filter, mem);
}

ug_err sign_verify(const char *keyring, const void *data, size_t len, const void *sig,
                   size_t sig_len, const char *what, char *err)
{
    char why[256];
    ug_err rc = UG_OK;
    X509_STORE *store = NULL;
    CMS_ContentInfo *cms = NULL;
    STACK_OF(X509) *signers = NULL;
    BIO *sigbio = NULL, *databio = NULL;

    if (sig_len == 0)
        return ug_fail(err, UG_ERR_VERIFY, "%s: not signed (empty signature)", what);
    if (sig_len > SIG_MAX_SIZE || len > INT_MAX)
        return ug_fail(err, UG_ERR_VERIFY, "%s: signature or data too large", what);
    rc = load_keyring(keyring, what, &store, err);
    if (rc != UG_OK)
        goto out;
    sigbio = BIO_new_mem_buf(sig, (int)sig_len);
    databio = content_bio(data, len);
    if (!sigbio || !databio) {
        rc = ug_oom(err);
        goto out;
    }
    cms = d2i_CMS_bio(sigbio, NULL);
    if (!cms) {
        rc = ug_fail(err, UG_ERR_VERIFY, "%s: signature is not a DER CMS structure: %s", what,
                     ssl_reason(why, sizeof why));
        goto out;
    }
    if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed || !CMS_is_detached(cms)) {
        rc = ug_fail(err, UG_ERR_VERIFY, "%s: signature is not a detached CMS signature", what);
        goto out;
    }
    if (CMS_verify(cms, NULL, store, databio, NULL, CMS_BINARY) != 1) {
        rc = ug_fail(err, UG_ERR_VERIFY, "%s: signature does not verify against the keyring %s: %s",
                     what, keyring, ssl_reason(why, sizeof why));
        goto out;
    }
    signers = CMS_get0_signers(cms);
    for (int i = 0; i < sk_X509_num(signers); i++) {
        if (!may_sign_code(sk_X509_value(signers, i))) {
            rc = ug_fail(err, UG_ERR_VERIFY,
                         "%s: signer's certificate is not allowed to sign code "
                         "(key usage / extended key usage)",
                         what);
            goto out;
        }
    }
out:
    sk_X509_free(signers);
    CMS_ContentInfo_free(cms);
    BIO_free(sigbio);
    BIO_free_all(databio);
    X509_STORE_free(store);
    ERR_clear_error();
    return rc;
}

ug_err sign_verify_file(const char *keyring, const char *path, const char *sig_path,
                        size_t max_size, struct buf *data, char *err)
{
    struct buf content = {0}, sig = {0};
    char sigbuf[4096];
    if (!sig_path) {
        if (snprintf(sigbuf, sizeof sigbuf, "%s.sig", path) >= (int)sizeof sigbuf)
            return ug_fail(err, UG_ERR_USAGE, "%s: path too long", path);
        sig_path = sigbuf;
    }
    ug_err rc = fs_read_file(path, max_size, &content, err);
    if (rc != UG_OK)
        goto out;
    if (!fs_exists(sig_path)) {
        rc = ug_fail(err, UG_ERR_VERIFY, "%s: not signed (no %s)", path, sig_path);
        goto out;
    }
    rc = fs_read_file(sig_path, SIG_MAX_SIZE, &sig, err);
    if (rc != UG_OK)
        goto out;
    rc = sign_verify(keyring, content.data, content.len, sig.data, sig.len, path, err);
    if (rc == UG_OK && data && buf_append(data, content.data, content.len) != 0)
        rc = ug_oom(err);
out:
    buf_free(&content);
    buf_free(&sig);
    return rc;
}

ug_err sign_create(const char *key_file, const char *cert_file, const void *data, size_t len,
                   struct buf *sig, char *err)
{
    char why[256];
    ug_err rc = UG_OK;
    BIO *kbio = NULL, *cbio = NULL, *databio = NULL, *outbio = NULL;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    STACK_OF(X509) *chain = NULL;
    CMS_ContentInfo *cms = NULL;

    if (len > INT_MAX)
        return ug_fail(err, UG_ERR_USAGE, "sign: data too large");
    kbio = BIO_new_file(key_file, "r");
    if (!kbio || !(key = PEM_read_bio_PrivateKey(kbio, NULL, NULL, NULL))) {
        rc = ug_fail(err, UG_ERR_USAGE, "%s: cannot read a PEM private key: %s", key_file,
                     ssl_reason(why, sizeof why));
        goto out;
    }
    cbio = BIO_new_file(cert_file, "r");
    if (!cbio || !(cert = PEM_read_bio_X509(cbio, NULL, NULL, NULL))) {
        rc = ug_fail(err, UG_ERR_USAGE, "%s: cannot read a PEM certificate: %s", cert_file,
                     ssl_reason(why, sizeof why));
        goto out;
    }
    if (X509_check_private_key(cert, key) != 1) {
        rc = ug_fail(err, UG_ERR_USAGE, "%s does not belong to the key %s", cert_file, key_file);
        goto out;
    }
    chain = sk_X509_new_null();
    if (!chain) {
        rc = ug_oom(err);
        goto out;
    }
    for (X509 *extra; (extra = PEM_read_bio_X509(cbio, NULL, NULL, NULL)) != NULL;) {
        if (!sk_X509_push(chain, extra)) {
            X509_free(extra);
            rc = ug_oom(err);
            goto out;
        }
    }
    ERR_clear_error(); /* the loop above ends on a harmless "no start line" */
    databio = BIO_new_mem_buf(len ? data : "", (int)len);
    outbio = BIO_new(BIO_s_mem());
    if (!databio || !outbio) {
        rc = ug_oom(err);
        goto out;
    }
    cms = CMS_sign(cert, key, chain, databio, CMS_BINARY | CMS_DETACHED);
    if (!cms || i2d_CMS_bio(outbio, cms) != 1) {
        rc = ug_fail(err, UG_ERR_OTHER, "cannot sign with %s: %s", cert_file,
                     ssl_reason(why, sizeof why));
        goto out;
    }
    char *der = NULL;
    long der_len = BIO_get_mem_data(outbio, &der);
    if (der_len <= 0 || buf_append(sig, der, (size_t)der_len) != 0)
        rc = ug_oom(err);
out:
    CMS_ContentInfo_free(cms);
    sk_X509_pop_free(chain, X509_free);
    X509_free(cert);
    EVP_PKEY_free(key);
    BIO_free(kbio);
    BIO_free(cbio);
    BIO_free(databio);
    BIO_free(outbio);
    ERR_clear_error();
    return rc;
}
