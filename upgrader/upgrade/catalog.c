/* SPDX-License-Identifier: MIT */
/* Catalog parsing (json-c): every field checked for presence and type with a message that
 * names the release, then the releases sorted by version and indexed for the planner. */
#include "upgrade/catalog.h"

#include <ctype.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bootctl/bootstate.h"
#include "bundle/sign.h"
#include "common/buf.h"
#include "common/fsutil.h"
#include "net/url.h"

int version_key_make(const char *text, struct version_key *out)
{
    struct version v;
    out->bytes = NULL;
    out->len = 0;
    if (version_parse(text, &v) != 0)
        return -1;
    /* Trailing zero fields go, because a missing field counts as 0 (1.0 == 1.0.0). */
    int n = v.nfields;
    while (n > 0 && v.field[n - 1].digits[0] == '\0' && v.field[n - 1].rest[0] == '\0')
        n--;
    /* Per field: digit count + 1 (longer numbers are larger), the digits, the letters, a 0
     * byte (so "a" < "ab" as strcmp has it). A field count difference is decided by the
     * longer key's next field, which is non-zero, hence larger: memcmp's prefix rule. */
    size_t cap = 1;
    for (int i = 0; i < n; i++)
        cap += 2 + strlen(v.field[i].digits) + strlen(v.field[i].rest);
    unsigned char *p = malloc(cap);
    if (!p)
        return -1;
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        size_t d = strlen(v.field[i].digits), r = strlen(v.field[i].rest);
        p[len++] = (unsigned char)(d + 1);
        memcpy(p + len, v.field[i].digits, d);
        len += d;
        memcpy(p + len, v.field[i].rest, r);
        len += r;
        p[len++] = 0;
    }
    out->bytes = p;
    out->len = len;
    return 0;
}

int version_key_compare(const struct version_key *a, const struct version_key *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n ? memcmp(a->bytes, b->bytes, n) : 0;
    if (c == 0 && a->len != b->len)
        c = a->len < b->len ? -1 : 1;
    return c < 0 ? -1 : c > 0;
}

