/* SPDX-License-Identifier: MIT */
/* The grub backend: the boot state as RAUC's GRUB variables, so a grub.cfg written for RAUC
 * boots from it unchanged, kept in two grubenv copies whose first and last variables (a
 * generation and its seal) tell a whole copy from one whose write was cut. */
#include "bootctl/backends/bootstate_grub.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsutil.h"

#define VAR_GEN    "UPGRADER_GEN"
#define VAR_SEAL   "UPGRADER_SEAL"
#define VAR_ORDER  "ORDER"
#define VAR_BOOTED "UPGRADER_BOOTED"

/* ---- variables <-> state ---- */

/* A 0/1 variable (name: fmt with the slot's letter); absent is 0, as RAUC's grub.cfg presets
 * it. -1 for any other value. */
static int flag(const struct grubenv *env, const char *fmt, char letter, int *value)
{
    char name[GRUBENV_NAME_MAX];
    snprintf(name, sizeof name, fmt, letter);
    const char *v = grubenv_get(env, name);
    *value = v && v[0] == '1';
    return !v || ((v[0] == '0' || v[0] == '1') && !v[1]) ? 0 : -1;
}

/* ORDER: "A B" or "B A"; absent is "A B". The first slot of it into *first. */
static int order_first(const struct grubenv *env, int *first)
{
    const char *o = grubenv_get(env, VAR_ORDER);
    *first = o && strcmp(o, "B A") == 0 ? BOOTSTATE_SLOT_B : BOOTSTATE_SLOT_A;
    return !o || strcmp(o, "A B") == 0 || strcmp(o, "B A") == 0 ? 0 : -1;
}

/* One slot: OK=0 is priority 0; OK=1 and TRY=1 is a slot out of its one try; OK=1, TRY=0
 * is good, or on trial when UPGRADER_x_TRIAL says set-active made it so. */
static int decode_slot(const struct grubenv *env, int s, int first, struct bootstate_slot *out)
{
    char letter = bootstate_slot_letter(s), name[GRUBENV_NAME_MAX];
    int ok, try, trial;
    if (flag(env, "%c_OK", letter, &ok) || flag(env, "%c_TRY", letter, &try) ||
        flag(env, "UPGRADER_%c_TRIAL", letter, &trial))
        return -1;
    out->priority = ok ? (s == first ? BOOTSTATE_PRIORITY_MAX : BOOTSTATE_PRIORITY_MAX - 1) : 0;
    out->successful = ok && !try && !trial;
    out->tries = ok && !try && trial ? 1 : 0;
    snprintf(name, sizeof name, "UPGRADER_%c_VERSION", letter);
    const char *v = grubenv_get(env, name);
    if (v && !bootstate_version_valid(v))
        return -1;
    snprintf(out->version, sizeof out->version, "%s", v ? v : "");
    return 0;
}

/* The seal: UPGRADER_GEN (the first variable written) equal to UPGRADER_SEAL (the last). */
static enum bootstate_copy_status seal(const struct grubenv *env, uint64_t *generation)
{
    const char *gen = grubenv_get(env, VAR_GEN), *sealed = grubenv_get(env, VAR_SEAL);
    *generation = 0;
    if (!gen && !sealed) /* RAUC's, or grub-editenv's: no seal, generation 0 */
        return grubenv_get(env, VAR_ORDER) || grubenv_get(env, "A_OK") || grubenv_get(env, "B_OK")
                   ? BOOTSTATE_COPY_VALID
                   : BOOTSTATE_COPY_MISSING;
    char *end = NULL;
    unsigned long long g = gen ? strtoull(gen, &end, 10) : 0;
    if (!gen || !sealed || !gen[0] || *end || g == 0 || strcmp(gen, sealed) != 0)
        return BOOTSTATE_COPY_TORN;
    *generation = g;
    return BOOTSTATE_COPY_VALID;
}

enum bootstate_copy_status bootstate_grub_decode(const struct grubenv *env, struct bootstate *st,
                                                 uint64_t *generation)
{
    enum bootstate_copy_status status = seal(env, generation);
    if (status != BOOTSTATE_COPY_VALID)
        return status;
    struct bootstate tmp = {.health = st->health};
    int first;
    if (order_first(env, &first) != 0 || decode_slot(env, BOOTSTATE_SLOT_A, first, &tmp.slot[0]) ||
        decode_slot(env, BOOTSTATE_SLOT_B, first, &tmp.slot[1]))
        return BOOTSTATE_COPY_BAD_FIELDS;
    const char *booted = grubenv_get(env, VAR_BOOTED);
    tmp.booted = booted ? bootstate_slot_from_letter(booted) : -1;
    if (booted && tmp.booted < 0)
        return BOOTSTATE_COPY_BAD_FIELDS;
    *st = tmp;
    return BOOTSTATE_COPY_VALID;
}

