/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for macro.c: any text expanded as a rule, an option or a Log_* template
 * is (with and without the secret macros), against parameters that themselves hold `$`
 * forms: expansion happens once, never recursively, and ends cleanly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "device/device.h"
#include "fuzz_support.h"
#include "lang/macro.h"

static const char *fixed_param(void *opaque, const char *name)
{
    (void)opaque;
    if (strcmp(name, "GPP_A") == 0)
        return "$A$(A:1:2)$$";
    if (strcmp(name, "GPP_B") == 0)
        return "0123456789abcdef";
    if (strcmp(name, "GPP_SA") == 0)
        return "secret";
    if (strcmp(name, "User_ID_1_") == 0)
        return "1001";
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
    if (macro_set(&ctx, "SWVER", "1.2.3", err) == UG_OK &&
        macro_set(&ctx, "ERR", "$A $(", err) == UG_OK) {
        for (unsigned flags = 0; flags <= MACRO_SECRETS; flags++) {
            struct buf out = {0};
            (void)macro_expand(&ctx, text, flags, &out, err);
            buf_free(&out);
        }
        if (size > 1) {
            struct buf out = {0};
            (void)macro_expand_span(&ctx, text + 1, size - 1, 0, 2, &out, err);
            buf_free(&out);
        }
    }
    (void)macro_is_known(text);
    macro_free(&ctx);
    free(text);
    return 0;
}
