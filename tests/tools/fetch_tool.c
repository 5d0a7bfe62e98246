/* SPDX-License-Identifier: MIT */
/* Test driver of the transport (upgrader/net/fetch.h): fetches one URL into a file through the
 * pushed, buffered or pulled path, prints the result as key=value lines, exits with the code. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "net/fetch.h"

static void usage(void)
{
    fprintf(stderr, "usage: fetch_tool [options] URL OUTFILE\n"
                    "  --user U --password P        credentials (Basic or Digest)\n"
                    "  --post DATA | --put FILE     body to send; --content-type T\n"
                    "  --ca F --extra-ca F --cert F --key F\n"
                    "  --ua-product P --ua-version V --ua-serial S --ua-mac M\n"
                    "  --restrict LIST --max-size N --connect-timeout MS --timeout MS\n"
                    "  --low-speed BYTES --low-speed-time S --redirects N --blksize N\n"
                    "  --resume N (OUTFILE keeps its first N bytes) --etag E --last-modified L\n"
                    "  --buffer (to-buffer path) --pull N (pull reader, N-byte reads)\n"
                    "  --rate BYTES_PER_S --progress (prints the progress calls)\n"
                    "  --cancel-after MS (a thread raises the cancel flag) | --cancel-on-signal\n"
                    "    (SIGUSR1 raises it); both print cancel_latency_ms, flag to return\n");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The cancel flag and when it was raised (clock_gettime is async-signal-safe). */
static volatile sig_atomic_t cancel_flag;
static struct timespec cancel_at;

static void raise_cancel(void)
{
    clock_gettime(CLOCK_MONOTONIC, &cancel_at);
    cancel_flag = 1;
}

static void on_signal(int sig)
{
    (void)sig;
    raise_cancel();
}

static void *cancel_thread(void *arg)
{
    long ms = *(long *)arg;
    struct timespec d = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&d, NULL);
    raise_cancel();
    return NULL;
}

struct progress_log {
    unsigned long calls;
    uint64_t last, total;
    int monotonic;
};

static void on_progress(void *ctx, struct fetch_transfer *t, uint64_t received, uint64_t total)
{
    struct progress_log *p = ctx;
    (void)t;
    if (p->calls && received < p->last)
        p->monotonic = 0;
    p->calls++;
    p->last = received;
    p->total = total;
}

struct file_sink {
    int fd;
};

/* Writes each block where it belongs, so a resume the server did not honour rewrites
 * the file from 0 and one it honoured appends. */
static ug_err file_sink(void *ctx, const void *data, size_t len, uint64_t offset, char *err)
{
    struct file_sink *f = ctx;
    const char *p = data;
    while (len) {
        ssize_t n = pwrite(f->fd, p, len, (off_t)offset);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return ug_fail(err, UG_ERR_OTHER, "cannot write output: %s", strerror(errno));
        }
        p += n, len -= (size_t)n, offset += (uint64_t)n;
    }
    return UG_OK;
}

static void print_result(const struct fetch_result *r)
{
    /* Peak memory, so a test can show a large body never sat in memory whole. */
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        printf("maxrss_kb=%ld\n", ru.ru_maxrss);
    printf("status=%ld\nbytes=%llu\nstart_offset=%llu\nresumed=%d\nnot_modified=%d\n"
           "not_found=%d\netag=%s\nlast_modified=%s\ncontent_encoding=%s\nurl=%s\n"
           "server=%s:%ld\nreason=%s\n",
           r->status, (unsigned long long)r->bytes, (unsigned long long)r->start_offset, r->resumed,
           r->not_modified, r->not_found, r->etag, r->last_modified, r->content_encoding,
           r->effective_url, r->server_ip, r->server_port, r->reason);
}

