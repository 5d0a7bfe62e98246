/* SPDX-License-Identifier: MIT */
/* Lower-case hexadecimal text of bytes (digests in manifests, resume files and logs). */
#ifndef COMMON_HEX_H
#define COMMON_HEX_H

#include <stddef.h>

/* Writes the 2 * len lower-case hex digits of data, then a NUL, into out (2 * len + 1 bytes). */
void hex_encode(const unsigned char *data, size_t len, char *out);
/* Reads exactly 2 * len hex digits (either case) of text into out; -1 if text is anything
 * else (NULL, shorter, longer, or another character). */
int hex_decode(const char *text, unsigned char *out, size_t len);

#endif
