/* SPDX-License-Identifier: MIT */
/* The parameter table. Names, defaults and meanings follow Cisco's multiplatform phones
 * (docs/provisioning.md 3.1, 4.1, 6, 7.3); docs/parameters.md is generated from it. */
#include "lang/paramdefs.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/fsutil.h"
#include "common/version.h"
#include "lang/cond.h"
#include "lang/delay.h"
#include "lang/rule.h"

#define INT_MAXV 2147483647LL
#define TEXT(n, d, a, h)                   \
    {                                      \
        n, d, a, PT_TEXT, 0, 0, NULL, 0, h \
    }
#define BOOL(n, d, a, h)                   \
    {                                      \
        n, d, a, PT_BOOL, 0, 0, NULL, 0, h \
    }
#define INT(n, d, a, lo, hi, h)             \
    {                                       \
        n, d, a, PT_INT, lo, hi, NULL, 0, h \
    }
#define TYPED(n, d, a, t, h)         \
    {                                \
        n, d, a, t, 0, 0, NULL, 0, h \
    }
#define CHOICE(n, d, a, c, h)             \
    {                                     \
        n, d, a, PT_CHOICE, 0, 0, c, 0, h \
    }
#define SECRET(n, a, t, h)                       \
    {                                            \
        n, "", a, t, 0, 0, NULL, PARAM_SECRET, h \
    }
#define GPP(l)                   \
    TEXT("GPP_" l, "", PARAM_NA, \
         "General purpose parameter $" l " (rules, macros, --post, --alias)")
#define GPPS(l)                          \
    SECRET("GPP_S" l, PARAM_NA, PT_TEXT, \
           "Secret general purpose parameter $S" l ": expanded only in --key/--uid/--pwd")

