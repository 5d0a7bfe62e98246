/* SPDX-License-Identifier: MIT */
/* What every agent command opens first: the device identity, its parameter store, its boot
 * state, and from them the transport settings and macro values that resync and upgrade share. */
#ifndef UPGRADER_AGENT_H
#define UPGRADER_AGENT_H

#include "bootctl/bootstate.h"
#include "common/error.h"
#include "device/device.h"
#include "lang/macro.h"
#include "lang/params.h"
#include "net/fetch.h"

struct agent {
    struct device dev;
    struct param_store params;
    int params_open;
    struct bootstate boot;
    int boot_valid;           /* 0: no valid boot state (running version unknown) */
    char running_slot;        /* 'A' or 'B'; 0 when the boot state is not valid */
    char running_version[64]; /* $SWVER: the booted slot's installed version */
    /* Files in the state folder, "" when the device has none. */
    char keyring[1100];
    char ca_file[1100];
    char client_cert[1100];
    char client_key[1100];
    char custom_ca[1100]; /* installed by Custom_CA_Rule */
    char user_agent[512];
};

/* Loads identity, parameters (locked for update when params_for_update) and boot state. */
ug_err agent_open(const char *root, int params_for_update, struct agent *a,
                  char *err) UG_MUST_CHECK;
/* Releases what agent_open took (the parameter lock among it). */
void agent_close(struct agent *a);
/* The transport settings of this device: CA (and Custom_CA_Rule's), client certificate, User-Agent,
 * Restricted_Access_Domains, default timeouts. The caller sets the URL. */
void agent_fetch_options(const struct agent *a, struct fetch_options *o);
/* A macro context with identity, parameters, $SWVER and $HWVER; free with macro_free. */
ug_err agent_macro_context(const struct agent *a, struct macro_context *ctx,
                           char *err) UG_MUST_CHECK;
/* Sends the Log_* template named template_param, expanded with ctx (never with the secret
 * GPP_SA..SD), to Syslog_Server as an RFC 3164 datagram with Syslog_Identifier as host.
 * Nothing is sent when the template or the server is empty. severity: SYSLOG_SEVERITY_*. */
ug_err agent_log(const struct agent *a, const struct macro_context *ctx, const char *template_param,
                 int severity, char *err) UG_MUST_CHECK;
/* Builds the path of a file in the state folder. */
int agent_path(const struct agent *a, const char *name, char *out, size_t outsz);

#endif
