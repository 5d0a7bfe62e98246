/* SPDX-License-Identifier: MIT */
/* The URL policy of the transport: credentials kept out of shown URLs, tftp:// as the
 * default scheme, the schemes and hosts allowed (Restricted_Access_Domains) before a packet. */
#include "net/url.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void url_for_display(const char *url, char *out, size_t outsz)
{
    if (!outsz)
        return;
    if (!url) {
        out[0] = '\0';
        return;
    }
    /* Pure string work, so even a URL that libcurl rejects is shown without its password. */
    const char *sep = strstr(url, "://");
    const char *auth = sep ? sep + 3 : url;
    if (sep && strcspn(url, "/?#") < (size_t)(sep - url))
        auth = url; /* "://" inside the path: there is no scheme */
    size_t authority_len = strcspn(auth, "/?#");
    const char *at = NULL;
    for (const char *p = auth; p < auth + authority_len; p++)
        if (*p == '@')
            at = p;
    if (!at) {
        snprintf(out, outsz, "%s", url);
        return;
    }
    snprintf(out, outsz, "%.*s%s", (int)(auth - url), url, at + 1);
}

int url_domain_allowed(const char *host, const char *list)
{
    if (!list)
        return 1;
    size_t hlen = host ? strlen(host) : 0;
    if (hlen && host[hlen - 1] == '.')
        hlen--; /* "example.com." is example.com */
    /* An address has no subdomains: "0.0.1" must not admit 10.0.0.1. */
    unsigned char addr[sizeof(struct in6_addr)];
    int is_address =
        host && (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1);
    int any_entry = 0;
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ",");
        const char *e = p, *end = p + n;
        p = *end ? end + 1 : end;
        while (e < end && isspace((unsigned char)*e))
            e++;
        while (end > e && isspace((unsigned char)end[-1]))
            end--;
        /* "*.example.com" and ".example.com" mean what "example.com" means. */
        if (end - e >= 2 && e[0] == '*' && e[1] == '.')
            e += 2;
        else if (end > e && e[0] == '.')
            e++;
        if (end > e && end[-1] == '.')
            end--;
        size_t elen = (size_t)(end - e);
        if (!elen)
            continue;
        any_entry = 1;
        if (hlen == elen && strncasecmp(host, e, elen) == 0)
            return 1;
        if (!is_address && hlen > elen && host[hlen - elen - 1] == '.' &&
            strncasecmp(host + hlen - elen, e, elen) == 0)
            return 1;
    }
    return !any_entry;
}

/* url in libcurl's parser, read the one way every function here reads it; NULL when it is
 * malformed (*code says why). */
static CURLU *curl_parse(const char *url, CURLUcode *code)
{
    CURLU *u = curl_url();
    if (!u) {
        *code = CURLUE_OUT_OF_MEMORY;
        return NULL;
    }
    /* PATH_AS_IS: the path as written, "/a/../b" included; the transport's own request still
     * resolves the dots. */
    *code = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME | CURLU_PATH_AS_IS);
    if (*code != CURLUE_OK) {
        curl_url_cleanup(u);
        return NULL;
    }
    return u;
}

/* Parses url with libcurl's own parser so the host checked is the host it will contact. */
static ug_err url_parts(const char *url, char **scheme, char **host, char *err)
{
    char shown[URL_MAX];
    url_for_display(url, shown, sizeof shown);
    CURLUcode code;
    CURLU *u = curl_parse(url, &code);
    if (!u && code == CURLUE_OUT_OF_MEMORY)
        return ug_fail(err, UG_ERR_OTHER, "%s: out of memory", shown);
    ug_err rc = UG_OK;
    *scheme = *host = NULL;
    if (!u || curl_url_get(u, CURLUPART_SCHEME, scheme, CURLU_URLDECODE) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, host, 0) != CURLUE_OK || !**host) {
        curl_free(*scheme);
        curl_free(*host);
        *scheme = *host = NULL;
        rc = ug_fail(err, UG_ERR_USAGE, "%s: malformed URL", shown);
    }
    curl_url_cleanup(u);
    return rc;
}

