/* SPDX-License-Identifier: MIT */
/* The uboot backend: the boot state as RAUC's U-Boot variables, so RAUC's boot script (and
 * ours, images/uboot/boot.cmd) boots from it, every change stored by libubootenv in one
 * write of the redundant environment: a cut leaves the old copy or the new one. */
#include "bootctl/backends/bootstate_uboot.h"

#include <errno.h>
#include <fcntl.h>
#include <libuboot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define VAR_ORDER  "BOOT_ORDER"
#define VAR_BOOTED "UPGRADER_BOOTED"

/* ---- variables <-> state ---- */

/* BOOT_x_LEFT: hex as RAUC writes it (0x prefix allowed); absent is what RAUC's script
 * presets, BOOTSTATE_UBOOT_ATTEMPTS. -1 for anything else. */
static int left(bootstate_uboot_get_fn get, void *ctx, char letter, unsigned *value)
{
    char name[32], *end = NULL;
    snprintf(name, sizeof name, "BOOT_%c_LEFT", letter);
    const char *v = get(ctx, name);
    *value = BOOTSTATE_UBOOT_ATTEMPTS;
    if (!v)
        return 0;
    unsigned long n = strtoul(v, &end, 16);
    if (!v[0] || *end || n > 0xff)
        return -1;
    *value = (unsigned)n;
    return 0;
}

/* Where the slot stands in BOOT_ORDER among A and B (other boot names are skipped): 0
 * first, 1 second, -1 absent. Absent BOOT_ORDER is "A B". */
static int order_rank(const char *order, char letter)
{
    int rank = 0;
    for (const char *p = order ? order : "A B"; *p;) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (n == 1 && (*p == 'A' || *p == 'B')) {
            if (*p == letter)
                return rank;
            rank++;
        }
        p += n;
    }
    return -1;
}

/* A slot in BOOT_ORDER has a priority; LEFT counts its boots left. Good (successful) means
 * LEFT is back at the attempts mark-good gives and no set-active is on trial; a good slot
 * that booted since has fewer left and needs marking good again, as under RAUC. */
static int decode_slot(bootstate_uboot_get_fn get, void *ctx, int s, struct bootstate_slot *out)
{
    char letter = bootstate_slot_letter(s), name[32];
    unsigned n;
    if (left(get, ctx, letter, &n) != 0)
        return -1;
    snprintf(name, sizeof name, "UPGRADER_%c_TRIAL", letter);
    const char *trial = get(ctx, name);
    int rank = order_rank(get(ctx, VAR_ORDER), letter);
    out->priority = rank < 0 ? 0 : BOOTSTATE_PRIORITY_MAX - (unsigned)rank;
    out->successful = rank >= 0 && n >= BOOTSTATE_UBOOT_ATTEMPTS && !(trial && trial[0] == '1');
    out->tries =
        rank >= 0 && !out->successful ? (n > BOOTSTATE_TRIES_MAX ? BOOTSTATE_TRIES_MAX : n) : 0;
    snprintf(name, sizeof name, "UPGRADER_%c_VERSION", letter);
    const char *v = get(ctx, name);
    if (v && !bootstate_version_valid(v))
        return -1;
    snprintf(out->version, sizeof out->version, "%s", v ? v : "");
    return 0;
}

enum bootstate_copy_status bootstate_uboot_decode(bootstate_uboot_get_fn get, void *ctx,
                                                  struct bootstate *st)
{
    if (!get(ctx, VAR_ORDER) && !get(ctx, "BOOT_A_LEFT") && !get(ctx, "BOOT_B_LEFT"))
        return BOOTSTATE_COPY_MISSING;
    struct bootstate tmp = {.health = st->health};
    if (decode_slot(get, ctx, BOOTSTATE_SLOT_A, &tmp.slot[0]) ||
        decode_slot(get, ctx, BOOTSTATE_SLOT_B, &tmp.slot[1]))
        return BOOTSTATE_COPY_BAD_FIELDS;
    const char *booted = get(ctx, VAR_BOOTED);
    tmp.booted = booted ? bootstate_slot_from_letter(booted) : -1;
    if (booted && tmp.booted < 0)
        return BOOTSTATE_COPY_BAD_FIELDS;
    *st = tmp;
    return BOOTSTATE_COPY_VALID;
}

