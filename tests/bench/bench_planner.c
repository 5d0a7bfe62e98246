/* SPDX-License-Identifier: MIT */
/* make bench: planning over a 10,000-release catalog beside the time to parse it, and payload
 * decoding throughput (zlib, ISA-L, zstd; bare and with SHA-256 per chunk) beside memcpy. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bundle/bundle.h"
#include "bundle/decompress.h"
#include "bundle/payload.h"
#include "common/buf.h"
#include "upgrade/catalog.h"
#include "upgrade/planner.h"

#define RELEASES 10000
#define RUNS     20

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* A long-lived product: each release installs over the last ~40 before it, and every 250th
 * is a mandatory stepping stone (nothing after it installs over anything before it). */
static void make_catalog(struct buf *b)
{
    srand(42);
    buf_append_str(b, "{\"product\": \"BENCH\", \"releases\": [");
    int stone = 0;
    for (int i = 0; i < RELEASES; i++) {
        int lo = i - 1 - rand() % 40;
        if (lo < stone)
            lo = stone;
        if (i % 250 == 0 && i > 0)
            stone = i;
        buf_printf(
            b,
            "%s{\"version\": \"%d.%d.%d\", \"bundle\": \"b/%d.bundle\", \"size\": %d, "
            "\"sha256\": \"%064d\", \"min_from\": \"%d.%d.%d\", \"hardware\": [\"1.0\", \"2.0\"]%s}",
            i ? "," : "", i / 1000 + 1, (i / 10) % 100, i % 10, i, 1000000 + rand() % 100000, i,
            lo / 1000 + 1, (lo / 10) % 100, lo % 10,
            rand() % 50 == 0 ? ", \"withdrawn\": true" : "");
    }
    buf_append_str(b, "]}");
}

static void bench_planner(void)
{
    struct buf json = {0};
    char err[UG_ERRBUF];
    make_catalog(&json);
    double parse[RUNS], plan[RUNS];
    size_t hops = 0;
    struct catalog c;
    for (int r = 0; r < RUNS; r++) {
        double t0 = now();
        if (catalog_parse(json.data, json.len, "http://s/c.json", &c, err) != UG_OK) {
            fprintf(stderr, "bench: %s\n", err);
            exit(1);
        }
        parse[r] = now() - t0;
        if (r < RUNS - 1)
            catalog_free(&c);
    }
    for (int r = 0; r < RUNS; r++) {
        struct plan p;
        struct plan_request req = {"1.0.0", "latest", "1.0", NULL};
        double t0 = now();
        if (planner_plan(&c, &req, &p, err) != UG_OK) {
            fprintf(stderr, "bench: %s\n", err);
            exit(1);
        }
        plan[r] = now() - t0;
        hops = p.nhops;
        plan_free(&p);
    }
    catalog_free(&c);
    qsort(parse, RUNS, sizeof parse[0], by_double);
    qsort(plan, RUNS, sizeof plan[0], by_double);
    printf("planner: %d releases (%.1f MB of JSON), latest from 1.0.0 in %zu hops\n", RELEASES,
           json.len / 1e6, hops);
    printf("  plan           median %8.3f ms  (best %.3f ms)   goal: well under 10 ms\n",
           plan[RUNS / 2] * 1e3, plan[0] * 1e3);
    printf("  baseline parse median %8.3f ms  (json-c + checks + sort): plan is %.1f%% of parse\n",
           parse[RUNS / 2] * 1e3, 100 * plan[RUNS / 2] / parse[RUNS / 2]);
    buf_free(&json);
}

/* ---- decoding */

#define PLAIN_SIZE (128u << 20)
#define CHUNK      (4u << 20)
#define OUTBUF     (256u * 1024)

static uint8_t *make_plain(void)
{
    /* Roughly what a root filesystem holds: text, code-like bytes and some noise. */
    uint8_t *p = malloc(PLAIN_SIZE);
    unsigned seed = 1;
    static const char words[] =
        "the quick firmware update streams into the inactive slot while hashing ";
    for (size_t i = 0; i < PLAIN_SIZE; i++) {
        seed = seed * 1103515245u + 12345u;
        size_t block = i / 4096;
        p[i] = block % 5 == 0   ? (uint8_t)(seed >> 16)
               : block % 5 == 1 ? (uint8_t)(i * 7 + block)
                                : (uint8_t)words[(i + block) % (sizeof words - 1)];
    }
    return p;
}

struct packed {
    uint8_t *data;
    size_t len;
    struct bundle_payload payload;
};

static void pack(enum codec codec, const uint8_t *plain, struct packed *out)
{
    size_t n = PLAIN_SIZE / CHUNK;
    size_t bound = compress_bound(codec, CHUNK);
    char err[UG_ERRBUF];
    memset(out, 0, sizeof *out);
    out->data = malloc(bound * n);
    out->payload.name = "bench";
    out->payload.compression = codec;
    out->payload.size = PLAIN_SIZE;
    out->payload.chunks = calloc(n, sizeof *out->payload.chunks);
    out->payload.nchunks = n;
    EVP_Digest(plain, PLAIN_SIZE, out->payload.sha256, NULL, EVP_sha256(), NULL);
    for (size_t i = 0; i < n; i++) {
        size_t made;
        if (compress_buffer(codec, 6, plain + i * CHUNK, CHUNK, out->data + out->len, bound, &made,
                            err) != UG_OK) {
            fprintf(stderr, "bench: %s\n", err);
            exit(1);
        }
        struct bundle_chunk *k = &out->payload.chunks[i];
        k->offset = i * CHUNK;
        k->size = CHUNK;
        k->stored_offset = out->len;
        k->stored_size = made;
        EVP_Digest(plain + i * CHUNK, CHUNK, k->sha256, NULL, EVP_sha256(), NULL);
        EVP_Digest(out->data + out->len, made, k->stored_sha256, NULL, EVP_sha256(), NULL);
        out->len += made;
    }
    out->payload.stored_size = out->len;
}

