/* SPDX-License-Identifier: MIT */
/* The web server's HTML pages: status (with the upgrade's plan and progress bar),
 * configuration (the parameters an account may see, in groups, a form per group) and the
 * log of recent events; and the configuration form's all-or-nothing apply. */
#ifndef UPGRADER_WEB_PAGES_H
#define UPGRADER_WEB_PAGES_H

#include <json-c/json.h>

#include "common/buf.h"
#include "common/error.h"
#include "lang/params.h"
#include "web/form.h"

/* What every page shows around its content. */
struct page_ctx {
    enum param_role role;
    int admin_open;      /* Admin_Passwd is empty: the admin pages are open to anyone */
    const char *csrf;    /* the account's anti-CSRF token, put into every form */
    const char *message; /* a banner, or NULL */
    int message_ok;      /* the banner reports a success (else an error) */
};

/* The status page from the status document (devstatus + "daemon"). */
ug_err pages_status(struct buf *out, const struct page_ctx *c, json_object *status,
                    char *err) UG_MUST_CHECK;
/* The status page's live part: {active, running, state, hop, hops, version, target,
 * bytes_done, bytes_total} (a new reference). */
json_object *pages_progress(json_object *status);
/* The configuration page for c->role; bad names a field to mark, kept holds the values
 * submitted (shown again after a refusal); both may be NULL. */
ug_err pages_config(struct buf *out, const struct page_ctx *c, const struct param_store *s,
                    const char *bad, const struct form *kept, char *err) UG_MUST_CHECK;
/* The log page from the events array (oldest first; shown newest first). */
ug_err pages_log(struct buf *out, const struct page_ctx *c, json_object *events,
                 char *err) UG_MUST_CHECK;
/* Applies the form's "p:NAME" fields all-or-nothing with the profile's validation (an empty
 * secret field keeps the secret). UG_ERR_USAGE: a value is invalid or the name unknown;
 * UG_ERR_OTHER: role may not change it. In both *bad (badsz bytes) names the field.
 * *changed counts the values that differ from before. */
ug_err pages_config_apply(struct param_store *s, enum param_role role, const struct form *f,
                          char *bad, size_t badsz, size_t *changed, char *err) UG_MUST_CHECK;

#endif
