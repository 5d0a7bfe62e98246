/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for delay.c: any text as a delay list (Resync_Periodic, the error retry
 * delays). A parsed list's delays stay within what its items say. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_support.h"
#include "lang/delay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    if (!text)
        return 0;
    struct delay_list list;
    char err[UG_ERRBUF];
    if (delay_parse(text, &list, err) == UG_OK) {
        if (list.count > DELAY_MAX_ITEMS)
            abort();
        struct delay_rng rng;
        delay_rng_seed(&rng, size);
        for (unsigned k = 0; k <= list.count + 1; k++) {
            uint64_t d = delay_pick(&list, k, delay_rng_next, &rng);
            if (list.count == 0) {
                if (d != 0)
                    abort();
                continue;
            }
            const struct delay_item *it = &list.item[k < list.count ? k : list.count - 1];
            if (d < it->seconds || d > (uint64_t)it->seconds + it->random)
                abort();
        }
    }
    free(text);
    return 0;
}
