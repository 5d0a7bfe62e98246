/* SPDX-License-Identifier: MIT */
/* A fleet of agents on simulated time: the daemon's own schedule code (daemon/schedule.c)
 * drives 10,000 devices that all power on at once after an outage, and the figures are
 * what their provisioning server sees, second by second: the first wave against a uniform
 * spread, a day of periodic resyncs, and the retry storm after the server answered 404 to
 * everyone for an hour. No clock and no network: one run takes well under a second. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/schedule.h"

#define DEVICES 10000
#define HORIZON (2 * 86400) /* simulated seconds */

struct fleet {
    struct sched_params p;
    struct sched_history h[DEVICES];
    int next[DEVICES];     /* the next device in the same second's list */
    int head[HORIZON + 1]; /* the first device due at each second, -1: none */
    uint32_t hits[HORIZON + 1];
    struct delay_rng rng;
};

/* Parameter values by name for sched_params_read; the rest take their defaults. */
struct values {
    const char *names[4], *texts[4];
};

static const char *value(void *ctx, const char *name)
{
    const struct values *v = ctx;
    for (int i = 0; i < 4 && v->names[i]; i++)
        if (strcmp(v->names[i], name) == 0)
            return v->texts[i];
    return NULL;
}

static void at(struct fleet *f, int dev, int64_t due)
{
    if (due < 0 || due > HORIZON)
        return;
    f->next[dev] = f->head[due];
    f->head[due] = dev;
}

/* Every device powers on at 0; the server fails every request before fail_until. */
static void run(struct fleet *f, const struct values *v, int64_t fail_until)
{
    memset(f->h, 0, sizeof f->h);
    memset(f->hits, 0, sizeof f->hits);
    for (int t = 0; t <= HORIZON; t++)
        f->head[t] = -1;
    sched_params_read(&f->p, value, (void *)v);
    delay_rng_seed(&f->rng, 20240601);
    for (int d = 0; d < DEVICES; d++)
        at(f, d, sched_first(&f->p, 0, delay_rng_next, &f->rng));
    for (int64_t t = 0; t <= HORIZON; t++) {
        for (int d = f->head[t], n; d >= 0; d = n) {
            n = f->next[d];
            f->hits[t]++;
            int ok = t >= fail_until;
            sched_record(&f->h[d], ok);
            at(f, d,
               ok ? sched_next(&f->p, &f->h[d], t, 0, delay_rng_next, &f->rng)
                  : sched_retry(&f->p, &f->h[d], t, 0, 0, delay_rng_next, &f->rng));
        }
    }
}

static uint32_t peak(const struct fleet *f, int64_t from, int64_t to, int64_t *when)
{
    uint32_t m = 0;
    for (int64_t t = from; t < to && t <= HORIZON; t++)
        if (f->hits[t] > m) {
            m = f->hits[t];
            *when = t;
        }
    return m;
}

static uint64_t total(const struct fleet *f, int64_t from, int64_t to)
{
    uint64_t n = 0;
    for (int64_t t = from; t < to && t <= HORIZON; t++)
        n += f->hits[t];
    return n;
}

static void power_on(struct fleet *f)
{
    struct values v = {{NULL}, {NULL}};
    run(f, &v, 0);
    uint32_t window = f->p.random_delay_s + 1; /* 0..random_delay_s inclusive */
    double uniform = (double)DEVICES / window;
    int64_t when = 0;
    uint32_t top = peak(f, 0, window, &when);
    printf("power-on of %d devices, Resync_Random_Delay=2 (0..%u s): %llu requests in the "
           "first %u s; peak %u/s at t=%llds against a uniform %.0f/s: %.2fx (goal <= 1.2x: %s)\n",
           DEVICES, f->p.random_delay_s, (unsigned long long)total(f, 0, window), window, top,
           (long long)when, uniform, top / uniform, top / uniform <= 1.2 ? "met" : "NOT met");
}

static void periodic_day(struct fleet *f, const char *periodic)
{
    struct values v = {{"Resync_Periodic"}, {periodic}};
    run(f, &v, 0);
    int64_t when = 0;
    uint32_t first = peak(f, 0, 3600, &when), later = peak(f, 3600, 86400 + 3600, &when);
    printf("a day of Resync_Periodic=%s: %llu requests in 24 h after the first wave (%.1f a "
           "device), peak %u/s (first wave %u/s) at t=%llds\n",
           periodic, (unsigned long long)total(f, 3600, 86400 + 3600),
           (double)total(f, 3600, 86400 + 3600) / DEVICES, later, first, (long long)when);
}

static void retry_storm(struct fleet *f)
{
    struct values v = {{NULL}, {NULL}};
    run(f, &v, 3600);
    int64_t when = 0;
    uint32_t first = peak(f, 0, 60, &when);
    uint32_t storm = peak(f, 60, 3600, &when);
    int64_t storm_at = when;
    uint32_t after = peak(f, 3600, 2 * 3600, &when);
    printf("404 to everyone for an hour (Resync_Error_Retry_Delay default 60,120,240,...): "
           "first wave peak %u/s; retries during the hour peak %u/s at t=%llds (goal: no "
           "burst above the first wave: %s); after recovery peak %u/s at t=%llds\n",
           first, storm, (long long)storm_at, storm <= first ? "met" : "NOT met", after,
           (long long)when);
    printf("  requests a minute during the outage (minutes 0..60, each line 10 minutes):\n");
    for (int m = 0; m < 60; m += 10) {
        printf("   ");
        for (int k = m; k < m + 10; k++)
            printf(" %6llu", (unsigned long long)total(f, k * 60, (k + 1) * 60));
        printf("\n");
    }
    printf("  requests in the hour after it: %llu (each device succeeds at its next retry)\n",
           (unsigned long long)total(f, 3600, 7200));
}

int main(void)
{
    struct fleet *f = malloc(sizeof *f);
    if (!f)
        return 1;
    power_on(f);
    periodic_day(f, "3600");
    periodic_day(f, "3600+600");
    retry_storm(f);
    free(f);
    return 0;
}