static int set_slot(struct grubenv *env, int s, const struct bootstate_slot *c)
{
    char letter = bootstate_slot_letter(s), name[GRUBENV_NAME_MAX];
    int ok = c->priority > 0, try = ok && !c->successful && c->tries == 0;
    int trial = ok && !c->successful && c->tries > 0, rc = 0;
    snprintf(name, sizeof name, "%c_OK", letter);
    rc |= grubenv_set(env, name, ok ? "1" : "0");
    snprintf(name, sizeof name, "%c_TRY", letter);
    rc |= grubenv_set(env, name, try ? "1" : "0");
    snprintf(name, sizeof name, "UPGRADER_%c_TRIAL", letter);
    rc |= grubenv_set(env, name, trial ? "1" : "0");
    snprintf(name, sizeof name, "UPGRADER_%c_VERSION", letter);
    return rc | grubenv_set(env, name, c->version);
}

int bootstate_grub_encode(const struct bootstate *st, uint64_t generation,
                          const struct grubenv *base, struct grubenv *out)
{
    char gen[24];
    snprintf(gen, sizeof gen, "%llu", (unsigned long long)generation);
    /* Power-loss ordering inside the block: the generation is its first variable and the
     * seal its last, so a write cut anywhere between them leaves the two unequal. */
    out->n = 0;
    int rc = grubenv_set(out, VAR_GEN, gen);
    for (int i = 0; base && i < base->n; i++)
        if (strcmp(base->var[i].name, VAR_GEN) != 0 && strcmp(base->var[i].name, VAR_SEAL) != 0)
            rc |= grubenv_set(out, base->var[i].name, base->var[i].value);
    const struct bootstate_slot *a = &st->slot[0], *b = &st->slot[1];
    rc |= grubenv_set(out, VAR_ORDER, b->priority > a->priority ? "B A" : "A B");
    rc |= set_slot(out, BOOTSTATE_SLOT_A, a) | set_slot(out, BOOTSTATE_SLOT_B, b);
    if (st->booted == BOOTSTATE_SLOT_A || st->booted == BOOTSTATE_SLOT_B)
        rc |= grubenv_set(out, VAR_BOOTED, st->booted == BOOTSTATE_SLOT_A ? "A" : "B");
    return rc | grubenv_set(out, VAR_SEAL, gen);
}

/* ---- the medium: copy 0 at the location, copy 1 beside it ---- */

static void copy_path(const char *location, int n, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s%s", location, n ? BOOTSTATE_GRUB_COPY1 : "");
}

/* Reads copy n: its status, its state and generation into st and *gen, its variables into
 * env. UG_ERR_OTHER only for an I/O error (a missing file is a missing copy). */
static ug_err read_copy(const char *location, int n, struct bootstate *st, uint64_t *gen,
                        struct grubenv *env, enum bootstate_copy_status *status, char *err)
{
    char path[BOOTSTATE_LOCATION_MAX + 4];
    copy_path(location, n, path, sizeof path);
    uint8_t block[GRUBENV_SIZE + 1];
    env->n = 0;
    *gen = 0;
    *status = BOOTSTATE_COPY_MISSING;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT
                   ? UG_OK
                   : ug_fail(err, UG_ERR_OTHER, "%s: cannot open: %s", path, strerror(errno));
    ssize_t got = pread(fd, block, sizeof block, 0);
    close(fd);
    if (got < 0)
        return ug_fail(err, UG_ERR_OTHER, "%s: cannot read: %s", path, strerror(errno));
    enum grubenv_parse_result r = grubenv_parse(block, (size_t)got, env);
    if (got == 0)
        *status = BOOTSTATE_COPY_MISSING;
    else if (r != GRUBENV_OK)
        *status = r == GRUBENV_BAD_SIGNATURE ? BOOTSTATE_COPY_BAD_MAGIC : BOOTSTATE_COPY_BAD_FORMAT;
    else
        *status = bootstate_grub_decode(env, st, gen);
    return UG_OK;
}

/* Both copies into health; the serving one (valid, highest generation, copy 0 on a tie: the
 * one a plain grub.cfg reads) into st and its variables into env. */
static ug_err read_copies(const char *location, struct bootstate *st, struct grubenv *env,
                          char *err)
{
    struct bootstate_health *h = &st->health;
    h->copies = BOOTSTATE_COPIES;
    h->serving = -1;
    for (int n = 0; n < BOOTSTATE_COPIES; n++) {
        struct bootstate copy = {.health = *h};
        struct grubenv vars; /* 15 KiB: on the stack, so the store stays reentrant */
        ug_err rc = read_copy(location, n, &copy, &h->generation[n], &vars, &h->copy[n], err);
        if (rc != UG_OK)
            return rc;
        if (h->copy[n] != BOOTSTATE_COPY_VALID ||
            (h->serving >= 0 && h->generation[n] <= h->generation[h->serving]))
            continue;
        copy.health = *h;
        *st = copy;
        *env = vars;
        st->health.serving = n;
    }
    return UG_OK;
}

