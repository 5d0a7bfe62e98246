/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for dhcp.c: any text as a DHCP client reports an option (66, 150, 159,
 * 160; "hex:..." included), through what a resync does with it: normalise, choose, split,
 * and put in front of a rule's URL. A normalised value must normalise to itself. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang/rule.h"
#include "resync/dhcp.h"

static const int options[] = {66, 150, 159, 160};

static void use(int option, const char *value)
{
    struct dhcp_servers s = {0};
    char *slot = option == 66    ? s.option66
                 : option == 150 ? s.option150
                 : option == 159 ? s.option159
                                 : s.option160;
    snprintf(slot, DHCP_SERVER_MAX, "%s", value);
    char chosen[DHCP_SERVER_MAX], host[DHCP_SERVER_MAX], err[UG_ERRBUF];
    int port;
    int got = dhcp_choose(&s, DHCP_DEFAULT_ORDER, chosen, sizeof chosen);
    if (got == 0)
        return;
    struct dhcp_default d;
    dhcp_default_of(chosen, got, &d);
    (void)dhcp_split_server(d.server, host, sizeof host, &port);
    (void)dhcp_profile_rule(&d, "/$PSN.xml", "/$PSN.xml");
    struct rule_url url = {0};
    if (rule_parse_url("/profile.xml", "placeholder", 0, &url, err) == UG_OK) {
        if (dhcp_use_default(&d, &url, err) == UG_OK && !url.text)
            abort();
        rule_url_free(&url);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int option = options[data[0] % 4];
    char *value = malloc(size);
    if (!value)
        return 0;
    memcpy(value, data + 1, size - 1);
    value[size - 1] = '\0';
    char out[DHCP_SERVER_MAX], again[DHCP_SERVER_MAX], err[UG_ERRBUF];
    if (dhcp_normalise(option, value, out, sizeof out, err) == UG_OK) {
        /* What the hook recorded is read back by the next lease's hook the same way. */
        if (dhcp_normalise(option, out, again, sizeof again, err) != UG_OK ||
            strcmp(out, again) != 0)
            abort();
        use(option, out);
    }
    free(value);
    return 0;
}
