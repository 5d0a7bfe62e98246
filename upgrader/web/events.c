/* SPDX-License-Identifier: MIT */
/* DIR/events.json: {"events": [{time, kind, origin, rc, result, text}, ...]}, replaced
 * whole (jsonfile_save), so a power cut leaves the list before or after the event. */
#include "web/events.h"

#include "common/jsonfile.h"

ug_err events_load(const char *path, json_object **out, char *err)
{
    json_object *doc = NULL, *list = NULL;
    ug_err rc = jsonfile_load(path, &doc, err);
    if (rc != UG_OK)
        return rc;
    if (doc && json_object_object_get_ex(doc, "events", &list) &&
        json_object_is_type(list, json_type_array))
        *out = json_object_get(list);
    else
        *out = json_object_new_array();
    json_object_put(doc);
    return *out ? UG_OK : ug_oom(err);
}

ug_err events_record(const char *path, const struct event *e, char *err)
{
    json_object *list = NULL, *o = json_object_new_object(), *doc = json_object_new_object();
    ug_err rc = o && doc ? events_load(path, &list, err) : ug_oom(err);
    if (rc == UG_OK) {
        jsonfile_set_int(o, "time", e->time);
        jsonfile_set_string(o, "kind", e->kind);
        jsonfile_set_string(o, "origin", e->origin);
        jsonfile_set_int(o, "rc", e->rc);
        jsonfile_set_string(o, "result", e->rc == UG_OK ? "ok" : ug_err_name(e->rc));
        jsonfile_set_string(o, "text", e->text ? e->text : "");
        json_object_array_add(list, o);
        o = NULL;
        size_t n = json_object_array_length(list);
        if (n > EVENTS_MAX)
            json_object_array_del_idx(list, 0, n - EVENTS_MAX);
        json_object_object_add(doc, "events", list);
        rc = jsonfile_save(path, doc, err);
    }
    json_object_put(o);
    json_object_put(doc);
    return rc;
}
