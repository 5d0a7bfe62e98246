/* SPDX-License-Identifier: MIT */
/* Atomic JSON state files. Parsing goes through json_tokener so that a damaged file is
 * reported with its name instead of silently read as empty. */
#include "common/jsonfile.h"

#include <string.h>
#include <sys/stat.h>

#include "common/buf.h"
#include "common/fsutil.h"

#define JSONFILE_MAX (4u << 20)

/* *damaged says whether a failure is the content's (the file read, but is no state). */
static ug_err load(const char *path, json_object **out, int *damaged, char *err)
{
    *out = NULL;
    *damaged = 0;
    if (!fs_exists(path)) {
        *out = json_object_new_object();
        return *out ? UG_OK : ug_oom(err);
    }
    struct buf text = {0};
    ug_err rc = fs_read_state_file(path, JSONFILE_MAX, &text, err);
    struct stat st;
    *damaged = rc == UG_ERR_UNUSABLE && lstat(path, &st) == 0; /* over the limit, or a link */
    if (rc != UG_OK)
        goto out;
    json_tokener *tok = json_tokener_new();
    if (!tok) {
        rc = ug_oom(err);
        goto out;
    }
    json_object *obj = json_tokener_parse_ex(tok, text.data, (int)text.len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    json_tokener_free(tok);
    if (jerr != json_tokener_success || !json_object_is_type(obj, json_type_object)) {
        json_object_put(obj);
        *damaged = 1;
        rc = ug_fail(err, UG_ERR_OTHER, "%s: not a JSON object (%s)", path,
                     jerr != json_tokener_success ? json_tokener_error_desc(jerr) : "wrong type");
        goto out;
    }
    *out = obj;
out:
    buf_free(&text);
    return rc;
}

ug_err jsonfile_load(const char *path, json_object **out, char *err)
{
    int damaged;
    return load(path, out, &damaged, err);
}

ug_err jsonfile_load_or_set_aside(const char *path, json_object **out, char *aside, size_t asidesz,
                                  char *err)
{
    int damaged;
    aside[0] = '\0';
    ug_err rc = load(path, out, &damaged, err);
    if (rc == UG_OK || !damaged)
        return rc;
    if ((rc = fs_set_aside(path, aside, asidesz, err)) != UG_OK)
        return rc;
    *out = json_object_new_object();
    return *out ? UG_OK : ug_oom(err);
}

ug_err jsonfile_save_mode(const char *path, json_object *obj, int mode, char *err)
{
    size_t len = 0;
    const char *text = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PRETTY, &len);
    if (!text)
        return ug_fail(err, UG_ERR_OTHER, "%s: cannot serialise state", path);
    return fs_write_atomic(path, text, len, mode, err);
}

ug_err jsonfile_save(const char *path, json_object *obj, char *err)
{
    return jsonfile_save_mode(path, obj, 0644, err);
}

const char *jsonfile_get_string(json_object *obj, const char *key, const char *fallback)
{
    json_object *v = NULL;
    if (!obj || !json_object_object_get_ex(obj, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return fallback;
    return json_object_get_string(v);
}

long long jsonfile_get_int(json_object *obj, const char *key, long long fallback)
{
    json_object *v = NULL;
    if (!obj || !json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_int))
        return fallback;
    return (long long)json_object_get_int64(v);
}

void jsonfile_set_string(json_object *obj, const char *key, const char *value)
{
    if (!value)
        json_object_object_del(obj, key);
    else
        json_object_object_add(obj, key, json_object_new_string(value));
}

void jsonfile_set_int(json_object *obj, const char *key, long long value)
{
    json_object_object_add(obj, key, json_object_new_int64((int64_t)value));
}
