/* SPDX-License-Identifier: MIT */
/* A growable byte buffer: the one way modules hand whole files and bodies around.
 * Always NUL-terminated past `len`, so text can be used as a C string. */
#ifndef UPGRADER_BUF_H
#define UPGRADER_BUF_H

#include <stddef.h>

struct buf {
    char *data; /* NULL until the first append */
    size_t len;
    size_t cap;
};

/* Appends n bytes; returns 0, or -1 when out of memory (buffer unchanged). */
int buf_append(struct buf *b, const void *data, size_t n);
/* Appends a C string. */
int buf_append_str(struct buf *b, const char *s);
/* printf onto the end; returns 0 or -1. */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Empties the buffer but keeps its memory. */
void buf_reset(struct buf *b);
/* Frees the memory and zeroes the struct. */
void buf_free(struct buf *b);

#endif
