/* SPDX-License-Identifier: MIT */
/* The signing fixture: keys made by the same script the demo uses, so the tests exercise
 * certificates exactly like the ones an operator makes. */
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/fsutil.h"

void fixture_path(const struct fixture *f, const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", f->dir, name);
}

int fixture_make(struct fixture *f, const char *tag, size_t image_size, size_t run, unsigned seed,
                 const char text16[16])
{
    memset(f, 0, sizeof *f);
    const char *top = getenv("TOP") ? getenv("TOP") : ".";
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(f->dir, sizeof f->dir, "%s/%s-XXXXXX", tmp, tag);
    if (!mkdtemp(f->dir))
        return -1;
    char cmd[1200];
    snprintf(cmd, sizeof cmd,
             "'%s/images/make-keys.sh' '%s/a' test-a && '%s/images/make-keys.sh' '%s/b' test-b",
             top, f->dir, top, f->dir);
    if (system(cmd) != 0)
        return -1;
    fixture_path(f, "image.img", f->image, sizeof f->image);
    fixture_path(f, "a/ca.pem", f->keyring, sizeof f->keyring);
    fixture_path(f, "b/ca.pem", f->other_keyring, sizeof f->other_keyring);
    fixture_path(f, "a/signer.key", f->key, sizeof f->key);
    fixture_path(f, "a/signer.pem", f->cert, sizeof f->cert);
    fixture_path(f, "a/tls.key", f->tls_key, sizeof f->tls_key);
    fixture_path(f, "a/tls.pem", f->tls_cert, sizeof f->tls_cert);
    for (size_t i = 0; i < image_size; i++) {
        seed = seed * 1103515245u + 12345u;
        char c = (i / run) % 2 ? (char)(seed >> 16) : text16[i % 16];
        if (buf_append(&f->image_data, &c, 1) != 0)
            return -1;
    }
    char err[UG_ERRBUF];
    return fs_write_atomic(f->image, f->image_data.data, f->image_data.len, 0644, err) == UG_OK
               ? 0
               : -1;
}

int fixture_remove(struct fixture *f)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    buf_free(&f->image_data);
    return system(cmd) == 0 ? 0 : -1;
}