int main(int argc, char **argv)
{
    struct fetch_options o;
    fetch_options_init(&o);
    const char *product = NULL, *version = NULL, *serial = NULL, *mac = NULL, *put = NULL;
    char ua[512];
    int use_buffer = 0, progress = 0, on_sig = 0;
    long pull = 0, cancel_after = -1;
    struct progress_log plog = {0, 0, 0, 1};
    static const struct option longopts[] = {
        {"user", 1, 0, 'u'},
        {"password", 1, 0, 'p'},
        {"post", 1, 0, 'd'},
        {"put", 1, 0, 'T'},
        {"content-type", 1, 0, 'y'},
        {"ca", 1, 0, 'c'},
        {"extra-ca", 1, 0, 'x'},
        {"cert", 1, 0, 'E'},
        {"key", 1, 0, 'K'},
        {"ua-product", 1, 0, 'P'},
        {"ua-version", 1, 0, 'V'},
        {"ua-serial", 1, 0, 'S'},
        {"ua-mac", 1, 0, 'M'},
        {"restrict", 1, 0, 'r'},
        {"max-size", 1, 0, 'm'},
        {"connect-timeout", 1, 0, 'C'},
        {"timeout", 1, 0, 't'},
        {"low-speed", 1, 0, 'l'},
        {"low-speed-time", 1, 0, 'L'},
        {"redirects", 1, 0, 'R'},
        {"blksize", 1, 0, 'b'},
        {"resume", 1, 0, 'o'},
        {"etag", 1, 0, 'e'},
        {"last-modified", 1, 0, 'i'},
        {"buffer", 0, 0, 'B'},
        {"pull", 1, 0, 'G'},
        {"rate", 1, 0, 'Z'},
        {"progress", 0, 0, 'Q'},
        {"cancel-after", 1, 0, 'X'},
        {"cancel-on-signal", 0, 0, 'U'},
        {0, 0, 0, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'u':
            o.username = optarg;
            break;
        case 'p':
            o.password = optarg;
            break;
        case 'd':
            o.method = FETCH_POST, o.body = optarg, o.body_len = strlen(optarg);
            break;
        case 'T':
            put = optarg;
            break;
        case 'y':
            o.content_type = optarg;
            break;
        case 'c':
            o.ca_file = optarg;
            break;
        case 'x':
            o.extra_ca_file = optarg;
            break;
        case 'E':
            o.client_cert = optarg;
            break;
        case 'K':
            o.client_key = optarg;
            break;
        case 'P':
            product = optarg;
            break;
        case 'V':
            version = optarg;
            break;
        case 'S':
            serial = optarg;
            break;
        case 'M':
            mac = optarg;
            break;
        case 'r':
            o.restricted_domains = optarg;
            break;
        case 'm':
            o.max_size = strtoull(optarg, NULL, 10);
            break;
        case 'C':
            o.connect_timeout_ms = strtol(optarg, NULL, 10);
            break;
        case 't':
            o.timeout_ms = strtol(optarg, NULL, 10);
            break;
        case 'l':
            o.low_speed_limit = strtol(optarg, NULL, 10);
            break;
        case 'L':
            o.low_speed_time_s = strtol(optarg, NULL, 10);
            break;
        case 'R':
            o.max_redirects = atoi(optarg);
            break;
        case 'b':
            o.tftp_blksize = atoi(optarg);
            break;
        case 'o':
            o.resume_from = strtoull(optarg, NULL, 10);
            break;
        case 'e':
            o.if_none_match = optarg;
            break;
        case 'i':
            o.if_modified_since = optarg;
            break;
        case 'B':
            use_buffer = 1;
            break;
        case 'G':
            pull = strtol(optarg, NULL, 10);
            break;
        case 'Z':
            o.max_recv_speed = strtoull(optarg, NULL, 10);
            break;
        case 'Q':
            progress = 1;
            break;
        case 'X':
            cancel_after = strtol(optarg, NULL, 10);
            break;
        case 'U':
            on_sig = 1;
            break;
        default:
            usage();
            return UG_ERR_USAGE;
        }
    }
    if (argc - optind != 2 || (pull < 0)) {
        usage();
        return UG_ERR_USAGE;
    }
    o.url = argv[optind];
    const char *outfile = argv[optind + 1];
    if (product || version || serial || mac) {
        (void)serial; /* the phones' User-Agent carries no serial */
        fetch_user_agent(ua, sizeof ua, product, version, mac);
        o.user_agent = ua;
    }
    if (progress) {
        o.progress = on_progress;
        o.progress_ctx = &plog;
    }
    pthread_t canceller;
    int canceller_started = 0;
    if (on_sig || cancel_after >= 0) {
        o.cancel = &cancel_flag;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        if (on_sig)
            sigaction(SIGUSR1, &sa, NULL);
        if (cancel_after >= 0)
            canceller_started = pthread_create(&canceller, NULL, cancel_thread, &cancel_after) == 0;
    }
    double started = now_s(), returned = 0;

    char err[UG_ERRBUF] = "";
    struct fetch_result res;
    memset(&res, 0, sizeof res);
    struct buf body = {0}, upload = {0};
    struct fetch_reader *reader = NULL;
    char *piece = NULL;
    ug_err rc = UG_OK;
    int fd = -1;
    if (put) {
        if ((rc = fs_read_file(put, 64u << 20, &upload, err)) != UG_OK)
            goto out;
        o.method = FETCH_PUT, o.body = upload.data, o.body_len = upload.len;
    }
    /* Never truncated up front: a resume keeps the bytes already there. */
    fd = open(outfile, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = ug_fail(err, UG_ERR_OTHER, "%s: %s", outfile, strerror(errno));
        goto out;
    }
    if (use_buffer) {
        rc = fetch_to_buffer(&o, o.max_size ? o.max_size : (256u << 20), &body, &res, err);
        if (rc == UG_OK && !res.not_modified) {
            struct file_sink f = {fd};
            rc = file_sink(&f, body.data, body.len, 0, err);
        }
    } else if (pull) {
        rc = fetch_open(&o, &reader, &res, err);
        if (rc != UG_OK)
            goto out;
        if (!(piece = malloc((size_t)pull))) {
            rc = ug_oom(err);
            goto out;
        }
        uint64_t offset = fetch_reader_result(reader)->start_offset;
        unsigned long reads = 0;
        for (;;) {
            size_t got = 0;
            if ((rc = fetch_read(reader, piece, (size_t)pull, &got, err)) != UG_OK)
                break;
            if (got == 0)
                break;
            if (got > (size_t)pull) {
                rc = ug_fail(err, UG_ERR_OTHER, "fetch_read returned more than asked");
                break;
            }
            if (reads == 0)
                offset = fetch_reader_result(reader)->start_offset;
            struct file_sink f = {fd};
            if ((rc = file_sink(&f, piece, got, offset, err)) != UG_OK)
                break;
            offset += got;
            reads++;
        }
        res = *fetch_reader_result(reader);
        printf("reads=%lu\n", reads);
    } else {
        struct file_sink f = {fd};
        rc = fetch_to_sink(&o, file_sink, &f, &res, err);
    }
    if (rc == UG_OK && !res.not_modified &&
        ftruncate(fd, (off_t)(res.start_offset + res.bytes)) != 0)
        rc = ug_fail(err, UG_ERR_OTHER, "%s: %s", outfile, strerror(errno));
out:
    returned = now_s();
    if (canceller_started)
        pthread_join(canceller, NULL);
    printf("seconds=%.3f\n", returned - started);
    if (cancel_flag) /* measured before the join above could add to it */
        printf("cancel_latency_ms=%.0f\n",
               (returned - (double)cancel_at.tv_sec - cancel_at.tv_nsec / 1e9) * 1000);
    if (progress)
        printf("progress_calls=%lu\nprogress_last=%llu\nprogress_total=%llu\n"
               "progress_monotonic=%d\n",
               plog.calls, (unsigned long long)plog.last, (unsigned long long)plog.total,
               plog.monotonic);
    print_result(&res);
    if (rc != UG_OK)
        fprintf(stderr, "fetch_tool: %s\n", err);
    if (fd >= 0)
        close(fd);
    free(piece);
    fetch_close(reader);
    buf_free(&body);
    buf_free(&upload);
    fetch_global_cleanup();
    return (int)rc;
}