static const struct param_def builtin[] = {
    /* Resync (docs/provisioning.md 3.1) */
    BOOL("Provision_Enable", "Yes", PARAM_NA, "Master switch of every resync"),
    BOOL("Resync_On_Reset", "Yes", PARAM_NA, "Resync after each boot"),
    INT("Resync_Random_Delay", "2", PARAM_NA, 0, 65535,
        "Maximum random delay before the first contact after boot, in units of 20 s (0 disables)"),
    TYPED("Resync_At__HHmm_", "", PARAM_NA, PT_HHMM,
          "Daily resync time HHmm (0000..2400); when set, Resync_Periodic is ignored"),
    INT("Resync_At_Random_Delay", "600", PARAM_NA, 0, 65535,
        "Seconds after Resync_At__HHmm_ within which the daily resync happens"),
    TYPED("Resync_Periodic", "3600", PARAM_NA, PT_DELAYS,
          "Seconds between resyncs (delay list; 0 or empty disables)"),
    TYPED("Resync_Error_Retry_Delay", "60,120,240,480,960,1920,3840,7680,15360,30720,61440,86400",
          PARAM_NA, PT_DELAYS, "Retry schedule after a failed resync (delay list; 0 = no retry)"),
    INT("Forced_Resync_Delay", "14400", PARAM_NA, 0, INT_MAXV,
        "Longest a due resync waits for the lines to go idle, in seconds"),
    BOOL("Resync_From_SIP", "Yes", PARAM_NA, "Allow SIP NOTIFY Event: resync"),
    BOOL("Resync_After_Upgrade_Attempt", "Yes", PARAM_NA, "Resync after every upgrade attempt"),
    TYPED("Resync_Trigger_1", "", PARAM_NA, PT_COND,
          "Condition that must hold for a periodic resync (with Resync_Trigger_2)"),
    TYPED("Resync_Trigger_2", "", PARAM_NA, PT_COND,
          "Second resync condition; either trigger may hold"),
    BOOL("Resync_Fails_On_FNF", "Yes", PARAM_NA,
         "A missing file (HTTP 404, TFTP file not found) counts as a failed resync"),
    CHOICE("Profile_Authentication_Type", "Basic HTTP Authentication", PARAM_NA,
           "Disabled|Basic HTTP Authentication|XSI Authentication",
           "How the device answers an HTTP authentication challenge"),
    BOOL("User_Configurable_Resync", "Yes", PARAM_NA,
         "The user may enter a profile rule from the phone menu"),
    TYPED("Profile_Rule", "/$PSN.xml", PARAM_NA, PT_RULE, "First profile rule of each resync"),
    TYPED("Profile_Rule_B", "", PARAM_NA, PT_RULE,
          "Second profile rule, evaluated after Profile_Rule"),
    TYPED("Profile_Rule_C", "", PARAM_NA, PT_RULE, "Third profile rule"),
    TYPED("Profile_Rule_D", "", PARAM_NA, PT_RULE, "Fourth profile rule"),
    TYPED("DHCP_Option_To_Use", "66,160,159,150,60,43,125", PARAM_NA, PT_INTLIST,
          "DHCP options tried, in order, for the default provisioning server"),
    TYPED("Report_Rule", "", PARAM_NA, PT_REPORT_RULE,
          "Where and how the device uploads its configuration or status"),
    CHOICE("HTTP_Report_Method", "POST", PARAM_NA, "PUT|POST", "HTTP method of report uploads"),
    CHOICE("Report_to_Server", "On Request", PARAM_NA, "On Request|On Local Change|Periodically",
           "When reports are uploaded"),
    INT("periodic_upload_to_server", "3600", PARAM_NA, 600, 259200,
        "Seconds between periodic report uploads"),
    INT("Upload_Delay_On_Local_Change", "60", PARAM_NA, 10, 900,
        "Seconds after a local change before a report upload"),
    TYPED("Custom_CA_Rule", "", PARAM_NA, PT_RULE, "URL of a custom CA certificate to install"),
    BOOL("HTTPS_Name_Validate", "Yes", PARAM_NA,
         "Check the HTTPS provisioning server's certificate name"),
    TEXT("Log_Request_Msg", "$PN $MAC -- Requesting resync $SCHEME://$SERVIP:$PORT$PATH", PARAM_NA,
         "Syslog message when a resync starts (empty: none)"),
    TEXT("Log_Success_Msg", "$PN $MAC -- Successful resync $SCHEME://$SERVIP:$PORT$PATH -- $ERR",
         PARAM_NA, "Syslog message after a successful resync (empty: none)"),
    TEXT("Log_Failure_Msg", "$PN $MAC -- Resync failed: $ERR", PARAM_NA,
         "Syslog message after a failed resync (empty: none)"),
    SECRET("IKM_HTTP_Encrypt_Content", PARAM_NA, PT_TEXT,
           "RFC 8188 input keying material (hidden)"),
    /* Firmware upgrade (docs/provisioning.md 4.1) */
    BOOL("Upgrade_Enable", "Yes", PARAM_NA, "Master switch of rule-driven and on-demand upgrades"),
    TYPED("Upgrade_Error_Retry_Delay", "3600", PARAM_NA, PT_DELAYS,
          "Retry schedule after a failed upgrade (delay list)"),
    TYPED("Downgrade_Rev_Limit", "", PARAM_NA, PT_VERSION,
          "Refuse firmware older than this version (empty: no limit)"),
    TYPED("Upgrade_Rule", "", PARAM_NA, PT_UPGRADE_RULE,
          "Rule naming the firmware (or catalog) to run"),
    INT("Upgrade_Min_Rate", "1024", PARAM_NA, 0, INT_MAXV,
        "Slowest an upgrade download may run, in bytes per second over Upgrade_Min_Rate_Window "
        "(0: only a 30 s stall aborts)"),
    INT("Upgrade_Min_Rate_Window", "60", PARAM_NA, 1, 3600,
        "Seconds an upgrade download may stay below Upgrade_Min_Rate before it is given up"),
    INT("Upgrade_Download_Deadline", "14400", PARAM_NA, 0, 2000000,
        "Longest one upgrade download (catalog, signature or bundle) may take, in seconds "
        "(0: no limit)"),
    TEXT("Log_Upgrade_Request_Msg", "$PN $MAC -- Requesting upgrade $SCHEME://$SERVIP:$PORT$PATH",
         PARAM_NA, "Syslog message when an upgrade starts (empty: none)"),
    TEXT("Log_Upgrade_Success_Msg",
         "$PN $MAC -- Successful upgrade $SCHEME://$SERVIP:$PORT$PATH -- $ERR", PARAM_NA,
         "Syslog message after a successful upgrade (empty: none)"),
    TEXT("Log_Upgrade_Failure_Msg", "$PN $MAC -- Upgrade failed: $ERR", PARAM_NA,
         "Syslog message after a failed upgrade (empty: none)"),
    BOOL("Peer_Firmware_Sharing", "No", PARAM_NA,
         "Share firmware with same-model peers (Cisco's default is unconfirmed; ours is No)"),
    TYPED("Peer_Firmware_Sharing_Log_Server", "", PARAM_NA, PT_HOSTPORT,
          "host[:port] receiving peer-sharing logs (port 514 by default)"),
    /* General purpose parameters (docs/provisioning.md 2) */
    GPP("A"),
    GPP("B"),
    GPP("C"),
    GPP("D"),
    GPP("E"),
    GPP("F"),
    GPP("G"),
    GPP("H"),
    GPP("I"),
    GPP("J"),
    GPP("K"),
    GPP("L"),
    GPP("M"),
    GPP("N"),
    GPP("O"),
    GPP("P"),
    GPPS("A"),
    GPPS("B"),
    GPPS("C"),
    GPPS("D"),
    /* Access control (docs/provisioning.md 6) */
    SECRET("Admin_Passwd", PARAM_NA, PT_PASSWORD,
           "Password of the admin account (empty or 4..127 characters)"),
    SECRET("User_Password", PARAM_RW, PT_PASSWORD,
           "Password of the user account (empty or 4..127 characters)"),
    BOOL("Enable_Web_Server", "Yes", PARAM_RO,
         "Run the device's web server (read when the daemon starts; --listen overrides)"),
    BOOL("Enable_Web_Admin_Access", "Yes", PARAM_NA, "Allow the admin pages of the web server"),
    INT("Web_Server_Port", "80", PARAM_NA, 1, 65535,
        "TCP port of the web server (read when the daemon starts; --listen overrides)"),
    CHOICE("Web_Server_Protocol", "HTTP", PARAM_NA, "HTTP|HTTPS",
           "HTTPS serves the pages with the device's certificate (client.crt, client.key)"),
    TYPED("Restricted_Access_Domains", "", PARAM_NA, PT_DOMAINS,
          "Comma-separated domains that rules may target (empty: any)"),
    BOOL("Protect_Factory_Reset", "No", PARAM_NA,
         "Yes: factory-reset is refused (this project's name; Cisco's is unconfirmed)"),
    /* Syslog (docs/provisioning.md 7.3) */
    TYPED("Syslog_Server", "", PARAM_RO, PT_HOSTPORT,
          "host[:port] receiving the Log_* messages (empty: none)"),
    CHOICE("Syslog_Identifier", "None", PARAM_NA, "None|$MA|$MAU|$MAC|$SN",
           "Identifier written after the syslog timestamp"),
    /* Identification (docs/provisioning.md 6) */
    TEXT("HTTP_User_Agent_Name", "$VERSION ($MA)", PARAM_NA,
         "HTTP User-Agent of every request, macro-expanded (empty: Cisco-$PN/$SWVER ($MA))"),
    /* The daemon's call-state source and downloads during calls (this project's names) */
    BOOL("SIP_UA_Control_Enable", "No", PARAM_NA,
         "Take call state from the SIP user agent's control port (baresip ctrl_tcp)"),
    TYPED("SIP_UA_Control_Address", "127.0.0.1:4444", PARAM_NA, PT_HOSTPORT,
          "host:port of the SIP user agent's control port"),
    INT("Download_Rate_During_Call", "0", PARAM_NA, 0, INT_MAXV,
        "Bytes per second a download may use while a call is up (0: paused until idle)"),
};

