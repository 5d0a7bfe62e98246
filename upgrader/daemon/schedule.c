/* SPDX-License-Identifier: MIT */
/* The resync schedule as pure functions: parameters, history and time in, a time out. Kept
 * free of clocks and I/O so that a bench can run ten thousand devices through it. */
#include "daemon/schedule.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lang/paramdefs.h"

static long long int_param(const char *v, long long dflt, long long min, long long max)
{
    char *end = NULL;
    if (!v || !*v)
        return dflt;
    long long n = strtoll(v, &end, 10);
    return *end || n < min || n > max ? dflt : n;
}

static void list_param(const char *v, const char *dflt, struct delay_list *out)
{
    char ignored[UG_ERRBUF];
    if (delay_parse(v ? v : dflt, out, ignored) != UG_OK &&
        delay_parse(dflt, out, ignored) != UG_OK)
        memset(out, 0, sizeof *out);
}

int sched_parse_hhmm(const char *text)
{
    if (!text || strlen(text) != 4)
        return -1;
    for (int i = 0; i < 4; i++)
        if (!isdigit((unsigned char)text[i]))
            return -1;
    int hh = (text[0] - '0') * 10 + (text[1] - '0'), mm = (text[2] - '0') * 10 + (text[3] - '0');
    if (mm > 59 || hh > 24 || (hh == 24 && mm != 0))
        return -1;
    return hh * 60 + mm;
}

/* Resync_At_Random_Delay: rounded to minutes ((v+30)/60); below 600 a 0..600 s window. */
static uint32_t at_window(long long v)
{
    if (v < SCHED_AT_MIN_WINDOW_S)
        return SCHED_AT_MIN_WINDOW_S;
    return (uint32_t)((v + 30) / 60 * 60);
}

void sched_params_read(struct sched_params *p, const char *(*get)(void *ctx, const char *name),
                       void *ctx)
{
    memset(p, 0, sizeof *p);
    const char *on_reset = get(ctx, "Resync_On_Reset");
    p->on_reset = !on_reset || paramdefs_parse_bool(on_reset) != 0;
    p->random_delay_s =
        (uint32_t)int_param(get(ctx, "Resync_Random_Delay"), 2, 0, 65535) * SCHED_RANDOM_UNIT_S;
    list_param(get(ctx, "Resync_Periodic"), "3600", &p->periodic);
    p->at_minute = sched_parse_hhmm(get(ctx, "Resync_At__HHmm_"));
    p->at_window_s = at_window(int_param(get(ctx, "Resync_At_Random_Delay"), 600, 0, 65535));
    list_param(get(ctx, "Resync_Error_Retry_Delay"),
               "60,120,240,480,960,1920,3840,7680,15360,30720,61440,86400", &p->retry);
    p->forced_delay_s =
        (uint32_t)int_param(get(ctx, "Forced_Resync_Delay"), 14400, 0, 2147483647LL);
    const char *t1 = get(ctx, "Resync_Trigger_1"), *t2 = get(ctx, "Resync_Trigger_2");
    p->has_triggers = (t1 && t1[strspn(t1, " \t")]) || (t2 && t2[strspn(t2, " \t")]);
}

int sched_params_equal(const struct sched_params *a, const struct sched_params *b)
{
    return memcmp(a, b, sizeof *a) == 0; /* zeroed first: padding and unused items compare */
}

static uint32_t draw(delay_random_fn rnd, void *rctx, uint32_t bound)
{
    return rnd && bound ? rnd(rctx, bound) : 0;
}

/* The start of the next Resync_At window strictly after now, plus a draw within it. */
static int64_t next_daily(const struct sched_params *p, int64_t now, long utc_offset_s,
                          delay_random_fn rnd, void *rctx)
{
    int64_t local = now + utc_offset_s;
    int64_t day = local - ((local % 86400) + 86400) % 86400;
    int64_t at = day + (int64_t)p->at_minute * 60;
    if (at <= local)
        at += 86400;
    return at - utc_offset_s + draw(rnd, rctx, p->at_window_s);
}

int64_t sched_next(const struct sched_params *p, const struct sched_history *h, int64_t now,
                   long utc_offset_s, delay_random_fn rnd, void *rctx)
{
    /* A valid Resync_At replaces the periodic resync (docs/provisioning.md 3.1). */
    if (p->at_minute >= 0)
        return next_daily(p, now, utc_offset_s, rnd, rctx);
    if (!p->periodic.count)
        return -1;
    unsigned k = h && h->successes ? h->successes - 1 : 0;
    return now + (int64_t)delay_pick(&p->periodic, k, rnd, rctx);
}

int64_t sched_first(const struct sched_params *p, int64_t now, delay_random_fn rnd, void *rctx)
{
    if (!p->on_reset)
        return sched_next(p, NULL, now, 0, rnd, rctx);
    return now + draw(rnd, rctx, p->random_delay_s);
}

int64_t sched_retry(const struct sched_params *p, const struct sched_history *h, int64_t now,
                    long retry_after_s, long utc_offset_s, delay_random_fn rnd, void *rctx)
{
    if (!p->retry.count)
        return sched_next(p, NULL, now, utc_offset_s, rnd, rctx);
    unsigned k = h->failures ? h->failures - 1 : 0;
    int64_t due = now + (int64_t)delay_pick(&p->retry, k, rnd, rctx);
    return retry_after_s > 0 && now + retry_after_s > due ? now + retry_after_s : due;
}

int64_t sched_force_at(const struct sched_params *p, int64_t due)
{
    return due + p->forced_delay_s;
}

void sched_record(struct sched_history *h, int success)
{
    if (success) {
        h->successes++;
        h->failures = 0;
    } else {
        h->failures++;
        h->successes = 0;
    }
}
