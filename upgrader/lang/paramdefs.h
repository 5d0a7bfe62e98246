/* SPDX-License-Identifier: MIT */
/* The table of every parameter the agent knows: name, default, user access, type and
 * validator; built in for the agent's own parameters, extended by DIR/schema.conf. */
#ifndef UPGRADER_PARAMDEFS_H
#define UPGRADER_PARAMDEFS_H

#include <stddef.h>

#include "common/buf.h"
#include "common/error.h"

/* What the *user* account may do with a parameter (the admin may always do everything). */
enum param_access {
    PARAM_NA = 0, /* no access: hidden from the user */
    PARAM_RO = 1, /* the user may read it */
    PARAM_RW = 2, /* the user may read and change it */
};

enum param_type {
    PT_TEXT,         /* any text */
    PT_BOOL,         /* Yes|yes|Enable|enable|1 / No|no|Disable|disable|0, stored as Yes / No */
    PT_INT,          /* decimal integer in [min, max] */
    PT_DELAYS,       /* delay list "60,120,240+30" (delay.h); empty disables */
    PT_HHMM,         /* time of day 0000..2400, or empty */
    PT_RULE,         /* Profile_Rule syntax (rule.h) */
    PT_UPGRADE_RULE, /* Upgrade_Rule syntax: a host in every URL, options as Profile_Rule */
    PT_REPORT_RULE,  /* Report_Rule syntax: also --delta and --status */
    PT_COND,         /* a bare condition (Resync_Trigger_*), cond.h */
    PT_URL,          /* [scheme://][host[:port]]/path */
    PT_HOSTPORT,     /* host[:port], or empty */
    PT_DOMAINS,      /* comma-separated host names, or empty */
    PT_VERSION,      /* a version (version.h), or empty */
    PT_CHOICE,       /* one of the |-separated words in `choices` */
    PT_INTLIST,      /* comma-separated integers in [min, max] */
    PT_PASSWORD,     /* empty, or 4..127 characters */
};

#define PARAM_SECRET 0x1u /* stored, never printed by list/export/status unless asked */

/* The longest value any parameter holds (bytes): a bigger one is refused like any invalid
 * value, so a self-doubling rule or a hostile server cannot grow the store without bound. */
#define PARAM_VALUE_MAX (64u << 10)

struct param_def {
    const char *name;
    const char *def;          /* factory default */
    enum param_access access; /* factory user access */
    enum param_type type;
    long long min, max;  /* PT_INT, PT_INTLIST */
    const char *choices; /* PT_CHOICE: "PUT|POST" */
    unsigned flags;      /* PARAM_SECRET */
    const char *help;    /* one line for docs/parameters.md */
};

/* The built-in table plus the schema's parameters, sorted by name for lookup. */
struct param_table {
    struct param_def *defs;
    size_t n;
    size_t n_builtin; /* how many came from the built-in table */
    char **owned;     /* strings the schema added, freed with the table */
    size_t n_owned;
};

/* The factory default of a built-in parameter, or NULL for a name that is none. */
const char *paramdefs_factory(const char *name);
/* The built-in rows, in documentation order; *n receives their count. */
const struct param_def *paramdefs_builtin(size_t *n);
/* Builds the table: built-ins, plus schema_path's rows when that file exists (NULL: none). */
ug_err paramdefs_load(struct param_table *t, const char *schema_path, char *err) UG_MUST_CHECK;
/* Adds the rows of a schema text (the format of docs/parameters.md); source names it in errors. */
ug_err paramdefs_add_schema(struct param_table *t, const char *text, const char *source,
                            char *err) UG_MUST_CHECK;
/* Frees what paramdefs_load allocated. */
void paramdefs_free(struct param_table *t);
/* Index of name in t (legacy aliases such as Resync_At resolve to their parameter), or -1. */
long paramdefs_find(const struct param_table *t, const char *name);
/* Checks value against d's type (and, for every type, at most PARAM_VALUE_MAX bytes of valid
 * UTF-8 without control characters but tab and line breaks: what an export can carry); on
 * success writes the value to store into *normalised (malloc'd: booleans become Yes/No, a
 * hex integer 0x0E10 its decimal form). UG_ERR_USAGE with a message naming the parameter. */
ug_err paramdefs_validate(const struct param_def *d, const char *value, char **normalised,
                          char *err) UG_MUST_CHECK;
/* The check every value passes whatever its type (above): at most PARAM_VALUE_MAX bytes of
 * valid UTF-8 without control characters but tab and line breaks. UG_ERR_USAGE, why (UG_ERRBUF
 * bytes) completing "the value ..." without repeating it. */
ug_err paramdefs_check_text(const char *value, char *why) UG_MUST_CHECK;
/* 1 for the true words, 0 for the false words, -1 for anything else. */
int paramdefs_parse_bool(const char *value);
/* "na", "ro", "rw". */
const char *paramdefs_access_name(enum param_access a);
/* Parses "na"/"ro"/"rw" in any case; -1 if it is none of them. */
int paramdefs_parse_access(const char *text);
/* 1 when an empty value cannot be stored and restores d's default instead (Yes/No, integers,
 * choices: Cisco's data-type rules), else 0. */
int paramdefs_empty_restores_default(const struct param_def *d);
/* What the user may really do with d when the store says stored: a secret is never more
 * open than its factory access. */
enum param_access paramdefs_user_access(const struct param_def *d, enum param_access stored);
/* A short description of d's type for docs and errors ("integer 0..65535"). */
void paramdefs_describe_type(const struct param_def *d, char *out, size_t outsz);
/* Writes docs/parameters.md's generated table of the built-in parameters as Markdown. */
int paramdefs_write_doc(struct buf *out);

#endif