/* Legacy or alternative names that profiles may use for a parameter of the table: the SPA
 * names, and the MPP names where Cisco's multiplatform phones spell a parameter otherwise. */
static const struct {
    const char *alias, *name;
} aliases[] = {
    {"Resync_At", "Resync_At__HHmm_"},
    {"Custom_CA_URL", "Custom_CA_Rule"},
    {"Log_Resync_Request_Msg", "Log_Request_Msg"},
    {"Log_Resync_Success_Msg", "Log_Success_Msg"},
    {"Log_Resync_Failure_Msg", "Log_Failure_Msg"},
    {"Admin_Password", "Admin_Passwd"},
    {"Report_To_Server", "Report_to_Server"},
    {"Periodic_Upload_To_Server", "periodic_upload_to_server"},
    {"Protect_IVR_FactoryReset", "Protect_Factory_Reset"},
};

const char *paramdefs_factory(const char *name)
{
    for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
        if (strcmp(builtin[i].name, name) == 0)
            return builtin[i].def;
    return NULL;
}

const struct param_def *paramdefs_builtin(size_t *n)
{
    *n = sizeof builtin / sizeof builtin[0];
    return builtin;
}

int paramdefs_parse_bool(const char *v)
{
    static const char *const yes[] = {"Yes", "yes", "Enable", "enable", "1"};
    static const char *const no[] = {"No", "no", "Disable", "disable", "0"};
    for (size_t i = 0; i < 5; i++) {
        if (strcmp(v, yes[i]) == 0)
            return 1;
        if (strcmp(v, no[i]) == 0)
            return 0;
    }
    return -1;
}

