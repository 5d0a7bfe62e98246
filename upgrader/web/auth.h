/* SPDX-License-Identifier: MIT */
/* HTTP Digest authentication of the web server's two accounts (RFC 7616: SHA-256, and MD5
 * for older clients), stateless nonces, and the per-client lockout after failed logins. */
#ifndef UPGRADER_WEB_AUTH_H
#define UPGRADER_WEB_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "lang/params.h"

#define AUTH_REALM         "upgrader"
#define AUTH_NONCE_S       300 /* a nonce older than this is stale: the client retries with a new one */
#define AUTH_MAX_FAILS     5   /* failed logins in a row that lock a client out */
#define AUTH_LOCK_S        60  /* how long a locked-out client is refused */
#define AUTH_FORGET_S      600 /* failures older than this are forgotten */
#define AUTH_CLIENTS       64  /* clients remembered at once (the oldest entry makes room) */
#define AUTH_SECRET_LEN    32
#define AUTH_HEADER_MAX    2048 /* a longer Authorization header is refused unread */
#define AUTH_CHALLENGE_MAX 256

enum auth_alg {
    AUTH_SHA256,
    AUTH_MD5
};

enum auth_result {
    AUTH_OK,        /* *role says who */
    AUTH_FAILED,    /* a wrong password or an unknown user: counts toward the lockout */
    AUTH_STALE,     /* a good answer to an expired nonce: challenge again with stale=true */
    AUTH_MALFORMED, /* not a Digest answer we can read: 400, not counted */
};

struct auth_client {
    char addr[64];
    unsigned fails;
    int64_t last_fail, locked_until;
};

struct auth {
    unsigned char secret[AUTH_SECRET_LEN]; /* keys the nonces (and the pages' CSRF tokens) */
    struct auth_client clients[AUTH_CLIENTS];
};

/* The two accounts' passwords, as the parameter store holds them ("" for none). */
struct auth_passwords {
    const char *admin, *user;
};

/* Starts with secret (AUTH_SECRET_LEN random bytes) and no client remembered. */
void auth_init(struct auth *a, const unsigned char *secret);
/* The value of one WWW-Authenticate header for alg with a fresh nonce of now. */
void auth_challenge(const struct auth *a, enum auth_alg alg, int64_t now, int stale, char *out,
                    size_t outsz);
/* Checks an Authorization header against the request's method and raw URI (path and query,
 * as sent). On AUTH_OK *role is the account. */
enum auth_result auth_check(const struct auth *a, const char *header, const char *method,
                            const char *uri, const struct auth_passwords *pw, int64_t now,
                            enum param_role *role);
/* Compares a clear-text password (xpassword=) with the expected one in constant time;
 * 1 if equal. */
int auth_password_equal(const char *given, const char *expected);
/* Seconds client stays locked out (0: not locked). */
long auth_locked(const struct auth *a, const char *client, int64_t now);
/* Records a failed login of client; 1 if it locks the client out now. */
int auth_failed(struct auth *a, const char *client, int64_t now);
/* Forgets client's failures after a good login. */
void auth_succeeded(struct auth *a, const char *client);
/* HMAC-SHA256 of text under the secret, as 32 hex digits (CSRF tokens); out holds 33. */
void auth_token(const struct auth *a, const char *text, char *out);

#endif
