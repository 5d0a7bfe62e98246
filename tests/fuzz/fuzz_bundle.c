/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the streaming bundle reader (bundle.c): any bytes as a bundle, pulled
 * in small uneven pieces, must be refused or read cleanly; the seed is a real signed bundle
 * so mutations reach the member checks, the signature check and the payload decoder. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bundle/bundle.h"
#include "bundle/sign.h"

static char keyring[512];

/* ---- the payload decoder's writer thread, in lockstep
 *
 * Left to the scheduler, how far the decoding thread runs ahead of the writer (and so which
 * side first sees a bad chunk) changes from run to run, and with it the coverage libFuzzer
 * steers by: the same seed would not give the same run. So, while an input runs, the
 * threads that payload.c starts (pthread_create, pthread_join and pthread_cond_wait are
 * wrapped at link time: fuzz_bundle.wrap) take turns: one runs until it waits on a condition
 * or ends, then the other. That is one schedule the real threads may take, the same every
 * time. Waits may wake spuriously (payload.c re-checks its conditions), so signals need no
 * wrapping. Threads started outside an input (libFuzzer's own) run freely. The turn-taking
 * itself is kept out of the coverage: whether a wait finds its turn already given is timing. */

#define NO_COVERAGE __attribute__((no_sanitize("coverage")))

int __real_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);
int __real_pthread_join(pthread_t t, void **ret);
int __real_pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m);

static pthread_mutex_t turn_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_cv = PTHREAD_COND_INITIALIZER;
static int writer_turn;      /* whose turn: 1 the writer's, 0 the thread running the input */
static int writer_alive;     /* a writer started during this input has not ended */
static _Atomic int in_input; /* LLVMFuzzerTestOneInput is running: its thread is the input's */
static _Thread_local int is_writer;

NO_COVERAGE static void give_turn(int writer)
{
    pthread_mutex_lock(&turn_mu);
    writer_turn = writer;
    pthread_cond_broadcast(&turn_cv);
    pthread_mutex_unlock(&turn_mu);
}

NO_COVERAGE static void wait_turn(int writer)
{
    pthread_mutex_lock(&turn_mu);
    while (writer_turn != writer)
        __real_pthread_cond_wait(&turn_cv, &turn_mu);
    pthread_mutex_unlock(&turn_mu);
}

struct writer_start {
    void *(*fn)(void *);
    void *arg;
};

NO_COVERAGE static void *writer_thread(void *arg)
{
    struct writer_start s = *(struct writer_start *)arg;
    free(arg);
    is_writer = 1;
    wait_turn(1);
    void *ret = s.fn(s.arg);
    pthread_mutex_lock(&turn_mu);
    writer_alive = 0;
    writer_turn = 0;
    pthread_cond_broadcast(&turn_cv);
    pthread_mutex_unlock(&turn_mu);
    return ret;
}

NO_COVERAGE int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *),
                                      void *arg)
{
    if (!in_input)
        return __real_pthread_create(t, a, fn, arg);
    struct writer_start *s = malloc(sizeof *s);
    if (!s)
        return EAGAIN;
    *s = (struct writer_start){fn, arg};
    writer_alive = 1; /* one writer at a time: the decoder joins it before the next starts */
    writer_turn = 0;
    int rc = __real_pthread_create(t, a, writer_thread, s);
    if (rc != 0) {
        writer_alive = 0;
        free(s);
    }
    return rc;
}

NO_COVERAGE int __wrap_pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
    if (!is_writer && !in_input)
        return __real_pthread_cond_wait(c, m);
    pthread_mutex_lock(&turn_mu);
    int other_alive = is_writer || writer_alive;
    pthread_mutex_unlock(&turn_mu);
    if (!other_alive) { /* nobody left to change what it waits for */
        fprintf(stderr, "fuzz_bundle: the payload decoder waits for a writer that has ended\n");
        abort();
    }
    pthread_mutex_unlock(m);
    give_turn(!is_writer);
    wait_turn(is_writer);
    pthread_mutex_lock(m);
    return 0;
}

NO_COVERAGE int __wrap_pthread_join(pthread_t t, void **ret)
{
    if (in_input && !is_writer) {
        pthread_mutex_lock(&turn_mu);
        int alive = writer_alive;
        pthread_mutex_unlock(&turn_mu);
        if (alive) { /* it runs to its end, then the turn comes back */
            give_turn(1);
            wait_turn(0);
        }
    }
    return __real_pthread_join(t, ret);
}

