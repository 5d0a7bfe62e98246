/* SPDX-License-Identifier: MIT */
/* The transport's front: libcurl's global state, option defaults, the User-Agent, and the
 * blocking calls (pushed, buffered), each a loop over the engine until its transfer ends. */
#include "net/fetch.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "net/fetch_int.h"
#include "net/fetch_loop.h"

/* curl_global_init is not thread-safe in every libcurl build, so it runs exactly once
 * under pthread_once; the agent is single-threaded but the daemon may grow threads. */
static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

ug_err fetch_global_init(char *err)
{
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK)
        return ug_fail(err, UG_ERR_OTHER, "libcurl initialisation failed: %s",
                       curl_easy_strerror(global_rc));
    return UG_OK;
}

void fetch_global_cleanup(void)
{
    if (global_rc == CURLE_OK)
        curl_global_cleanup();
    global_rc = CURLE_FAILED_INIT;
}

int64_t fetch_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void fetch_options_init(struct fetch_options *o)
{
    memset(o, 0, sizeof *o);
    o->method = FETCH_GET;
    o->connect_timeout_ms = FETCH_DEFAULT_CONNECT_TIMEOUT_MS;
    o->low_speed_limit = FETCH_DEFAULT_LOW_SPEED_LIMIT;
    o->low_speed_time_s = FETCH_DEFAULT_LOW_SPEED_TIME_S;
    o->max_redirects = FETCH_DEFAULT_MAX_REDIRECTS;
}

void fetch_set_msg(char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, UG_ERRBUF, fmt, ap);
    va_end(ap);
}

void fetch_copy_str(char *out, size_t outsz, const char *in)
{
    if (!outsz)
        return;
    snprintf(out, outsz, "%s", in ? in : "");
}

void fetch_copy_printable(char *out, size_t outsz, const char *in)
{
    size_t n = 0;
    for (; in && *in && n + 1 < outsz; in++)
        out[n++] = (unsigned char)*in < 0x20 || *in == 0x7f ? '?' : *in;
    if (outsz)
        out[n] = '\0';
}

void fetch_user_agent(char *out, size_t outsz, const char *product, const char *version,
                      const char *mac)
{
    /* The form of Cisco's phones, which provisioning servers (Wazo's, for one) identify them by:
     * Cisco-CP-8841-3PCC/11.3.1 (000e08abcdef). */
    char p[128], v[128], m[64];
    fetch_copy_printable(p, sizeof p, product && *product ? product : "-");
    fetch_copy_printable(v, sizeof v, version && *version ? version : "-");
    fetch_copy_printable(m, sizeof m, mac && *mac ? mac : "-");
    snprintf(out, outsz, "Cisco-%s/%s (%s)", p, v, m);
}

/* Runs one pushed transfer to its end on o->engine, or on an engine of its own (exactly the
 * behaviour from before engines: nothing is kept between calls). */
static ug_err run_pushed(const struct fetch_options *o, fetch_sink_fn sink, void *ctx,
                         struct fetch_result *res, char *err)
{
    struct fetch_engine *own = NULL, *e = o->engine;
    struct fetch_transfer *t = NULL;
    ug_err rc = e ? UG_OK : fetch_engine_new(&own, err);
    if (rc == UG_OK)
        rc = fetch_transfer_start(own ? own : e, o, sink, NULL, ctx, &t, err);
    if (rc == UG_OK) {
        rc = fetch_transfer_wait(t, res, err);
    } else if (res) {
        memset(res, 0, sizeof *res);
        res->transfer_cpu = -1;
    }
    fetch_transfer_free(t);
    fetch_engine_free(own);
    return rc;
}

ug_err fetch_to_sink(const struct fetch_options *o, fetch_sink_fn sink, void *ctx,
                     struct fetch_result *res, char *err)
{
    if (!sink)
        return ug_fail(err, UG_ERR_OTHER, "fetch_to_sink: no sink");
    return run_pushed(o, sink, ctx, res, err);
}

struct buffer_sink {
    struct buf *out;
    size_t max, got;
};

static ug_err buffer_sink(void *ctx, const void *data, size_t len, uint64_t offset, char *err)
{
    struct buffer_sink *b = ctx;
    (void)offset; /* the buffer variant never asks to resume */
    if (len > b->max - b->got)
        return ug_fail(err, UG_ERR_UNUSABLE, "file too large (more than %zu bytes)", b->max);
    if (buf_append(b->out, data, len) != 0)
        return ug_oom(err);
    b->got += len;
    return UG_OK;
}

ug_err fetch_to_buffer(const struct fetch_options *o, size_t max_size, struct buf *out,
                       struct fetch_result *res, char *err)
{
    struct fetch_options copy = *o;
    copy.resume_from = 0;
    copy.range_length = 0;
    copy.ranges = NULL;
    if (!copy.max_size || copy.max_size > max_size)
        copy.max_size = max_size;
    struct buffer_sink b = {out, max_size, 0};
    return run_pushed(&copy, buffer_sink, &b, res, err);
}
