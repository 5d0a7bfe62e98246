/* SPDX-License-Identifier: MIT */
/* `upgrader status [--json]`: identity, provisioning state and last resync with its LED
 * pattern, slots from the boot state, calls, and the upgrade engine's own status object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/commands.h"
#include "cmd/via_daemon.h"
#include "common/cli.h"
#include "common/jsonfile.h"
#include "daemon/devstatus.h"
#include "session/session.h"

static const char *str(json_object *o, const char *key)
{
    return jsonfile_get_string(o, key, "-");
}

/* The upgrade object's value for key as text, whatever its JSON type. */
static const char *any(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!o || !json_object_object_get_ex(o, key, &v) || !v)
        return "-";
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                    : json_object_to_json_string(v);
}

/* The last resync's applied profiles: counts, and the notes kept (docs/resync.md). */
static void print_applied(FILE *f, json_object *last)
{
    json_object *a = NULL, *notes = NULL;
    if (!last || !json_object_object_get_ex(last, "applied", &a))
        return;
    fprintf(f,
            "applied:       %lld parameters from %lld files, %lld changed, %lld defaulted, "
            "%lld ignored, %lld unknown\n",
            jsonfile_get_int(a, "parameters", 0), jsonfile_get_int(a, "files", 0),
            jsonfile_get_int(a, "changed", 0), jsonfile_get_int(a, "defaulted", 0),
            jsonfile_get_int(a, "ignored", 0), jsonfile_get_int(a, "unknown", 0));
    if (json_object_object_get_ex(a, "notes", &notes) &&
        json_object_is_type(notes, json_type_array))
        for (size_t i = 0; i < json_object_array_length(notes); i++)
            fprintf(f, "  %s\n", json_object_get_string(json_object_array_get_idx(notes, i)));
}

/* The running daemon's own status (its jobs, why each waits, its call state), or null. */
static void add_daemon(const char *root, json_object *o)
{
    json_object *req = json_object_new_object(), *reply = NULL, *d = NULL;
    int handled = 0;
    char err[UG_ERRBUF];
    jsonfile_set_string(req, "cmd", "status");
    if (via_daemon(root, req, 5000, &handled, &reply, err) == UG_OK && handled)
        json_object_object_get_ex(reply, "daemon", &d);
    json_object_object_add(o, "daemon", json_object_get(d));
    json_object_put(reply);
}

/* A Unix time as 2026-01-31T12:00:00Z (UTC, as the daemon's reasons say it). */
static void iso_time(long long t, char *out, size_t outsz)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, outsz, "%lld", t);
}

static void print_daemon_jobs(FILE *f, json_object *jobs)
{
    size_t n = jobs ? json_object_array_length(jobs) : 0;
    if (!n)
        fprintf(f, "jobs:          none queued\n");
    for (size_t i = 0; i < n; i++) {
        json_object *j = json_object_array_get_idx(jobs, i);
        char since[32];
        iso_time(jsonfile_get_int(j, "queued", 0), since, sizeof since);
        fprintf(f, "job %lld:%*s%s (%s), queued %s: %s\n", jsonfile_get_int(j, "id", 0),
                (int)(9 - snprintf(NULL, 0, "%lld", jsonfile_get_int(j, "id", 0))), "",
                str(j, "kind"), str(j, "origin"), since, str(j, "why"));
    }
}

static void print_daemon(FILE *f, json_object *d)
{
    if (!d) {
        fprintf(f, "daemon:        not running\n");
        return;
    }
    json_object *calls = NULL, *sip = NULL, *jobs = NULL;
    json_object_object_get_ex(d, "calls", &calls);
    json_object_object_get_ex(calls, "sip", &sip);
    json_object_object_get_ex(d, "jobs", &jobs);
    fprintf(f, "daemon:        pid %lld, %s, %s; downloads %s\n", jsonfile_get_int(d, "pid", 0),
            str(d, "state"),
            any(d, "busy")[0] == 't' ? "busy (a call is up or unknown)" : "no call",
            str(d, "downloads"));
    long long sip_calls = jsonfile_get_int(sip, "calls", -1);
    fprintf(f, "call sources:  calls file %lld, SIP user agent %s",
            jsonfile_get_int(calls, "file", 0), str(sip, "state"));
    if (sip_calls >= 0)
        fprintf(f, " (calls %lld)", sip_calls);
    fprintf(f, "\n");
    print_daemon_jobs(f, jobs);
}

