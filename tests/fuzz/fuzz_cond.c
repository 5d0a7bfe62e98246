/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for cond.c: any text as a condition (a rule's `( ... )?` or a
 * Resync_Trigger_* value), checked and evaluated against fixed macros; either must end
 * cleanly with a result of 0 or 1 or a "column N" refusal. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "device/device.h"
#include "fuzz_support.h"
#include "lang/cond.h"
#include "lang/macro.h"

static const char *fixed_param(void *opaque, const char *name)
{
    (void)opaque;
    if (strcmp(name, "GPP_A") == 0)
        return "12";
    if (strcmp(name, "GPP_B") == 0)
        return "1.2.3";
    if (strcmp(name, "GPP_C") == 0)
        return "\"quoted\" and";
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    if (!text)
        return 0;
    struct device dev;
    fuzz_device(&dev);
    struct macro_context ctx;
    macro_init(&ctx, &dev, fixed_param, NULL);
    char err[UG_ERRBUF];
    int result = -1;
    if (macro_set(&ctx, "SWVER", "sip88xx.11-0-1MPP-477", err) == UG_OK &&
        macro_set(&ctx, "UPGST", "3", err) == UG_OK) {
        (void)cond_check_syntax(text, err);
        if (cond_eval(text, &ctx, &result, err) == UG_OK && result != 0 && result != 1)
            abort();
        if (size > 2 && cond_eval_span(text, 1, size - 1, &ctx, &result, err) == UG_OK &&
            result != 0 && result != 1)
            abort();
    }
    macro_free(&ctx);
    free(text);
    return 0;
}
