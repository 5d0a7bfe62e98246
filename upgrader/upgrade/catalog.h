/* SPDX-License-Identifier: MIT */
/* The signed version catalog of one product (docs/design.md "Catalog", docs/catalog.md): its
 * releases, sorted by version and indexed by which releases each one installs over. */
#ifndef UPGRADER_CATALOG_H
#define UPGRADER_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/version.h"
#include "net/fetch.h"

#define CATALOG_MAX_SIZE (64u * 1024 * 1024)

/* A version reduced to bytes whose memcmp order is the version order of version.h (a
 * few bytes each, so 10,000 releases sort and compare fast). */
struct version_key {
    unsigned char *bytes;
    size_t len;
};

struct catalog_release {
    char *version;
    char *bundle_url; /* resolved against the catalog's own URL or path */
    uint64_t size;    /* bytes of the bundle */
    char sha256[65];  /* of the bundle, lower-case hex */
    char *min_from;   /* oldest version it installs over directly */
    char *max_from;   /* newest version it installs over directly; NULL = no limit */
    char **hardware;  /* hardware revisions it fits; nhardware 0 = any */
    size_t nhardware;
    int withdrawn;
    size_t index_in_file; /* position in the file's "releases" array, for messages */
    struct version_key key, min_key, max_key; /* max_key unused when max_from is NULL */
    /* Releases this one installs over, as a range of indices into catalog.releases (which
     * is sorted by version): first_over > last_over when there is none. */
    size_t first_over, last_over;
};

struct catalog {
    char *product;
    struct catalog_release *releases; /* ascending version; equal versions in file order */
    size_t nreleases;
};

/* Parses catalog JSON; base (the catalog's URL or file path, may be NULL) resolves relative
 * bundle URLs. UG_ERR_USAGE naming the release and field for anything missing or of the
 * wrong type; unknown keys are ignored. */
ug_err catalog_parse(const char *json, size_t len, const char *base, struct catalog *out,
                     char *err) UG_MUST_CHECK;
/* Verifies path against path.sig with the keyring first (UG_ERR_VERIFY before anything in
 * it is used), then parses it as catalog_parse() with path as the base. */
ug_err catalog_load(const char *path, const char *keyring, struct catalog *out,
                    char *err) UG_MUST_CHECK;
/* Loads a catalog from a local path (catalog_load), or fetches URL and URL.sig (any
 * #fragment removed) with the transport settings, verifying the signature against keyring
 * before anything in it is used. A missing .sig is UG_ERR_VERIFY. */
ug_err catalog_fetch(const char *url, const struct fetch_options *transport, const char *keyring,
                     struct catalog *out, char *err) UG_MUST_CHECK;
/* 1 if the URL names a catalog: its path, without ?query and #fragment, ends in ".json". */
int catalog_url_is_catalog(const char *url);
/* Frees everything the catalog holds and zeroes it. */
void catalog_free(struct catalog *c);
/* 1 if the release fits hardware revision hw (NULL = any hardware), else 0. */
int catalog_release_fits(const struct catalog_release *r, const char *hw);
/* Makes the key of a version string into *out (freed with free(out->bytes)); -1 if the
 * text is no version or out of memory. */
int version_key_make(const char *text, struct version_key *out);
/* <0, 0, >0 as version_compare() of the two versions. */
int version_key_compare(const struct version_key *a, const struct version_key *b);
/* Resolves ref against base (a URL or a file path) into a new string in *out. */
ug_err catalog_resolve_url(const char *base, const char *ref, char **out, char *err) UG_MUST_CHECK;

#endif
