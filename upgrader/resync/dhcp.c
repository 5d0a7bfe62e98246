/* SPDX-License-Identifier: MIT */
/* DHCP-provided provisioning servers. The hooks pass values the way their client reports
 * them (udhcpc gives unknown options as hex), so decoding lives here, tested, not in shell. */
#include "resync/dhcp.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/fsutil.h"
#include "common/jsonfile.h"
#include "lang/rule.h"

/* What a value may start with before its text: blanks, and the commas of a list. */
#define LEADING_BLANKS " \t,"

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes hex digits (':' and spaces between bytes allowed) into out; byte count or -1. */
static long decode_hex(const char *text, unsigned char *out, size_t outsz)
{
    size_t n = 0;
    for (const char *p = text; *p;) {
        if (*p == ':' || *p == ' ') {
            p++;
            continue;
        }
        int hi = hex_value(p[0]), lo = p[1] ? hex_value(p[1]) : -1;
        if (hi < 0 || lo < 0 || n == outsz)
            return -1;
        out[n++] = (unsigned char)(hi << 4 | lo);
        p += 2;
    }
    return (long)n;
}

static int server_char(char c)
{
    return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_' || c == ':' || c == '[' ||
           c == ']';
}

static ug_err normalise_text(int option, const char *value, char *text, char *out, size_t outsz,
                             char *err);

ug_err dhcp_normalise(int option, const char *value, char *out, size_t outsz, char *err)
{
    char text[DHCP_SERVER_MAX * 2];
    out[0] = '\0';
    if (!*value)
        return UG_OK; /* the lease has no such option */
    /* The blanks the text path skips are skipped here too: " hex:41" is hex as "hex:41" is,
     * so a kept value reads back the same. */
    const char *v = value + strspn(value, LEADING_BLANKS);
    if (strncasecmp(v, "hex:", 4) == 0) {
        unsigned char bytes[DHCP_SERVER_MAX];
        long n = decode_hex(v + 4, bytes, sizeof bytes);
        if (n < 0)
            return ug_fail(err, UG_ERR_USAGE, "option %d: '%s' is not hex", option, value);
        if (option == 150) {
            /* A list of IPv4 addresses, 4 bytes each: the first is the server. */
            if (n == 0)
                return UG_OK;
            if (n % 4 != 0)
                return ug_fail(err, UG_ERR_USAGE,
                               "option 150: %ld bytes is not a list of IPv4 addresses", n);
            snprintf(text, sizeof text, "%u.%u.%u.%u", bytes[0], bytes[1], bytes[2], bytes[3]);
        } else {
            while (n > 0 && bytes[n - 1] == '\0') /* some servers NUL-terminate strings */
                n--;
            for (long i = 0; i < n; i++)
                if (bytes[i] < ' ' || bytes[i] >= 0x7f)
                    return ug_fail(err, UG_ERR_USAGE,
                                   "option %d: value holds a control or non-ASCII byte", option);
            memcpy(text, bytes, (size_t)n);
            text[n] = '\0';
        }
    } else if (snprintf(text, sizeof text, "%s", value) >= (int)sizeof text) {
        return ug_fail(err, UG_ERR_USAGE, "option %d: value too long", option);
    }

    return normalise_text(option, value, text, out, outsz, err);
}

/* Checks a server "host[:port]" as DHCP gave it. */
static ug_err check_server(int option, const char *value, const char *server, size_t len, char *err)
{
    char copy[DHCP_SERVER_MAX], host[DHCP_SERVER_MAX];
    int port;
    if (len == 0)
        return ug_fail(err, UG_ERR_USAGE, "option %d: '%s' names no server", option, value);
    if (len >= sizeof copy)
        return ug_fail(err, UG_ERR_USAGE, "option %d: server name too long", option);
    memcpy(copy, server, len);
    copy[len] = '\0';
    for (const char *c = copy; *c; c++)
        if (!server_char(*c))
            return ug_fail(err, UG_ERR_USAGE, "option %d: '%s' is not a server name", option,
                           value);
    if (dhcp_split_server(copy, host, sizeof host, &port) != 0)
        return ug_fail(err, UG_ERR_USAGE, "option %d: '%s' is not host[:port]", option, value);
    return UG_OK;
}

/* A whole rule, "( cond )? URL | ..." or "[--options] URL", rather than a server or a URL
 * ("[::1]:69" is an IPv6 server). */
static int is_rule(const char *v)
{
    if (*v == '(')
        return 1;
    if (*v != '[')
        return 0;
    v++;
    while (*v == ' ')
        v++;
    return v[0] == '-' && v[1] == '-';
}

static ug_err keep(int option, const char *text, char *out, size_t outsz, char *err)
{
    /* What is kept is read again by the next lease's hook: a server named "hex" ("hex:69")
     * would then be decoded as hex, so such a value is refused rather than changed. */
    if (strncasecmp(text, "hex:", 4) == 0) {
        out[0] = '\0';
        return ug_fail(err, UG_ERR_USAGE, "option %d: '%.64s' would read back as hex", option,
                       text);
    }
    if (snprintf(out, outsz, "%s", text) >= (int)outsz) {
        out[0] = '\0';
        return ug_fail(err, UG_ERR_USAGE, "option %d: value too long", option);
    }
    return UG_OK;
}

/* What the value says, kept as it says it: a whole rule ("[--key K] http://h/p"), a URL with
 * a path ("http://h/cisco/$PSN.xml", "h/p.cfg"), a server with its scheme ("https://h:8443"),
 * or a server ("h", "h:69"; a list gives its first). The scheme, port and path are the
 * operator's: the factory rule must not go out as TFTP to an HTTP port. */
static ug_err normalise_text(int option, const char *value, char *text, char *out, size_t outsz,
                             char *err)
{
    char *p = text, why[UG_ERRBUF];
    p += strspn(p, LEADING_BLANKS);
    p[strcspn(p, "\r\n")] = '\0';
    if (is_rule(p)) {
        if (rule_check_syntax(p, RULE_PROFILE, why) != UG_OK)
            return ug_fail(err, UG_ERR_USAGE, "option %d: '%s' is not a rule: %s", option, value,
                           why);
        return keep(option, p, out, outsz, err);
    }
    p[strcspn(p, ", \t")] = '\0';
    const char *sep = strstr(p, "://");
    const char *server = sep ? sep + 3 : p;
    size_t slen = strcspn(server, "/");
    ug_err rc = check_server(option, value, server, slen, err);
    if (rc != UG_OK)
        return rc;
    if (server[slen] == '/' && server[slen + 1]) {
        if (rule_check_syntax(p, RULE_PROFILE, why) != UG_OK)
            return ug_fail(err, UG_ERR_USAGE, "option %d: '%s' is not a URL: %s", option, value,
                           why);
        return keep(option, p, out, outsz, err);
    }
    p[(size_t)(server - p) + slen] = '\0'; /* "http://h/" is the server with its scheme */
    return keep(option, p, out, outsz, err);
}

int dhcp_split_server(const char *server, char *host, size_t hostsz, int *port)
{
    const char *h = server, *hend, *colon = NULL;
    *port = 0;
    if (*h == '[') {
        const char *rb = strchr(h, ']');
        if (!rb)
            return -1;
        h++;
        hend = rb;
        if (rb[1] == ':')
            colon = rb + 1;
        else if (rb[1])
            return -1;
    } else {
        colon = strchr(h, ':');
        if (colon && strchr(colon + 1, ':'))
            return -1; /* a bare IPv6 address needs brackets to carry a port */
        hend = colon ? colon : h + strlen(h);
    }
    size_t hl = (size_t)(hend - h);
    if (hl == 0 || hl >= hostsz)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    if (colon) {
        char *end = NULL;
        long v = strtol(colon + 1, &end, 10);
        if (end == colon + 1 || *end || v < 1 || v > 65535)
            return -1;
        *port = (int)v;
    }
    return 0;
}

static const char *server_of(const struct dhcp_servers *s, long option)
{
    switch (option) {
    case 66:
        return s->option66;
    case 150:
        return s->option150;
    case 159:
        return s->option159;
    case 160:
        return s->option160;
    default:
        return "";
    }
}

int dhcp_choose(const struct dhcp_servers *s, const char *order, char *out, size_t outsz)
{
    if (!order || !*order)
        order = DHCP_DEFAULT_ORDER;
    out[0] = '\0';
    for (const char *p = order; *p;) {
        char *end = NULL;
        long option = strtol(p, &end, 10);
        if (end == p) {
            p++;
            continue;
        }
        const char *v = server_of(s, option);
        if (*v) {
            snprintf(out, outsz, "%s", v);
            return (int)option;
        }
        p = end;
    }
    return 0;
}

ug_err dhcp_record(const struct state_folder *f, const struct dhcp_servers *s, char *err)
{
    json_object *obj = json_object_new_object();
    if (!obj)
        return ug_oom(err);
    static const int options[] = {66, 150, 159, 160};
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++) {
        char key[16];
        snprintf(key, sizeof key, "option%d", options[i]);
        const char *v = server_of(s, options[i]);
        if (*v)
            jsonfile_set_string(obj, key, v);
    }
    jsonfile_set_int(obj, "time", (long long)time(NULL));
    ug_err rc = jsonfile_save(state_path(f, STATE_DHCP), obj, err);
    json_object_put(obj);
    return rc;
}

