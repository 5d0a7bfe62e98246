/* SPDX-License-Identifier: MIT */
/* The boot state: slot selection with Android's boot-control semantics, the table of store
 * backends and the dispatch to them, and the lock that serialises changes between processes. */
#include "bootctl/bootstate.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bootctl/backends/bootstate_file.h"
#include "bootctl/backends/bootstate_grub.h"
#include "bootctl/backends/bootstate_uboot.h"
#include "bootctl/booted.h"
#include "common/lock.h"

/* ---- slot names and state operations (pure: no I/O) ---- */

int bootstate_slot_from_letter(const char *text)
{
    if (!text || !text[0] || text[1])
        return -1;
    if (text[0] == 'A' || text[0] == 'a')
        return BOOTSTATE_SLOT_A;
    if (text[0] == 'B' || text[0] == 'b')
        return BOOTSTATE_SLOT_B;
    return -1;
}

char bootstate_slot_letter(int slot)
{
    return slot == BOOTSTATE_SLOT_A ? 'A' : slot == BOOTSTATE_SLOT_B ? 'B' : '?';
}

bool bootstate_slot_bootable(const struct bootstate_slot *slot)
{
    return slot->priority > 0 && (slot->successful || slot->tries > 0);
}

const char *bootstate_copy_status_name(enum bootstate_copy_status status)
{
    switch (status) {
    case BOOTSTATE_COPY_VALID:
        return "valid";
    case BOOTSTATE_COPY_MISSING:
        return "missing";
    case BOOTSTATE_COPY_BAD_MAGIC:
        return "bad-magic";
    case BOOTSTATE_COPY_BAD_FORMAT:
        return "bad-format";
    case BOOTSTATE_COPY_BAD_CRC:
        return "bad-crc";
    case BOOTSTATE_COPY_BAD_FIELDS:
        return "bad-fields";
    case BOOTSTATE_COPY_TORN:
        return "torn";
    }
    return "unknown";
}

static bool slot_valid(int slot)
{
    return slot == BOOTSTATE_SLOT_A || slot == BOOTSTATE_SLOT_B;
}

