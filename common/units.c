/* SPDX-License-Identifier: MIT */
/* Byte counts with binary suffixes, shared by every command that takes a size so that
 * `--slot-size 64M` and `--chunk-size 64K` mean the same kind of thing. */
#include "common/units.h"

#include <errno.h>
#include <stdlib.h>

int units_parse_size(const char *text, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(text, &end, 10);
    if (errno || end == text || text[0] == '-' || text[0] == '+' || text[0] == ' ')
        return -1;
    uint64_t mult = 1;
    switch (*end) {
    case 'K':
    case 'k':
        mult = 1024ull;
        end++;
        break;
    case 'M':
    case 'm':
        mult = 1024ull * 1024;
        end++;
        break;
    case 'G':
    case 'g':
        mult = 1024ull * 1024 * 1024;
        end++;
        break;
    default:
        break;
    }
    if (*end || n == 0 || n > UINT64_MAX / mult)
        return -1;
    *out = n * mult;
    return 0;
}
