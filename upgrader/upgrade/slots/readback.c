/* SPDX-License-Identifier: MIT */
/* The read-back check: a block device's cache may report a write done that the medium lost
 * (a flash controller, a USB bridge); reading the image back from the device after its cache
 * was flushed and dropped (the block backend's flush) is the only proof it holds the image. */
#include "upgrade/slots/readback.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define READ_BLOCK (1u << 20)

/* Hashes the next len bytes of the slot into md. */
static ug_err hash_range(struct slot *s, uint64_t len, uint8_t *buf, unsigned char md[32],
                         char *err)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        return ug_oom(err);
    }
    ug_err rc = UG_OK;
    while (rc == UG_OK && len > 0) {
        size_t want = len < READ_BLOCK ? (size_t)len : READ_BLOCK, got = 0;
        rc = slot_read(s, buf, want, &got, err);
        if (rc == UG_OK && got != want)
            rc = ug_fail(err, UG_ERR_OTHER, "%s: ends before the image does", s->location);
        if (rc == UG_OK)
            EVP_DigestUpdate(ctx, buf, got);
        len -= got;
    }
    if (rc == UG_OK)
        EVP_DigestFinal_ex(ctx, md, NULL);
    EVP_MD_CTX_free(ctx);
    return rc;
}

ug_err slot_readback(const struct slot_backend *be, const char *location,
                     const struct bundle_payload *p, char *err)
{
    struct slot s;
    uint8_t *buf = malloc(READ_BLOCK);
    if (!buf)
        return ug_oom(err);
    ug_err rc = slot_open_read(&s, be, location, err);
    for (size_t i = 0; rc == UG_OK && i < p->nchunks; i++) {
        unsigned char md[32];
        rc = hash_range(&s, p->chunks[i].size, buf, md, err);
        if (rc == UG_OK && memcmp(md, p->chunks[i].sha256, sizeof md) != 0)
            rc = ug_fail(err, UG_ERR_VERIFY,
                         "%s: read back, chunk %zu (bytes %llu-%llu) is not what was written: "
                         "the device did not keep it",
                         location, i, (unsigned long long)p->chunks[i].offset,
                         (unsigned long long)(p->chunks[i].offset + p->chunks[i].size - 1));
    }
    slot_close(&s);
    free(buf);
    return rc;
}