const char *paramdefs_access_name(enum param_access a)
{
    return a == PARAM_RW ? "rw" : a == PARAM_RO ? "ro" : "na";
}

int paramdefs_parse_access(const char *t)
{
    /* Case does not matter: real profiles carry ua="RW" and ua="Na". */
    if (strcasecmp(t, "na") == 0)
        return PARAM_NA;
    if (strcasecmp(t, "ro") == 0)
        return PARAM_RO;
    if (strcasecmp(t, "rw") == 0)
        return PARAM_RW;
    return -1;
}

int paramdefs_empty_restores_default(const struct param_def *d)
{
    return d->type == PT_BOOL || d->type == PT_INT || d->type == PT_CHOICE;
}

enum param_access paramdefs_user_access(const struct param_def *d, enum param_access stored)
{
    /* A secret is never more open to the user than its factory access, whatever a profile
     * (or a store written before this rule) says: Admin_Passwd and GPP_SA..SD stay na. */
    if ((d->flags & PARAM_SECRET) && stored > d->access)
        return d->access;
    return stored;
}

void paramdefs_describe_type(const struct param_def *d, char *out, size_t outsz)
{
    switch (d->type) {
    case PT_TEXT:
        snprintf(out, outsz, "text");
        break;
    case PT_BOOL:
        snprintf(out, outsz, "Yes/No");
        break;
    case PT_INT:
        snprintf(out, outsz, "integer %lld..%lld", d->min, d->max);
        break;
    case PT_DELAYS:
        snprintf(out, outsz, "delay list");
        break;
    case PT_HHMM:
        snprintf(out, outsz, "HHmm");
        break;
    case PT_RULE:
        snprintf(out, outsz, "rule");
        break;
    case PT_UPGRADE_RULE:
        snprintf(out, outsz, "upgrade rule");
        break;
    case PT_REPORT_RULE:
        snprintf(out, outsz, "report rule");
        break;
    case PT_COND:
        snprintf(out, outsz, "condition");
        break;
    case PT_URL:
        snprintf(out, outsz, "URL");
        break;
    case PT_HOSTPORT:
        snprintf(out, outsz, "host[:port]");
        break;
    case PT_DOMAINS:
        snprintf(out, outsz, "domain list");
        break;
    case PT_VERSION:
        snprintf(out, outsz, "version");
        break;
    case PT_CHOICE:
        snprintf(out, outsz, "one of %s", d->choices);
        break;
    case PT_INTLIST:
        snprintf(out, outsz, "integer list");
        break;
    case PT_PASSWORD:
        snprintf(out, outsz, "password");
        break;
    }
}

static int parse_ll(const char *s, long long *out)
{
    char *end = NULL;
    if (!*s || isspace((unsigned char)*s))
        return -1;
    errno = 0;
    *out = strtoll(s, &end, 10);
    return (errno || *end) ? -1 : 0;
}

static int valid_hostname(const char *h, size_t n)
{
    if (n == 0 || n > 253)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)h[i]) && h[i] != '.' && h[i] != '-' && h[i] != '_')
            return 0;
    return 1;
}