/* ---- the signature check, once per signed pair
 *
 * sign_verify() is a pure function of the keyring, the manifest's bytes and the signature's
 * bytes, and the costliest step of an input: loading the keyring and checking the CMS took
 * over half the time. Most mutations land in the payload members and leave that pair as it
 * was, so the harness checks each distinct pair for real once and answers a repeat with the
 * verdict (and message) it got then: twice the executions a second, and every new pair
 * still goes through sign.c and OpenSSL. The cache is a fixed table keyed by the pair's
 * SHA-256 (a slot is overwritten by the next pair that maps to it), so it holds no heap
 * memory for the leak check to see. */

ug_err __real_sign_verify(const char *keyring, const void *data, size_t len, const void *sig,
                          size_t sig_len, const char *what, char *err);

#define VERDICTS 4096

static struct verdict {
    unsigned char key[32]; /* SHA-256 of the pair and the name; all zero: empty */
    ug_err rc;
    char err[UG_ERRBUF];
} verdicts[VERDICTS];

static int pair_key(const void *data, size_t len, const void *sig, size_t sig_len, const char *what,
                    unsigned char key[32])
{
    uint64_t lens[2] = {len, sig_len}; /* so the boundary between the two is part of the key */
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(md, lens, sizeof lens) == 1 && EVP_DigestUpdate(md, data, len) == 1 &&
             EVP_DigestUpdate(md, sig, sig_len) == 1 &&
             EVP_DigestUpdate(md, what, strlen(what)) == 1 &&
             EVP_DigestFinal_ex(md, key, NULL) == 1;
    EVP_MD_CTX_free(md);
    return ok ? 0 : -1;
}

ug_err __wrap_sign_verify(const char *keyring, const void *data, size_t len, const void *sig,
                          size_t sig_len, const char *what, char *err)
{
    unsigned char key[32];
    if (pair_key(data, len, sig, sig_len, what, key) != 0)
        return __real_sign_verify(keyring, data, len, sig, sig_len, what, err);
    struct verdict *v = &verdicts[(key[0] | key[1] << 8) % VERDICTS];
    if (memcmp(v->key, key, sizeof key) == 0) {
        snprintf(err, UG_ERRBUF, "%s", v->err);
        return v->rc;
    }
    ug_err rc = __real_sign_verify(keyring, data, len, sig, sig_len, what, err);
    memcpy(v->key, key, sizeof key);
    v->rc = rc;
    snprintf(v->err, sizeof v->err, "%s", rc == UG_OK ? "" : err);
    return rc;
}

/* ---- the input */

struct memory_source {
    const uint8_t *data;
    size_t size, at;
};

static ug_err pull_piece(void *ctx, const void **data, size_t *len, char *err)
{
    (void)err;
    struct memory_source *m = ctx;
    size_t piece = 1 + (m->at * 7919) % 4093; /* uneven pieces exercise the reader's joins */
    if (piece > m->size - m->at)
        piece = m->size - m->at;
    *data = m->data + m->at;
    *len = piece;
    m->at += piece;
    return UG_OK;
}

static ug_err discard(void *ctx, const struct bundle_payload *p, uint64_t offset, const void *data,
                      size_t len, char *err)
{
    (void)ctx, (void)p, (void)offset, (void)data, (void)len, (void)err;
    return UG_OK;
}

/* The keyring must be the one that signed the seed bundles (tests/fuzz/corpus/README.md).
 * Without it every input stops at "no keyring" before the signature is parsed, and the run
 * looks clean while testing almost nothing: so the harness refuses to start. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    const char *top = getenv("TOP") ? getenv("TOP") : ".";
    snprintf(keyring, sizeof keyring, "%s/tests/fuzz/corpus/bundle-keyring.pem", top);
    if (access(keyring, R_OK) != 0) {
        fprintf(stderr, "fuzz_bundle: no keyring at %s (set TOP to the source tree)\n", keyring);
        exit(2);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct memory_source src = {data, size, 0};
    const struct bundle_sink sink = {.write = discard};
    struct bundle_manifest m;
    char err[UG_ERRBUF];
    in_input = 1;
    if (bundle_read(pull_piece, &src, "fuzz", keyring, &sink, NULL, &m, err) == UG_OK)
        bundle_manifest_free(&m);
    in_input = 0;
    return 0;
}
