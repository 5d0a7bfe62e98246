/* SPDX-License-Identifier: MIT */
/* Rules (Profile_Rule*, Upgrade_Rule, Report_Rule, Custom_CA_Rule, `resync RULE`):
 * |-separated alternatives `[( cond )?] [( Name = "v"; ... )!] [[options] URL]`. */
#ifndef UPGRADER_RULE_H
#define UPGRADER_RULE_H

#include <stddef.h>

#include "common/buf.h"
#include "common/error.h"
#include "lang/macro.h"

enum rule_flavour {
    RULE_PROFILE, /* Profile_Rule*: options --key --uid --pwd --post --alias; host may be omitted */
    RULE_UPGRADE, /* Upgrade_Rule: Profile_Rule's options (our extension), every URL must name its host */
    RULE_REPORT, /* Report_Rule: Profile_Rule's options plus --delta and --status */
};

struct rule_url {
    char scheme[8];   /* "tftp", "http" or "https" (lower case) */
    char host[256];   /* without brackets for an IPv6 literal */
    int port;         /* 69, 80, 443 unless given */
    char *path;       /* absolute, with any ?query */
    char *text;       /* the whole URL with defaults filled: scheme://host:port/path */
    int scheme_given; /* the URL as written named its scheme */
    int server_given; /* the URL as written named its server (else the default one is used) */
};

struct rule_assignment {
    char *name;  /* a..p already turned into GPP_A..GPP_P */
    char *value; /* macro-expanded */
};

struct rule_result {
    int matched;     /* 0: no alternative applies (or the rule is empty); skip it */
    int alternative; /* 0-based index of the alternative taken */
    int conditional; /* 1: the alternative taken has a condition (docs/provisioning.md 4.2) */
    size_t nassign;
    struct rule_assignment *assign;
    char *key, *uid, *pwd; /* option arguments, expanded with $SA..$SD; NULL if absent */
    char post;             /* --post letter 'a'..'p', or 0 */
    char alias;            /* --alias letter 'a'..'p', or 0 */
    int delta, status;     /* Report_Rule --delta / --status */
    int has_url;
    struct rule_url url;
};

/* Parses rule, evaluates the conditions with ctx and fills out from the first alternative
 * that holds. default_host replaces an omitted host (NULL: an omitted host is an error).
 * UG_ERR_USAGE "column N: why" for a malformed rule, condition, option or URL. */
ug_err rule_eval(const char *rule, enum rule_flavour flavour, const struct macro_context *ctx,
                 const char *default_host, struct rule_result *out, char *err) UG_MUST_CHECK;
/* Checks rule's structure without evaluating it (the validator of rule parameters). */
ug_err rule_check_syntax(const char *rule, enum rule_flavour flavour, char *err) UG_MUST_CHECK;
/* Frees what rule_eval filled in out and zeroes it. */
void rule_result_free(struct rule_result *out);
/* Parses an already expanded URL `[scheme://][host[:port]]/path` with the defaults of
 * docs/provisioning.md 1.3; require_host refuses an omitted host even with a default_host. */
ug_err rule_parse_url(const char *text, const char *default_host, int require_host,
                      struct rule_url *out, char *err) UG_MUST_CHECK;
/* Appends to out rule with host put in front of every URL written without scheme and server
 * ("/fw.bin" becomes "host/fw.bin"); returns 1 when it did, 0 when nothing needed it (out
 * untouched, also for a malformed rule), -1 when memory runs out. */
int rule_fill_host(const char *rule, const char *host, struct buf *out, char *err);
/* Appends to out rule with the arguments of --pwd and --key replaced by ********, for a file
 * or message others may read; a rule that does not parse but names either is replaced whole.
 * Returns 1 when it hid something, 0 when nothing needed it (out untouched), -1 when memory
 * runs out. */
int rule_hide_secrets(const char *rule, struct buf *out);
/* Frees a parsed URL. */
void rule_url_free(struct rule_url *url);

#endif
