/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for catalog.c and planner.c: any bytes as a catalog; a parsed one is
 * planned to "latest" from two versions, which must end (cycles) and not crash. */
#include <stddef.h>
#include <stdint.h>

#include "upgrade/catalog.h"
#include "upgrade/planner.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[UG_ERRBUF];
    struct catalog c;
    if (catalog_parse((const char *)data, size, "http://fuzz.example/c/catalog.json", &c, err) !=
        UG_OK)
        return 0;
    static const char *const froms[] = {"1.0.0", "sip88xx.11-0-1MPP-477"};
    for (size_t i = 0; i < 2; i++) {
        struct plan_request req = {.from = froms[i], .to = "latest", .hardware = "1.0"};
        struct plan p;
        if (planner_plan(&c, &req, &p, err) == UG_OK)
            plan_free(&p);
    }
    catalog_free(&c);
    return 0;
}