static int encode_slot(const struct bootstate_slot *c, char letter, bootstate_uboot_set_fn set,
                       void *ctx)
{
    char name[32], value[8];
    unsigned n = c->priority == 0 ? 0 : c->successful ? BOOTSTATE_UBOOT_ATTEMPTS : c->tries;
    snprintf(name, sizeof name, "BOOT_%c_LEFT", letter);
    snprintf(value, sizeof value, "%x", n); /* hex, as RAUC and U-Boot's setexpr write it */
    int rc = set(ctx, name, value);
    snprintf(name, sizeof name, "UPGRADER_%c_TRIAL", letter);
    rc |= set(ctx, name, c->priority > 0 && !c->successful ? "1" : "0");
    snprintf(name, sizeof name, "UPGRADER_%c_VERSION", letter);
    return rc | set(ctx, name, c->version[0] ? c->version : NULL); /* U-Boot drops empty values */
}

int bootstate_uboot_encode(const struct bootstate *st, bootstate_uboot_set_fn set, void *ctx)
{
    const struct bootstate_slot *a = &st->slot[0], *b = &st->slot[1];
    int b_first = b->priority > a->priority;
    char order[8] = "";
    for (int i = 0; i < 2; i++) {
        int s = i == 0 ? b_first : !b_first;
        if (st->slot[s].priority > 0)
            snprintf(order + strlen(order), sizeof order - strlen(order), "%s%c",
                     order[0] ? " " : "", bootstate_slot_letter(s));
    }
    int rc =
        set(ctx, VAR_ORDER, order) | encode_slot(a, 'A', set, ctx) | encode_slot(b, 'B', set, ctx);
    if (st->booted == BOOTSTATE_SLOT_A || st->booted == BOOTSTATE_SLOT_B)
        rc |= set(ctx, VAR_BOOTED, st->booted == BOOTSTATE_SLOT_A ? "A" : "B");
    return rc;
}

/* ---- libubootenv ---- */

/* The values libuboot_get_env hands out, freed together when the environment is closed. */
struct env {
    struct uboot_ctx *ctx;
    char *values[32];
    int nvalues;
};

static const char *env_get(void *p, const char *name)
{
    struct env *e = p;
    char *v = libuboot_get_env(e->ctx, name);
    if (v && e->nvalues < (int)(sizeof e->values / sizeof e->values[0]))
        e->values[e->nvalues++] = v;
    else if (v) {
        free(v);
        v = NULL;
    }
    return v;
}

static int env_set(void *p, const char *name, const char *value)
{
    struct env *e = p;
    return libuboot_set_env(e->ctx, name, value) == 0 ? 0 : -1;
}

static void env_close(struct env *e)
{
    for (int i = 0; i < e->nvalues; i++)
        free(e->values[i]);
    if (e->ctx) {
        libuboot_close(e->ctx);
        libuboot_exit(e->ctx);
    }
    memset(e, 0, sizeof *e);
}

/* Reads the environment fw_env.config describes; UG_ERR_UNUSABLE when no copy is valid. */
static ug_err env_open(const char *config, struct env *e, char *err)
{
    memset(e, 0, sizeof *e);
    if (libuboot_initialize(&e->ctx, NULL) < 0)
        return ug_fail(err, UG_ERR_OTHER, "libubootenv: cannot initialise");
    if (libuboot_read_config(e->ctx, config) < 0) {
        env_close(e);
        return ug_fail(err, UG_ERR_OTHER, "%s: not a usable fw_env.config", config);
    }
    /* On UG_ERR_UNUSABLE the context stays open (empty): a store can still make it valid. */
    int rc = libuboot_open(e->ctx);
    if (rc < 0)
        return ug_fail(err, UG_ERR_UNUSABLE, "%s: no valid U-Boot environment (%s)", config,
                       strerror(-rc));
    return UG_OK;
}

/* ---- each copy's health (reported only: libubootenv decides which copy serves) ---- */

struct copy_place {
    char device[1024];
    long long offset;
    unsigned long size;
};

/* The environment's places as fw_env.config lists them (device, offset, size); at most two. */
static int read_places(const char *config, struct copy_place place[2])
{
    FILE *f = fopen(config, "re");
    int n = 0;
    char line[1200];
    while (f && n < 2 && fgets(line, sizeof line, f)) {
        char dev[1024], off[32], size[32];
        if (line[0] == '#' || sscanf(line, "%1023s %31s %31s", dev, off, size) != 3)
            continue;
        snprintf(place[n].device, sizeof place[n].device, "%s", dev);
        place[n].offset = strtoll(off, NULL, 0);
        place[n].size = strtoul(size, NULL, 0);
        n++;
    }
    if (f)
        fclose(f);
    return n;
}

/* One copy: CRC32 (little-endian) over the data after the header, which is the CRC, then a
 * flags byte (the copies' counter) when the environment is redundant. */
