/* SPDX-License-Identifier: MIT */
/* Report_Rule: the device's configuration uploaded to the provider after a resync, as the
 * `param export` profile (or only what differs from the factory, --delta), encrypted with
 * --key when the rule has one, by HTTP PUT or POST (HTTP_Report_Method). */
#ifndef UPGRADER_REPORT_H
#define UPGRADER_REPORT_H

#include "common/error.h"
#include "net/fetch.h"
#include "session/session.h"

#define REPORT_TIMEOUT_MS 60000L

/* Uploads the report Report_Rule names; *sent 0 when the rule is empty or no alternative
 * applies (nothing done, UG_OK). url receives the target without credentials. */
ug_err report_send(struct session *s, int *sent, char url[FETCH_URL_MAX], char *err) UG_MUST_CHECK;

#endif
