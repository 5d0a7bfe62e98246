/* SPDX-License-Identifier: MIT */
/* The agent's view of its device, opened once per command. Keeping this in one place means
 * resync, upgrade and status agree on the running version and the transport settings. */
#include "session/agent.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "net/syslog_udp.h"

int agent_path(const struct agent *a, const char *name, char *out, size_t outsz)
{
    return device_path(&a->dev, name, out, outsz);
}

static void optional_file(const struct agent *a, const char *name, char *out, size_t outsz)
{
    if (agent_path(a, name, out, outsz) != 0 || !fs_exists(out))
        out[0] = '\0';
}

ug_err agent_open(const char *root, int params_for_update, struct agent *a, char *err)
{
    memset(a, 0, sizeof *a);
    ug_err rc = device_load(root, &a->dev, err);
    if (rc != UG_OK)
        return rc;
    rc = params_open(root, params_for_update, &a->params, err);
    if (rc != UG_OK)
        return rc;
    a->params_open = 1;

    /* A device whose boot state is damaged can still resync; it only cannot tell its
     * version, which upgrade refuses to guess. */
    char bootenv[1100], ignored[UG_ERRBUF];
    agent_path(a, DEVICE_BOOTENV_FILE, bootenv, sizeof bootenv);
    if (bootstate_load(bootenv, &a->boot, ignored) == UG_OK) {
        a->boot_valid = 1;
        a->running_slot = bootstate_slot_letter(a->boot.booted);
        snprintf(a->running_version, sizeof a->running_version, "%s",
                 a->boot.slot[a->boot.booted].version);
    }
    optional_file(a, DEVICE_KEYRING_FILE, a->keyring, sizeof a->keyring);
    optional_file(a, DEVICE_CA_FILE, a->ca_file, sizeof a->ca_file);
    optional_file(a, DEVICE_CLIENT_CERT, a->client_cert, sizeof a->client_cert);
    optional_file(a, DEVICE_CLIENT_KEY, a->client_key, sizeof a->client_key);
    optional_file(a, DEVICE_CUSTOM_CA_FILE, a->custom_ca, sizeof a->custom_ca);
    if (!a->client_key[0])
        a->client_cert[0] = '\0';
    fetch_user_agent(a->user_agent, sizeof a->user_agent, a->dev.product, a->running_version,
                     a->dev.serial, a->dev.mac);
    return UG_OK;
}

void agent_close(struct agent *a)
{
    if (a->params_open)
        params_close(&a->params);
    a->params_open = 0;
}

void agent_fetch_options(const struct agent *a, struct fetch_options *o)
{
    fetch_options_init(o);
    o->ca_file = a->ca_file[0] ? a->ca_file : NULL;
    o->extra_ca_file = a->custom_ca[0] ? a->custom_ca : NULL;
    o->client_cert = a->client_cert[0] ? a->client_cert : NULL;
    o->client_key = a->client_key[0] ? a->client_key : NULL;
    o->user_agent = a->user_agent;
    o->restricted_domains = params_value(&a->params, "Restricted_Access_Domains");
}

ug_err agent_macro_context(const struct agent *a, struct macro_context *ctx, char *err)
{
    macro_init(ctx, &a->dev, params_macro_lookup, (void *)&a->params);
    ug_err rc = macro_set(ctx, "SWVER", a->running_version, err);
    if (rc == UG_OK)
        rc = macro_set(ctx, "HWVER", a->dev.hwver, err);
    if (rc != UG_OK)
        macro_free(ctx);
    return rc;
}

ug_err agent_log(const struct agent *a, const struct macro_context *ctx, const char *template_param,
                 int severity, char *err)
{
    const char *server = params_value(&a->params, "Syslog_Server");
    const char *tmpl = params_value(&a->params, template_param);
    if (!server || !*server || !tmpl || !*tmpl)
        return UG_OK;
    struct buf msg = {0}, ident = {0};
    /* No MACRO_SECRETS: GPP_SA..SD never reach the network. */
    ug_err rc = macro_expand(ctx, tmpl, 0, &msg, err);
    if (rc != UG_OK) {
        ug_prefix(err, "%s: ", template_param);
        goto out;
    }
    const char *id = params_value(&a->params, "Syslog_Identifier");
    char hostname[256] = "";
    char ignored[UG_ERRBUF];
    if (id && *id && strcmp(id, "None") != 0 &&
        macro_expand(ctx, id, 0, &ident, ignored) == UG_OK && ident.data)
        snprintf(hostname, sizeof hostname, "%s", ident.data);
    else if (gethostname(hostname, sizeof hostname - 1) != 0)
        hostname[0] = '\0';
    char datagram[SYSLOG_MAX_DATAGRAM + 1];
    size_t len =
        syslog_format(SYSLOG_RFC3164, SYSLOG_FACILITY_LOCAL0, severity, time(NULL), hostname,
                      "upgrader", msg.data ? msg.data : "", datagram, sizeof datagram);
    rc = syslog_send(server, datagram, len, err);
out:
    buf_free(&msg);
    buf_free(&ident);
    return rc;
}