/* Versions end up in bootloader environments and status output: printable ASCII only. */
bool bootstate_version_valid(const char *version)
{
    size_t n = strlen(version);
    if (n >= BOOTSTATE_VERSION_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (version[i] < 0x20 || version[i] > 0x7e)
            return false;
    return true;
}

ug_err bootstate_set_version(struct bootstate *st, int slot, const char *version, char *err)
{
    if (!slot_valid(slot))
        return ug_fail(err, UG_ERR_USAGE, "slot %d is neither A nor B", slot);
    if (!bootstate_version_valid(version))
        return ug_fail(err, UG_ERR_USAGE,
                       "version '%.80s' is not storable (at most %d printable characters)", version,
                       BOOTSTATE_VERSION_MAX - 1);
    snprintf(st->slot[slot].version, sizeof st->slot[slot].version, "%s", version);
    return UG_OK;
}

ug_err bootstate_init_fresh(struct bootstate *st, const char *version_a, char *err)
{
    memset(st, 0, sizeof *st);
    st->slot[BOOTSTATE_SLOT_A].priority = BOOTSTATE_PRIORITY_MAX;
    st->slot[BOOTSTATE_SLOT_A].successful = true;
    st->booted = BOOTSTATE_SLOT_A;
    st->health.serving = -1;
    for (int n = 0; n < BOOTSTATE_COPIES; n++)
        st->health.copy[n] = BOOTSTATE_COPY_MISSING;
    return bootstate_set_version(st, BOOTSTATE_SLOT_A, version_a ? version_a : "", err);
}

ug_err bootstate_set_active(struct bootstate *st, int slot, unsigned tries, char *err)
{
    if (!slot_valid(slot))
        return ug_fail(err, UG_ERR_USAGE, "slot %d is neither A nor B", slot);
    if (tries < 1 || tries > BOOTSTATE_TRIES_MAX)
        return ug_fail(err, UG_ERR_USAGE, "tries must be 1 to %d, not %u", BOOTSTATE_TRIES_MAX,
                       tries);
    struct bootstate_slot *other = &st->slot[1 - slot];
    if (other->priority >= BOOTSTATE_PRIORITY_MAX)
        other->priority = BOOTSTATE_PRIORITY_MAX - 1;
    st->slot[slot].priority = BOOTSTATE_PRIORITY_MAX;
    st->slot[slot].tries = tries;
    st->slot[slot].successful = false;
    return UG_OK;
}

ug_err bootstate_mark_good(struct bootstate *st, char *err)
{
    struct bootstate_slot *s = &st->slot[st->booted];
    /* A slot marked bad stays bad until set-active: the agent's late "good" must not
     * revive a slot that something else has already given up on. */
    if (s->priority == 0)
        return ug_fail(err, UG_ERR_OTHER, "booted slot %c was marked bad; set it active first",
                       bootstate_slot_letter(st->booted));
    s->successful = true;
    s->tries = 0; /* tries only count for a slot not yet successful */
    return UG_OK;
}

ug_err bootstate_mark_bad(struct bootstate *st, int slot, char *err)
{
    if (!slot_valid(slot))
        return ug_fail(err, UG_ERR_USAGE, "slot %d is neither A nor B", slot);
    st->slot[slot].priority = 0;
    st->slot[slot].tries = 0;
    st->slot[slot].successful = false;
    return UG_OK;
}

ug_err bootstate_select_boot(struct bootstate *st, int *slot, char *err)
{
    int top = -1, best = -1;
    /* Walking A first with a strict ">" is what makes ties go to A. */
    for (int s = 0; s < BOOTSTATE_SLOTS; s++) {
        const struct bootstate_slot *c = &st->slot[s];
        if (c->priority > 0 && (top < 0 || c->priority > st->slot[top].priority))
            top = s;
        if (bootstate_slot_bootable(c) && (best < 0 || c->priority > st->slot[best].priority))
            best = s;
    }
    if (best < 0) {
        const struct bootstate_slot *a = &st->slot[0], *b = &st->slot[1];
        return ug_fail(
            err, UG_ERR_OTHER,
            "no bootable slot: A has priority %u, %u tries, %s; B has priority %u, %u tries, %s",
            a->priority, a->tries, a->successful ? "successful" : "not successful", b->priority,
            b->tries, b->successful ? "successful" : "not successful");
    }
    if (!st->slot[best].successful)
        st->slot[best].tries--;
    st->booted = best;
    st->fallback = best != top;
    *slot = best;
    return UG_OK;
}

int bootstate_primary(const struct bootstate *st)
{
    int best = -1;
    for (int s = 0; s < BOOTSTATE_SLOTS; s++)
        if (bootstate_slot_bootable(&st->slot[s]) &&
            (best < 0 || st->slot[s].priority > st->slot[best].priority))
            best = s;
    return best;
}

bool bootstate_slot_good(const struct bootstate *st, int slot)
{
    return slot_valid(slot) && bootstate_slot_bootable(&st->slot[slot]);
}

ug_err bootstate_mark_slot_good(struct bootstate *st, int slot, char *err)
{
    if (!slot_valid(slot))
        return ug_fail(err, UG_ERR_USAGE, "slot %d is neither A nor B", slot);
    struct bootstate_slot *s = &st->slot[slot];
    const struct bootstate_slot *other = &st->slot[1 - slot];
    /* RAUC's custom backend may call a bad slot good again (a re-installed fallback): it
     * comes back below the other slot, never above what is booting now. */
    if (s->priority == 0)
        s->priority = other->priority > 1 ? other->priority - 1 : 1;
    s->successful = true;
    s->tries = 0;
    return UG_OK;
}

void bootstate_derive_fallback(struct bootstate *st)
{
    int top = -1;
    for (int s = 0; s < BOOTSTATE_SLOTS; s++)
        if (st->slot[s].priority > 0 && (top < 0 || st->slot[s].priority > st->slot[top].priority))
            top = s;
    st->fallback = top >= 0 && top != st->booted && !bootstate_slot_bootable(&st->slot[top]);
}

bool bootstate_equal(const struct bootstate *a, const struct bootstate *b)
{
    if (a->booted != b->booted || a->fallback != b->fallback)
        return false;
    for (int s = 0; s < BOOTSTATE_SLOTS; s++) {
        const struct bootstate_slot *x = &a->slot[s], *y = &b->slot[s];
        if (x->priority != y->priority || x->tries != y->tries || x->successful != y->successful ||
            strcmp(x->version, y->version) != 0)
            return false;
    }
    return true;
}

/* ---- the backends ---- */

/* Every backend this build has; a new one is a file in bootctl/backends/ and a line here. */
static const struct bootstate_backend *const backends[] = {
    &bootstate_file_backend,
    &bootstate_grub_backend,
    &bootstate_uboot_backend,
};
#define NBACKENDS (sizeof backends / sizeof backends[0])

const struct bootstate_backend *bootstate_backend_find(const char *name)
{
    for (size_t i = 0; name && i < NBACKENDS; i++)
        if (strcmp(backends[i]->name, name) == 0)
            return backends[i];
    return NULL;
}

void bootstate_backend_names(char *out, size_t outsz)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < NBACKENDS && used < outsz; i++) {
        int n = snprintf(out + used, outsz - used, "%s%s", i ? ", " : "", backends[i]->name);
        used += n > 0 ? (size_t)n : 0;
    }
}

