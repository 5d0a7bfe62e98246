/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for profile.c: any bytes as a profile (XML, text, gzip, or encrypted
 * with a fixed key, or read with a fixed --alias map) must parse or fail cleanly, never
 * crash or leak. */
#include <stddef.h>
#include <stdint.h>

#include "lang/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[UG_ERRBUF];
    struct profile p;
    if (profile_read(data, size, NULL, "fuzz", &p, err) == UG_OK)
        profile_free(&p);
    static const char map[] = "/customer-account/SIP-number = /flat-profile/User_ID_1_ ;"
                              "/a/b = GPP_A ; /flat-profile/x = /GPP_B";
    if (size && data[0] == '<' &&
        profile_read_aliased(data, size, NULL, map, "fuzz", &p, err) == UG_OK)
        profile_free(&p);
    if (size > 16 && data[0] == 'S' &&
        profile_read(data, size, "fuzzkey", "fuzz", &p, err) == UG_OK)
        profile_free(&p);
    return 0;
}