/* The why of a rejected value, for the caller's "NAME: 'value' ..." message. */
static ug_err check_value(const struct param_def *d, const char *v, char *why)
{
    char tmp[UG_ERRBUF];
    long long n;
    switch (d->type) {
    case PT_TEXT:
        return UG_OK;
    case PT_BOOL:
        if (paramdefs_parse_bool(v) < 0)
            return ug_fail(why, UG_ERR_USAGE,
                           "is not Yes or No (also yes/Enable/enable/1, no/Disable/disable/0)");
        return UG_OK;
    case PT_INT:
        if (parse_ll(v, &n) != 0 || n < d->min || n > d->max)
            return ug_fail(why, UG_ERR_USAGE, "is not an integer in %lld..%lld", d->min, d->max);
        return UG_OK;
    case PT_INTLIST: {
        if (!*v)
            return UG_OK;
        char *copy = strdup(v), *save = NULL;
        ug_err rc = UG_OK;
        if (!copy)
            return ug_oom(why);
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            while (*t == ' ')
                t++;
            if (parse_ll(t, &n) != 0 || n < 0 || n > 65535) {
                rc = ug_fail(why, UG_ERR_USAGE, "is not a comma-separated list of integers");
                break;
            }
        }
        free(copy);
        return rc;
    }
    case PT_DELAYS: {
        struct delay_list list;
        if (delay_parse(v, &list, tmp) != UG_OK)
            return ug_fail(why, UG_ERR_USAGE, "is not a delay list: %s", tmp);
        return UG_OK;
    }
    case PT_HHMM:
        if (!*v)
            return UG_OK;
        if (strlen(v) != 4 || !isdigit((unsigned char)v[0]) || !isdigit((unsigned char)v[1]) ||
            !isdigit((unsigned char)v[2]) || !isdigit((unsigned char)v[3]) || atoi(v) > 2400 ||
            atoi(v + 2) > 59)
            return ug_fail(why, UG_ERR_USAGE, "is not a time HHmm from 0000 to 2400");
        return UG_OK;
    case PT_RULE:
    case PT_UPGRADE_RULE:
    case PT_REPORT_RULE: {
        enum rule_flavour f = d->type == PT_RULE           ? RULE_PROFILE
                              : d->type == PT_UPGRADE_RULE ? RULE_UPGRADE
                                                           : RULE_REPORT;
        if (rule_check_syntax(v, f, tmp) != UG_OK)
            return ug_fail(why, UG_ERR_USAGE, "is not a valid rule: %s", tmp);
        return UG_OK;
    }
    case PT_COND:
        if (*v && cond_check_syntax(v, tmp) != UG_OK)
            return ug_fail(why, UG_ERR_USAGE, "is not a valid condition: %s", tmp);
        return UG_OK;
    case PT_URL: {
        struct rule_url url;
        if (!*v)
            return UG_OK;
        ug_err rc = rule_parse_url(v, "default.invalid", 0, &url, tmp);
        rule_url_free(&url);
        if (rc != UG_OK)
            return ug_fail(why, UG_ERR_USAGE, "is not a valid URL: %s", tmp);
        return UG_OK;
    }
    case PT_HOSTPORT: {
        if (!*v)
            return UG_OK;
        const char *colon = strrchr(v, ':');
        size_t hl = colon ? (size_t)(colon - v) : strlen(v);
        if (!valid_hostname(v, hl) ||
            (colon && (parse_ll(colon + 1, &n) != 0 || n < 1 || n > 65535)))
            return ug_fail(why, UG_ERR_USAGE, "is not host[:port]");
        return UG_OK;
    }
    case PT_DOMAINS: {
        for (const char *p = v; *p;) {
            while (*p == ' ')
                p++;
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            while (len > 0 && p[len - 1] == ' ')
                len--;
            if (!valid_hostname(p, len))
                return ug_fail(why, UG_ERR_USAGE, "is not a comma-separated list of domain names");
            if (!comma)
                break;
            p = comma + 1;
        }
        return UG_OK;
    }
    case PT_VERSION: {
        struct version ver;
        if (*v && version_parse(v, &ver) != 0)
            return ug_fail(why, UG_ERR_USAGE,
                           "is not a version (e.g. 7.4.8 or sip88xx.11-0-1MPP-477)");
        return UG_OK;
    }
    case PT_CHOICE: {
        size_t vl = strlen(v);
        for (const char *p = d->choices; *p;) {
            const char *bar = strchr(p, '|');
            size_t len = bar ? (size_t)(bar - p) : strlen(p);
            if (len == vl && memcmp(p, v, len) == 0)
                return UG_OK;
            if (!bar)
                break;
            p = bar + 1;
        }
        return ug_fail(why, UG_ERR_USAGE, "is not one of: %s", d->choices);
    }
    case PT_PASSWORD: {
        size_t len = strlen(v);
        if (len != 0 && (len < 4 || len > 127))
            return ug_fail(why, UG_ERR_USAGE, "must be empty or 4 to 127 characters");
        return UG_OK;
    }
    }
    return UG_OK;
}

/* SPA profiles may write an integer in hex ("0x0E10"): its decimal form into out, 0; -1 when
 * v is not a hex integer that fits. */
static int hex_to_decimal(const char *v, char *out, size_t outsz)
{
    if (v[0] != '0' || (v[1] != 'x' && v[1] != 'X') || !v[2] || strlen(v) > 17)
        return -1;
    unsigned long long n = 0;
    for (const char *p = v + 2; *p; p++) {
        if (!isxdigit((unsigned char)*p))
            return -1;
        n = n * 16 + (unsigned long long)(isdigit((unsigned char)*p)
                                              ? *p - '0'
                                              : tolower((unsigned char)*p) - 'a' + 10);
    }
    if (n > (unsigned long long)INT_MAXV)
        return -1;
    snprintf(out, outsz, "%llu", n);
    return 0;
}

