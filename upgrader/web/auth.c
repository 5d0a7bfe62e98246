/* SPDX-License-Identifier: MIT */
/* Digest authentication and the lockout. Nonces carry their own time and an HMAC of it, so
 * the server keeps no nonce table; a replayed answer is accepted while its nonce is fresh. */
#include "web/auth.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/hex.h"

#define FIELD_MAX 512

/* The fields of an Authorization: Digest header that the check reads. */
struct digest {
    char username[64], realm[64], nonce[128], uri[FIELD_MAX], response[128];
    char algorithm[32], qop[32], nc[16], cnonce[128], userhash[8];
};

void auth_init(struct auth *a, const unsigned char *secret)
{
    memset(a, 0, sizeof *a);
    memcpy(a->secret, secret, AUTH_SECRET_LEN);
}

static void hmac_hex(const struct auth *a, const char *text, char *out /* 33 */)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    HMAC(EVP_sha256(), a->secret, AUTH_SECRET_LEN, (const unsigned char *)text, strlen(text), mac,
         &len);
    hex_encode(mac, 16, out);
}

void auth_token(const struct auth *a, const char *text, char *out)
{
    char msg[256];
    snprintf(msg, sizeof msg, "token:%s", text);
    hmac_hex(a, msg, out);
}

/* nonce = 16 hex digits of the time, then the HMAC of them. */
static void make_nonce(const struct auth *a, int64_t now, char *out /* 49 */)
{
    char t[17];
    snprintf(t, sizeof t, "%016llx", (unsigned long long)now);
    memcpy(out, t, 16);
    hmac_hex(a, t, out + 16);
}

/* 1 if nonce is one of ours; *age is then its age in seconds. */
static int nonce_valid(const struct auth *a, const char *nonce, int64_t now, int64_t *age)
{
    char t[17], want[49];
    if (strlen(nonce) != 48)
        return 0;
    memcpy(t, nonce, 16);
    t[16] = '\0';
    for (int i = 0; i < 16; i++)
        if (!isxdigit((unsigned char)t[i]))
            return 0;
    int64_t when = (int64_t)strtoull(t, NULL, 16);
    make_nonce(a, when, want);
    if (CRYPTO_memcmp(want, nonce, 48) != 0)
        return 0;
    *age = now - when;
    return 1;
}

void auth_challenge(const struct auth *a, enum auth_alg alg, int64_t now, int stale, char *out,
                    size_t outsz)
{
    char nonce[49];
    make_nonce(a, now, nonce);
    snprintf(out, outsz, "Digest realm=\"%s\", qop=\"auth\", algorithm=%s, nonce=\"%s\"%s",
             AUTH_REALM, alg == AUTH_SHA256 ? "SHA-256" : "MD5", nonce,
             stale ? ", stale=true" : "");
}

/* Reads one value (quoted with \-escapes, or a bare token) into out; NULL when malformed. */
static const char *read_value(const char *p, char *out, size_t outsz)
{
    size_t n = 0;
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++) {
            if (*p == '\\' && p[1])
                p++;
            if (n + 1 >= outsz)
                return NULL;
            out[n++] = *p;
        }
        if (*p != '"')
            return NULL;
        p++;
    } else {
        for (; *p && *p != ',' && *p != ' ' && *p != '\t'; p++) {
            if (n + 1 >= outsz)
                return NULL;
            out[n++] = *p;
        }
    }
    out[n] = '\0';
    return p;
}

