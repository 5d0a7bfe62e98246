/* SPDX-License-Identifier: MIT */
/* The A/B boot state (which slot boots, its tries, its successful flag, its version), the
 * selection on it, and its store: a backend chosen by name, behind a lock. docs/bootstate.md. */
#ifndef BOOTCTL_BOOTSTATE_H
#define BOOTCTL_BOOTSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define BOOTSTATE_DEFAULT_ENV   "/var/lib/upgrader/bootenv"
#define BOOTSTATE_SLOTS         2
#define BOOTSTATE_SLOT_A        0
#define BOOTSTATE_SLOT_B        1
#define BOOTSTATE_VERSION_MAX   64 /* bytes with the NUL: up to 63 characters */
#define BOOTSTATE_PRIORITY_MAX  15 /* set-active gives this; 0 means "never boot" */
#define BOOTSTATE_TRIES_MAX     7
#define BOOTSTATE_TRIES_DEFAULT 3
#define BOOTSTATE_COPIES        2 /* at most, per backend */

struct bootstate_slot {
    unsigned priority;                   /* 0..15; 0 = not bootable, higher boots first */
    unsigned tries;                      /* 0..7: boots left while not yet successful */
    bool successful;                     /* has booted and been marked good */
    char version[BOOTSTATE_VERSION_MAX]; /* installed version, "" when unknown/empty */
};

/* Why a copy on the medium is or is not usable (status reports it per copy); the names are
 * the file backend's, another backend uses those that fit. */
enum bootstate_copy_status {
    BOOTSTATE_COPY_VALID,
    BOOTSTATE_COPY_MISSING, /* absent, short, or never written (all zero) */
    BOOTSTATE_COPY_BAD_MAGIC,
    BOOTSTATE_COPY_BAD_FORMAT, /* unknown format version or record size */
    BOOTSTATE_COPY_BAD_CRC,
    BOOTSTATE_COPY_BAD_FIELDS, /* CRC fine, but a value out of range */
    BOOTSTATE_COPY_TORN,       /* a bootloader environment whose write was cut (its seal
                                  does not match its generation) */
};

/* The store's health as last read or written; not itself stored. */
struct bootstate_health {
    int copies; /* how many copies the backend keeps: copy[0..copies) are meaningful */
    enum bootstate_copy_status copy[BOOTSTATE_COPIES];
    uint64_t generation[BOOTSTATE_COPIES]; /* of each valid copy, else 0 */
    int serving;                           /* copy the state came from; -1 when none valid */
};

struct bootstate {
    struct bootstate_slot slot[BOOTSTATE_SLOTS];
    int booted;    /* slot the bootloader chose last (BOOTSTATE_SLOT_A or _B) */
    bool fallback; /* that choice skipped the top-priority slot: it was out of tries (a rollback) */
    struct bootstate_health health;
};

/* The store's backends: each keeps a whole struct bootstate on one medium (a file of two
 * CRC-checked copies, a bootloader environment, ...) and is chosen by name from a table, the
 * way curl picks its TLS backend. A backend's save is one store: a power cut at any moment
 * leaves the state before it or the state after it, never a mix. docs/bootstate.md. */
struct bootstate_backend {
    const char *name;             /* as --backend and device.conf's bootstate_backend say it */
    const char *default_location; /* where bootctl looks without --env */
    int copies;                   /* copies it keeps (1..BOOTSTATE_COPIES), as health reports */
    /* Reads the state at location into st and what each copy held into st->health (preset
     * by the caller: every copy missing, serving -1). UG_ERR_UNUSABLE when the store is
     * missing or holds no valid state; UG_ERR_OTHER on I/O errors. */
    ug_err (*load)(const char *location, struct bootstate *st, char *err);
    /* Stores st (checked in range by the caller) in one durable step and updates st->health;
     * creates the store if it is missing. */
    ug_err (*save)(const char *location, struct bootstate *st, char *err);
    /* Creates the store at location, or empties and rewrites it, holding fresh; durable. */
    ug_err (*create)(const char *location, const struct bootstate *fresh, char *err);
    /* 1: a bootloader reads this store and picks the slot itself (grub, uboot). Its load may
     * leave st->booted -1 (not recorded); the store then takes the booted slot from the
     * running system first (booted.h) and derives the fallback flag from the state. */
    int bootloader;
    /* The lock file; NULL: the location + BOOTSTATE_LOCK_SUFFIX. */
    const char *lock_path;
};

#define BOOTSTATE_DEFAULT_BACKEND "file"
#define BOOTSTATE_LOCATION_MAX    1024

/* The backend of that name; NULL if this build has none. */
const struct bootstate_backend *bootstate_backend_find(const char *name);
/* The names of the built-in backends, ", "-separated, into out (for messages and --help). */
void bootstate_backend_names(char *out, size_t outsz);

/* Changes of the store are serialised between processes (bootctl by hand, the agent, the
 * boot-time run): each holds an exclusive flock on the store's lock file from the load a
 * change starts from until its save is durable, a few milliseconds. Readers need no lock:
 * every backend's store always leaves one whole state. */
#define BOOTSTATE_LOCK_SUFFIX  ".lock"
#define BOOTSTATE_LOCK_WAIT_MS 10000 /* what bootctl and the agent wait for another holder */

/* Where a boot state lives: what callers pass around instead of a path. */
struct bootstate_store {
    const struct bootstate_backend *backend;
    char location[BOOTSTATE_LOCATION_MAX];
    char lock_path[BOOTSTATE_LOCATION_MAX + sizeof BOOTSTATE_LOCK_SUFFIX]; /* location + .lock */
    /* The two slots' devices ("" when unknown): a bootloader backend's booted slot is the
     * one mounted as root when the kernel command line does not name it. */
    char slot_device[BOOTSTATE_SLOTS][BOOTSTATE_LOCATION_MAX];
};

