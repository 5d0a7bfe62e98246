/* SPDX-License-Identifier: MIT */
/* The URL policy of the transport: URLs shown without credentials, the default tftp://
 * scheme, the allowed schemes and hosts, Restricted_Access_Domains (docs/transport.md), and
 * the one reading of a URL's parts (libcurl's) that every other module takes. */
#ifndef UPGRADER_URL_H
#define UPGRADER_URL_H

#include <stddef.h>

#include "common/error.h"

/* The longest URL handled, with its NUL, so URLs can live on the stack; longer is refused. */
#define URL_MAX 1024

/* Copies url into out with any user:password@ removed, for messages and status. */
void url_for_display(const char *url, char *out, size_t outsz);
/* 1 if url is fetched over TFTP (tftp://, or no scheme at all), the lock-step transport. */
int url_is_tftp(const char *url);
/* 1 if host is in the comma list (exact, or a subdomain of an entry), or the list is empty. */
int url_domain_allowed(const char *host, const char *list);
/* Checks url before any packet: a known scheme (none means tftp), a host, an allowed
 * domain. Writes the URL with its scheme into out. UG_ERR_USAGE when refused, and then
 * *why (why may be NULL) is the short $ERR reason: "bad url" or "restricted domain". */
ug_err url_check(const char *url, const char *restricted_domains, char *out, size_t outsz,
                 const char **why, char *err) UG_MUST_CHECK;
/* Checks an absolute redirect target before it is followed: http or https, with a host in
 * restricted_domains (NULL/"": any). UG_ERR_USAGE when refused. */
ug_err url_check_redirect(const char *url, const char *restricted_domains, char *err) UG_MUST_CHECK;
/* Copies the host of url as libcurl parses it (an IPv6 literal keeps its brackets) into
 * out; err may be NULL. UG_ERR_USAGE when malformed or the host does not fit. */
ug_err url_host(const char *url, char *out, size_t outsz, char *err) UG_MUST_CHECK;

/* A URL's parts as the transport reads them (libcurl's parser): what a check of them
 * checks is what will be contacted. */
struct url_parts {
    char scheme[8];     /* "tftp", "http" or "https", lower case; tftp when the URL names none */
    char host[256];     /* as it will be looked up: percent-escapes decoded, numeric IPv4 forms
                         * normalized ("127.1" is 127.0.0.1), an IPv6 literal without brackets
                         * (and with "%zone" when it names one) */
    int port;           /* as given, else 69, 80 or 443 */
    char path[URL_MAX]; /* the rest as written: path (at least "/"), ?query, #fragment */
};
/* Splits url (no scheme means tftp://) into out. UG_ERR_USAGE when it is malformed, its
 * scheme is not tftp, http or https, it has no host, or a part does not fit; err says why
 * without repeating the URL, which the caller names (shown without credentials). */
ug_err url_split(const char *url, struct url_parts *out, char *err) UG_MUST_CHECK;

#endif
