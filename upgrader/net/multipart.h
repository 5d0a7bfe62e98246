/* SPDX-License-Identifier: MIT */
/* An HTTP answer to several byte ranges: a multipart/byteranges body (RFC 9110, 14.6), read
 * part by part as it streams, each part's bytes named by its own Content-Range. */
#ifndef UPGRADER_MULTIPART_H
#define UPGRADER_MULTIPART_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define MULTIPART_BOUNDARY_MAX 70 /* RFC 2046's limit */

struct multipart;

/* Pulls up to n more body bytes into buf; *got 0 at the body's end. */
typedef ug_err (*multipart_pull_fn)(void *ctx, void *buf, size_t n, size_t *got, char *err);

/* The boundary of a Content-Type "multipart/byteranges; boundary=X" (X may be quoted) into
 * out (MULTIPART_BOUNDARY_MAX + 1 bytes): 0, or -1 when it is not one. */
int multipart_boundary(const char *content_type, char *out);
/* Parses a Content-Range value "bytes FIRST-LAST/LENGTH" (LENGTH may be *): 0, or -1. */
int multipart_content_range(const char *value, uint64_t *first, uint64_t *last);
/* Starts reading a body with this boundary through pull (ctx is pull's). */
ug_err multipart_open(const char *boundary, multipart_pull_fn pull, void *ctx,
                      struct multipart **out, char *err) UG_MUST_CHECK;
/* Skips what is left of the current part and reads the next one's headers: *more 0 at the
 * closing delimiter, else its bytes are [*first, *last] of the file. UG_ERR_UNUSABLE with
 * "malformed multipart/byteranges answer: ..." for anything else. */
ug_err multipart_next(struct multipart *m, int *more, uint64_t *first, uint64_t *last,
                      char *err) UG_MUST_CHECK;
/* Reads up to n bytes of the current part; *got 0 at its end. */
ug_err multipart_read(struct multipart *m, void *buf, size_t n, size_t *got,
                      char *err) UG_MUST_CHECK;
/* Frees it (NULL is fine). */
void multipart_close(struct multipart *m);

#endif
