/* SPDX-License-Identifier: MIT */
/* Profiles: the XML flat-profile (expat) and the plain-text form, optionally gzip'd and
 * optionally `openssl enc` encrypted, read into a list of parameter settings. */
#ifndef UPGRADER_PROFILE_H
#define UPGRADER_PROFILE_H

#include <stddef.h>

#include "common/buf.h"
#include "common/error.h"

#define PROFILE_ACCESS_KEEP (-1)        /* no ua given: the user access stays as it is */
#define PROFILE_MAX_SIZE    (64u << 20) /* inflated or not, larger profiles are refused */

enum profile_format {
    PROFILE_XML,
    PROFILE_TEXT
};

struct profile_entry {
    char *name;      /* as the store names it: Line_Enable[1] becomes Line_Enable_1_ */
    char *value;     /* NULL: keep the current value (preserve-value="y", a text-form entry
                    without a value, a section) */
    int access;      /* PARAM_NA / PARAM_RO / PARAM_RW (paramdefs.h) or PROFILE_ACCESS_KEEP */
    unsigned line;   /* where it was set, for messages */
    unsigned flags;  /* PROFILE_SECTION, PROFILE_BAD_UA, PROFILE_BAD_PRESERVE */
    char *bad_attr;  /* the attributes not understood, as written (shortened), or NULL */
    size_t children; /* PROFILE_SECTION: the elements it held */
};

/* The element held other elements: it is a section (<router-configuration>), not a value. */
#define PROFILE_SECTION      0x1u
/* ua was not na/ro/rw: the access stays as it is (bad_attr says what was written). */
#define PROFILE_BAD_UA       0x2u
/* preserve-value was not y/n: taken as absent. */
#define PROFILE_BAD_PRESERVE 0x4u

/* Entries in document order; a name set twice appears once, with its last setting. */
struct profile {
    size_t n;
    struct profile_entry *entries;
    enum profile_format format;
    int was_gzip, was_encrypted;
};

/* 1 if data starts with the gzip magic (1f 8b), else 0. */
int profile_is_gzip(const void *data, size_t len);
/* Inflates a gzip stream into out (appended), refusing more than max_out bytes;
 * UG_ERR_UNUSABLE for a corrupt or truncated stream. */
ug_err profile_gunzip(const void *data, size_t len, size_t max_out, struct buf *out,
                      char *err) UG_MUST_CHECK;
/* Parses a plain (not compressed, not encrypted) profile, XML when its first non-blank
 * character is '<', else the text form. Only what keeps the file from being read as a whole
 * refuses it (UG_ERR_UNUSABLE "SOURCE line N: why"): XML that is not well-formed, XML without
 * <flat-profile>, binary data, text-form syntax. Sections and attributes not understood are
 * entries with flags, judged by params_apply. */
ug_err profile_parse(const char *data, size_t len, const char *source, struct profile *out,
                     char *err) UG_MUST_CHECK;
/* The whole path of a fetched or local file: decrypt with key (if not NULL), gunzip if
 * gzip, then parse. An encrypted file without key, a wrong key, a truncated file or a
 * non-profile: UG_ERR_UNUSABLE naming source. */
ug_err profile_read(const void *data, size_t len, const char *key, const char *source,
                    struct profile *out, char *err) UG_MUST_CHECK;
/* profile_read with an --alias map: the text of the GPP that --alias names, entries
 * "/foreign/path = /flat-profile/Name ;" (NULL: none). An element at a mapped path sets that
 * parameter, and such a document needs no <flat-profile>. A malformed map: UG_ERR_USAGE. */
ug_err profile_read_aliased(const void *data, size_t len, const char *key, const char *aliases,
                            const char *source, struct profile *out, char *err) UG_MUST_CHECK;
/* Frees the entries and zeroes p. */
void profile_free(struct profile *p);

#endif