ug_err url_host(const char *url, char *out, size_t outsz, char *err)
{
    char *scheme = NULL, *host = NULL;
    ug_err rc = url_parts(url, &scheme, &host, err);
    if (rc == UG_OK) {
        size_t n = strlen(host);
        if (n < outsz) {
            memcpy(out, host, n + 1);
        } else {
            char shown[URL_MAX];
            url_for_display(url, shown, sizeof shown);
            rc = ug_fail(err, UG_ERR_USAGE, "%s: host longer than %zu bytes", shown,
                         outsz ? outsz - 1 : 0);
        }
    }
    curl_free(scheme);
    curl_free(host);
    return rc;
}

/* why (may be NULL) gets the short $ERR reason of a refusal. */
static ug_err check_scheme_and_host(const char *url, const char *restricted, int redirect,
                                    const char **why, char *err)
{
    if (why)
        *why = "bad url";
    char shown[URL_MAX];
    url_for_display(url, shown, sizeof shown);
    char *scheme = NULL, *host = NULL;
    ug_err rc = url_parts(url, &scheme, &host, err);
    if (rc != UG_OK)
        return rc;
    /* An IPv6 literal comes back in brackets; the list names it without. */
    char bare[256];
    size_t hl = strlen(host);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']')
        snprintf(bare, sizeof bare, "%.*s", (int)(hl - 2), host + 1);
    else
        snprintf(bare, sizeof bare, "%s", host);
    int known = redirect ? strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0
                         : strcasecmp(scheme, "tftp") == 0 || strcasecmp(scheme, "http") == 0 ||
                               strcasecmp(scheme, "https") == 0;
    if (!known)
        rc = ug_fail(err, UG_ERR_USAGE, "%s: scheme '%s' is not %s", shown, scheme,
                     redirect ? "http or https" : "tftp, http or https");
    else if (!url_domain_allowed(bare, restricted)) {
        rc = ug_fail(err, UG_ERR_USAGE, "%s: host '%s' is not in Restricted_Access_Domains", shown,
                     bare);
        if (why)
            *why = "restricted domain";
    }
    curl_free(scheme);
    curl_free(host);
    return rc;
}

ug_err url_check_redirect(const char *url, const char *restricted_domains, char *err)
{
    return check_scheme_and_host(url, restricted_domains, 1, NULL, err);
}

/* docs/design.md: TFTP is the default scheme ("host/file" is tftp://host/file). */
static int url_has_scheme(const char *url)
{
    const char *sep = strstr(url, "://");
    return sep && strcspn(url, "/?#") > (size_t)(sep - url);
}

int url_is_tftp(const char *url)
{
    return url && (!url_has_scheme(url) || strncasecmp(url, "tftp://", 7) == 0);
}

ug_err url_check(const char *url, const char *restricted_domains, char *out, size_t outsz,
                 const char **why, char *err)
{
    if (why)
        *why = "bad url";
    if (!url || !*url)
        return ug_fail(err, UG_ERR_USAGE, "empty URL");
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return ug_fail(err, UG_ERR_USAGE, "URL contains a space or control character");
    int n = snprintf(out, outsz, "%s%s", url_has_scheme(url) ? "" : "tftp://", url);
    if (n < 0 || (size_t)n >= outsz)
        return ug_fail(err, UG_ERR_USAGE, "URL longer than %zu bytes", outsz - 1);
    return check_scheme_and_host(out, restricted_domains, 0, why, err);
}

/* Copies one part of u into out: 1 when u has it, 0 when not (out ""), -1 when it does not
 * fit, -2 when out of memory. */
static int copy_part(CURLU *u, CURLUPart what, char *out, size_t outsz)
{
    char *v = NULL;
    out[0] = '\0';
    CURLUcode code = curl_url_get(u, what, &v, 0);
    if (code == CURLUE_OUT_OF_MEMORY)
        return -2;
    if (code != CURLUE_OK)
        return 0;
    size_t n = strlen(v);
    if (n < outsz)
        memcpy(out, v, n + 1);
    curl_free(v);
    return n < outsz ? 1 : -1;
}