/* The length of the UTF-8 sequence at s (1..4), 0 when it is not valid UTF-8. */
static size_t utf8_length(const unsigned char *s)
{
    size_t n = s[0] < 0x80             ? 1
               : (s[0] & 0xE0) == 0xC0 ? 2
               : (s[0] & 0xF0) == 0xE0 ? 3
               : (s[0] & 0xF8) == 0xF0 ? 4
                                       : 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    unsigned cp = n == 1 ? s[0] : s[0] & (0x7Fu >> n);
    for (size_t i = 1; i < n; i++)
        cp = cp << 6 | (s[i] & 0x3Fu);
    /* overlong forms, surrogates and beyond U+10FFFF are not UTF-8 */
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return 0;
    return n;
}

/* What every value must be, whatever its type: what the store, an export and a terminal
 * can carry (an XML profile cannot hold a control character, so an export could not). */
ug_err paramdefs_check_text(const char *v, char *why)
{
    size_t len = strlen(v);
    if (len > PARAM_VALUE_MAX)
        return ug_fail(why, UG_ERR_USAGE, "is %zu bytes, over the limit of %u", len,
                       PARAM_VALUE_MAX);
    for (const unsigned char *p = (const unsigned char *)v; *p;) {
        if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
            return ug_fail(why, UG_ERR_USAGE, "holds a control character (0x%02x)", *p);
        size_t n = utf8_length(p);
        if (!n)
            return ug_fail(why, UG_ERR_USAGE, "is not valid UTF-8");
        p += n;
    }
    return UG_OK;
}

ug_err paramdefs_validate(const struct param_def *d, const char *value, char **normalised,
                          char *err)
{
    char why[UG_ERRBUF], decimal[32];
    *normalised = NULL;
    if (paramdefs_check_text(value, why) !=
        UG_OK) /* never repeated back: it may be huge or hostile */
        return ug_fail(err, UG_ERR_USAGE, "%s: the value %s", d->name, why);
    if ((d->type == PT_INT || d->type == PT_DELAYS) &&
        hex_to_decimal(value, decimal, sizeof decimal) == 0)
        value = decimal;
    ug_err rc = check_value(d, value, why);
    if (rc != UG_OK) {
        /* A secret's rejected value is not repeated back: it may be nearly right. */
        if (d->flags & PARAM_SECRET)
            return ug_fail(err, rc, "%s: the value %s", d->name, why);
        return ug_fail(err, rc, "%s: '%.120s' %s", d->name, value, why);
    }
    const char *store = value;
    if (d->type == PT_BOOL)
        store = paramdefs_parse_bool(value) ? "Yes" : "No";
    *normalised = strdup(store);
    if (!*normalised)
        return ug_oom(err);
    return UG_OK;
}

/* ---- the table and the schema ---- */

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct param_def *)a)->name, ((const struct param_def *)b)->name);
}

long paramdefs_find(const struct param_table *t, const char *name)
{
    for (size_t k = 0; k < sizeof aliases / sizeof aliases[0]; k++)
        if (strcmp(name, aliases[k].alias) == 0)
            name = aliases[k].name;
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, t->defs[mid].name);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

void paramdefs_free(struct param_table *t)
{
    for (size_t i = 0; i < t->n_owned; i++)
        free(t->owned[i]);
    free(t->owned);
    free(t->defs);
    memset(t, 0, sizeof *t);
}

static char *own(struct param_table *t, const char *s, size_t n)
{
    char **v = realloc(t->owned, (t->n_owned + 1) * sizeof *v);
    if (!v)
        return NULL;
    t->owned = v;
    char *copy = strndup(s, n);
    if (copy)
        t->owned[t->n_owned++] = copy;
    return copy;
}

static int add_def(struct param_table *t, const struct param_def *d, size_t *cap)
{
    if (t->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 128;
        struct param_def *v = realloc(t->defs, nc * sizeof *v);
        if (!v)
            return -1;
        t->defs = v;
        *cap = nc;
    }
    t->defs[t->n++] = *d;
    return 0;
}

