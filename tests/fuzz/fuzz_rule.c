/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for rule.c, cond.c and macro.c: any text as a Profile_Rule (and as an
 * Upgrade_Rule), evaluated against a fixed device, must evaluate or fail cleanly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "device/device.h"
#include "fuzz_support.h"
#include "lang/macro.h"
#include "lang/rule.h"

static const char *fixed_param(void *opaque, const char *name)
{
    (void)opaque;
    if (strcmp(name, "GPP_A") == 0)
        return "0123456789abcdef";
    if (strcmp(name, "GPP_B") == 0)
        return "dir";
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
        macro_set(&ctx, "REGTMR", "42", err) == UG_OK) {
        struct rule_result r;
        if (rule_eval(text, RULE_PROFILE, &ctx, "10.0.0.1", &r, err) == UG_OK)
            rule_result_free(&r);
        if (rule_eval(text, RULE_UPGRADE, &ctx, NULL, &r, err) == UG_OK)
            rule_result_free(&r);
        /* What a profile from a server does to a rule that names no server. */
        struct buf filled = {0};
        /* Filling a host never breaks a rule that was well-formed, but for a URL it makes
         * longer than a URL may be, which is refused as such. */
        if (rule_fill_host(text, "prov.example.com", &filled, err) > 0 &&
            rule_check_syntax(text, RULE_UPGRADE, err) == UG_OK &&
            rule_check_syntax(filled.data, RULE_UPGRADE, err) != UG_OK &&
            !strstr(err, "longer than"))
            abort();
        buf_free(&filled);
    }
    macro_free(&ctx);
    free(text);
    return 0;
}
