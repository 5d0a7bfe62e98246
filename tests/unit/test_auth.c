/* SPDX-License-Identifier: MIT */
/* Unit tests of the web server's Digest authentication (auth.c): answers computed here as
 * RFC 7616 says, accepted with SHA-256 and MD5 for the right account; wrong passwords,
 * unknown users, another request's URI, forged and stale nonces; unreadable headers; the
 * per-client lockout, its end, and a good login forgetting the failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "common/hex.h"
#include "web/auth.h"

static const struct auth_passwords pw = {"admin-secret", "user-secret"};
static const int64_t T = 1800000000;

static void h(const char *alg, const char *text, char *out)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_Digest(text, strlen(text), d, &n, strcmp(alg, "MD5") == 0 ? EVP_md5() : EVP_sha256(), NULL);
    hex_encode(d, n, out);
}

/* The nonce of a challenge. */
static void nonce_of(const struct auth *a, int64_t now, char *out)
{
    char c[AUTH_CHALLENGE_MAX];
    auth_challenge(a, AUTH_SHA256, now, 0, c, sizeof c);
    const char *p = strstr(c, "nonce=\"") + 7;
    memcpy(out, p, 48);
    out[48] = '\0';
}

/* The Authorization header a client sends for user/password. */
static void answer(const char *alg, const char *user, const char *password, const char *nonce,
                   const char *method, const char *uri, char *out, size_t outsz)
{
    char a1[256], a2[256], ha1[65], ha2[65], r[512], resp[65];
    snprintf(a1, sizeof a1, "%s:%s:%s", user, AUTH_REALM, password);
    snprintf(a2, sizeof a2, "%s:%s", method, uri);
    h(alg, a1, ha1);
    h(alg, a2, ha2);
    snprintf(r, sizeof r, "%s:%s:00000001:0a4f113b:auth:%s", ha1, nonce, ha2);
    h(alg, r, resp);
    snprintf(out, outsz,
             "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", algorithm=%s, "
             "response=\"%s\", qop=auth, nc=00000001, cnonce=\"0a4f113b\"",
             user, AUTH_REALM, nonce, uri, alg, resp);
}

static enum auth_result check(const struct auth *a, const char *hdr, const char *uri, int64_t now,
                              enum param_role *role)
{
    return auth_check(a, hdr, "GET", uri, &pw, now, role);
}

static void new_auth(struct auth *a)
{
    unsigned char secret[AUTH_SECRET_LEN];
    memset(secret, 7, sizeof secret);
    auth_init(a, secret);
}

static void test_both_algorithms_and_accounts(void **state)
{
    struct auth a;
    char nonce[49], hdr[1024], c[AUTH_CHALLENGE_MAX];
    enum param_role role = PARAM_ROLE_USER;
    (void)state;
    new_auth(&a);
    auth_challenge(&a, AUTH_SHA256, T, 0, c, sizeof c);
    assert_non_null(strstr(c, "algorithm=SHA-256"));
    assert_non_null(strstr(c, "qop=\"auth\""));
    auth_challenge(&a, AUTH_MD5, T, 1, c, sizeof c);
    assert_non_null(strstr(c, "algorithm=MD5"));
    assert_non_null(strstr(c, "stale=true"));
    nonce_of(&a, T, nonce);
    answer("SHA-256", "admin", "admin-secret", nonce, "GET", "/admin/status?x", hdr, sizeof hdr);
    assert_int_equal(check(&a, hdr, "/admin/status?x", T + 5, &role), AUTH_OK);
    assert_int_equal(role, PARAM_ROLE_ADMIN);
    answer("MD5", "user", "user-secret", nonce, "GET", "/config", hdr, sizeof hdr);
    assert_int_equal(check(&a, hdr, "/config", T + 5, &role), AUTH_OK);
    assert_int_equal(role, PARAM_ROLE_USER);
}

static void test_refusals(void **state)
{
    struct auth a, other;
    char nonce[49], hdr[1024];
    enum param_role role;
    (void)state;
    new_auth(&a);
    nonce_of(&a, T, nonce);
    answer("SHA-256", "admin", "user-secret", nonce, "GET", "/", hdr, sizeof hdr);
    assert_int_equal(check(&a, hdr, "/", T, &role), AUTH_FAILED); /* the user's password */
    answer("SHA-256", "root", "admin-secret", nonce, "GET", "/", hdr, sizeof hdr);
    assert_int_equal(check(&a, hdr, "/", T, &role), AUTH_FAILED);
    answer("SHA-256", "admin", "admin-secret", nonce, "GET", "/", hdr, sizeof hdr);
    assert_int_equal(check(&a, hdr, "/admin/reboot", T, &role), AUTH_FAILED); /* replayed */
    assert_int_equal(check(&a, hdr, "/", T + AUTH_NONCE_S + 1, &role), AUTH_STALE);
    memset(&other, 0, sizeof other); /* another secret: our nonce is not its own */
    assert_int_equal(check(&other, hdr, "/", T, &role), AUTH_FAILED);
    answer("SHA-256", "admin", "admin-secret", "0000000000000000aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
           "GET", "/", hdr, sizeof hdr);
    assert_int_equal(check(&a, hdr, "/", T, &role), AUTH_FAILED); /* a forged nonce */
}

static void test_malformed(void **state)
{
    struct auth a;
    enum param_role role;
    (void)state;
    new_auth(&a);
    static const char *const bad[] = {
        "Basic YWRtaW46eA==",
        "Digest",
        "Digest username=\"admin\", nonce=\"n\", uri=\"/\", response=\"r\"", /* no qop */
        "Digest username=\"admin\", nonce=\"n\", uri=\"/\", response=\"r\", qop=auth, nc=1, "
        "cnonce=\"c\", algorithm=SHA-512-256",
        "Digest username=\"admin, nonce=\"n\"",
        "Digest =x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(check(&a, bad[i], "/", T, &role), AUTH_MALFORMED);
}

static void test_lockout(void **state)
{
    struct auth a;
    (void)state;
    new_auth(&a);
    for (int i = 1; i < AUTH_MAX_FAILS; i++) {
        assert_int_equal(auth_failed(&a, "10.0.0.1", T + i), 0);
        assert_int_equal(auth_locked(&a, "10.0.0.1", T + i), 0);
    }
    assert_int_equal(auth_failed(&a, "10.0.0.1", T + 10), 1);
    assert_int_equal(auth_locked(&a, "10.0.0.1", T + 10), AUTH_LOCK_S);
    assert_int_equal(auth_locked(&a, "10.0.0.2", T + 10), 0); /* per client */
    assert_int_equal(auth_locked(&a, "10.0.0.1", T + 10 + AUTH_LOCK_S), 0);
    /* Failures then a good login: the count starts again. */
    for (int i = 1; i < AUTH_MAX_FAILS; i++)
        assert_int_equal(auth_failed(&a, "10.0.0.2", T + i), 0);
    auth_succeeded(&a, "10.0.0.2");
    assert_int_equal(auth_failed(&a, "10.0.0.2", T + 20), 0);
    /* More clients than the table holds: the oldest entry makes room. */
    char addr[32];
    for (int i = 0; i < AUTH_CLIENTS + 8; i++) {
        snprintf(addr, sizeof addr, "10.1.0.%d", i);
        assert_int_equal(auth_failed(&a, addr, T + 100 + i), 0);
    }
    assert_true(auth_password_equal("abc", "abc"));
    assert_false(auth_password_equal("abc", "abcd"));
    assert_false(auth_password_equal("", "x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_both_algorithms_and_accounts),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_lockout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