ug_err dhcp_load(const struct state_folder *f, struct dhcp_servers *s, char *err)
{
    memset(s, 0, sizeof *s);
    json_object *obj = NULL;
    (void)err; /* nothing here stops a resync: without the lease's servers it has none */
    if (jsonfile_load(state_path(f, STATE_DHCP), &obj, s->damaged) != UG_OK)
        return UG_OK;
    snprintf(s->option66, sizeof s->option66, "%s", jsonfile_get_string(obj, "option66", ""));
    snprintf(s->option150, sizeof s->option150, "%s", jsonfile_get_string(obj, "option150", ""));
    snprintf(s->option159, sizeof s->option159, "%s", jsonfile_get_string(obj, "option159", ""));
    snprintf(s->option160, sizeof s->option160, "%s", jsonfile_get_string(obj, "option160", ""));
    json_object_put(obj);
    return UG_OK;
}

void dhcp_default_of(const char *value, int option, struct dhcp_default *d)
{
    memset(d, 0, sizeof *d);
    d->option = option;
    if (!value || !*value)
        return;
    const char *u = value;
    int rule = is_rule(value);
    if (rule && *u == '[') { /* "[options] URL": the URL's server is the default one */
        const char *close = strchr(u, ']');
        u = close && !strpbrk(close, "|(") ? close + 1 : "";
        while (*u == ' ' || *u == '\t')
            u++;
    } else if (rule) {
        u = "";
    }
    const char *sep = strstr(u, "://");
    const char *server = sep ? sep + 3 : u;
    size_t slen = strcspn(server, "/ \t");
    if (sep && (size_t)(sep - u) < sizeof d->scheme) {
        for (size_t i = 0; i < (size_t)(sep - u); i++)
            d->scheme[i] = (char)tolower((unsigned char)u[i]);
    }
    if (slen < sizeof d->server) {
        memcpy(d->server, server, slen);
        d->server[slen] = '\0';
    }
    if (rule || (server[slen] == '/' && server[slen + 1]))
        snprintf(d->rule, sizeof d->rule, "%s", value);
}

