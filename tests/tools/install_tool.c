/* SPDX-License-Identifier: MIT */
/* Test and benchmark driver of the streaming install (upgrader/upgrade/install.c): installs one
 * bundle into a slot (a file, or a block device with --slot-backend block), prints the result
 * as key=value lines, exits with the code. */
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "net/fetch.h"
#include "upgrade/install.h"

static void usage(void)
{
    fprintf(
        stderr,
        "usage: install_tool [options] URL SLOT\n"
        "  --keyring F --product P --hw H --running V --downgrade-limit V --expect V\n"
        "  --resume-file F --ca F --blksize N --max-size N (cut the transfer after N bytes)\n"
        "  --slot-backend NAME (file, the default, or block)\n"
        "  --checkpoint N (resume granularity in image bytes)\n"
        "  --die-after N (SIGKILL itself once N image bytes are written)\n"
        "  --progress (print progress lines to stderr)\n"
        "  --reuse SLOT,VERSION,CACHE (a slot to copy blocks from, its block table; repeatable)\n");
}

static uint64_t die_after; /* --die-after: image bytes, then SIGKILL (a power cut mid-transfer) */
static const char *resume_file;
static int show_progress;

/* Before dying, waits (up to 10 s) for the resume file to record a chunk, so that a test
 * knows there is something to resume whatever the machine's load; the checkpoints are
 * made on their own thread, which goes on meanwhile. */
static void die_now(void)
{
    for (int i = 0; resume_file && i < 1000; i++) {
        FILE *f = fopen(resume_file, "r");
        char text[4096];
        size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
        if (f)
            fclose(f);
        text[n] = '\0';
        char *at = strstr(text, "\"chunks_done\"");
        if (at && (at = strchr(at, ':')) && strtol(at + 1, NULL, 10) > 0)
            break;
        struct timespec ms10 = {0, 10000000};
        nanosleep(&ms10, NULL);
    }
    raise(SIGKILL);
}

static void progress(void *ctx, uint64_t done, uint64_t total)
{
    uint64_t *last = ctx;
    if (die_after && done >= die_after)
        die_now();
    if (!show_progress)
        return;
    if (done - *last >= (8u << 20) || done == total) {
        fprintf(stderr, "progress %llu/%llu\n", (unsigned long long)done,
                (unsigned long long)total);
        *last = done;
    }
}

int main(int argc, char **argv)
{
    struct install_request req = {0};
    struct install_reuse reuse[4];
    struct fetch_options fo;
    uint64_t last = 0;
    fetch_options_init(&fo);
    static const struct option opts[] = {
        {"keyring", required_argument, NULL, 'k'},
        {"product", required_argument, NULL, 'p'},
        {"hw", required_argument, NULL, 'w'},
        {"running", required_argument, NULL, 'r'},
        {"downgrade-limit", required_argument, NULL, 'd'},
        {"expect", required_argument, NULL, 'e'},
        {"resume-file", required_argument, NULL, 'R'},
        {"ca", required_argument, NULL, 'c'},
        {"blksize", required_argument, NULL, 'b'},
        {"max-size", required_argument, NULL, 'm'},
        {"progress", no_argument, NULL, 'P'},
        {"checkpoint", required_argument, NULL, 'C'},
        {"die-after", required_argument, NULL, 'D'},
        {"slot-backend", required_argument, NULL, 'S'},
        {"reuse", required_argument, NULL, 'U'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            req.keyring = optarg;
            break;
        case 'p':
            req.product = optarg;
            break;
        case 'w':
            req.hardware = optarg;
            break;
        case 'r':
            req.running_version = optarg;
            break;
        case 'd':
            req.downgrade_limit = optarg;
            break;
        case 'e':
            req.expected_version = optarg;
            break;
        case 'R':
            req.resume_file = resume_file = optarg;
            break;
        case 'c':
            fo.ca_file = optarg;
            break;
        case 'b':
            fo.tftp_blksize = atoi(optarg);
            break;
        case 'm':
            fo.max_size = strtoull(optarg, NULL, 10);
            break;
        case 'C':
            req.checkpoint_bytes = strtoull(optarg, NULL, 10);
            break;
        case 'P':
            show_progress = 1;
            break;
        case 'D':
            die_after = strtoull(optarg, NULL, 10);
            break;
        case 'S':
            req.slot_backend = optarg;
            break;
        case 'U': {
            char *v = strchr(optarg, ','), *cache = v ? strchr(v + 1, ',') : NULL;
            if (!cache || req.nreuse == 4) {
                usage();
                return 2;
            }
            *v = *cache = '\0';
            reuse[req.nreuse++] = (struct install_reuse){optarg, v + 1, cache + 1};
            req.reuse = reuse;
            break;
        }
        default:
            usage();
            return 2;
        }
    }
    if (argc - optind != 2) {
        usage();
        return 2;
    }
    req.url = argv[optind];
    req.slot_location = argv[optind + 1];
    req.fetch = &fo;
    req.progress = progress;
    req.progress_ctx = &last;
    struct install_result res;
    char err[512] = "";
    struct timespec t0, t1;
    cpu_set_t before, after; /* install_bundle must give the caller its CPUs back */
    CPU_ZERO(&before);
    CPU_ZERO(&after);
    (void)sched_getaffinity(0, sizeof before, &before);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ug_err rc = install_bundle(&req, &res, err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    (void)sched_getaffinity(0, sizeof after, &after);
    fetch_global_cleanup();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf(
        "rc=%d\nversion=%s\nimage_size=%llu\nbytes_fetched=%llu\nresumed=%d\nresume_offset=%llu\nseconds=%.3f\nmaxrss_kb=%ld\n"
        "transfer_cpu=%d\ncpus_before=%d\ncpus_after=%d\ncpus_same=%d\n"
        "delta=%d\nbytes_reused=%llu\nbytes_full=%llu\nindex_builds=%llu\n",
        (int)rc, res.version, (unsigned long long)res.image_size,
        (unsigned long long)res.bytes_fetched, res.resumed, (unsigned long long)res.resume_offset,
        secs, ru.ru_maxrss, res.transfer_cpu, CPU_COUNT(&before), CPU_COUNT(&after),
        CPU_EQUAL(&before, &after), res.delta, (unsigned long long)res.bytes_reused,
        (unsigned long long)res.bytes_full, (unsigned long long)res.index_builds);
    if (rc != 0)
        fprintf(stderr, "install_tool: %s\n", err);
    return (int)rc;
}
