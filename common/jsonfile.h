/* SPDX-License-Identifier: MIT */
/* JSON state files in the state folder (resync.json, upgrade.json, ...): load one as a
 * json-c object, save one atomically. Each concern keeps its own file. */
#ifndef UPGRADER_JSONFILE_H
#define UPGRADER_JSONFILE_H

#include <json-c/json.h>

#include "common/error.h"

/* Loads path into *out (a new reference). A missing file gives an empty object; a file
 * that is not a JSON object is an error (UG_ERR_OTHER) naming it. */
ug_err jsonfile_load(const char *path, json_object **out, char *err) UG_MUST_CHECK;
/* jsonfile_load for the file's owner, under the lock that guards its writes: a file whose
 * content is damaged (not a JSON object, or over the 4 MiB limit) is set aside
 * (fs_set_aside) and *out is an empty object, with aside holding the damaged copy's name;
 * else aside is "". A file that cannot be read (I/O, permissions) is still an error. */
ug_err jsonfile_load_or_set_aside(const char *path, json_object **out, char *aside, size_t asidesz,
                                  char *err) UG_MUST_CHECK;
/* Writes obj to path atomically (temp, fsync, rename, fsync folder), pretty-printed. */
ug_err jsonfile_save(const char *path, json_object *obj, char *err) UG_MUST_CHECK;
/* jsonfile_save with the file's mode (jsonfile_save: 0644). */
ug_err jsonfile_save_mode(const char *path, json_object *obj, int mode, char *err) UG_MUST_CHECK;
/* Small typed getters that tolerate a missing or mistyped key by returning the fallback. */
const char *jsonfile_get_string(json_object *obj, const char *key, const char *fallback);
long long jsonfile_get_int(json_object *obj, const char *key, long long fallback);
/* Sets key to a string (NULL removes it) or an integer. */
void jsonfile_set_string(json_object *obj, const char *key, const char *value);
void jsonfile_set_int(json_object *obj, const char *key, long long value);

#endif
