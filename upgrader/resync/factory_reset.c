/* SPDX-License-Identifier: MIT */
/* Factory reset through the same all-or-nothing apply as a profile, ordered so that a power
 * cut anywhere is finished by running it again. */
#include "resync/factory_reset.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/lock.h"
#include "lang/paramdefs.h"
#include "resync/resync_state.h"

/* Every default with its factory user access, applied as one profile. */
static ug_err apply_defaults(struct session *s, char *err)
{
    const struct param_table *t = &s->params.table;
    struct profile defaults = {0};
    defaults.n = t->n;
    defaults.entries = calloc(t->n ? t->n : 1, sizeof *defaults.entries);
    if (!defaults.entries)
        return ug_oom(err);
    for (size_t i = 0; i < t->n; i++) {
        defaults.entries[i].name = (char *)t->defs[i].name;
        defaults.entries[i].value = (char *)t->defs[i].def;
        defaults.entries[i].access = (int)t->defs[i].access;
    }
    ug_err rc = params_apply(&s->params, &defaults, "factory defaults", NULL, err);
    free(defaults.entries);
    return rc;
}

static ug_err remove_custom_ca(struct session *s, char *err)
{
    const char *ca = session_path(s, STATE_CUSTOM_CA);
    if (!fs_exists(ca))
        return UG_OK;
    if (unlink(ca) != 0)
        return ug_fail(err, UG_ERR_OTHER, "%s: cannot remove the custom CA", ca);
    s->custom_ca = NULL;
    return fs_sync_parent(ca, err);
}

ug_err factory_reset(struct session *s, char *err)
{
    int lock_fd = -1;
    struct resync_state st = {0};
    ug_err rc = lock_take(session_path(s, STATE_RESYNC_LOCK), LOCK_TRY_ONCE,
                          "a resync or another factory reset", &lock_fd, err);
    if (rc == UG_OK)
        rc = session_reload(s, err);
    if (rc != UG_OK)
        goto out;
    const char *protect = params_value(&s->params, "Protect_Factory_Reset");
    if (protect && paramdefs_parse_bool(protect) == 1) {
        rc = ug_fail(err, UG_ERR_OTHER,
                     "factory reset refused: the profile forbids it (Protect_Factory_Reset=Yes)");
        goto out;
    }
    /* Power-loss order: parameters first, then the custom CA, and the record saying
     * MFG-RESET last, so the state never claims a reset that has not happened. */
    if ((rc = apply_defaults(s, err)) == UG_OK && (rc = remove_custom_ca(s, err)) == UG_OK &&
        (rc = resync_state_factory(&st, (long long)time(NULL), err)) == UG_OK)
        rc = resync_state_save(session_path(s, STATE_RESYNC), &st, err);
out:
    resync_state_free(&st);
    lock_release(&lock_fd);
    return rc;
}
