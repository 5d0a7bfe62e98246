/* SPDX-License-Identifier: MIT */
/* The URL policy of the transport: credentials kept out of shown URLs, tftp:// as the
 * default scheme, the schemes and hosts allowed (Restricted_Access_Domains) before a packet. */
#include "net/url.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
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

/* Parses url with libcurl's own parser so the host checked is the host it will contact. */
static ug_err url_parts(const char *url, char **scheme, char **host, char *err)
{
    char shown[URL_MAX];
    url_for_display(url, shown, sizeof shown);
    CURLU *u = curl_url();
    if (!u)
        return ug_fail(err, UG_ERR_OTHER, "%s: out of memory", shown);
    ug_err rc = UG_OK;
    *scheme = *host = NULL;
    if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, scheme, CURLU_URLDECODE) != CURLUE_OK ||
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
