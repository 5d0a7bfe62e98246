/* SPDX-License-Identifier: MIT */
/* Report_Rule uploads (docs/resync.md "Reports"). The body is the admin's export with the
 * secrets masked, so a report never carries a password even to the provider's server. */
#include "resync/report.h"

#include <string.h>

#include "lang/crypt.h"
#include "lang/paramdefs.h"
#include "lang/params.h"
#include "lang/rule.h"
#include "net/url.h"

/* The body: the export profile (or its delta), encrypted when the rule has --key. */
static ug_err build_body(struct session *s, const struct rule_result *r, struct buf *body,
                         char *err)
{
    struct buf plain = {0};
    ug_err rc = r->delta ? params_export_delta_xml(&s->params, PARAM_ROLE_ADMIN, 0, &plain, err)
                         : params_export_xml(&s->params, PARAM_ROLE_ADMIN, 0, &plain, err);
    if (rc == UG_OK && r->key)
        rc = crypt_encrypt(plain.data, plain.len, r->key, CRYPT_MD_SHA256, body, err);
    else if (rc == UG_OK && buf_append(body, plain.data, plain.len) != 0)
        rc = ug_oom(err);
    buf_free(&plain);
    return rc;
}

static ug_err upload(struct session *s, const struct rule_result *r, const struct buf *body,
                     const char *display, char *err)
{
    if (strcmp(r->url.scheme, "tftp") == 0)
        return ug_fail(err, UG_ERR_USAGE, "Report_Rule: %s: reports go over http or https",
                       display);
    const char *method = params_value(&s->params, "HTTP_Report_Method");
    struct fetch_options fo;
    session_fetch_options_for(s, r, &fo);
    fo.method = method && strcmp(method, "PUT") == 0 ? FETCH_PUT : FETCH_POST;
    fo.body = body->data ? body->data : "";
    fo.body_len = body->len;
    fo.content_type = r->key ? "application/octet-stream" : "application/xml";
    fo.timeout_ms = REPORT_TIMEOUT_MS;
    struct buf answer = {0};
    ug_err rc = fetch_to_buffer(&fo, 64 * 1024, &answer, NULL, err);
    buf_free(&answer);
    if (rc != UG_OK)
        ug_prefix(err, "Report_Rule: ");
    return rc;
}

ug_err report_send(struct session *s, int *sent, char url[FETCH_URL_MAX], char *err)
{
    *sent = 0;
    url[0] = '\0';
    ug_err rc = session_reload(s, err);
    const char *text = rc == UG_OK ? params_value(&s->params, "Report_Rule") : NULL;
    if (rc != UG_OK || !text || !text[strspn(text, " \t")])
        return rc;
    struct macro_context ctx;
    struct rule_result r = {0};
    struct buf body = {0};
    if ((rc = session_macro_context(s, &ctx, err)) != UG_OK)
        return rc;
    rc = rule_eval(text, RULE_REPORT, &ctx, NULL, &r, err);
    macro_free(&ctx);
    if (rc != UG_OK)
        ug_prefix(err, "Report_Rule: ");
    else if (r.matched && r.has_url) {
        url_for_display(r.url.text, url, FETCH_URL_MAX);
        if ((rc = build_body(s, &r, &body, err)) == UG_OK &&
            (rc = upload(s, &r, &body, url, err)) == UG_OK)
            *sent = 1;
    }
    buf_free(&body);
    rule_result_free(&r);
    return rc;
}
