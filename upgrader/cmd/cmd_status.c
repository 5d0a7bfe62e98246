/* SPDX-License-Identifier: MIT */
/* `upgrader status [--json]`: identity, provisioning state and last resync with its LED
 * pattern, slots from the boot state, calls, and the upgrade engine's own status object. */
#include <stdio.h>
#include <string.h>

#include "cmd/commands.h"
#include "common/jsonfile.h"
#include "device/call.h"
#include "resync/dhcp.h"
#include "resync/provstate.h"
#include "resync/resync_state.h"
#include "session/session.h"

static json_object *slot_object(const struct bootstate_slot *s)
{
    json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    jsonfile_set_string(o, "version", s->version);
    json_object_object_add(o, "bootable", json_object_new_boolean(bootstate_slot_bootable(s)));
    json_object_object_add(o, "successful", json_object_new_boolean(s->successful));
    jsonfile_set_int(o, "tries", s->tries);
    jsonfile_set_int(o, "priority", s->priority);
    return o;
}

/* Copies a member of src into dst by reference (src keeps its own). */
static void copy_member(json_object *dst, const char *dkey, json_object *src, const char *skey)
{
    json_object *v = NULL;
    if (src && json_object_object_get_ex(src, skey, &v))
        json_object_object_add(dst, dkey, json_object_get(v));
}

/* Builds the whole status object; nothing secret is read into it (no parameter values but
 * Provision_Enable, no rule text, URLs already without credentials). */
static ug_err build(struct session *a, json_object **out, char *err)
{
    struct resync_state st = {0};
    json_object *upgrade = NULL, *dhcp_json = NULL;
    ug_err rc = UG_OK;
    json_object *o = json_object_new_object();
    json_object *id = json_object_new_object(), *prov = json_object_new_object();
    if (!o || !id || !prov) {
        json_object_put(id);
        json_object_put(prov);
        rc = ug_oom(err);
        goto out;
    }
    json_object_object_add(o, "identity", id);
    json_object_object_add(o, "provisioning", prov);
    jsonfile_set_string(id, "mac", a->dev.mac);
    jsonfile_set_string(id, "serial", a->dev.serial);
    jsonfile_set_string(id, "product", a->dev.product);
    jsonfile_set_string(id, "psn", a->dev.psn);
    jsonfile_set_string(id, "hwver", a->dev.hwver);
    jsonfile_set_string(id, "client_certificate", a->client_cert ? "installed" : "not installed");

    if ((rc = resync_state_load(session_path(a, STATE_RESYNC), &st, err)) != UG_OK)
        goto out;
    jsonfile_set_string(prov, "state", provstate_name(resync_state_prov(&st)));
    const char *enable = params_value(&a->params, "Provision_Enable");
    jsonfile_set_string(prov, "provision_enable", enable ? enable : "");
    struct dhcp_servers servers;
    char chosen[DHCP_SERVER_MAX] = "";
    if ((rc = dhcp_load(&a->folder, &servers, err)) != UG_OK)
        goto out;
    int option = dhcp_choose(&servers, params_value(&a->params, "DHCP_Option_To_Use"), chosen,
                             sizeof chosen);
    dhcp_json = json_object_new_object();
    if (dhcp_json) {
        jsonfile_set_string(dhcp_json, "server", chosen);
        jsonfile_set_int(dhcp_json, "option", option);
        json_object_object_add(prov, "dhcp", dhcp_json);
    }
    jsonfile_set_int(prov, "resyncs", jsonfile_get_int(st.doc, "resyncs", 0));
    copy_member(prov, "last_resync", st.doc, "last");
    copy_member(prov, "last_success_time", st.doc, "last_success_time");
    copy_member(prov, "custom_ca", st.doc, "custom_ca");
    json_object *last = NULL;
    json_object_object_get_ex(st.doc, "last", &last);
    jsonfile_set_string(o, "led", jsonfile_get_string(last, "led", PROV_LED_OFF));

    json_object *running = json_object_new_object();
    if (running) {
        char slot[2] = {a->running_slot, '\0'};
        jsonfile_set_string(running, "slot", a->boot_valid ? slot : "");
        jsonfile_set_string(running, "version", a->running_version);
        json_object_object_add(o, "running", running);
    }
    json_object_object_add(o, "boot_state_valid", json_object_new_boolean(a->boot_valid));
    if (a->boot_valid) {
        json_object *slots = json_object_new_object();
        if (slots) {
            json_object_object_add(slots, "A", slot_object(&a->boot.slot[BOOTSTATE_SLOT_A]));
            json_object_object_add(slots, "B", slot_object(&a->boot.slot[BOOTSTATE_SLOT_B]));
            json_object_object_add(o, "slots", slots);
        }
        json_object_object_add(o, "fallback", json_object_new_boolean(a->boot.fallback));
    }
    int calls = 0;
    if ((rc = call_active_count(&a->folder, &calls, err)) != UG_OK)
        goto out;
    jsonfile_set_int(o, "calls_active", calls);

    /* The upgrade engine owns DIR/upgrade.json; its "status" object is shown as it is. */
    if ((rc = jsonfile_load(session_path(a, STATE_UPGRADE), &upgrade, err)) != UG_OK)
        goto out;
    json_object *ustatus = NULL;
    if (json_object_object_get_ex(upgrade, "status", &ustatus))
        json_object_object_add(o, "upgrade", json_object_get(ustatus));
    else
        json_object_object_add(o, "upgrade", NULL);
out:
    resync_state_free(&st);
    json_object_put(upgrade);
    if (rc != UG_OK) {
        json_object_put(o);
        o = NULL;
    }
    *out = o;
    return rc;
}

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

