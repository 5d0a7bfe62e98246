/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the multipart/byteranges reader (multipart.c): the input is a
 * server's answer body with the boundary "B0123", pulled in pieces whose sizes its own
 * bytes pick; every part is read to its end. Anything malformed must be refused cleanly,
 * never read past, and never loop. The Content-Type and Content-Range parsers get the input
 * as text too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/multipart.h"

struct feed {
    const uint8_t *data;
    size_t size, pos;
};

/* Pieces of 1 to 64 bytes, as a transport hands them over. */
static ug_err pull(void *ctx, void *buf, size_t n, size_t *got, char *err)
{
    struct feed *f = ctx;
    (void)err;
    size_t piece = f->pos < f->size ? 1 + f->data[f->pos] % 64 : 0;
    if (piece > n)
        piece = n;
    if (piece > f->size - f->pos)
        piece = f->size - f->pos;
    memcpy(buf, f->data + f->pos, piece);
    f->pos += piece;
    *got = piece;
    return UG_OK;
}

static void read_body(const uint8_t *data, size_t size)
{
    struct feed f = {data, size, 0};
    struct multipart *m = NULL;
    char err[UG_ERRBUF];
    uint8_t buf[512];
    if (multipart_open("B0123", pull, &f, &m, err) != UG_OK)
        abort(); /* a valid boundary is always taken */
    for (int more = 1, parts = 0; more && parts < 1000; parts++) {
        uint64_t first, last, seen = 0;
        if (multipart_next(m, &more, &first, &last, err) != UG_OK)
            break;
        if (more && first > last)
            abort();
        for (size_t got = 1; more && got > 0; seen += got)
            if (multipart_read(m, buf, parts % 2 ? sizeof buf : 7, &got, err) != UG_OK)
                break;
        if (more && seen > last - first + 1)
            abort(); /* never more than the part's Content-Range says */
    }
    multipart_close(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    read_body(data, size);
    char text[512], boundary[MULTIPART_BOUNDARY_MAX + 1];
    size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
    memcpy(text, data, n);
    text[n] = '\0';
    uint64_t first, last;
    if (multipart_boundary(text, boundary) == 0 && strlen(boundary) > MULTIPART_BOUNDARY_MAX)
        abort();
    if (multipart_content_range(text, &first, &last) == 0 && first > last)
        abort();
    return 0;
}