static ug_err split_scheme_and_port(CURLU *u, struct url_parts *out, char *err)
{
    static const struct {
        const char *name;
        int port;
    } known[] = {{"tftp", 69}, {"http", 80}, {"https", 443}};
    char scheme[32], port[8];
    int got = copy_part(u, CURLUPART_SCHEME, scheme, sizeof scheme);
    if (got == -2)
        return ug_oom(err);
    for (size_t i = 0; got == 1 && i < sizeof known / sizeof known[0]; i++)
        if (strcmp(scheme, known[i].name) == 0) {
            snprintf(out->scheme, sizeof out->scheme, "%s", known[i].name);
            out->port = known[i].port;
        }
    if (!out->scheme[0])
        return ug_fail(err, UG_ERR_USAGE, "scheme '%s' is not tftp, http or https",
                       got == 1 ? scheme : "");
    got = copy_part(u, CURLUPART_PORT, port, sizeof port);
    if (got < 0)
        return got == -2 ? ug_oom(err) : ug_fail(err, UG_ERR_USAGE, "malformed port");
    if (got == 1)
        out->port = atoi(port); /* libcurl took only 0..65535 */
    return UG_OK;
}

static ug_err split_host(CURLU *u, struct url_parts *out, char *err)
{
    char host[sizeof out->host + 2], zone[64];
    int got = copy_part(u, CURLUPART_HOST, host, sizeof host);
    if (got == -2)
        return ug_oom(err);
    if (got == -1)
        return ug_fail(err, UG_ERR_USAGE, "host longer than %zu bytes", sizeof out->host - 1);
    if (got == 0 || !host[0])
        return ug_fail(err, UG_ERR_USAGE, "no host");
    size_t n = strlen(host);
    const char *h = host;
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') { /* an IPv6 literal */
        host[n - 1] = '\0';
        h++;
    }
    int zoned = copy_part(u, CURLUPART_ZONEID, zone, sizeof zone);
    if (zoned == -2)
        return ug_oom(err);
    int len = snprintf(out->host, sizeof out->host, "%s%s%s", h, zoned ? "%" : "",
                       zoned == 1 ? zone : "");
    if (zoned < 0 || len < 0 || (size_t)len >= sizeof out->host)
        return ug_fail(err, UG_ERR_USAGE, "host longer than %zu bytes", sizeof out->host - 1);
    return UG_OK;
}

static ug_err split_path(CURLU *u, struct url_parts *out, char *err)
{
    char path[URL_MAX], query[URL_MAX], fragment[URL_MAX];
    int p = copy_part(u, CURLUPART_PATH, path, sizeof path);
    int q = copy_part(u, CURLUPART_QUERY, query, sizeof query);
    int f = copy_part(u, CURLUPART_FRAGMENT, fragment, sizeof fragment);
    if (p == -2 || q == -2 || f == -2)
        return ug_oom(err);
    int n =
        snprintf(out->path, sizeof out->path, "%s%s%s%s%s", p == 1 ? path : "/", q == 1 ? "?" : "",
                 q == 1 ? query : "", f == 1 ? "#" : "", f == 1 ? fragment : "");
    if (p < 0 || q < 0 || f < 0 || n < 0 || (size_t)n >= sizeof out->path)
        return ug_fail(err, UG_ERR_USAGE, "longer than %d bytes", URL_MAX - 1);
    return UG_OK;
}

ug_err url_split(const char *url, struct url_parts *out, char *err)
{
    memset(out, 0, sizeof *out);
    if (!url || !*url)
        return ug_fail(err, UG_ERR_USAGE, "empty URL");
    char full[URL_MAX];
    int n = snprintf(full, sizeof full, "%s%s", url_has_scheme(url) ? "" : "tftp://", url);
    if (n < 0 || (size_t)n >= sizeof full)
        return ug_fail(err, UG_ERR_USAGE, "longer than %d bytes", URL_MAX - 1);
    CURLUcode code;
    CURLU *u = curl_parse(full, &code);
    if (!u)
        return code == CURLUE_OUT_OF_MEMORY
                   ? ug_oom(err)
                   : ug_fail(err, UG_ERR_USAGE, "malformed URL (%s)", curl_url_strerror(code));
    ug_err rc = split_scheme_and_port(u, out, err);
    if (rc == UG_OK)
        rc = split_host(u, out, err);
    if (rc == UG_OK)
        rc = split_path(u, out, err);
    curl_url_cleanup(u);
    if (rc != UG_OK)
        memset(out, 0, sizeof *out);
    return rc;
}
