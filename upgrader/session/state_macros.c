/* SPDX-License-Identifier: MIT */
/* State macros. Every timer has a number, so Cisco's own rules ($PRVTMR ge 600, $UPGTMR gt
 * 300) can always be evaluated: before the first resync or upgrade, the time since boot. */
#include "session/state_macros.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/jsonfile.h"

/* Seconds since boot: the "start" of a timer whose event never happened. */
static long long uptime_seconds(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_BOOTTIME, &ts) != 0)
        return 0;
    return (long long)ts.tv_sec;
}

static long long since(long long then)
{
    long long now = (long long)time(NULL);
    if (then <= 0)
        return uptime_seconds();
    return now >= then ? now - then : 0;
}

static ug_err set_int(struct macro_context *ctx, const char *name, long long v, char *err)
{
    char text[32];
    snprintf(text, sizeof text, "%lld", v);
    return macro_set(ctx, name, text, err);
}

/* The time of the last resync and of the last upgrade attempt, 0 when none; what the
 * upgrade recorded of its state ($UPGST, $UPGERR). A record that cannot be read counts as
 * none: a macro never stops a rule. */
static void read_records(const struct session *s, long long *resync, long long *upgrade,
                         long long *upgst, char *upgerr, size_t upgerr_sz)
{
    char ignored[UG_ERRBUF];
    json_object *doc = NULL, *o = NULL;
    *resync = *upgrade = 0;
    *upgst = 1;
    upgerr[0] = '\0';
    if (jsonfile_load(session_path(s, STATE_RESYNC), &doc, ignored) == UG_OK &&
        json_object_object_get_ex(doc, "last", &o))
        *resync = jsonfile_get_int(o, "time", 0);
    json_object_put(doc);
    doc = NULL;
    if (jsonfile_load(session_path(s, STATE_UPGRADE), &doc, ignored) == UG_OK &&
        json_object_object_get_ex(doc, "status", &o)) {
        *upgrade = jsonfile_get_int(o, "last_time", 0);
        *upgst = jsonfile_get_int(o, "upgst", 1);
        snprintf(upgerr, upgerr_sz, "%s", jsonfile_get_string(o, "last_error", ""));
    }
    json_object_put(doc);
}

void state_macros_lan_address(char *out, size_t outsz)
{
    struct ifaddrs *all = NULL;
    out[0] = '\0';
    if (getifaddrs(&all) != 0)
        return;
    for (int want = AF_INET; !out[0] && want; want = want == AF_INET ? AF_INET6 : 0) {
        for (struct ifaddrs *i = all; i && !out[0]; i = i->ifa_next) {
            if (!i->ifa_addr || i->ifa_addr->sa_family != want || !(i->ifa_flags & IFF_UP) ||
                (i->ifa_flags & IFF_LOOPBACK))
                continue;
            const void *a = want == AF_INET
                                ? (const void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr
                                : (const void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
            if (want == AF_INET6 && IN6_IS_ADDR_LINKLOCAL((const struct in6_addr *)a))
                continue;
            if (!inet_ntop(want, a, out, (socklen_t)outsz))
                out[0] = '\0';
        }
    }
    freeifaddrs(all);
}

/* Macros of programs this agent is not (Extension Mobility, the ATA's licensing, calls):
 * their "nothing" values unless a program set them. */
static ug_err set_program_macros(struct macro_context *ctx, char *err)
{
    static const char *const values[][2] = {
        {"EMS", "No"},          {"MUID", ""},         {"ORIGTYPE", "none"},
        {"AUTHSTATUS", "none"}, {"INCOMINGNAME", ""}, {"REMOTENUMBER", ""},
    };
    ug_err rc = UG_OK;
    for (size_t i = 0; rc == UG_OK && i < sizeof values / sizeof values[0]; i++)
        rc = macro_set(ctx, values[i][0], values[i][1], err);
    return rc;
}

ug_err state_macros_set(const struct session *s, struct macro_context *ctx, char *err)
{
    long long resync, upgrade, upgst;
    char upgerr[256], ip[64], version[256];
    read_records(s, &resync, &upgrade, &upgst, upgerr, sizeof upgerr);
    state_macros_lan_address(ip, sizeof ip);
    const char *ext = params_value(&s->params, "EXT_IP"); /* a schema parameter, if declared */
    snprintf(version, sizeof version, "Cisco-%s/%s", s->dev.product, s->running_version);
    ug_err rc = set_int(ctx, "PRVTMR", since(resync), err);
    if (rc == UG_OK)
        rc = set_int(ctx, "UPGTMR", since(upgrade), err);
    /* The SIP lines are not this agent's: every $REGTMRn counts from boot (macro.c falls back
     * to $REGTMR for a line without a value of its own). */
    if (rc == UG_OK)
        rc = set_int(ctx, "REGTMR", uptime_seconds(), err);
    if (rc == UG_OK)
        rc = set_int(ctx, "UPGST", upgst == 2 ? 2 : 1, err);
    if (rc == UG_OK)
        rc = macro_set(ctx, "UPGERR", upgerr, err);
    if (rc == UG_OK)
        rc = macro_set(ctx, "IP", ip, err);
    if (rc == UG_OK)
        rc = macro_set(ctx, "EXTIP", ext && ext[0] ? ext : ip, err);
    if (rc == UG_OK)
        rc = macro_set(ctx, "VERSION", version, err);
    if (rc == UG_OK)
        rc = set_program_macros(ctx, err);
    return rc;
}

/* A header value: a control character (a CR or LF from a profile) becomes '?'. */
static void copy_printable(char *out, size_t outsz, const char *in)
{
    size_t n = 0;
    for (; *in && n + 1 < outsz; in++)
        out[n++] = (unsigned char)*in < 0x20 || *in == 0x7f ? '?' : *in;
    out[n] = '\0';
}

void state_macros_user_agent(struct session *s)
{
    const char *tmpl = params_value(&s->params, "HTTP_User_Agent_Name");
    struct macro_context ctx;
    struct buf ua = {0};
    char ignored[UG_ERRBUF];
    s->user_agent[0] = '\0';
    if (tmpl && tmpl[0] && session_macro_context(s, &ctx, ignored) == UG_OK) {
        /* No MACRO_SECRETS: GPP_SA..SD never go out in a header. */
        if (macro_expand(&ctx, tmpl, 0, &ua, ignored) == UG_OK && ua.data)
            copy_printable(s->user_agent, sizeof s->user_agent, ua.data);
        macro_free(&ctx);
    }
    buf_free(&ua);
    if (!s->user_agent[strspn(s->user_agent, " ")])
        fetch_user_agent(s->user_agent, sizeof s->user_agent, s->dev.product, s->running_version,
                         s->dev.mac);
}
