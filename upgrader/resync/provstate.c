/* SPDX-License-Identifier: MIT */
/* The provisioning state machine, kept free of I/O so that its rules are tested as a
 * table; resync.c stores the state in DIR/resync.json. */
#include "resync/provstate.h"

#include <string.h>

static const char *const names[] = {"MFG-RESET", "SP-CUST", "SEC-PRV-1", "SEC-PRV-2"};

const char *provstate_name(enum prov_state s)
{
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "unknown";
}

int provstate_parse(const char *text)
{
    for (size_t i = 0; text && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(text, names[i]) == 0)
            return (int)i;
    return -1;
}

enum prov_state provstate_next(enum prov_state current, const struct prov_outcome *o)
{
    if (!o->applied)
        return current;
    /* Decrypting with the armed key is what SEC-PRV-2 means; a profile that rotates the
     * key or path arms the next rule too, and still counts as the secure steady state. */
    if (o->used_key)
        return PROV_SEC_PRV_2;
    if (o->armed_key)
        return PROV_SEC_PRV_1;
    return PROV_SP_CUST;
}

const char *provstate_led(ug_err result)
{
    if (result == UG_OK)
        return PROV_LED_OFF;
    if (result == UG_ERR_UNREACHABLE)
        return PROV_LED_SLOW_BLINK;
    return PROV_LED_FAST_BLINK;
}

int provstate_prvst(int had_previous, ug_err previous_result)
{
    if (!had_previous)
        return PROV_PRVST_POWER_UP;
    return previous_result == UG_OK ? PROV_PRVST_PERIODIC : PROV_PRVST_RETRY;
}