ug_err bootstate_store_init(struct bootstate_store *store, const char *backend_name,
                            const char *location, char *err)
{
    memset(store, 0, sizeof *store);
    store->backend = bootstate_backend_find(backend_name);
    if (!store->backend) {
        char known[256];
        bootstate_backend_names(known, sizeof known);
        return ug_fail(err, UG_ERR_USAGE, "unknown boot-state backend '%.64s' (known: %s)",
                       backend_name ? backend_name : "", known);
    }
    if (!location || !location[0])
        return ug_fail(err, UG_ERR_USAGE, "the %s boot-state backend needs a location",
                       store->backend->name);
    const char *lock = store->backend->lock_path;
    if (snprintf(store->location, sizeof store->location, "%s", location) >=
            (int)sizeof store->location ||
        snprintf(store->lock_path, sizeof store->lock_path, "%s%s", lock ? lock : location,
                 lock ? "" : BOOTSTATE_LOCK_SUFFIX) >= (int)sizeof store->lock_path)
        return ug_fail(err, UG_ERR_USAGE, "%.64s...: boot-state location too long", location);
    return UG_OK;
}

ug_err bootstate_store_set_slots(struct bootstate_store *store, const char *slot_a,
                                 const char *slot_b, char *err)
{
    const char *dev[BOOTSTATE_SLOTS] = {slot_a, slot_b};
    for (int s = 0; s < BOOTSTATE_SLOTS; s++)
        if (snprintf(store->slot_device[s], sizeof store->slot_device[s], "%s",
                     dev[s] ? dev[s] : "") >= (int)sizeof store->slot_device[s])
            return ug_fail(err, UG_ERR_USAGE, "%.64s...: slot device name too long", dev[s]);
    return UG_OK;
}

/* What a load reports before the backend has looked: every copy missing, none serving. */
static void health_preset(const struct bootstate_backend *be, struct bootstate_health *h)
{
    memset(h, 0, sizeof *h);
    h->copies = be->copies;
    for (int n = 0; n < BOOTSTATE_COPIES; n++)
        h->copy[n] = BOOTSTATE_COPY_MISSING;
    h->serving = -1;
}

/* A bootloader picked the slot: the running system says which (its kernel command line,
 * then its root device) before what the store recorded; the fallback flag follows. */
static ug_err bootloader_booted(const struct bootstate_store *store, struct bootstate *st,
                                char *err)
{
    int told = booted_detect(store->slot_device[0], store->slot_device[1]);
    if (told >= 0)
        st->booted = told;
    if (st->booted < 0)
        return ug_fail(err, UG_ERR_UNUSABLE,
                       "%s: cannot tell which slot booted (no upgrader.slot= or rauc.slot= on the "
                       "kernel command line, the root device is neither slot, and the %s "
                       "environment records none)",
                       store->location, store->backend->name);
    bootstate_derive_fallback(st);
    return UG_OK;
}

