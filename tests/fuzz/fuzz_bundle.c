/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the streaming bundle reader (bundle.c): any bytes as a bundle, pulled
 * in small uneven pieces, must be refused or read cleanly; the seed is a real signed bundle
 * so mutations reach the member checks, the signature check and the payload decoder. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle/bundle.h"

static char keyring[512];

struct memory_source {
    const uint8_t *data;
    size_t size, at;
};

static ug_err pull_piece(void *ctx, const void **data, size_t *len, char *err)
{
    (void)err;
    struct memory_source *m = ctx;
    size_t piece = 1 + (m->at * 7919) % 4093; /* uneven pieces exercise the reader's joins */
    if (piece > m->size - m->at)
        piece = m->size - m->at;
    *data = m->data + m->at;
    *len = piece;
    m->at += piece;
    return UG_OK;
}

static ug_err discard(void *ctx, const struct bundle_payload *p, uint64_t offset, const void *data,
                      size_t len, char *err)
{
    (void)ctx, (void)p, (void)offset, (void)data, (void)len, (void)err;
    return UG_OK;
}

/* The keyring must be the one that signed the seed bundle: tests/fuzz/corpus/bundle/README. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    const char *top = getenv("TOP") ? getenv("TOP") : ".";
    snprintf(keyring, sizeof keyring, "%s/tests/fuzz/corpus/bundle-keyring.pem", top);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct memory_source src = {data, size, 0};
    const struct bundle_sink sink = {.write = discard};
    struct bundle_manifest m;
    char err[UG_ERRBUF];
    if (bundle_read(pull_piece, &src, "fuzz", keyring, &sink, NULL, &m, err) == UG_OK)
        bundle_manifest_free(&m);
    return 0;
}
