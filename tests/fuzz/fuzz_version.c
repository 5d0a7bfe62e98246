/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for version.c: any bytes, parsed and compared against themselves and a
 * fixed version, must not crash, and compare must be reflexive. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/version.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    if (!text)
        return 0;
    struct version v, fixed;
    if (version_parse(text, &v) == 0) {
        if (version_compare_parsed(&v, &v) != 0)
            abort();
        version_parse("sip88xx.11-0-1MPP-477", &fixed);
        int a = version_compare_parsed(&v, &fixed), b = version_compare_parsed(&fixed, &v);
        if (a != -b)
            abort();
    }
    free(text);
    return 0;
}