static void print_text(FILE *f, json_object *o)
{
    json_object *id = NULL, *prov = NULL, *last = NULL, *running = NULL, *slots = NULL,
                *dhcp = NULL, *ca = NULL, *upgrade = NULL;
    json_object_object_get_ex(o, "identity", &id);
    json_object_object_get_ex(o, "provisioning", &prov);
    json_object_object_get_ex(prov, "last_resync", &last);
    json_object_object_get_ex(prov, "dhcp", &dhcp);
    json_object_object_get_ex(prov, "custom_ca", &ca);
    json_object_object_get_ex(o, "running", &running);
    json_object_object_get_ex(o, "slots", &slots);
    json_object_object_get_ex(o, "upgrade", &upgrade);
    fprintf(f, "device:        %s %s (serial %s, hardware %s, client certificate %s)\n",
            str(id, "product"), str(id, "mac"), str(id, "serial"), str(id, "hwver"),
            str(id, "client_certificate"));
    fprintf(f, "provisioning:  %s (Provision_Enable %s, %lld resyncs)\n", str(prov, "state"),
            str(prov, "provision_enable"), jsonfile_get_int(prov, "resyncs", 0));
    const char *server = jsonfile_get_string(dhcp, "server", "");
    if (*server)
        fprintf(f, "DHCP server:   %s (option %lld)\n", server,
                jsonfile_get_int(dhcp, "option", 0));
    if (last)
        fprintf(f, "last resync:   %s %s (%s) %s %s, LED %s\n", str(last, "time_text"),
                str(last, "result_name"), str(last, "err"), str(last, "rule"), str(last, "url"),
                str(last, "led"));
    else
        fprintf(f, "last resync:   none\n");
    print_applied(f, last);
    if (ca)
        fprintf(f, "custom CA:     %s %s (%s)\n", str(ca, "url"), str(ca, "result"),
                str(ca, "err"));
    fprintf(f, "LED:           %s\n", str(o, "led"));
    fprintf(f, "running:       slot %s, version %s\n", str(running, "slot"),
            str(running, "version"));
    for (const char *name = "A"; slots && name; name = *name == 'A' ? "B" : NULL) {
        json_object *s = NULL;
        json_object_object_get_ex(slots, name, &s);
        fprintf(
            f,
            "slot %s:        version %s, bootable %s, successful %s, tries %lld, priority %lld\n",
            name, *str(s, "version") ? str(s, "version") : "(empty)", any(s, "bootable"),
            any(s, "successful"), jsonfile_get_int(s, "tries", 0),
            jsonfile_get_int(s, "priority", 0));
    }
    if (!slots)
        fprintf(f, "slots:         boot state unreadable\n");
    else
        fprintf(f, "fallback:      %s\n", any(o, "fallback"));
    fprintf(f, "calls active:  %lld\n", jsonfile_get_int(o, "calls_active", 0));
    json_object *damaged = NULL;
    if (json_object_object_get_ex(o, "damaged", &damaged))
        for (size_t i = 0; i < json_object_array_length(damaged); i++)
            fprintf(f, "damaged:       %s\n",
                    json_object_get_string(json_object_array_get_idx(damaged, i)));
    if (upgrade)
        fprintf(f, "upgrade:       %s, target %s, hop %s/%s, %s/%s bytes, last %s (%s) %s\n",
                any(upgrade, "state"), any(upgrade, "target"), any(upgrade, "hop"),
                any(upgrade, "hops"), any(upgrade, "bytes_done"), any(upgrade, "bytes_total"),
                any(upgrade, "last_result"), any(upgrade, "last_error"), any(upgrade, "last_url"));
    else
        fprintf(f, "upgrade:       none\n");
    if (upgrade && jsonfile_get_int(upgrade, "bytes_full", 0) > 0) {
        long long full = jsonfile_get_int(upgrade, "bytes_full", 0);
        long long got = jsonfile_get_int(upgrade, "bytes_fetched", 0);
        fprintf(f,
                "download:      %lld bytes reused from the slots, %lld fetched of %lld (%.0f%% "
                "saved)\n",
                jsonfile_get_int(upgrade, "bytes_reused", 0), got, full,
                got < full ? 100.0 * (double)(full - got) / (double)full : 0.0);
    }
    json_object *d = NULL, *warnings = NULL;
    json_object_object_get_ex(o, "daemon", &d);
    print_daemon(f, d);
    json_object_object_get_ex(o, "warnings", &warnings);
    for (size_t i = 0; warnings && i < json_object_array_length(warnings); i++)
        fprintf(f, "warning:       %s\n",
                json_object_get_string(json_object_array_get_idx(warnings, i)));
}

/* The text goes through cli_print: what servers and files said reaches the terminal as
 * text, never as control sequences. */
static ug_err print_safely(json_object *o, char *err)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem)
        return ug_oom(err);
    print_text(mem, o);
    if (fclose(mem) != 0) {
        free(text);
        return ug_oom(err);
    }
    cli_print(stdout, text);
    free(text);
    return UG_OK;
}

ug_err cmd_status(const char *root, int argc, char **argv, char *err)
{
    int as_json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            as_json = 1;
        else
            return ug_fail(err, UG_ERR_USAGE, "unknown argument '%s' (status [--json])", argv[i]);
    }
    json_object *o = NULL;
    struct session s;
    ug_err rc = session_open(root, NULL, &s, err);
    if (rc == UG_OK)
        rc = devstatus_build(&s, &o, err);
    session_close(&s);
    if (rc != UG_OK)
        return rc;
    add_daemon(root, o);
    if (as_json)
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                             JSON_C_TO_STRING_NOSLASHESCAPE));
    else
        rc = print_safely(o, err);
    json_object_put(o);
    return rc;
}
