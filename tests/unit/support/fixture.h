/* SPDX-License-Identifier: MIT */
/* Test fixture shared by the unit tests that sign things: a scratch folder with two
 * independent signing CAs and a generated firmware image. */
#ifndef TESTS_FIXTURE_H
#define TESTS_FIXTURE_H

#include <stddef.h>

#include "common/buf.h"

struct fixture {
    char dir[256];   /* the scratch folder */
    char image[300]; /* dir/image.img, holding image_data */
    struct buf image_data;
    /* CA a signs, CA b is the stranger: dir/a/ca.pem, dir/b/ca.pem, dir/a/signer.key ... */
    char keyring[300], other_keyring[300], key[300], cert[300], tls_key[300], tls_cert[300];
};

/* Makes $TMPDIR/TAG-XXXXXX with a/ and b/ (each ca.pem, signer.pem/.key, tls.pem/.key, made by
 * images/make-keys.sh) and an image of image_size bytes alternating runs of `run` bytes of
 * repeated 16-byte text and of noise from seed, so codecs have work and chunks differ.
 * Returns 0, or -1 on any failure. */
int fixture_make(struct fixture *f, const char *tag, size_t image_size, size_t run, unsigned seed,
                 const char text16[16]);
/* Writes dir/name into out. */
void fixture_path(const struct fixture *f, const char *name, char *out, size_t n);
/* Removes the scratch folder and frees the image; returns 0, or -1. */
int fixture_remove(struct fixture *f);

#endif