const char *dhcp_profile_rule(const struct dhcp_default *d, const char *stored, const char *factory)
{
    if (d->rule[0] && stored && factory && strcmp(stored, factory) == 0)
        return d->rule;
    return stored;
}

ug_err dhcp_use_default(const struct dhcp_default *d, struct rule_url *url, char *err)
{
    char host[DHCP_SERVER_MAX];
    int port = 0;
    if (dhcp_split_server(d->server, host, sizeof host, &port) != 0)
        return ug_fail(err, UG_ERR_USAGE, "DHCP server '%s' is not host[:port]", d->server);
    snprintf(url->host, sizeof url->host, "%s", host);
    /* The scheme DHCP named, when the rule names none: "/$PSN.xml" with option 160
     * "http://h:8080" goes to http://h:8080/..., not to TFTP on port 8080. */
    if (!url->scheme_given && d->scheme[0]) {
        snprintf(url->scheme, sizeof url->scheme, "%s", d->scheme);
        url->port = strcmp(d->scheme, "https") == 0  ? 443
                    : strcmp(d->scheme, "http") == 0 ? 80
                                                     : 69;
    }
    if (port)
        url->port = port;
    struct buf full = {0};
    int v6 = strchr(url->host, ':') != NULL;
    if (buf_printf(&full, "%s://%s%s%s:%d%s", url->scheme, v6 ? "[" : "", url->host, v6 ? "]" : "",
                   url->port, url->path) != 0) {
        buf_free(&full);
        return ug_oom(err);
    }
    free(url->text);
    url->text = full.data;
    return UG_OK;
}