/* Where a parameter's value goes, or NULL for one the check does not read. */
static char *field(struct digest *d, const char *name, size_t *sz)
{
    static const struct {
        const char *name;
        size_t off, sz;
    } f[] = {
#define F(x) {#x, offsetof(struct digest, x), sizeof(((struct digest *)0)->x)}
        F(username),  F(realm), F(nonce), F(uri),    F(response),
        F(algorithm), F(qop),   F(nc),    F(cnonce), F(userhash),
#undef F
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (strcasecmp(name, f[i].name) == 0) {
            *sz = f[i].sz;
            return (char *)d + f[i].off;
        }
    return NULL;
}

/* Parses "Digest k=v, k="v", ..."; 0 when it is not a readable Digest answer. */
static int parse_digest(const char *h, struct digest *d)
{
    memset(d, 0, sizeof *d);
    if (strlen(h) > AUTH_HEADER_MAX || strncasecmp(h, "Digest", 6) != 0 ||
        (h[6] != ' ' && h[6] != '\t'))
        return 0;
    const char *p = h + 6;
    char name[32], scratch[FIELD_MAX];
    for (;;) {
        p += strspn(p, " \t,");
        if (!*p)
            break;
        size_t n = strcspn(p, "= \t,");
        if (n == 0 || n >= sizeof name || p[n] != '=')
            return 0;
        memcpy(name, p, n);
        name[n] = '\0';
        size_t sz = sizeof scratch;
        char *dst = field(d, name, &sz);
        if (!(p = read_value(p + n + 1, dst ? dst : scratch, dst ? sz : sizeof scratch)))
            return 0;
    }
    return d->username[0] && d->nonce[0] && d->uri[0] && d->response[0];
}

static int hash_hex(const EVP_MD *md, const char *text, char *out /* 65 */)
{
    unsigned char h[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (!EVP_Digest(text, strlen(text), h, &len, md, NULL))
        return 0;
    hex_encode(h, len, out);
    return 1;
}

/* The response the client should have sent for password. */
static int expected_response(const struct digest *d, const EVP_MD *md, const char *method,
                             const char *password, char *out /* 65 */)
{
    char a1[1024], a2[1024], ha1[65], ha2[65], r[1024];
    if ((size_t)snprintf(a1, sizeof a1, "%s:%s:%s", d->username, d->realm, password) >= sizeof a1 ||
        (size_t)snprintf(a2, sizeof a2, "%s:%s", method, d->uri) >= sizeof a2 ||
        !hash_hex(md, a1, ha1) || !hash_hex(md, a2, ha2))
        return 0;
    if ((size_t)snprintf(r, sizeof r, "%s:%s:%s:%s:%s:%s", ha1, d->nonce, d->nc, d->cnonce, d->qop,
                         ha2) >= sizeof r)
        return 0;
    return hash_hex(md, r, out);
}

enum auth_result auth_check(const struct auth *a, const char *header, const char *method,
                            const char *uri, const struct auth_passwords *pw, int64_t now,
                            enum param_role *role)
{
    struct digest d;
    if (!parse_digest(header, &d) || strcmp(d.qop, "auth") != 0 || !d.nc[0] || !d.cnonce[0] ||
        (d.userhash[0] && strcasecmp(d.userhash, "false") != 0))
        return AUTH_MALFORMED;
    const EVP_MD *md = !d.algorithm[0] || strcasecmp(d.algorithm, "MD5") == 0 ? EVP_md5()
                       : strcasecmp(d.algorithm, "SHA-256") == 0              ? EVP_sha256()
                                                                              : NULL;
    if (!md)
        return AUTH_MALFORMED;
    /* The answer must be for this request: a URI of another request is a replay. */
    if (strcmp(d.uri, uri) != 0 || strcmp(d.realm, AUTH_REALM) != 0)
        return AUTH_FAILED;
    const char *password = strcmp(d.username, "admin") == 0  ? pw->admin
                           : strcmp(d.username, "user") == 0 ? pw->user
                                                             : NULL;
    char want[65];
    for (char *c = d.response; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    int good = password && expected_response(&d, md, method, password, want) &&
               strlen(d.response) == strlen(want) &&
               CRYPTO_memcmp(want, d.response, strlen(want)) == 0;
    int64_t age = 0;
    if (!good)
        return AUTH_FAILED;
    if (!nonce_valid(a, d.nonce, now, &age))
        return AUTH_FAILED;
    if (age < 0 || age > AUTH_NONCE_S)
        return AUTH_STALE;
    *role = password == pw->admin ? PARAM_ROLE_ADMIN : PARAM_ROLE_USER;
    return AUTH_OK;
}

int auth_password_equal(const char *given, const char *expected)
{
    size_t n = strlen(expected);
    return strlen(given) == n && CRYPTO_memcmp(given, expected, n) == 0;
}

static struct auth_client *find(const struct auth *a, const char *client)
{
    for (size_t i = 0; i < AUTH_CLIENTS; i++)
        if (a->clients[i].addr[0] && strcmp(a->clients[i].addr, client) == 0)
            return (struct auth_client *)&a->clients[i];
    return NULL;
}

long auth_locked(const struct auth *a, const char *client, int64_t now)
{
    const struct auth_client *c = find(a, client);
    return c && c->locked_until > now ? (long)(c->locked_until - now) : 0;
}

/* A free entry, else the one whose last failure is oldest. */
static struct auth_client *room(struct auth *a)
{
    struct auth_client *best = &a->clients[0];
    for (size_t i = 0; i < AUTH_CLIENTS; i++) {
        if (!a->clients[i].addr[0])
            return &a->clients[i];
        if (a->clients[i].last_fail < best->last_fail)
            best = &a->clients[i];
    }
    return best;
}

int auth_failed(struct auth *a, const char *client, int64_t now)
{
    struct auth_client *c = find(a, client);
    if (!c) {
        c = room(a);
        memset(c, 0, sizeof *c);
        snprintf(c->addr, sizeof c->addr, "%s", client);
    }
    if (now - c->last_fail > AUTH_FORGET_S)
        c->fails = 0;
    c->last_fail = now;
    if (++c->fails < AUTH_MAX_FAILS)
        return 0;
    c->fails = 0;
    c->locked_until = now + AUTH_LOCK_S;
    return 1;
}

void auth_succeeded(struct auth *a, const char *client)
{
    struct auth_client *c = find(a, client);
    if (c && c->locked_until == 0)
        memset(c, 0, sizeof *c);
    else if (c)
        c->fails = 0;
}
