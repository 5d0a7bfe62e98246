/* SPDX-License-Identifier: MIT */
/* Delay lists ("60,120,240+30"): the retry and periodic schedules of Resync_Periodic,
 * Resync_Error_Retry_Delay and Upgrade_Error_Retry_Delay (docs/provisioning.md 3.2). */
#ifndef UPGRADER_DELAY_H
#define UPGRADER_DELAY_H

#include <stdint.h>

#include "common/error.h"

#define DELAY_MAX_ITEMS 64

struct delay_item {
    uint32_t seconds; /* the fixed part */
    uint32_t random;  /* +R: up to R more seconds, chosen at random */
};

/* An empty list (count 0) means "disabled" (an empty value or a single 0). */
struct delay_list {
    unsigned count;
    struct delay_item item[DELAY_MAX_ITEMS];
};

/* Returns a random number in 0..bound inclusive; the scheduler passes a real source,
 * tests a seeded one. */
typedef uint32_t (*delay_random_fn)(void *opaque, uint32_t bound);

/* A small seedable generator (xorshift64*) usable as a delay_random_fn. */
struct delay_rng {
    uint64_t state;
};

/* Parses text; UG_ERR_USAGE naming the column of the first bad character. */
ug_err delay_parse(const char *text, struct delay_list *out, char *err) UG_MUST_CHECK;
/* The delay before attempt k (0 = first): element k, the last one repeating, plus its
 * random part from rnd (NULL: no random part). 0 when the list is empty. */
uint64_t delay_pick(const struct delay_list *list, unsigned k, delay_random_fn rnd, void *opaque);
/* Seeds rng (any seed, 0 included). */
void delay_rng_seed(struct delay_rng *rng, uint64_t seed);
/* delay_random_fn over a struct delay_rng passed as opaque. */
uint32_t delay_rng_next(void *opaque, uint32_t bound);

#endif