ug_err bootstate_store_load(const struct bootstate_store *store, struct bootstate *st, char *err)
{
    memset(st, 0, sizeof *st);
    health_preset(store->backend, &st->health);
    ug_err rc = store->backend->load(store->location, st, err);
    if (rc == UG_OK && store->backend->bootloader)
        rc = bootloader_booted(store, st, err);
    return rc;
}

/* Whether every field is one the state can hold: a backend never stores anything else. */
static ug_err check_fields(const struct bootstate *st, char *err)
{
    if (!slot_valid(st->booted))
        return ug_fail(err, UG_ERR_USAGE, "booted slot %d is neither A nor B", st->booted);
    for (int s = 0; s < BOOTSTATE_SLOTS; s++) {
        const struct bootstate_slot *c = &st->slot[s];
        if (c->priority > BOOTSTATE_PRIORITY_MAX || c->tries > BOOTSTATE_TRIES_MAX ||
            !bootstate_version_valid(c->version))
            return ug_fail(err, UG_ERR_USAGE,
                           "slot %c: priority %u, tries %u or version out of range",
                           bootstate_slot_letter(s), c->priority, c->tries);
    }
    return UG_OK;
}

ug_err bootstate_store_save(const struct bootstate_store *store, struct bootstate *st, char *err)
{
    ug_err rc = check_fields(st, err);
    if (rc == UG_OK)
        rc = store->backend->save(store->location, st, err);
    if (rc != UG_OK)
        ug_prefix(err, "boot state not saved: ");
    return rc;
}

ug_err bootstate_store_create(const struct bootstate_store *store, const char *version_a, char *err)
{
    struct bootstate fresh;
    ug_err rc = bootstate_init_fresh(&fresh, version_a, err);
    if (rc != UG_OK)
        return rc;
    rc = store->backend->create(store->location, &fresh, err);
    if (rc != UG_OK)
        ug_prefix(err, "boot state not created: ");
    return rc;
}

/* ---- the lock ---- */

ug_err bootstate_store_lock(const struct bootstate_store *store, int wait_ms, int *lock_fd,
                            char *err)
{
    return lock_take(store->lock_path, wait_ms, "the boot state", lock_fd, err);
}

void bootstate_unlock(int *lock_fd)
{
    lock_release(lock_fd);
}

/* ---- path conveniences: the file backend ---- */

/* The file backend's store at path; UG_ERR_USAGE if the path is empty or too long. */
static ug_err file_store(struct bootstate_store *store, const char *path, char *err)
{
    return bootstate_store_init(store, bootstate_file_backend.name, path, err);
}

ug_err bootstate_load(const char *path, struct bootstate *st, char *err)
{
    struct bootstate_store store;
    ug_err rc = file_store(&store, path, err);
    if (rc != UG_OK) {
        memset(st, 0, sizeof *st);
        health_preset(&bootstate_file_backend, &st->health);
        return rc;
    }
    return bootstate_store_load(&store, st, err);
}

ug_err bootstate_save(const char *path, struct bootstate *st, char *err)
{
    struct bootstate_store store;
    ug_err rc = file_store(&store, path, err);
    return rc == UG_OK ? bootstate_store_save(&store, st, err) : rc;
}

ug_err bootstate_create(const char *path, const char *version_a, char *err)
{
    struct bootstate_store store;
    ug_err rc = file_store(&store, path, err);
    return rc == UG_OK ? bootstate_store_create(&store, version_a, err) : rc;
}

ug_err bootstate_lock(const char *path, int wait_ms, int *lock_fd, char *err)
{
    struct bootstate_store store;
    *lock_fd = -1;
    ug_err rc = file_store(&store, path, err);
    return rc == UG_OK ? bootstate_store_lock(&store, wait_ms, lock_fd, err) : rc;
}
