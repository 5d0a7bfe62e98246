/* SPDX-License-Identifier: MIT */
/* The A/B boot state (which slot boots, its tries, its successful flag, its version) and
 * its power-loss-safe store: two CRC-checked copies, written older-first. docs/bootstate.md. */
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
#define BOOTSTATE_RECORD_SIZE   256 /* one copy on the medium, CRC included */
#define BOOTSTATE_COPIES        2

struct bootstate_slot {
    unsigned priority;                   /* 0..15; 0 = not bootable, higher boots first */
    unsigned tries;                      /* 0..7: boots left while not yet successful */
    bool successful;                     /* has booted and been marked good */
    char version[BOOTSTATE_VERSION_MAX]; /* installed version, "" when unknown/empty */
};

/* Why a copy on the medium is or is not usable (status reports it per copy). */
enum bootstate_copy_status {
    BOOTSTATE_COPY_VALID,
    BOOTSTATE_COPY_MISSING, /* absent, short, or never written (all zero) */
    BOOTSTATE_COPY_BAD_MAGIC,
    BOOTSTATE_COPY_BAD_FORMAT, /* unknown format version or record size */
    BOOTSTATE_COPY_BAD_CRC,
    BOOTSTATE_COPY_BAD_FIELDS, /* CRC fine, but a value out of range */
};

/* The store's health as last read or written; not itself stored. */
struct bootstate_health {
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

/* The medium under the two copies. The file backend keeps both in one file; a U-Boot
 * environment or a raw partition is another entry of the same shape. */
enum bootstate_open_mode {
    BOOTSTATE_OPEN_READ,
    BOOTSTATE_OPEN_WRITE,  /* created if missing */
    BOOTSTATE_OPEN_CREATE, /* emptied first: a fresh store */
};
struct bootstate_backend {
    const char *name;
    /* Opens the store at location; UG_ERR_UNUSABLE if it does not exist (read mode). */
    ug_err (*open)(const char *location, enum bootstate_open_mode mode, void **handle, char *err);
    /* Reads up to len bytes of copy n into rec; *got < len means the copy is short or absent. */
    ug_err (*read_copy)(void *handle, int n, uint8_t *rec, size_t len, size_t *got, char *err);
    /* Writes len bytes at the start of copy n (not yet durable). */
    ug_err (*write_copy)(void *handle, int n, const uint8_t *rec, size_t len, char *err);
    /* Makes every write so far durable (fsync). */
    ug_err (*flush)(void *handle, char *err);
    void (*close)(void *handle);
};
/* One file: copy 0 at offset 0, copy 1 at offset 4096 (never in the same sector or page). */
extern const struct bootstate_backend bootstate_file_backend;
#define BOOTSTATE_FILE_COPY_OFFSET 4096

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

/* Serialises st as one copy with the given generation (docs/bootstate.md has the layout). */
void bootstate_encode(const struct bootstate *st, uint64_t generation,
                      uint8_t rec[BOOTSTATE_RECORD_SIZE]);
/* Checks and parses one copy; st and *generation are filled only when it is valid. */
enum bootstate_copy_status bootstate_decode(const uint8_t *rec, size_t len, struct bootstate *st,
                                            uint64_t *generation);

/* Reads the valid copy with the highest generation; st->health says what each copy held.
 * UG_ERR_UNUSABLE when the store is missing or no copy is valid; UG_ERR_OTHER on I/O errors. */
ug_err bootstate_load(const char *path, struct bootstate *st, char *err) UG_MUST_CHECK;
/* Writes st over the older copy with the next generation and flushes it; when no copy is
 * valid it writes both. Updates st->health. */
ug_err bootstate_save(const char *path, struct bootstate *st, char *err) UG_MUST_CHECK;
/* Creates (or empties and rewrites) the store at path with the fresh state, both copies. */
ug_err bootstate_create(const char *path, const char *version_a, char *err) UG_MUST_CHECK;

/* Changes of the store are serialised between processes (bootctl by hand, the agent, the
 * boot-time run): each holds an exclusive flock on "<path>.lock" from the load a change
 * starts from until its save is durable, a few milliseconds. Readers need no lock: the two
 * copies always leave one whole. */
#define BOOTSTATE_LOCK_SUFFIX  ".lock"
#define BOOTSTATE_LOCK_WAIT_MS 10000 /* what bootctl and the agent wait for another holder */
/* Takes the lock of the store at path (creating the lock file), waiting up to wait_ms;
 * *lock_fd is then the open lock (-1 on failure). UG_ERR_OTHER when it cannot be taken. */
ug_err bootstate_lock(const char *path, int wait_ms, int *lock_fd, char *err) UG_MUST_CHECK;
/* Releases a lock taken by bootstate_lock and sets *lock_fd to -1; a no-op on -1. */
void bootstate_unlock(int *lock_fd);
/* The same three on any backend. */
ug_err bootstate_load_via(const struct bootstate_backend *be, const char *location,
                          struct bootstate *st, char *err) UG_MUST_CHECK;
ug_err bootstate_save_via(const struct bootstate_backend *be, const char *location,
                          struct bootstate *st, char *err) UG_MUST_CHECK;
ug_err bootstate_create_via(const struct bootstate_backend *be, const char *location,
                            const char *version_a, char *err) UG_MUST_CHECK;

#endif
