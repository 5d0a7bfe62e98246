/* SPDX-License-Identifier: MIT */
/* Version order for catalogs, conditions and the downgrade limit: dotted versions
 * (9.4.2, 1.0.31(b)) and Cisco load names (sip88xx.11-0-1MPP-477) compared field by field. */
#ifndef UPGRADER_VERSION_H
#define UPGRADER_VERSION_H

#include "common/error.h"

#define VERSION_MAX_FIELDS 12
#define VERSION_FIELD_MAX  32

enum version_format {
    VERSION_DOTTED, /* 9.4.2, 2.0.3(0412s) */
    VERSION_LOAD,   /* sip88xx.11-0-1MPP-477, 11-1-0MPP-19, PHONEOS-8875.1-0-1-0001-1.loads */
};

struct version_field {
    char digits[VERSION_FIELD_MAX]; /* leading digits, leading zeros removed ("" = 0) */
    char rest[VERSION_FIELD_MAX];   /* what follows the digits, compared alphabetically */
};

struct version {
    enum version_format format;
    int nfields;
    struct version_field field[VERSION_MAX_FIELDS];
};

/* Parses text; returns 0, or -1 when it is not a version (empty, stray characters,
 * an empty field, a first field that does not start with a digit, too many fields). */
int version_parse(const char *text, struct version *out);
/* <0, 0, >0 like strcmp; a missing trailing field counts as 0 (1.0 == 1.0.0). */
int version_compare_parsed(const struct version *a, const struct version *b);
/* Parses and compares two strings; UG_ERR_USAGE naming the bad one when either is no version. */
ug_err version_compare(const char *a, const char *b, int *cmp, char *err) UG_MUST_CHECK;

#endif