static int has_scheme(const char *s)
{
    if (!isalpha((unsigned char)s[0]))
        return 0;
    size_t i = 1;
    while (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')
        i++;
    return strncmp(s + i, "://", 3) == 0;
}

ug_err catalog_resolve_url(const char *base, const char *ref, char **out, char *err)
{
    *out = NULL;
    if (has_scheme(ref) || !base || (!has_scheme(base) && ref[0] == '/')) {
        *out = strdup(ref);
        return *out ? UG_OK : ug_oom(err);
    }
    if (has_scheme(base)) {
        /* RFC 3986 resolution (dot segments, absolute paths, queries) is libcurl's job. */
        CURLU *u = curl_url();
        char *s = NULL;
        ug_err rc = UG_OK;
        if (!u)
            return ug_oom(err);
        if (curl_url_set(u, CURLUPART_URL, base, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
            rc = ug_fail(err, UG_ERR_USAGE, "'%s' is not a valid URL", base);
        else if (curl_url_set(u, CURLUPART_URL, ref, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
                 curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK)
            rc = ug_fail(err, UG_ERR_USAGE, "'%s' is not a valid URL relative to %s", ref, base);
        if (rc == UG_OK && !(*out = strdup(s)))
            rc = ug_oom(err);
        curl_free(s);
        curl_url_cleanup(u);
        return rc;
    }
    /* A catalog read from a file: its bundles sit beside it. */
    const char *slash = strrchr(base, '/');
    size_t dirlen = slash ? (size_t)(slash - base) + 1 : 0;
    size_t reflen = strlen(ref);
    char *s = malloc(dirlen + reflen + 1);
    if (!s)
        return ug_oom(err);
    memcpy(s, base, dirlen);
    memcpy(s + dirlen, ref, reflen + 1);
    *out = s;
    return UG_OK;
}

int catalog_release_fits(const struct catalog_release *r, const char *hw)
{
    if (!hw || r->nhardware == 0)
        return 1;
    for (size_t i = 0; i < r->nhardware; i++)
        if (strcmp(r->hardware[i], hw) == 0)
            return 1;
    return 0;
}

static void release_free(struct catalog_release *r)
{
    free(r->version);
    free(r->bundle_url);
    free(r->min_from);
    free(r->max_from);
    for (size_t i = 0; i < r->nhardware; i++)
        free(r->hardware[i]);
    free(r->hardware);
    free(r->key.bytes);
    free(r->min_key.bytes);
    free(r->max_key.bytes);
}

void catalog_free(struct catalog *c)
{
    for (size_t i = 0; i < c->nreleases; i++)
        release_free(&c->releases[i]);
    free(c->releases);
    free(c->product);
    memset(c, 0, sizeof *c);
}

/* Names the release in messages by its position and, once known, its version. */
struct where {
    const char *file;
    size_t index;
    const char *version;
};

static ug_err field_error(char *err, const struct where *w, const char *field, const char *why)
{
    if (w->version)
        return ug_fail(err, UG_ERR_USAGE, "%s: release %zu (%s): '%s' %s", w->file, w->index,
                       w->version, field, why);
    return ug_fail(err, UG_ERR_USAGE, "%s: release %zu: '%s' %s", w->file, w->index, field, why);
}

/* A string field; optional ones may be absent or null (*out stays NULL). */
static ug_err get_string(json_object *obj, const char *field, int required, const struct where *w,
                         char **out, char *err)
{
    json_object *v = NULL;
    *out = NULL;
    if (!json_object_object_get_ex(obj, field, &v) || (!required && v == NULL))
        return required ? field_error(err, w, field, "is missing") : UG_OK;
    if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0)
        return field_error(err, w, field, "must be a non-empty string");
    if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
        return field_error(err, w, field, "holds a NUL byte");
    *out = strdup(json_object_get_string(v));
    return *out ? UG_OK : ug_oom(err);
}

static ug_err get_version(json_object *obj, const char *field, int required, const struct where *w,
                          char **text, struct version_key *key, char *err)
{
    ug_err rc = get_string(obj, field, required, w, text, err);
    if (rc != UG_OK || !*text)
        return rc;
    if (version_key_make(*text, key) != 0)
        return field_error(err, w, field, "is not a version");
    if (!bootstate_version_valid(*text)) /* it could not be recorded, nor matched */
        return field_error(err, w, field, "is longer than the boot state records (63 characters)");
    return UG_OK;
}

static ug_err parse_release(json_object *obj, const char *base, const struct where *at,
                            struct catalog_release *r, char *err)
{
    struct where w = *at;
    json_object *v = NULL;
    char *bundle = NULL;
    ug_err rc;

    if (!json_object_is_type(obj, json_type_object))
        return field_error(err, &w, "release", "must be an object");
    rc = get_version(obj, "version", 1, &w, &r->version, &r->key, err);
    if (rc != UG_OK)
        return rc;
    w.version = r->version;
    rc = get_string(obj, "bundle", 1, &w, &bundle, err);
    if (rc == UG_OK)
        rc = catalog_resolve_url(base, bundle, &r->bundle_url, err);
    free(bundle);
    if (rc != UG_OK)
        return rc;

    if (!json_object_object_get_ex(obj, "size", &v))
        return field_error(err, &w, "size", "is missing");
    if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
        return field_error(err, &w, "size", "must be a non-negative integer");
    r->size = (uint64_t)json_object_get_int64(v);

    if (!json_object_object_get_ex(obj, "sha256", &v))
        return field_error(err, &w, "sha256", "is missing");
    const char *hex = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
    if (!hex || strlen(hex) != 64 || strspn(hex, "0123456789abcdefABCDEF") != 64)
        return field_error(err, &w, "sha256", "must be 64 hex digits");
    for (int i = 0; i < 64; i++)
        r->sha256[i] = (char)tolower((unsigned char)hex[i]);

    rc = get_version(obj, "min_from", 1, &w, &r->min_from, &r->min_key, err);
    if (rc == UG_OK)
        rc = get_version(obj, "max_from", 0, &w, &r->max_from, &r->max_key, err);
    if (rc != UG_OK)
        return rc;

    if (json_object_object_get_ex(obj, "hardware", &v) && v) {
        if (!json_object_is_type(v, json_type_array))
            return field_error(err, &w, "hardware", "must be an array of strings");
        size_t n = json_object_array_length(v);
        r->hardware = calloc(n ? n : 1, sizeof *r->hardware);
        if (!r->hardware)
            return ug_oom(err);
        for (size_t i = 0; i < n; i++) {
            json_object *h = json_object_array_get_idx(v, i);
            if (!json_object_is_type(h, json_type_string) || json_object_get_string_len(h) == 0)
                return field_error(err, &w, "hardware", "must be an array of non-empty strings");
            if (!(r->hardware[r->nhardware++] = strdup(json_object_get_string(h))))
                return ug_oom(err);
        }
        if (n == 0)
            return field_error(err, &w, "hardware", "is empty (leave it out to fit any hardware)");
    }
    if (json_object_object_get_ex(obj, "withdrawn", &v) && v) {
        if (!json_object_is_type(v, json_type_boolean))
            return field_error(err, &w, "withdrawn", "must be true or false");
        r->withdrawn = json_object_get_boolean(v);
    }
    return UG_OK;
}

static int by_version(const void *a, const void *b)
{
    const struct catalog_release *x = a, *y = b;
    int c = version_key_compare(&x->key, &y->key);
    if (c == 0)
        c = x->index_in_file < y->index_in_file ? -1 : x->index_in_file > y->index_in_file;
    return c;
}

/* First index in the sorted releases whose version is >= key (after_equal: > key). */
static size_t lower_bound(const struct catalog *c, const struct version_key *key, int after_equal)
{
    size_t lo = 0, hi = c->nreleases;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = version_key_compare(&c->releases[mid].key, key);
        if (cmp < 0 || (after_equal && cmp == 0))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Sorting once here lets the planner find the releases a version installs over by binary
 * search instead of comparing every pair. */
static void index_releases(struct catalog *c)
{
    qsort(c->releases, c->nreleases, sizeof *c->releases, by_version);
    for (size_t i = 0; i < c->nreleases; i++) {
        struct catalog_release *r = &c->releases[i];
        size_t first = lower_bound(c, &r->min_key, 0);
        size_t end = r->max_from ? lower_bound(c, &r->max_key, 1) : c->nreleases;
        r->first_over = first;
        r->last_over = end > first ? end - 1 : 0;
        if (end <= first) { /* empty range: first_over > last_over */
            r->first_over = 1;
            r->last_over = 0;
        }
    }
}

ug_err catalog_parse(const char *json, size_t len, const char *base, struct catalog *out, char *err)
{
    const char *file = base ? base : "catalog";
    struct json_tokener *tok = NULL;
    json_object *root = NULL, *v = NULL;
    ug_err rc = UG_OK;
    memset(out, 0, sizeof *out);

    tok = json_tokener_new();
    if (!tok)
        return ug_oom(err);
    if (len > CATALOG_MAX_SIZE) {
        rc = ug_fail(err, UG_ERR_USAGE, "%s: catalog larger than %u bytes", file, CATALOG_MAX_SIZE);
        goto out;
    }
    root = json_tokener_parse_ex(tok, json, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    if (!root || jerr != json_tokener_success) {
        rc = ug_fail(err, UG_ERR_USAGE, "%s: not valid JSON: %s", file,
                     jerr == json_tokener_continue ? "unexpected end"
                                                   : json_tokener_error_desc(jerr));
        goto out;
    }
    for (size_t i = json_tokener_get_parse_end(tok); i < len; i++) {
        if (!isspace((unsigned char)json[i])) {
            rc = ug_fail(err, UG_ERR_USAGE, "%s: not valid JSON: data after the top-level object",
                         file);
            goto out;
        }
    }
    if (!json_object_is_type(root, json_type_object)) {
        rc = ug_fail(err, UG_ERR_USAGE, "%s: the catalog must be a JSON object", file);
        goto out;
    }
    if (!json_object_object_get_ex(root, "product", &v) ||
        !json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0) {
        rc = ug_fail(err, UG_ERR_USAGE, "%s: 'product' is missing or not a non-empty string", file);
        goto out;
    }
    if (!(out->product = strdup(json_object_get_string(v)))) {
        rc = ug_oom(err);
        goto out;
    }
    if (!json_object_object_get_ex(root, "releases", &v) ||
        !json_object_is_type(v, json_type_array)) {
        rc = ug_fail(err, UG_ERR_USAGE, "%s: 'releases' is missing or not an array", file);
        goto out;
    }
    size_t n = json_object_array_length(v);
    out->releases = calloc(n ? n : 1, sizeof *out->releases);
    if (!out->releases) {
        rc = ug_oom(err);
        goto out;
    }
    for (size_t i = 0; i < n && rc == UG_OK; i++) {
        struct where w = {file, i, NULL};
        struct catalog_release *r = &out->releases[out->nreleases++];
        r->index_in_file = i;
        rc = parse_release(json_object_array_get_idx(v, i), base, &w, r, err);
    }
    if (rc == UG_OK)
        index_releases(out);
out:
    if (rc != UG_OK)
        catalog_free(out);
    json_object_put(root);
    json_tokener_free(tok);
    return rc;
}

ug_err catalog_load(const char *path, const char *keyring, struct catalog *out, char *err)
{
    struct buf data = {0};
    memset(out, 0, sizeof *out);
    /* The signature is checked on the raw bytes before the JSON parser sees any of them. */
    ug_err rc = sign_verify_file(keyring, path, NULL, CATALOG_MAX_SIZE, &data, err);
    if (rc == UG_OK)
        rc = catalog_parse(data.data ? data.data : "", data.len, path, out, err);
    buf_free(&data);
    return rc;
}

int catalog_url_is_catalog(const char *url)
{
    size_t n = strcspn(url, "?#");
    return n >= 5 && strncasecmp(url + n - 5, ".json", 5) == 0;
}

/* A catalog from a server may only send the device to what its own rule could name: the URL
 * policy (tftp, http or https, a host, Restricted_Access_Domains) holds for every bundle,
 * so a signed remote catalog cannot name a local file or a domain the device must not use. */
static ug_err check_bundle_urls(const struct catalog *c, const char *restricted_domains,
                                const char *display, char *err)
{
    char checked[URL_MAX], why[UG_ERRBUF];
    for (size_t i = 0; i < c->nreleases; i++) {
        const struct catalog_release *r = &c->releases[i];
        if (url_check(r->bundle_url, restricted_domains, checked, sizeof checked, NULL, why) !=
            UG_OK)
            return ug_fail(err, UG_ERR_VERIFY, "%s: release %s: bundle refused: %s", display,
                           r->version, why);
    }
    return UG_OK;
}

ug_err catalog_fetch(const char *url, const struct fetch_options *transport, const char *keyring,
                     struct catalog *out, char *err)
{
    memset(out, 0, sizeof *out);
    if (!strstr(url, "://"))
        return catalog_load(url, keyring, out, err);
    struct buf base = {0}, sig_url = {0}, body = {0}, sig = {0};
    ug_err rc = UG_OK;
    size_t path_end = strcspn(url, "?#"), base_end = strcspn(url, "#");
    /* The .sig sits beside the catalog: before any query, never after a #fragment. */
    if (buf_append(&base, url, base_end) != 0 || buf_append(&sig_url, url, path_end) != 0 ||
        buf_append_str(&sig_url, ".sig") != 0 ||
        buf_append(&sig_url, url + path_end, base_end - path_end) != 0) {
        rc = ug_oom(err);
        goto out;
    }
    char display[FETCH_URL_MAX];
    url_for_display(base.data, display, sizeof display);
    struct fetch_options fo = *transport;
    struct fetch_result res;
    fo.url = base.data;
    rc = fetch_to_buffer(&fo, CATALOG_MAX_SIZE, &body, &res, err);
    if (rc != UG_OK)
        goto out;
    fo.url = sig_url.data;
    memset(&res, 0, sizeof res);
    rc = fetch_to_buffer(&fo, 1u << 20, &sig, &res, err);
    if (rc != UG_OK && res.not_found) {
        rc = ug_fail(err, UG_ERR_VERIFY, "%s: catalog is not signed (no %s.sig on the server)",
                     display, display);
        goto out;
    }
    if (rc != UG_OK)
        goto out;
    rc = sign_verify(keyring, body.data, body.len, sig.data, sig.len, display, err);
    if (rc == UG_OK)
        rc = catalog_parse(body.data, body.len, base.data, out, err);
    if (rc == UG_OK)
        rc = check_bundle_urls(out, transport->restricted_domains, display, err);
    if (rc != UG_OK)
        catalog_free(out);
out:
    buf_free(&base);
    buf_free(&sig_url);
    buf_free(&body);
    buf_free(&sig);
    return rc;
}
