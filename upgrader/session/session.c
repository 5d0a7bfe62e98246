/* SPDX-License-Identifier: MIT */
/* The agent's view of its device, opened once per command (and, in a daemon, once for its
 * life). Keeping this in one place means resync, upgrade and status agree on the running
 * version and the transport settings. */
#include "session/session.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "device/call.h"
#include "net/syslog_udp.h"
#include "session/state_macros.h"

static const char *present(const struct session *s, enum state_file which)
{
    const char *path = session_path(s, which);
    return fs_exists(path) ? path : NULL;
}

const char *session_path(const struct session *s, enum state_file which)
{
    return state_path(&s->folder, which);
}

const char *session_slot_location(const struct session *s, char letter)
{
    return letter == 'A' ? s->conf.slot_a : s->conf.slot_b;
}

ug_err session_reboot(const struct session *s, char *err)
{
    /* Power-loss ordering: every state file and the boot state were flushed when written;
     * this sync also covers what others wrote (logs, the parameter store of another
     * process) before a reboot command that may not sync (busybox reboot -f). */
    sync();
    return devconf_run(s->conf.reboot_command, s->folder.root, NULL, "reboot_command", err);
}

ug_err session_calls_active(const struct session *s, int *active, char *err)
{
    if (s->calls)
        return s->calls(s->calls_ctx, active, err);
    return call_active_count(&s->folder, active, err);
}

int session_cancelled(const struct session *s)
{
    return s->cancel && *s->cancel;
}

/* The boot state, for the running slot and version. A device whose boot state is damaged
 * can still resync; it only cannot tell its version, which upgrade refuses to guess. */
static void read_boot_state(struct session *s)
{
    char ignored[UG_ERRBUF];
    s->boot_valid = bootstate_store_load(&s->boot_store, &s->boot, ignored) == UG_OK;
    s->running_slot = s->boot_valid ? bootstate_slot_letter(s->boot.booted) : 0;
    snprintf(s->running_version, sizeof s->running_version, "%s",
             s->boot_valid ? s->boot.slot[s->boot.booted].version : "");
    state_macros_user_agent(s);
}

static void find_files(struct session *s)
{
    s->keyring = present(s, STATE_KEYRING);
    s->ca_file = present(s, STATE_CA);
    s->client_key = present(s, STATE_CLIENT_KEY);
    s->client_cert = s->client_key ? present(s, STATE_CLIENT_CERT) : NULL;
    s->custom_ca = present(s, STATE_CUSTOM_CA);
}

ug_err session_open(const char *root, const struct session_options *o, struct session *s, char *err)
{
    memset(s, 0, sizeof *s);
    s->log = o && o->log ? o->log : &log_stderr;
    s->cancel = o ? o->cancel : NULL;
    s->calls = o ? o->calls : NULL;
    s->calls_ctx = o ? o->calls_ctx : NULL;
    ug_err rc = state_folder_open(root, &s->folder, err);
    if (rc == UG_OK)
        rc = device_load(&s->folder, &s->dev, err);
    if (rc == UG_OK)
        rc = devconf_load(&s->folder, &s->conf, err);
    if (rc == UG_OK)
        rc = devconf_bootstate_store(&s->conf, &s->boot_store, err);
    if (rc == UG_OK)
        rc = params_open(&s->folder, &s->params, err);
    if (rc == UG_OK && o && o->engine)
        s->net = o->engine;
    else if (rc == UG_OK && (rc = fetch_engine_new(&s->net, err)) == UG_OK)
        s->net_owned = 1;
    if (rc != UG_OK) {
        session_close(s);
        return rc;
    }
    if (s->params.recovered)
        log_msg(s->log, LOG_LEVEL_WARNING, "%s", s->params.recovered);
    read_boot_state(s);
    find_files(s);
    return UG_OK;
}

void session_close(struct session *s)
{
    if (s->net_owned)
        fetch_engine_free(s->net);
    s->net = NULL;
    s->net_owned = 0;
    params_close(&s->params);
    state_folder_close(&s->folder);
}

ug_err session_reload(struct session *s, char *err)
{
    struct param_store fresh;
    ug_err rc = params_open(&s->folder, &fresh, err);
    if (rc != UG_OK)
        return rc;
    if (fresh.recovered)
        log_msg(s->log, LOG_LEVEL_WARNING, "%s", fresh.recovered);
    params_close(&s->params);
    s->params = fresh;
    read_boot_state(s);
    find_files(s);
    return UG_OK;
}

void session_fetch_options(const struct session *s, struct fetch_options *o)
{
    fetch_options_init(o);
    o->engine = s->net;
    o->cancel = s->cancel;
    o->ca_file = s->ca_file;
    o->extra_ca_file = s->custom_ca;
    o->client_cert = s->client_cert;
    o->client_key = s->client_cert ? s->client_key : NULL;
    o->user_agent = s->user_agent;
    o->restricted_domains = params_value(&s->params, "Restricted_Access_Domains");
}

void session_fetch_options_for(const struct session *s, const struct rule_result *r,
                               struct fetch_options *o)
{
    session_fetch_options(s, o);
    o->url = r->url.text;
    o->username = r->uid;
    o->password = r->pwd;
}

ug_err session_macro_context(const struct session *s, struct macro_context *ctx, char *err)
{
    macro_init(ctx, &s->dev, params_macro_lookup, (void *)&s->params);
    ug_err rc = macro_set(ctx, "SWVER", s->running_version, err);
    if (rc == UG_OK)
        rc = macro_set(ctx, "HWVER", s->dev.hwver, err);
    if (rc == UG_OK)
        rc = macro_set(ctx, "CCERT", s->client_cert ? "Installed" : "Not Installed", err);
    if (rc == UG_OK)
        rc = state_macros_set(s, ctx, err);
    if (rc != UG_OK)
        macro_free(ctx);
    return rc;
}

ug_err session_url_macros(struct macro_context *ctx, const struct rule_url *url, char *err)
{
    char scheme[sizeof url->scheme], port[16];
    size_t i = 0;
    for (; url->scheme[i] && i + 1 < sizeof scheme; i++)
        scheme[i] = (char)toupper((unsigned char)url->scheme[i]);
    scheme[i] = '\0';
    snprintf(port, sizeof port, "%d", url->port);
    ug_err rc = macro_set(ctx, "SCHEME", scheme, err);
    if (rc == UG_OK)
        rc = macro_set(ctx, "METH", scheme, err);
    if (rc == UG_OK)
        rc = macro_set(ctx, "SERV", url->host, err);
    /* The address is known only once the transfer tells it; until then, the name. */
    if (rc == UG_OK)
        rc = macro_set(ctx, "SERVIP", url->host, err);
    if (rc == UG_OK)
        rc = macro_set(ctx, "PORT", port, err);
    if (rc == UG_OK)
        rc = macro_set(ctx, "PATH", url->path ? url->path : "", err);
    return rc;
}

ug_err session_syslog(const struct session *s, const struct macro_context *ctx,
                      const char *template_param, int severity, char *err)
{
    const char *server = params_value(&s->params, "Syslog_Server");
    const char *tmpl = params_value(&s->params, template_param);
    if (!server || !*server || !tmpl || !*tmpl)
        return UG_OK;
    struct buf msg = {0}, ident = {0};
    /* No MACRO_SECRETS: GPP_SA..SD never reach the network. */
    ug_err rc = macro_expand(ctx, tmpl, 0, &msg, err);
    if (rc != UG_OK) {
        ug_prefix(err, "%s: ", template_param);
        goto out;
    }
    const char *id = params_value(&s->params, "Syslog_Identifier");
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