static ug_err grub_load(const char *location, struct bootstate *st, char *err)
{
    struct grubenv env;
    ug_err rc = read_copies(location, st, &env, err);
    if (rc == UG_OK && st->health.serving < 0)
        return ug_fail(err, UG_ERR_UNUSABLE, "%s: no valid boot state (copy 0 %s, copy 1 %s)",
                       location, bootstate_copy_status_name(st->health.copy[0]),
                       bootstate_copy_status_name(st->health.copy[1]));
    return rc;
}

/* Writes the block over copy n in place (GRUB's save_env finds it by its sectors) and makes
 * it durable; a copy that did not exist is created at its full size. */
static ug_err write_copy(const char *location, int n, const uint8_t *block, int truncate, char *err)
{
    char path[BOOTSTATE_LOCATION_MAX + 4];
    copy_path(location, n, path, sizeof path);
    int existed = fs_exists(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0644);
    if (fd < 0)
        return ug_fail(err, UG_ERR_OTHER, "%s: cannot open: %s", path, strerror(errno));
    size_t done = 0;
    while (done < GRUBENV_SIZE) {
        ssize_t w = pwrite(fd, block + done, GRUBENV_SIZE - done, (off_t)done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            int e = errno;
            close(fd);
            return ug_fail(err, UG_ERR_OTHER, "%s: cannot write: %s", path, strerror(e));
        }
        done += (size_t)w;
    }
    int synced = fsync(fd) == 0;
    close(fd);
    if (!synced)
        return ug_fail(err, UG_ERR_OTHER, "%s: fsync: %s", path, strerror(errno));
    return existed ? UG_OK : fs_sync_parent(path, err);
}

/* Writes st as generation gen over base's variables: copy 1 first, then copy 0. */
static ug_err write_both(const char *location, const struct bootstate *st, uint64_t gen,
                         const struct grubenv *base, int truncate, char *err)
{
    struct grubenv vars;
    uint8_t block[GRUBENV_SIZE];
    if (bootstate_grub_encode(st, gen, base, &vars) != 0 || grubenv_encode(&vars, block) != 0)
        return ug_fail(err, UG_ERR_OTHER, "%s: the boot state does not fit in a %d-byte grubenv",
                       location, GRUBENV_SIZE);
    /* Power-loss ordering: copy 1 is written and flushed before copy 0 is touched. A cut in
     * copy 1 leaves it torn (its seal unequal) and copy 0 whole with the old state; a cut in
     * copy 0 leaves copy 1 whole with the new state and a higher generation. Copy 0 last, so
     * that a grub.cfg that reads only copy 0 (RAUC's) sees every completed change. */
    ug_err rc = write_copy(location, 1, block, truncate, err);
    return rc == UG_OK ? write_copy(location, 0, block, truncate, err) : rc;
}

static ug_err grub_save(const char *location, struct bootstate *st, char *err)
{
    /* The medium says what is there now: another tool may have set variables since. */
    struct grubenv base;
    struct bootstate now = {.health = st->health};
    ug_err rc = read_copies(location, &now, &base, err);
    if (rc != UG_OK)
        return rc;
    const struct bootstate_health *h = &now.health;
    uint64_t gen = 0;
    for (int n = 0; n < BOOTSTATE_COPIES; n++)
        if (h->copy[n] == BOOTSTATE_COPY_VALID && h->generation[n] > gen)
            gen = h->generation[n];
    /* A generation that cannot grow (2^64-1) starts again at 1: copy 1 at 1 loses to copy 0
     * until copy 0 is written too, and a cut in that write leaves copy 1 serving the new state. */
    gen = gen < UINT64_MAX ? gen + 1 : 1;
    rc = write_both(location, st, gen, h->serving >= 0 ? &base : NULL, 0, err);
    if (rc != UG_OK)
        return rc;
    for (int n = 0; n < BOOTSTATE_COPIES; n++) {
        st->health.copy[n] = BOOTSTATE_COPY_VALID;
        st->health.generation[n] = gen;
    }
    st->health.copies = BOOTSTATE_COPIES;
    st->health.serving = 0;
    return UG_OK;
}

static ug_err grub_create(const char *location, const struct bootstate *fresh, char *err)
{
    return write_both(location, fresh, 1, NULL, 1, err);
}

const struct bootstate_backend bootstate_grub_backend = {
    .name = "grub",
    .default_location = BOOTSTATE_GRUB_DEFAULT_ENV,
    .copies = BOOTSTATE_COPIES,
    .load = grub_load,
    .save = grub_save,
    .create = grub_create,
    .bootloader = 1,
};
