/* SPDX-License-Identifier: MIT */
/* The file backend of the boot state: the record (magic, format, generation, CRC32) and the
 * two-copy store in one file that survives a write torn at any byte. docs/bootstate.md. */
#include "bootctl/backends/bootstate_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "common/fsutil.h"

/* ---- the record: every multi-byte field little-endian, docs/bootstate.md ---- */

static const uint8_t record_magic[4] = {'U', 'G', 'B', 'S'};
#define RECORD_FORMAT    1
#define OFF_FORMAT       4
#define OFF_SIZE         6
#define OFF_GENERATION   8
#define OFF_BOOTED       16
#define OFF_FLAGS        17
#define OFF_SLOTS        20
#define SLOT_RECORD_SIZE (4 + BOOTSTATE_VERSION_MAX)
#define OFF_CRC          (BOOTSTATE_RECORD_SIZE - 4)
#define FLAG_FALLBACK    0x01

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint32_t record_crc(const uint8_t *rec)
{
    return (uint32_t)crc32(crc32(0L, Z_NULL, 0), rec, OFF_CRC);
}

void bootstate_file_encode(const struct bootstate *st, uint64_t generation,
                           uint8_t rec[BOOTSTATE_RECORD_SIZE])
{
    memset(rec, 0, BOOTSTATE_RECORD_SIZE);
    memcpy(rec, record_magic, sizeof record_magic);
    put_le(rec + OFF_FORMAT, RECORD_FORMAT, 2);
    put_le(rec + OFF_SIZE, BOOTSTATE_RECORD_SIZE, 2);
    put_le(rec + OFF_GENERATION, generation, 8);
    rec[OFF_BOOTED] = (uint8_t)st->booted;
    rec[OFF_FLAGS] = st->fallback ? FLAG_FALLBACK : 0;
    for (int s = 0; s < BOOTSTATE_SLOTS; s++) {
        uint8_t *p = rec + OFF_SLOTS + s * SLOT_RECORD_SIZE;
        p[0] = (uint8_t)st->slot[s].priority;
        p[1] = (uint8_t)st->slot[s].tries;
        p[2] = st->slot[s].successful ? 1 : 0;
        /* The rest of the field stays zero: the padding is covered by the CRC and checked. */
        memcpy(p + 4, st->slot[s].version, strnlen(st->slot[s].version, BOOTSTATE_VERSION_MAX - 1));
    }
    put_le(rec + OFF_CRC, record_crc(rec), 4);
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

enum bootstate_copy_status bootstate_file_decode(const uint8_t *rec, size_t len,
                                                 struct bootstate *st, uint64_t *generation)
{
    if (len < BOOTSTATE_RECORD_SIZE || all_zero(rec, BOOTSTATE_RECORD_SIZE))
        return BOOTSTATE_COPY_MISSING;
    if (memcmp(rec, record_magic, sizeof record_magic) != 0)
        return BOOTSTATE_COPY_BAD_MAGIC;
    if (get_le(rec + OFF_FORMAT, 2) != RECORD_FORMAT ||
        get_le(rec + OFF_SIZE, 2) != BOOTSTATE_RECORD_SIZE)
        return BOOTSTATE_COPY_BAD_FORMAT;
    if (get_le(rec + OFF_CRC, 4) != record_crc(rec))
        return BOOTSTATE_COPY_BAD_CRC;

    /* Past the CRC the bytes are what some writer meant; still refuse values this
     * format never produces, so a buggy writer cannot steer the boot. */
    struct bootstate tmp = {0};
    uint64_t gen = get_le(rec + OFF_GENERATION, 8);
    if (gen == 0 || rec[OFF_BOOTED] >= BOOTSTATE_SLOTS || (rec[OFF_FLAGS] & ~FLAG_FALLBACK) ||
        !all_zero(rec + OFF_FLAGS + 1, OFF_SLOTS - OFF_FLAGS - 1))
        return BOOTSTATE_COPY_BAD_FIELDS;
    tmp.booted = rec[OFF_BOOTED];
    tmp.fallback = rec[OFF_FLAGS] & FLAG_FALLBACK;
    for (int s = 0; s < BOOTSTATE_SLOTS; s++) {
        const uint8_t *p = rec + OFF_SLOTS + s * SLOT_RECORD_SIZE;
        const char *v = (const char *)p + 4;
        size_t vlen = strnlen(v, BOOTSTATE_VERSION_MAX);
        if (p[0] > BOOTSTATE_PRIORITY_MAX || p[1] > BOOTSTATE_TRIES_MAX || p[2] > 1 || p[3] ||
            vlen >= BOOTSTATE_VERSION_MAX || !all_zero(p + 4 + vlen, BOOTSTATE_VERSION_MAX - vlen))
            return BOOTSTATE_COPY_BAD_FIELDS;
        tmp.slot[s].priority = p[0];
        tmp.slot[s].tries = p[1];
        tmp.slot[s].successful = p[2];
        memcpy(tmp.slot[s].version, v, vlen + 1);
        if (!bootstate_version_valid(tmp.slot[s].version))
            return BOOTSTATE_COPY_BAD_FIELDS;
    }
    const size_t end = OFF_SLOTS + BOOTSTATE_SLOTS * SLOT_RECORD_SIZE;
    if (!all_zero(rec + end, OFF_CRC - end))
        return BOOTSTATE_COPY_BAD_FIELDS;
    tmp.health = st->health;
    *st = tmp;
    *generation = gen;
    return BOOTSTATE_COPY_VALID;
}

/* ---- the medium: one file, copy n at n * BOOTSTATE_FILE_COPY_OFFSET ---- */

struct medium {
    int fd;
    bool created; /* the folder entry is new and must be flushed too */
    const char *path;
};

/* Opens the file with flags; UG_ERR_UNUSABLE if it does not exist (and flags do not create). */
static ug_err medium_open(struct medium *m, const char *path, int flags, char *err)
{
    bool existed = fs_exists(path);
    m->path = path;
    /* Written in place: a link here would have the store overwrite a file elsewhere. */
    m->fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (m->fd < 0)
        return ug_fail(err, errno == ENOENT ? UG_ERR_UNUSABLE : UG_ERR_OTHER, "%s: cannot open: %s",
                       path, strerror(errno));
    m->created = !existed || (flags & O_TRUNC);
    return UG_OK;
}

/* Reads copy n into rec; *got < BOOTSTATE_RECORD_SIZE means a short file: never (fully) written. */
static ug_err medium_read(const struct medium *m, int n, uint8_t *rec, size_t *got, char *err)
{
    off_t at = (off_t)n * BOOTSTATE_FILE_COPY_OFFSET;
    *got = 0;
    while (*got < BOOTSTATE_RECORD_SIZE) {
        ssize_t r = pread(m->fd, rec + *got, BOOTSTATE_RECORD_SIZE - *got, at + (off_t)*got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return ug_fail(err, UG_ERR_OTHER, "%s: cannot read: %s", m->path, strerror(errno));
        if (r == 0)
            break;
        *got += (size_t)r;
    }
    return UG_OK;
}

/* Writes the record as copy n and makes it durable before the caller may count on it. */
static ug_err medium_write(struct medium *m, int n, const uint8_t *rec, char *err)
{
    off_t at = (off_t)n * BOOTSTATE_FILE_COPY_OFFSET;
    size_t done = 0;
    while (done < BOOTSTATE_RECORD_SIZE) {
        ssize_t w = pwrite(m->fd, rec + done, BOOTSTATE_RECORD_SIZE - done, at + (off_t)done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return ug_fail(err, UG_ERR_OTHER, "%s: cannot write: %s", m->path, strerror(errno));
        done += (size_t)w;
    }
    if (fsync(m->fd) != 0)
        return ug_fail(err, UG_ERR_OTHER, "%s: fsync: %s", m->path, strerror(errno));
    /* A new file is only found after a power cut once its folder entry is on disk. */
    if (m->created) {
        ug_err rc = fs_sync_parent(m->path, err);
        if (rc != UG_OK)
            return rc;
        m->created = false;
    }
    return UG_OK;
}

/* ---- the two-copy store ---- */

/* Reads and checks both copies; health->serving becomes the valid copy with the highest
 * generation (copy 0 on a tie), -1 when none is valid. Its state goes into st if st is set. */
static ug_err read_copies(const struct medium *m, struct bootstate *st,
                          struct bootstate_health *health, char *err)
{
    struct bootstate copy_state[BOOTSTATE_COPIES];
    health->copies = BOOTSTATE_COPIES;
    health->serving = -1;
    for (int n = 0; n < BOOTSTATE_COPIES; n++) {
        uint8_t rec[BOOTSTATE_RECORD_SIZE];
        size_t got = 0;
        ug_err rc = medium_read(m, n, rec, &got, err);
        if (rc != UG_OK)
            return rc;
        memset(&copy_state[n], 0, sizeof copy_state[n]);
        health->generation[n] = 0;
        health->copy[n] = bootstate_file_decode(rec, got, &copy_state[n], &health->generation[n]);
        if (health->copy[n] == BOOTSTATE_COPY_VALID &&
            (health->serving < 0 || health->generation[n] > health->generation[health->serving]))
            health->serving = n;
    }
    if (st && health->serving >= 0)
        *st = copy_state[health->serving];
    return UG_OK;
}

static ug_err file_load(const char *location, struct bootstate *st, char *err)
{
    struct medium m;
    ug_err rc = medium_open(&m, location, O_RDONLY, err);
    if (rc == UG_ERR_UNUSABLE)
        return ug_fail(err, UG_ERR_UNUSABLE, "%s: no boot state (missing)", location);
    if (rc != UG_OK)
        return rc;
    struct bootstate_health health = st->health;
    rc = read_copies(&m, st, &health, err);
    close(m.fd);
    st->health = health;
    if (rc == UG_OK && health.serving < 0)
        return ug_fail(err, UG_ERR_UNUSABLE, "%s: no valid boot state (copy 0 %s, copy 1 %s)",
                       location, bootstate_copy_status_name(health.copy[0]),
                       bootstate_copy_status_name(health.copy[1]));
    return rc;
}

/* Writes st as copy n with the generation, durably, and records that in health. */
static ug_err write_copy(struct medium *m, int n, const struct bootstate *st, uint64_t generation,
                         struct bootstate_health *health, char *err)
{
    uint8_t rec[BOOTSTATE_RECORD_SIZE];
    bootstate_file_encode(st, generation, rec);
    ug_err rc = medium_write(m, n, rec, err);
    if (rc != UG_OK)
        return rc;
    health->copy[n] = BOOTSTATE_COPY_VALID;
    health->generation[n] = generation;
    health->serving = n;
    return UG_OK;
}

/* Nothing valid to protect (a new, emptied or ruined store): copy 0, flushed, then copy 1,
 * so the store is redundant again at once and a cut between them still leaves copy 0. */
static ug_err write_both(struct medium *m, const struct bootstate *st,
                         struct bootstate_health *health, char *err)
{
    ug_err rc = UG_OK;
    for (int n = 0; n < BOOTSTATE_COPIES && rc == UG_OK; n++)
        rc = write_copy(m, n, st, (uint64_t)n + 1, health, err);
    return rc;
}

/* The serving copy's generation cannot grow (a record at 2^64-1, planted or worn out): the
 * count starts again. Power-loss ordering: the older copy takes the new state at generation 1
 * (the serving one still wins, holding the old state), then the serving copy takes it at 2; a
 * cut in that second write leaves it torn and the first one serving the new state. */
static ug_err restart_generations(struct medium *m, int target, const struct bootstate *st,
                                  struct bootstate_health *health, char *err)
{
    int serving = 1 - target;
    ug_err rc = write_copy(m, target, st, 1, health, err);
    return rc == UG_OK ? write_copy(m, serving, st, 2, health, err) : rc;
}

static ug_err file_save(const char *location, struct bootstate *st, char *err)
{
    struct medium m;
    ug_err rc = medium_open(&m, location, O_RDWR | O_CREAT, err);
    if (rc != UG_OK)
        return rc;
    /* The medium, not the caller's copy, says which copy is older: another writer may
     * have saved since st was loaded, and a copy may have gone bad meanwhile. */
    struct bootstate_health health = st->health;
    rc = read_copies(&m, NULL, &health, err);
    if (rc == UG_OK && health.serving >= 0) {
        /* Power-loss ordering: only the older copy is written. The newer one, which
         * holds the state before this change, is not touched, so a cut anywhere in this
         * write leaves it serving; the torn copy fails its CRC. Once the flush returns,
         * the new copy's higher generation makes it the one readers take. */
        int target = 1 - health.serving;
        uint64_t gen = health.generation[health.serving];
        if (gen < UINT64_MAX)
            rc = write_copy(&m, target, st, gen + 1, &health, err);
        else
            rc = restart_generations(&m, target, st, &health, err);
    } else if (rc == UG_OK) {
        rc = write_both(&m, st, &health, err);
    }
    close(m.fd);
    if (rc == UG_OK)
        st->health = health;
    return rc;
}

static ug_err file_create(const char *location, const struct bootstate *fresh, char *err)
{
    struct medium m;
    /* Emptied first, so no copy of an earlier store can outrank the fresh state. */
    ug_err rc = medium_open(&m, location, O_RDWR | O_CREAT | O_TRUNC, err);
    if (rc != UG_OK)
        return rc;
    struct bootstate_health health = {.copies = BOOTSTATE_COPIES};
    rc = write_both(&m, fresh, &health, err);
    close(m.fd);
    return rc;
}

const struct bootstate_backend bootstate_file_backend = {
    .name = "file",
    .default_location = BOOTSTATE_DEFAULT_ENV,
    .copies = BOOTSTATE_COPIES,
    .load = file_load,
    .save = file_save,
    .create = file_create,
};
