/* SPDX-License-Identifier: MIT */
/* The text forms of HTTP the web server reads and writes: percent-decoding, query and
 * application/x-www-form-urlencoded fields, and HTML escaping. */
#ifndef UPGRADER_WEB_FORM_H
#define UPGRADER_WEB_FORM_H

#include <stddef.h>

#include "common/buf.h"

#define FORM_FIELDS_MAX 256  /* a form with more fields is refused */
#define FORM_TEXT_MAX   4096 /* a longer decoded name or value is refused */

struct form_field {
    char *name, *value;
};

struct form {
    struct form_field *f;
    size_t n;
};

/* Decodes %XX escapes (and '+' as a space when plus_space) of in[0..n) into a new string in
 * *out; -1 on a bad escape, a NUL byte, a result longer than FORM_TEXT_MAX or no memory. */
int form_decode(const char *in, size_t n, int plus_space, char **out);
/* Parses "a=1&b=2" (a body or a query) into f; -1 when malformed or too large. */
int form_parse(const char *text, size_t n, struct form *f);
/* The value of the first field called name, or NULL. */
const char *form_get(const struct form *f, const char *name);
/* Frees the fields. */
void form_free(struct form *f);
/* Appends s with & < > " ' escaped; -1 when out of memory. */
int form_html(struct buf *b, const char *s);

#endif