/* Parses a schema type word into d ("int:1..32", "choice:a|b", "secret"). */
static int parse_schema_type(struct param_table *t, const char *w, struct param_def *d)
{
    static const struct {
        const char *word;
        enum param_type type;
    } words[] = {
        {"text", PT_TEXT},       {"bool", PT_BOOL},         {"delays", PT_DELAYS},
        {"hhmm", PT_HHMM},       {"rule", PT_RULE},         {"condition", PT_COND},
        {"url", PT_URL},         {"hostport", PT_HOSTPORT}, {"domains", PT_DOMAINS},
        {"version", PT_VERSION}, {"password", PT_PASSWORD},
    };
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++) {
        if (strcmp(w, words[k].word) == 0) {
            d->type = words[k].type;
            d->flags = d->type == PT_PASSWORD ? PARAM_SECRET : 0;
            return 0;
        }
    }
    if (strcmp(w, "secret") == 0) {
        d->type = PT_TEXT;
        d->flags = PARAM_SECRET;
        return 0;
    }
    if (strncmp(w, "int:", 4) == 0) {
        char *end = NULL;
        d->type = PT_INT;
        errno = 0;
        d->min = strtoll(w + 4, &end, 10);
        if (errno || end == w + 4 || strncmp(end, "..", 2) != 0)
            return -1;
        const char *hi = end + 2;
        d->max = strtoll(hi, &end, 10);
        return (errno || end == hi || *end || d->max < d->min) ? -1 : 0;
    }
    if (strncmp(w, "choice:", 7) == 0 && w[7]) {
        d->type = PT_CHOICE;
        d->choices = own(t, w + 7, strlen(w + 7));
        return d->choices ? 0 : -1;
    }
    return -1;
}

/* Splits a schema line into fields: bare words or "quoted" (the default may be empty). */
static int split_fields(char *line, char **field, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p || *p == '#')
            break;
        if (n == max)
            return -1;
        if (*p == '"') {
            char *close = strchr(p + 1, '"');
            if (!close)
                return -1;
            *close = '\0';
            field[n++] = p + 1;
            p = close + 1;
            if (*p && *p != ' ' && *p != '\t')
                return -1;
        } else {
            field[n++] = p;
            while (*p && *p != ' ' && *p != '\t')
                p++;
            if (*p)
                *p++ = '\0';
        }
    }
    return n;
}

static int has_duplicates(struct param_table *t, const char **dup)
{
    for (size_t i = 0; i + 1 < t->n; i++) {
        if (strcmp(t->defs[i].name, t->defs[i + 1].name) == 0) {
            *dup = t->defs[i].name;
            return 1;
        }
    }
    return 0;
}