/* Names the store: backend by name, its location (a path for the file backend).
 * UG_ERR_USAGE for an unknown backend (the message lists the known ones) or a location
 * that is empty or too long. */
ug_err bootstate_store_init(struct bootstate_store *store, const char *backend_name,
                            const char *location, char *err) UG_MUST_CHECK;
/* Names the slots' devices (paths or PARTLABEL=/PARTUUID=; NULL or "" for unknown). */
ug_err bootstate_store_set_slots(struct bootstate_store *store, const char *slot_a,
                                 const char *slot_b, char *err) UG_MUST_CHECK;
/* Reads the state; st->health says what each copy held (also on failure). UG_ERR_UNUSABLE
 * when the store is missing or holds no valid state; UG_ERR_OTHER on I/O errors. */
ug_err bootstate_store_load(const struct bootstate_store *store, struct bootstate *st,
                            char *err) UG_MUST_CHECK;
/* Stores st durably in one step (the old state survives a cut); updates st->health.
 * UG_ERR_USAGE, nothing written, if a field of st is out of range. */
ug_err bootstate_store_save(const struct bootstate_store *store, struct bootstate *st,
                            char *err) UG_MUST_CHECK;
/* Creates (or empties and rewrites) the store with the factory state holding version_a. */
ug_err bootstate_store_create(const struct bootstate_store *store, const char *version_a,
                              char *err) UG_MUST_CHECK;
/* Takes the store's lock (creating its lock file), waiting up to wait_ms; *lock_fd is then
 * the open lock (-1 on failure). UG_ERR_OTHER when it cannot be taken. */
ug_err bootstate_store_lock(const struct bootstate_store *store, int wait_ms, int *lock_fd,
                            char *err) UG_MUST_CHECK;

/* Slot index from "A"/"a"/"B"/"b"; -1 for anything else. */
int bootstate_slot_from_letter(const char *text);
/* 'A' or 'B' for a slot index ('?' otherwise). */
char bootstate_slot_letter(int slot);
/* Whether the bootloader may pick the slot: priority > 0 and successful or tries left. */
bool bootstate_slot_bootable(const struct bootstate_slot *slot);
/* Whether a version string can be recorded: at most 63 printable ASCII characters. */
bool bootstate_version_valid(const char *version);
/* Name of a copy status for status output ("valid", "bad-crc", ...). */
const char *bootstate_copy_status_name(enum bootstate_copy_status status);

/* The factory state: A successful at top priority holding version_a, B empty and
 * unbootable, A booted. UG_ERR_USAGE if version_a is too long or not printable. */
ug_err bootstate_init_fresh(struct bootstate *st, const char *version_a, char *err) UG_MUST_CHECK;
/* S gets the top priority, tries (1..7) and loses its successful flag; the other slot
 * keeps its state at a lower priority. UG_ERR_USAGE for a bad slot or tries. */
ug_err bootstate_set_active(struct bootstate *st, int slot, unsigned tries,
                            char *err) UG_MUST_CHECK;
/* The primary slot: the one the bootloader picks next (highest-priority bootable, ties to
 * A) without using a try; -1 when none is bootable. */
int bootstate_primary(const struct bootstate *st);
/* RAUC's "good": the slot is bootable. */
bool bootstate_slot_good(const struct bootstate *st, int slot);
/* RAUC's mark good of any slot: successful, no tries; a slot marked bad gets a priority
 * below the other's so it is bootable again as its fallback. UG_ERR_USAGE for a bad slot. */
ug_err bootstate_mark_slot_good(struct bootstate *st, int slot, char *err) UG_MUST_CHECK;
/* What a bootloader backend cannot store: the fallback flag, from the state and the booted
 * slot (the top-priority slot is another one, and it is out of tries). */
void bootstate_derive_fallback(struct bootstate *st);
/* The booted slot becomes successful; UG_ERR_OTHER if it was marked bad since. */
ug_err bootstate_mark_good(struct bootstate *st, char *err) UG_MUST_CHECK;
/* The slot loses its priority, tries and successful flag. */
ug_err bootstate_mark_bad(struct bootstate *st, int slot, char *err) UG_MUST_CHECK;
/* Records the version installed in a slot; UG_ERR_USAGE if too long or not printable. */
ug_err bootstate_set_version(struct bootstate *st, int slot, const char *version,
                             char *err) UG_MUST_CHECK;
/* The bootloader's choice: the highest-priority bootable slot (ties go to A); uses up one
 * try of a slot not yet successful; sets booted and fallback. The caller must store the
 * result before it boots the slot. UG_ERR_OTHER (state unchanged) when none is bootable. */
ug_err bootstate_select_boot(struct bootstate *st, int *slot, char *err) UG_MUST_CHECK;
/* Whether two states hold the same stored fields (health ignored). */
bool bootstate_equal(const struct bootstate *a, const struct bootstate *b);

/* Path conveniences: the same on the file backend at path (lock file "<path>.lock"). */
ug_err bootstate_load(const char *path, struct bootstate *st, char *err) UG_MUST_CHECK;
ug_err bootstate_save(const char *path, struct bootstate *st, char *err) UG_MUST_CHECK;
ug_err bootstate_create(const char *path, const char *version_a, char *err) UG_MUST_CHECK;
ug_err bootstate_lock(const char *path, int wait_ms, int *lock_fd, char *err) UG_MUST_CHECK;
/* Releases a lock taken by bootstate_store_lock or bootstate_lock and sets *lock_fd to -1;
 * a no-op on -1. */
void bootstate_unlock(int *lock_fd);

#endif
