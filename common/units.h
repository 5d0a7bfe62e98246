/* SPDX-License-Identifier: MIT */
/* Sizes given on command lines and in configuration ("64M", "512K", "1G", "4096"). */
#ifndef UPGRADER_UNITS_H
#define UPGRADER_UNITS_H

#include <stdint.h>

/* Parses a positive byte count with an optional binary suffix K, M or G; -1 if malformed,
 * zero or too large for 64 bits. */
int units_parse_size(const char *text, uint64_t *out);

#endif
