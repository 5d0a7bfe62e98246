/* SPDX-License-Identifier: MIT */
/* One device session: the state folder opened once, with the identity, the parameter store,
 * the boot state and the transport settings that resync, upgrade, boot and status share,
 * plus where messages go and the flag that asks long work to stop. */
#ifndef UPGRADER_SESSION_H
#define UPGRADER_SESSION_H

#include <signal.h>

#include "bootctl/bootstate.h"
#include "common/error.h"
#include "common/log.h"
#include "device/devconf.h"
#include "device/device.h"
#include "device/folder.h"
#include "lang/macro.h"
#include "lang/params.h"
#include "lang/rule.h"
#include "net/fetch.h"

/* How many calls are up right now; the daemon answers from what it knows (its control
 * socket, the SIP user agent), the command line from the calls file. */
typedef ug_err (*session_calls_fn)(void *ctx, int *active, char *err);

struct session_options {
    const struct log_sink *log;          /* NULL: stderr */
    const volatile sig_atomic_t *cancel; /* set (by a signal handler) to stop; NULL: never */
    struct fetch_engine *engine;         /* borrowed (a daemon's, on its loop); NULL: own one */
    session_calls_fn calls;              /* NULL: the folder's calls file */
    void *calls_ctx;
};

struct session {
    struct state_folder folder;
    struct device dev;
    struct devconf conf;               /* device.conf: reboot, health check, where things are */
    struct bootstate_store boot_store; /* the boot state's backend and location, from conf */
    struct param_store params;
    struct bootstate boot;
    int boot_valid;           /* 0: no valid boot state (running version unknown) */
    char running_slot;        /* 'A' or 'B'; 0 when the boot state is not valid */
    char running_version[64]; /* $SWVER: the booted slot's installed version */
    /* Files of the folder that the device has (paths into `folder`), NULL when absent. */
    const char *keyring;
    const char *ca_file;
    const char *client_cert; /* only with its key */
    const char *client_key;
    const char *custom_ca; /* installed by Custom_CA_Rule */
    char user_agent[512];
    struct fetch_engine *net; /* the transport engine: connections and TLS sessions reused
                                 by every fetch of the session (catalog, .sig, bundle) */
    int net_owned;            /* 0: borrowed through session_options.engine, not freed here */
    const struct log_sink *log;
    const volatile sig_atomic_t *cancel;
    session_calls_fn calls;
    void *calls_ctx;
};

/* Opens the state folder at root once: checks its paths, reads the identity (UG_ERR_OTHER
 * when the folder holds no device), device.conf (UG_ERR_OTHER naming a bad line), the
 * parameters and the boot state (a damaged boot state only leaves boot_valid 0: such a
 * device can still resync). o may be NULL. */
ug_err session_open(const char *root, const struct session_options *o, struct session *s,
                    char *err) UG_MUST_CHECK;
/* Releases what session_open took; safe on a zeroed session. */
void session_close(struct session *s);
/* Reads the parameters and the boot state again (another process, or a resync, may have
 * changed them since the session opened). */
ug_err session_reload(struct session *s, char *err) UG_MUST_CHECK;
/* 1 once the cancel flag is set: long work stops at its next step. */
int session_cancelled(const struct session *s);
/* How many calls are active now (0: idle), from the session's call-state source. Reboots
 * and slot switches wait while this is not 0. */
ug_err session_calls_active(const struct session *s, int *active, char *err) UG_MUST_CHECK;
/* The path of a file of the session's folder. */
const char *session_path(const struct session *s, enum state_file which);
/* The location of slot 'A' or 'B', as device.conf names it. */
const char *session_slot_location(const struct session *s, char letter);
/* Runs device.conf's reboot command; UG_ERR_OTHER when it fails. */
ug_err session_reboot(const struct session *s, char *err) UG_MUST_CHECK;

/* The transport settings of this device: the session's engine and cancel flag, CA (and
 * Custom_CA_Rule's), client certificate, User-Agent, Restricted_Access_Domains, default
 * timeouts. The caller sets the URL. */
void session_fetch_options(const struct session *s, struct fetch_options *o);
/* The same for what a rule evaluated to: its URL and its --uid/--pwd. */
void session_fetch_options_for(const struct session *s, const struct rule_result *r,
                               struct fetch_options *o);
/* A macro context with identity, parameters, $SWVER, $HWVER and $CCERT; free with macro_free. */
ug_err session_macro_context(const struct session *s, struct macro_context *ctx,
                             char *err) UG_MUST_CHECK;
/* Sets the URL macros of docs/provisioning.md 2 ($SCHEME, $METH, $SERV, $SERVIP, $PORT,
 * $PATH) for the file about to be fetched. */
ug_err session_url_macros(struct macro_context *ctx, const struct rule_url *url,
                          char *err) UG_MUST_CHECK;
/* Sends the Log_* template named template_param, expanded with ctx (never with the secret
 * GPP_SA..SD), to Syslog_Server as an RFC 3164 datagram with Syslog_Identifier as host.
 * Nothing is sent when the template or the server is empty. severity: SYSLOG_SEVERITY_*. */
ug_err session_syslog(const struct session *s, const struct macro_context *ctx,
                      const char *template_param, int severity, char *err) UG_MUST_CHECK;

#endif
