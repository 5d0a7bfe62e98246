/* SPDX-License-Identifier: MIT */
/* The device's status document (`upgrader status --json` without its "daemon" member):
 * identity, provisioning state and last resync, slots, calls and the upgrade's status. */
#include "daemon/devstatus.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "common/jsonfile.h"
#include "device/call.h"
#include "resync/dhcp.h"
#include "resync/provstate.h"
#include "resync/resync_state.h"

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

/* A damaged state file status read (it only reads: the file's owner sets it aside under its
 * lock), or a damaged copy set aside earlier: one line each in "damaged". */
static void note_damage(json_object *o, const char *fmt, const char *a, const char *b)
{
    json_object *list = NULL;
    if (!json_object_object_get_ex(o, "damaged", &list)) {
        list = json_object_new_array();
        json_object_object_add(o, "damaged", list);
    }
    char line[UG_ERRBUF + 200];
    snprintf(line, sizeof line, fmt, a, b);
    json_object_array_add(list, json_object_new_string(line));
}

/* The copies of damaged state files set aside (NAME.damaged-TIME): each was rebuilt. */
static void note_set_aside(json_object *o, const char *root)
{
    DIR *d = opendir(root);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".damaged-"))
            note_damage(o, "%s/%s: a damaged state file, set aside when it was rebuilt", root,
                        e->d_name);
    if (d)
        closedir(d);
}

/* A JSON state file as status shows it: a damaged one is said, and shown as absent. */
static json_object *read_state(json_object *o, const char *path, const char *owner)
{
    json_object *doc = NULL;
    char why[UG_ERRBUF];
    if (jsonfile_load(path, &doc, why) == UG_OK)
        return doc;
    note_damage(o, "%s; %s", why, owner);
    return json_object_new_object();
}

ug_err devstatus_build(struct session *a, json_object **out, char *err)
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

    st.doc = read_state(o, session_path(a, STATE_RESYNC),
                        "the next resync sets it aside and starts afresh");
    jsonfile_set_string(prov, "state", provstate_name(resync_state_prov(&st)));
    const char *enable = params_value(&a->params, "Provision_Enable");
    jsonfile_set_string(prov, "provision_enable", enable ? enable : "");
    struct dhcp_servers servers;
    char chosen[DHCP_SERVER_MAX] = "";
    if ((rc = dhcp_load(&a->folder, &servers, err)) != UG_OK)
        goto out;
    if (servers.damaged[0])
        note_damage(o, "%s; %s", servers.damaged, "the lease's next dhcp call writes it again");
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
    /* Only whether it is set: an empty one leaves the web server's admin pages open. */
    const char *admin = params_value(&a->params, "Admin_Passwd");
    json_object *warnings = json_object_new_array();
    json_object_object_add(o, "admin_password_set", json_object_new_boolean(admin && *admin));
    if (warnings && !(admin && *admin))
        json_object_array_add(warnings,
                              json_object_new_string("the admin password is empty: the web "
                                                     "pages and URL commands are open to anyone "
                                                     "(set Admin_Passwd)"));
    json_object_object_add(o, "warnings", warnings);
    int calls = 0;
    if ((rc = call_active_count(&a->folder, &calls, err)) != UG_OK)
        goto out;
    jsonfile_set_int(o, "calls_active", calls);

    /* The upgrade engine owns DIR/upgrade.json; its "status" object is shown as it is. */
    upgrade = read_state(o, session_path(a, STATE_UPGRADE),
                         "the next upgrade pass (or boot) sets it aside and starts afresh");
    note_set_aside(o, a->folder.root);
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
