/* SPDX-License-Identifier: MIT */
/* Delay-list parsing and picking. The list is small and parsed each time it is used,
 * so a changed parameter takes effect at the next pick without any cache. */
#include "lang/delay.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static int parse_number(const char *text, size_t *pos, uint32_t *out)
{
    size_t i = *pos;
    uint64_t n = 0;
    if (!isdigit((unsigned char)text[i]))
        return -1;
    for (; isdigit((unsigned char)text[i]); i++) {
        n = n * 10 + (uint64_t)(text[i] - '0');
        if (n > UINT32_MAX)
            return -1;
    }
    *out = (uint32_t)n;
    *pos = i;
    return 0;
}

static void skip_spaces(const char *text, size_t *pos)
{
    while (text[*pos] == ' ' || text[*pos] == '\t')
        (*pos)++;
}

ug_err delay_parse(const char *text, struct delay_list *out, char *err)
{
    memset(out, 0, sizeof *out);
    size_t i = 0;
    skip_spaces(text, &i);
    if (!text[i])
        return UG_OK;
    for (;;) {
        if (out->count == DELAY_MAX_ITEMS)
            return ug_fail(err, UG_ERR_USAGE, "delay list '%s': more than %d elements", text,
                           DELAY_MAX_ITEMS);
        struct delay_item *it = &out->item[out->count];
        skip_spaces(text, &i);
        if (parse_number(text, &i, &it->seconds) != 0)
            return ug_fail(err, UG_ERR_USAGE,
                           "delay list '%s': column %zu: expected a number of seconds", text,
                           i + 1);
        skip_spaces(text, &i);
        if (text[i] == '+') {
            i++;
            skip_spaces(text, &i);
            if (parse_number(text, &i, &it->random) != 0)
                return ug_fail(err, UG_ERR_USAGE,
                               "delay list '%s': column %zu: expected a number after '+'", text,
                               i + 1);
            skip_spaces(text, &i);
        }
        out->count++;
        if (!text[i])
            break;
        if (text[i] != ',')
            return ug_fail(err, UG_ERR_USAGE,
                           "delay list '%s': column %zu: expected ',' or the end", text, i + 1);
        i++;
    }
    /* A lone 0 is how Cisco's parameters say "disabled" (Resync_Periodic = 0). */
    if (out->count == 1 && out->item[0].seconds == 0 && out->item[0].random == 0)
        out->count = 0;
    return UG_OK;
}

uint64_t delay_pick(const struct delay_list *list, unsigned k, delay_random_fn rnd, void *opaque)
{
    if (list->count == 0)
        return 0;
    const struct delay_item *it = &list->item[k < list->count ? k : list->count - 1];
    uint64_t d = it->seconds;
    if (it->random && rnd)
        d += rnd(opaque, it->random);
    return d;
}

void delay_rng_seed(struct delay_rng *rng, uint64_t seed)
{
    /* xorshift must never hold 0; mixing the seed keeps seed 0 usable. */
    rng->state = seed ^ 0x9e3779b97f4a7c15ull;
    if (rng->state == 0)
        rng->state = 1;
}

uint32_t delay_rng_next(void *opaque, uint32_t bound)
{
    struct delay_rng *rng = opaque;
    uint64_t x = rng->state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng->state = x;
    uint64_t r = x * 0x2545f4914f6cdd1dull;
    return (uint32_t)((r >> 32) % ((uint64_t)bound + 1));
}
