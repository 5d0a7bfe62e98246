/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the bundle manifest parser (bundle.c): signed manifests are trusted
 * input, but the parser must still refuse anything malformed without crashing. */
#include <stddef.h>
#include <stdint.h>

#include "bundle/bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[UG_ERRBUF];
    struct bundle_manifest m;
    if (bundle_manifest_parse((const char *)data, size, &m, err) == UG_OK)
        bundle_manifest_free(&m);
    return 0;
}
