/* SPDX-License-Identifier: MIT */
/* Benchmark baseline: decodes a whole multi-member gzip or zstd file through one backend of
 * decompress.c ("zlib inflate alone", "igzip alone", "zstd alone"), output discarded. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bundle/decompress.h"

#define IN_BUFFER  (64 * 1024)
#define OUT_BUFFER (64 * 1024)

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: codec_tool gzip|zstd zlib|isal|zstd FILE\n");
        return 2;
    }
    enum codec codec;
    char err[UG_ERRBUF];
    struct decompressor *d = NULL;
    if (codec_parse(argv[1], &codec) != 0 || decompress_open(codec, argv[2], &d, err) != UG_OK) {
        fprintf(stderr, "codec_tool: %s\n", d ? "" : err);
        return 2;
    }
    int fd = open(argv[3], O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "codec_tool: %s: %s\n", argv[3], strerror(errno));
        decompress_close(d);
        return 1;
    }
    static uint8_t in[IN_BUFFER], out[OUT_BUFFER];
    unsigned long long plain = 0;
    int rc = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        ssize_t n = read(fd, in, sizeof in);
        if (n <= 0)
            break;
        const uint8_t *p = in;
        size_t left = (size_t)n;
        while (left > 0 && rc == 0) {
            size_t used = 0, made = 0;
            int ended = 0;
            if (decompress_step(d, p, left, &used, out, sizeof out, &made, &ended, err) != UG_OK) {
                fprintf(stderr, "codec_tool: %s\n", err);
                rc = 1;
                break;
            }
            p += used;
            left -= used;
            plain += made;
            /* One chunk's stream ended: the next member or frame follows. */
            if (ended && decompress_reset(d, err) != UG_OK)
                rc = 1;
        }
        if (rc)
            break;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    close(fd);
    decompress_close(d);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("plain=%llu\nseconds=%.3f\n", plain, secs);
    return rc;
}