/* Bare codec: chunk by chunk into a 256 KiB buffer, as the decoder does. */
static double decode_rate(const struct packed *pk, const char *backend)
{
    struct decompressor *d;
    char err[UG_ERRBUF];
    uint8_t *out = malloc(OUTBUF);
    if (decompress_open(pk->payload.compression, backend, &d, err) != UG_OK)
        return -1;
    double t0 = now();
    size_t total = 0;
    for (size_t c = 0; c < pk->payload.nchunks; c++) {
        const uint8_t *in = pk->data + pk->payload.chunks[c].stored_offset;
        size_t left = pk->payload.chunks[c].stored_size;
        int ended = 0;
        while (!ended) {
            size_t used, made;
            if (decompress_step(d, in, left, &used, out, OUTBUF, &made, &ended, err) != UG_OK) {
                fprintf(stderr, "bench: %s\n", err);
                exit(1);
            }
            in += used, left -= used, total += made;
            if (!used && !made)
                break;
        }
        if (decompress_reset(d, err) != UG_OK)
            exit(1);
    }
    double t = now() - t0;
    decompress_close(d);
    free(out);
    if (total != PLAIN_SIZE) {
        fprintf(stderr, "bench: %s decoded %zu bytes\n", backend, total);
        exit(1);
    }
    return PLAIN_SIZE / t / 1e6;
}

static ug_err discard(void *ctx, const struct bundle_payload *p, uint64_t offset, const void *data,
                      size_t len, char *err)
{
    (void)ctx, (void)p, (void)offset, (void)data, (void)len, (void)err;
    return UG_OK;
}

/* The whole payload path: codec + SHA-256 of stored and plain bytes, per chunk and whole. */
static double decoder_rate(const struct packed *pk, const char *backend)
{
    static const struct bundle_sink sink = {.write = discard};
    struct payload_decoder *d;
    char err[UG_ERRBUF];
    if (payload_decoder_open(&pk->payload, 0, backend, &sink, NULL, "bench", &d, err) != UG_OK)
        return -1;
    double t0 = now();
    for (size_t at = 0; at < pk->len; at += 65536)
        if (payload_decoder_feed(d, pk->data + at, pk->len - at < 65536 ? pk->len - at : 65536,
                                 err) != UG_OK) {
            fprintf(stderr, "bench: %s\n", err);
            exit(1);
        }
    if (payload_decoder_finish(d, err) != UG_OK) {
        fprintf(stderr, "bench: %s\n", err);
        exit(1);
    }
    double t = now() - t0;
    payload_decoder_close(d);
    return PLAIN_SIZE / t / 1e6;
}

static void bench_decode(void)
{
    uint8_t *plain = make_plain(), *copy = malloc(PLAIN_SIZE);
    double t0 = now();
    for (size_t at = 0; at < PLAIN_SIZE; at += OUTBUF)
        memcpy(copy + (at % (8 * OUTBUF)), plain + at,
               OUTBUF); /* cache-sized target, as the decoder's */
    double memcpy_rate = PLAIN_SIZE / (now() - t0) / 1e6;
    t0 = now();
    unsigned char digest[32];
    EVP_Digest(plain, PLAIN_SIZE, digest, NULL, EVP_sha256(), NULL);
    double sha_rate = PLAIN_SIZE / (now() - t0) / 1e6;

    struct packed gz, zs;
    pack(CODEC_GZIP, plain, &gz);
    pack(CODEC_ZSTD, plain, &zs);
    double zlib = decode_rate(&gz, "zlib");
    printf(
        "decode: %u MiB plain in %u MiB chunks (gzip -6: %.0f%%, zstd -6: %.0f%%), MB/s of plain bytes\n",
        PLAIN_SIZE >> 20, CHUNK >> 20, 100.0 * gz.len / PLAIN_SIZE, 100.0 * zs.len / PLAIN_SIZE);
    printf("  baseline memcpy        %8.0f MB/s\n", memcpy_rate);
    printf("  baseline SHA-256       %8.0f MB/s\n", sha_rate);
    printf("  baseline gzip (zlib)   %8.0f MB/s\n", zlib);
#ifdef HAVE_ISAL
    double isal = decode_rate(&gz, "isal");
    printf("  gzip (ISA-L igzip)     %8.0f MB/s  %.2fx zlib\n", isal, isal / zlib);
#endif
    double zstd = decode_rate(&zs, "zstd");
    printf("  zstd                   %8.0f MB/s  %.2fx zlib\n", zstd, zstd / zlib);
    printf("  with SHA-256 (payload decoder: codec + stored and plain digests):\n");
    printf("  gzip zlib + sha        %8.0f MB/s\n", decoder_rate(&gz, "zlib"));
#ifdef HAVE_ISAL
    printf("  gzip isal + sha        %8.0f MB/s\n", decoder_rate(&gz, "isal"));
#endif
    printf("  zstd + sha             %8.0f MB/s\n", decoder_rate(&zs, "zstd"));
    free(gz.data);
    free(gz.payload.chunks);
    free(zs.data);
    free(zs.payload.chunks);
    free(plain);
    free(copy);
}

int main(void)
{
    bench_planner();
    bench_decode();
    return 0;
}