ug_err paramdefs_add_schema(struct param_table *t, const char *text, const char *source, char *err)
{
    char *copy = strdup(text), *save = NULL;
    if (!copy)
        return ug_oom(err);
    ug_err rc = UG_OK;
    size_t cap = t->n;
    unsigned lineno = 0;
    /* strtok_r would skip empty lines and lose the line count, so split by hand. */
    for (char *line = copy, *next; line; line = next) {
        lineno++;
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        (void)save;
        char *f[5];
        int nf = split_fields(line, f, 5);
        if (nf == 0)
            continue;
        if (nf != 4) {
            rc = ug_fail(err, UG_ERR_USAGE, "%s line %u: expected NAME \"DEFAULT\" ACCESS TYPE",
                         source, lineno);
            break;
        }
        struct param_def d = {0};
        int acc = paramdefs_parse_access(f[2]);
        if (acc < 0) {
            rc = ug_fail(err, UG_ERR_USAGE, "%s line %u: access '%s' is not na, ro or rw", source,
                         lineno, f[2]);
            break;
        }
        d.access = (enum param_access)acc;
        if (parse_schema_type(t, f[3], &d) != 0) {
            rc = ug_fail(
                err, UG_ERR_USAGE,
                "%s line %u: unknown type '%s' (text, secret, bool, int:MIN..MAX, "
                "choice:A|B, delays, hhmm, rule, condition, url, hostport, domains, version, password)",
                source, lineno, f[3]);
            break;
        }
        d.help = "";
        /* Name_{1..4}_ declares Name_1_ .. Name_4_ (lines, speed dials). */
        const char *brace = strchr(f[0], '{');
        long lo = 0, hi = 0;
        const char *after = NULL;
        if (brace) {
            char *end = NULL;
            lo = strtol(brace + 1, &end, 10);
            if (end == brace + 1 || strncmp(end, "..", 2) != 0 ||
                (hi = strtol(end + 2, &end, 10), *end != '}') || lo < 0 || hi < lo ||
                hi - lo > 100000) {
                rc =
                    ug_fail(err, UG_ERR_USAGE, "%s line %u: '%s': a range is written {FIRST..LAST}",
                            source, lineno, f[0]);
                break;
            }
            after = end + 1;
        }
        d.def = own(t, f[1], strlen(f[1]));
        if (!d.def) {
            rc = ug_oom(err);
            break;
        }
        for (long k = lo; k <= hi && rc == UG_OK; k++) {
            char name[256];
            int nl = brace ? snprintf(name, sizeof name, "%.*s%ld%s", (int)(brace - f[0]), f[0], k,
                                      after)
                           : snprintf(name, sizeof name, "%s", f[0]);
            int ok = nl > 0 && (size_t)nl < sizeof name;
            for (int c = 0; ok && c < nl; c++)
                ok = isalnum((unsigned char)name[c]) || name[c] == '_' || name[c] == '-' ||
                     name[c] == '.';
            if (!ok) {
                rc = ug_fail(err, UG_ERR_USAGE, "%s line %u: '%s' is not a parameter name", source,
                             lineno, f[0]);
                break;
            }
            d.name = own(t, name, (size_t)nl);
            char *norm = NULL;
            if (!d.name || add_def(t, &d, &cap) != 0) {
                rc = ug_oom(err);
            } else if (paramdefs_validate(&d, d.def, &norm, err) != UG_OK) {
                ug_prefix(err, "%s line %u: default of ", source, lineno);
                rc = UG_ERR_USAGE;
            }
            free(norm);
        }
        if (rc != UG_OK)
            break;
    }
    free(copy);
    if (rc == UG_OK) {
        qsort(t->defs, t->n, sizeof *t->defs, by_name);
        const char *dup;
        if (has_duplicates(t, &dup))
            rc = ug_fail(err, UG_ERR_USAGE, "%s: parameter %s is defined twice", source, dup);
    }
    return rc;
}

ug_err paramdefs_load(struct param_table *t, const char *schema_path, char *err)
{
    memset(t, 0, sizeof *t);
    size_t n = sizeof builtin / sizeof builtin[0];
    t->defs = malloc(n * sizeof *t->defs);
    if (!t->defs)
        return ug_oom(err);
    memcpy(t->defs, builtin, n * sizeof *t->defs);
    t->n = t->n_builtin = n;
    qsort(t->defs, t->n, sizeof *t->defs, by_name);
    ug_err rc = UG_OK;
    if (schema_path && fs_exists(schema_path)) {
        struct buf text = {0};
        rc = fs_read_file(schema_path, 16u << 20, &text, err);
        if (rc == UG_OK)
            rc = paramdefs_add_schema(t, text.data, schema_path, err);
        buf_free(&text);
    }
    if (rc != UG_OK)
        paramdefs_free(t);
    return rc;
}

static void md_cell(struct buf *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            buf_append_str(out, "\\|");
        else
            buf_append(out, s, 1);
    }
}

int paramdefs_write_doc(struct buf *out)
{
    int rc = buf_append_str(out, "| parameter | default | user access | type | meaning |\n"
                                 "| --- | --- | --- | --- | --- |\n");
    for (size_t i = 0; rc == 0 && i < sizeof builtin / sizeof builtin[0]; i++) {
        const struct param_def *d = &builtin[i];
        char type[128];
        paramdefs_describe_type(d, type, sizeof type);
        buf_printf(out, "| `%s` | ", d->name);
        if (d->def[0]) {
            buf_append_str(out, "`");
            md_cell(out, d->def);
            buf_append_str(out, "`");
        } else {
            buf_append_str(out, "(empty)");
        }
        buf_printf(out, " | %s | ", paramdefs_access_name(d->access));
        md_cell(out, type);
        rc = buf_printf(out, "%s | ", (d->flags & PARAM_SECRET) ? ", secret" : "");
        md_cell(out, d->help);
        rc = buf_append_str(out, " |\n");
    }
    if (rc == 0) {
        rc = buf_append_str(out, "\nAliases accepted in profiles:");
        for (size_t k = 0; rc == 0 && k < sizeof aliases / sizeof aliases[0]; k++)
            rc = buf_printf(out, "%s `%s` = `%s`", k ? "," : "", aliases[k].alias, aliases[k].name);
        if (rc == 0)
            rc = buf_append_str(out, ".\n");
    }
    return rc;
}
