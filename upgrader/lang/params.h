/* SPDX-License-Identifier: MIT */
/* The persistent parameter store DIR/params: every parameter's value and user access,
 * replaced atomically, read by the agent and by the phone's own programs. */
#ifndef UPGRADER_PARAMS_H
#define UPGRADER_PARAMS_H

#include <stddef.h>

#include "common/buf.h"
#include "common/error.h"
#include "device/folder.h"
#include "lang/paramdefs.h"
#include "lang/profile.h"

#define PARAMS_FILE_HEADER "# upgrader parameter store v1"

/* The largest store a change may write (bytes): a change that would make it bigger is
 * refused whole. Readers take up to PARAMS_READ_MAX, so whatever was written stays readable
 * (a store of an older version included). */
#define PARAMS_STORE_MAX (16u << 20)
#define PARAMS_READ_MAX  (256u << 20)

/* Whose rights apply: the admin may do everything, the user what each `ua` allows. */
enum param_role {
    PARAM_ROLE_ADMIN,
    PARAM_ROLE_USER
};

struct param_store {
    char *path;               /* the store file */
    char *lock_path;          /* held only while the store is changed */
    struct param_table table; /* built-ins + the folder's schema.conf */
    char **value;             /* per table row, never NULL once open */
    unsigned char *access;    /* per table row, enum param_access */
    char *recovered;          /* set by params_open when it rebuilt a damaged store: what it
                                 did (the damaged copy's name), else NULL */
};

/* The longest a change waits for another writer's; a change holds the lock only while it
 * re-reads, applies and saves the store (milliseconds), never across the network. */
#define PARAMS_LOCK_WAIT_MS 5000

/* What became of one setting of a profile that was not simply taken. */
enum params_note_kind {
    PARAMS_NOTE_DEFAULTED, /* an empty value that cannot be empty: the default restored */
    PARAMS_NOTE_IGNORED,   /* a value (or section) the device cannot use: the old value stays */
    PARAMS_NOTE_ACCESS,    /* an access level or attribute not taken; the value was judged alone */
    PARAMS_NOTE_SECTION,   /* an unknown section (an element holding elements), ignored whole */
};

struct params_note {
    enum params_note_kind kind;
    unsigned line;
    char *name;
    char *why; /* one phrase; never holds a secret's value */
};

/* What an applied profile did: every setting is judged on its own (docs/provisioning-language.md
 * "What refuses a file, what costs one value"). */
struct params_apply_result {
    size_t taken;     /* settings of known parameters applied (value and/or access) */
    size_t changed;   /* values or access levels that differ from before */
    size_t defaulted; /* empty values that restored the default */
    size_t ignored;   /* values or sections of known parameters that were not taken */
    size_t unknown;   /* names not in the table (sections included), ignored */
    char **unknown_names;
    size_t n_unknown_names; /* the first PARAMS_MAX_UNKNOWN_NAMES of them */
    struct params_note *notes;
    size_t n_notes;       /* the first PARAMS_MAX_NOTES, in document order */
    size_t notes_dropped; /* beyond PARAMS_MAX_NOTES */
};
#define PARAMS_MAX_UNKNOWN_NAMES 20
#define PARAMS_MAX_NOTES         1000

/* How a profile is applied beyond its own content. */
struct params_apply_options {
    const char *served_by; /* host that served the profile: fills an Upgrade_Rule URL that names
                              no server (docs/provisioning.md 1.3); NULL for a local file */
};

/* Reads the folder's store (defaults where it has no store yet). Reading takes no lock: the
 * file is only ever replaced whole. A damaged store (cut short, not a store, over
 * PARAMS_READ_MAX) is set aside as params.damaged-TIME and rebuilt from the defaults, under
 * the lock; s->recovered then says so. A store that cannot be read (I/O) is an error. Each change below takes the lock, re-reads the file (so
 * a change made meanwhile by another process is kept), changes and saves it, and lets go. */
ug_err params_open(const struct state_folder *f, struct param_store *s, char *err) UG_MUST_CHECK;
/* Frees the store and releases the lock. */
void params_close(struct param_store *s);
/* Writes DIR/params with every default (init, factory reset). */
ug_err params_create_defaults(const struct state_folder *f, char *err) UG_MUST_CHECK;
/* The stored value of name (aliases resolved), or NULL if unknown; no access check. */
const char *params_value(const struct param_store *s, const char *name);
/* macro_param_fn over a struct param_store (opaque), for struct macro_context. */
const char *params_macro_lookup(void *store, const char *name);
/* The value for role: the user needs ro or rw; a secret needs show_secret and the admin.
 * UG_ERR_USAGE for an unknown name, UG_ERR_OTHER when refused. */
ug_err params_get(const struct param_store *s, const char *name, enum param_role role,
                  int show_secret, const char **value, char *err) UG_MUST_CHECK;
/* Validates and sets one value (the user needs rw), durably, as a change of its own. */
ug_err params_set(struct param_store *s, const char *name, const char *value, enum param_role role,
                  char *err) UG_MUST_CHECK;
/* Judges every entry of p on its own, then commits what can be used in one atomic save:
 * an invalid value is ignored (the old one stays), an empty one that cannot be empty restores
 * the default, each with a note in res. Fails (nothing changed) only when the store cannot be
 * read, locked or written. res may be NULL. */
ug_err params_apply(struct param_store *s, const struct profile *p, const char *source,
                    struct params_apply_result *res, char *err) UG_MUST_CHECK;
/* params_apply with options (o may be NULL). */
ug_err params_apply_with(struct param_store *s, const struct profile *p, const char *source,
                         const struct params_apply_options *o, struct params_apply_result *res,
                         char *err) UG_MUST_CHECK;
/* Frees the names and notes in res. */
void params_apply_result_free(struct params_apply_result *res);
/* Appends what apply and resync print: "applied SOURCE: N parameters, N changed[, N defaulted]
 * [, N ignored][, N unknown ignored: NAME ...]" then one line per note,
 * "SOURCE line N: NAME: why". */
int params_apply_result_format(const struct params_apply_result *res, const char *source,
                               struct buf *out);
/* Appends the store as an XML flat-profile that params_apply takes back unchanged;
 * secrets appear as preserve-value="y" without a value unless show_secrets (admin only);
 * for the user only the parameters the user can see. UG_ERR_OTHER naming the parameter when a
 * stored value cannot be written as XML (a control character or bytes that are not UTF-8,
 * which only an older agent's store can hold). */
ug_err params_export_xml(const struct param_store *s, enum param_role role, int show_secrets,
                         struct buf *out, char *err) UG_MUST_CHECK;
/* The same with only the parameters whose value or user access differ from the factory's
 * (Report_Rule --delta). */
ug_err params_export_delta_xml(const struct param_store *s, enum param_role role, int show_secrets,
                               struct buf *out, char *err) UG_MUST_CHECK;
/* Appends "NAME<TAB>ACCESS<TAB>VALUE" lines (secrets as ********) for role. */
ug_err params_list(const struct param_store *s, enum param_role role, struct buf *out,
                   char *err) UG_MUST_CHECK;

#endif