static void print_text(json_object *o)
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
    printf("device:        %s %s (serial %s, hardware %s, client certificate %s)\n",
           str(id, "product"), str(id, "mac"), str(id, "serial"), str(id, "hwver"),
           str(id, "client_certificate"));
    printf("provisioning:  %s (Provision_Enable %s, %lld resyncs)\n", str(prov, "state"),
           str(prov, "provision_enable"), jsonfile_get_int(prov, "resyncs", 0));
    const char *server = jsonfile_get_string(dhcp, "server", "");
    if (*server)
        printf("DHCP server:   %s (option %lld)\n", server, jsonfile_get_int(dhcp, "option", 0));
    if (last)
        printf("last resync:   %s %s (%s) %s %s, LED %s\n", str(last, "time_text"),
               str(last, "result_name"), str(last, "err"), str(last, "rule"), str(last, "url"),
               str(last, "led"));
    else
        printf("last resync:   none\n");
    if (ca)
        printf("custom CA:     %s %s (%s)\n", str(ca, "url"), str(ca, "result"), str(ca, "err"));
    printf("LED:           %s\n", str(o, "led"));
    printf("running:       slot %s, version %s\n", str(running, "slot"), str(running, "version"));
    for (const char *name = "A"; slots && name; name = *name == 'A' ? "B" : NULL) {
        json_object *s = NULL;
        json_object_object_get_ex(slots, name, &s);
        printf(
            "slot %s:        version %s, bootable %s, successful %s, tries %lld, priority %lld\n",
            name, *str(s, "version") ? str(s, "version") : "(empty)", any(s, "bootable"),
            any(s, "successful"), jsonfile_get_int(s, "tries", 0),
            jsonfile_get_int(s, "priority", 0));
    }
    if (!slots)
        printf("slots:         boot state unreadable\n");
    else
        printf("fallback:      %s\n", any(o, "fallback"));
    printf("calls active:  %lld\n", jsonfile_get_int(o, "calls_active", 0));
    if (upgrade)
        printf("upgrade:       %s, target %s, hop %s/%s, %s/%s bytes, last %s (%s) %s\n",
               any(upgrade, "state"), any(upgrade, "target"), any(upgrade, "hop"),
               any(upgrade, "hops"), any(upgrade, "bytes_done"), any(upgrade, "bytes_total"),
               any(upgrade, "last_result"), any(upgrade, "last_error"), any(upgrade, "last_url"));
    else
        printf("upgrade:       none\n");
    if (upgrade && jsonfile_get_int(upgrade, "bytes_full", 0) > 0) {
        long long full = jsonfile_get_int(upgrade, "bytes_full", 0);
        long long got = jsonfile_get_int(upgrade, "bytes_fetched", 0);
        printf("download:      %lld bytes reused from the slots, %lld fetched of %lld (%.0f%% "
               "saved)\n",
               jsonfile_get_int(upgrade, "bytes_reused", 0), got, full,
               got < full ? 100.0 * (double)(full - got) / (double)full : 0.0);
    }
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
        rc = build(&s, &o, err);
    session_close(&s);
    if (rc != UG_OK)
        return rc;
    if (as_json)
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                             JSON_C_TO_STRING_NOSLASHESCAPE));
    else
        print_text(o);
    json_object_put(o);
    return UG_OK;
}
