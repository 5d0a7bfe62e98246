/* SPDX-License-Identifier: MIT */
/* What the text harnesses share: the input as a C string, and the device whose identity the
 * macros expand ($MA, $SN, $PN, $HWVER). Static inline: each harness is its own program. */
#ifndef UPGRADER_TESTS_FUZZ_SUPPORT_H
#define UPGRADER_TESTS_FUZZ_SUPPORT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "device/device.h"

/* A NUL-terminated copy of the input (the parsers take C strings), or NULL. */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text) {
        memcpy(text, data, size);
        text[size] = '\0';
    }
    return text;
}

/* The fixed device every macro harness expands against. */
static inline void fuzz_device(struct device *dev)
{
    memset(dev, 0, sizeof *dev);
    strcpy(dev->mac, "000e08aabbcc");
    strcpy(dev->serial, "SN1");
    strcpy(dev->product, "UG-PHONE-1");
    strcpy(dev->hwver, "1.0");
}

#endif