static enum bootstate_copy_status read_place(const struct copy_place *p, int redundant,
                                             uint64_t *generation)
{
    size_t header = redundant ? 5 : 4;
    if (p->offset < 0 || p->size <= header || p->size > (1u << 24))
        return BOOTSTATE_COPY_MISSING;
    uint8_t *buf = malloc(p->size);
    int fd = buf ? open(p->device, O_RDONLY | O_CLOEXEC) : -1;
    ssize_t got = fd >= 0 ? pread(fd, buf, p->size, (off_t)p->offset) : -1;
    if (fd >= 0)
        close(fd);
    enum bootstate_copy_status st = BOOTSTATE_COPY_MISSING;
    if (got == (ssize_t)p->size) {
        uint32_t want = (uint32_t)buf[0] | (uint32_t)buf[1] << 8 | (uint32_t)buf[2] << 16 |
                        (uint32_t)buf[3] << 24;
        uInt len = (uInt)(p->size - header);
        st = (uint32_t)crc32(0L, buf + header, len) == want ? BOOTSTATE_COPY_VALID
                                                            : BOOTSTATE_COPY_BAD_CRC;
        *generation = st == BOOTSTATE_COPY_VALID ? (redundant ? buf[4] : 1) : 0;
    }
    free(buf);
    return st;
}

/* Fills health from the copies; serving is the valid one libubootenv takes (the newer
 * counter, 0 after 255 counting as newer). */
static void read_health(const char *config, struct bootstate_health *h)
{
    struct copy_place place[2];
    int n = read_places(config, place);
    h->copies = n == 2 ? 2 : 1;
    h->serving = -1;
    for (int i = 0; i < n; i++)
        h->copy[i] = read_place(&place[i], n == 2, &h->generation[i]);
    int v0 = h->copy[0] == BOOTSTATE_COPY_VALID, v1 = n == 2 && h->copy[1] == BOOTSTATE_COPY_VALID;
    uint64_t g0 = h->generation[0], g1 = h->generation[1];
    if (v0 && v1)
        h->serving = (g1 == g0 + 1 || (g0 == 255 && g1 == 0)) ? 1 : 0;
    else
        h->serving = v0 ? 0 : v1 ? 1 : -1;
}

static ug_err uboot_load(const char *location, struct bootstate *st, char *err)
{
    read_health(location, &st->health);
    struct env e;
    ug_err rc = env_open(location, &e, err);
    if (rc != UG_OK) {
        env_close(&e);
        return rc;
    }
    enum bootstate_copy_status status = bootstate_uboot_decode(env_get, &e, st);
    env_close(&e);
    if (status != BOOTSTATE_COPY_VALID)
        return ug_fail(err, UG_ERR_UNUSABLE, "%s: the U-Boot environment holds no %s boot state",
                       location, status == BOOTSTATE_COPY_MISSING ? "" : "valid");
    return UG_OK;
}

static ug_err uboot_store(const char *location, const struct bootstate *st, int fresh, char *err)
{
    struct env e;
    ug_err rc = env_open(location, &e, err);
    /* A new device's environment may have no valid copy yet: libubootenv then starts from
     * an empty one, which the store below makes valid. */
    if (rc == UG_ERR_UNUSABLE && fresh)
        rc = UG_OK;
    if (rc != UG_OK) {
        env_close(&e);
        return rc;
    }
    /* Power-loss ordering: every variable is set in memory first and written by the one
     * env_store below, which writes the copy not in use and only then flips the counter
     * that makes it current: a cut leaves the old environment whole. */
    if (bootstate_uboot_encode(st, env_set, &e) != 0)
        rc = ug_fail(err, UG_ERR_OTHER, "%s: cannot set the boot-state variables", location);
    else if (libuboot_env_store(e.ctx) != 0)
        rc = ug_fail(err, UG_ERR_OTHER, "%s: cannot store the U-Boot environment", location);
    env_close(&e);
    return rc;
}

static ug_err uboot_save(const char *location, struct bootstate *st, char *err)
{
    ug_err rc = uboot_store(location, st, 1, err);
    if (rc == UG_OK)
        read_health(location, &st->health);
    return rc;
}

static ug_err uboot_create(const char *location, const struct bootstate *fresh, char *err)
{
    return uboot_store(location, fresh, 1, err);
}

const struct bootstate_backend bootstate_uboot_backend = {
    .name = "uboot",
    .default_location = BOOTSTATE_UBOOT_DEFAULT_CONFIG,
    .copies = BOOTSTATE_COPIES,
    .load = uboot_load,
    .save = uboot_save,
    .create = uboot_create,
    .bootloader = 1,
};
