/* SPDX-License-Identifier: MIT */
/* The boot state: slot selection with Android's boot-control semantics, the on-disk record
 * (magic, format, generation, CRC32) and the two-copy store that survives a torn write. */
#include "bootctl/bootstate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "common/fsutil.h"

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

void bootstate_encode(const struct bootstate *st, uint64_t generation,
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

enum bootstate_copy_status bootstate_decode(const uint8_t *rec, size_t len, struct bootstate *st,
                                            uint64_t *generation)
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

/* ---- the store ---- */

/* Reads and checks both copies; health->serving becomes the valid copy with the highest
 * generation (copy 0 on a tie), -1 when none is valid. Its state goes into st if st is set. */
static ug_err read_copies(const struct bootstate_backend *be, void *handle, struct bootstate *st,
                          struct bootstate_health *health, char *err)
{
    struct bootstate copy_state[BOOTSTATE_COPIES];
    health->serving = -1;
    for (int n = 0; n < BOOTSTATE_COPIES; n++) {
        uint8_t rec[BOOTSTATE_RECORD_SIZE];
        size_t got = 0;
        ug_err rc = be->read_copy(handle, n, rec, sizeof rec, &got, err);
        if (rc != UG_OK)
            return rc;
        memset(&copy_state[n], 0, sizeof copy_state[n]);
        health->generation[n] = 0;
        health->copy[n] = bootstate_decode(rec, got, &copy_state[n], &health->generation[n]);
        if (health->copy[n] == BOOTSTATE_COPY_VALID &&
            (health->serving < 0 || health->generation[n] > health->generation[health->serving]))
            health->serving = n;
    }
    if (st && health->serving >= 0)
        *st = copy_state[health->serving];
    return UG_OK;
}

static void describe_copies(const struct bootstate_health *h, char *out, size_t outsz)
{
    snprintf(out, outsz, "copy 0 %s, copy 1 %s", bootstate_copy_status_name(h->copy[0]),
             bootstate_copy_status_name(h->copy[1]));
}

ug_err bootstate_load_via(const struct bootstate_backend *be, const char *location,
                          struct bootstate *st, char *err)
{
    struct bootstate_health health = {.copy = {BOOTSTATE_COPY_MISSING, BOOTSTATE_COPY_MISSING},
                                      .serving = -1};
    memset(st, 0, sizeof *st);
    st->health = health;
    void *handle = NULL;
    ug_err rc = be->open(location, BOOTSTATE_OPEN_READ, &handle, err);
    if (rc == UG_ERR_UNUSABLE)
        return ug_fail(err, UG_ERR_UNUSABLE, "%s: no boot state (missing)", location);
    if (rc != UG_OK)
        return rc;
    struct bootstate loaded = {0};
    rc = read_copies(be, handle, &loaded, &health, err);
    be->close(handle);
    if (rc != UG_OK)
        return rc;
    if (health.serving >= 0)
        *st = loaded;
    st->health = health;
    if (health.serving < 0) {
        char what[128];
        describe_copies(&health, what, sizeof what);
        return ug_fail(err, UG_ERR_UNUSABLE, "%s: no valid boot state (%s)", location, what);
    }
    return UG_OK;
}

/* Writes one copy and makes it durable before the caller may count on it. */
static ug_err write_copy_durably(const struct bootstate_backend *be, void *handle, int n,
                                 const struct bootstate *st, uint64_t generation, char *err)
{
    uint8_t rec[BOOTSTATE_RECORD_SIZE];
    bootstate_encode(st, generation, rec);
    ug_err rc = be->write_copy(handle, n, rec, sizeof rec, err);
    if (rc == UG_OK)
        rc = be->flush(handle, err);
    return rc;
}

static ug_err save_mode(const struct bootstate_backend *be, const char *location,
                        struct bootstate *st, enum bootstate_open_mode mode, char *err)
{
    void *handle = NULL;
    ug_err rc = be->open(location, mode, &handle, err);
    if (rc != UG_OK)
        return rc;
    /* The medium, not the caller's copy, says which copy is older: another writer may
     * have saved since st was loaded, and a copy may have gone bad meanwhile. */
    struct bootstate_health health;
    rc = read_copies(be, handle, NULL, &health, err);
    if (rc != UG_OK)
        goto out;
    if (health.serving >= 0) {
        /* Power-loss ordering: only the older copy is written. The newer one, which
         * holds the state before this change, is not touched, so a cut anywhere in this
         * write leaves it serving; the torn copy fails its CRC. Once the flush returns,
         * the new copy's higher generation makes it the one readers take. */
        int target = 1 - health.serving;
        uint64_t generation = health.generation[health.serving] + 1;
        rc = write_copy_durably(be, handle, target, st, generation, err);
        if (rc != UG_OK)
            goto out;
        health.copy[target] = BOOTSTATE_COPY_VALID;
        health.generation[target] = generation;
        health.serving = target;
    } else {
        /* Nothing valid to protect: write copy 0, flush, then copy 1, so the store is
         * redundant again at once and a cut between them still leaves copy 0. */
        for (int n = 0; n < BOOTSTATE_COPIES; n++) {
            rc = write_copy_durably(be, handle, n, st, (uint64_t)n + 1, err);
            if (rc != UG_OK)
                goto out;
            health.copy[n] = BOOTSTATE_COPY_VALID;
            health.generation[n] = (uint64_t)n + 1;
            health.serving = n;
        }
    }
    st->health = health;
out:
    be->close(handle);
    if (rc != UG_OK)
        ug_prefix(err, "boot state not saved: ");
    return rc;
}

ug_err bootstate_save_via(const struct bootstate_backend *be, const char *location,
                          struct bootstate *st, char *err)
{
    return save_mode(be, location, st, BOOTSTATE_OPEN_WRITE, err);
}

ug_err bootstate_create_via(const struct bootstate_backend *be, const char *location,
                            const char *version_a, char *err)
{
    struct bootstate st;
    ug_err rc = bootstate_init_fresh(&st, version_a, err);
    if (rc != UG_OK)
        return rc;
    /* Emptied first, so no copy of an earlier store can outrank the fresh state. */
    return save_mode(be, location, &st, BOOTSTATE_OPEN_CREATE, err);
}

ug_err bootstate_load(const char *path, struct bootstate *st, char *err)
{
    return bootstate_load_via(&bootstate_file_backend, path, st, err);
}

ug_err bootstate_save(const char *path, struct bootstate *st, char *err)
{
    return bootstate_save_via(&bootstate_file_backend, path, st, err);
}

ug_err bootstate_create(const char *path, const char *version_a, char *err)
{
    return bootstate_create_via(&bootstate_file_backend, path, version_a, err);
}

ug_err bootstate_lock(const char *path, int wait_ms, int *lock_fd, char *err)
{
    char lock[4096];
    *lock_fd = -1;
    if (snprintf(lock, sizeof lock, "%s%s", path, BOOTSTATE_LOCK_SUFFIX) >= (int)sizeof lock)
        return ug_fail(err, UG_ERR_USAGE, "%s: path too long", path);
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return ug_fail(err, UG_ERR_OTHER, "%s: cannot open: %s", lock, strerror(errno));
    /* Polled rather than blocking, so a holder that hangs costs a clear error, not a hang. */
    for (int waited = 0;; waited += 10) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            break;
        if ((errno != EWOULDBLOCK && errno != EINTR) || waited >= wait_ms) {
            int e = errno;
            close(fd);
            if (e == EWOULDBLOCK)
                return ug_fail(err, UG_ERR_OTHER,
                               "%s: another process is changing the boot state "
                               "(still locked after %d ms)",
                               lock, wait_ms);
            return ug_fail(err, UG_ERR_OTHER, "%s: cannot lock: %s", lock, strerror(e));
        }
        usleep(10000);
    }
    *lock_fd = fd;
    return UG_OK;
}

void bootstate_unlock(int *lock_fd)
{
    if (*lock_fd < 0)
        return;
    close(*lock_fd); /* closing the only descriptor releases the flock */
    *lock_fd = -1;
}

/* ---- the file backend ---- */

struct file_store {
    int fd;
    bool created; /* the folder entry is new and must be flushed too */
    char path[];
};

static ug_err file_open(const char *location, enum bootstate_open_mode mode, void **handle,
                        char *err)
{
    int flags = O_CLOEXEC | (mode == BOOTSTATE_OPEN_READ ? O_RDONLY : O_RDWR | O_CREAT);
    if (mode == BOOTSTATE_OPEN_CREATE)
        flags |= O_TRUNC;
    bool existed = fs_exists(location);
    int fd = open(location, flags, 0644);
    if (fd < 0)
        return ug_fail(err, errno == ENOENT ? UG_ERR_UNUSABLE : UG_ERR_OTHER, "%s: cannot open: %s",
                       location, strerror(errno));
    size_t n = strlen(location) + 1;
    struct file_store *fs = malloc(sizeof *fs + n);
    if (!fs) {
        close(fd);
        return ug_fail(err, UG_ERR_OTHER, "%s: out of memory", location);
    }
    fs->fd = fd;
    fs->created = !existed || mode == BOOTSTATE_OPEN_CREATE;
    memcpy(fs->path, location, n);
    *handle = fs;
    return UG_OK;
}

static ug_err file_read_copy(void *handle, int n, uint8_t *rec, size_t len, size_t *got, char *err)
{
    struct file_store *fs = handle;
    off_t at = (off_t)n * BOOTSTATE_FILE_COPY_OFFSET;
    *got = 0;
    while (*got < len) {
        ssize_t r = pread(fs->fd, rec + *got, len - *got, at + (off_t)*got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return ug_fail(err, UG_ERR_OTHER, "%s: cannot read: %s", fs->path, strerror(errno));
        if (r == 0)
            break; /* a short file: this copy was never (fully) written */
        *got += (size_t)r;
    }
    return UG_OK;
}

static ug_err file_write_copy(void *handle, int n, const uint8_t *rec, size_t len, char *err)
{
    struct file_store *fs = handle;
    off_t at = (off_t)n * BOOTSTATE_FILE_COPY_OFFSET;
    size_t done = 0;
    while (done < len) {
        ssize_t w = pwrite(fs->fd, rec + done, len - done, at + (off_t)done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return ug_fail(err, UG_ERR_OTHER, "%s: cannot write: %s", fs->path, strerror(errno));
        done += (size_t)w;
    }
    return UG_OK;
}

static ug_err file_flush(void *handle, char *err)
{
    struct file_store *fs = handle;
    if (fsync(fs->fd) != 0)
        return ug_fail(err, UG_ERR_OTHER, "%s: fsync: %s", fs->path, strerror(errno));
    /* A new file is only found after a power cut once its folder entry is on disk. */
    if (fs->created) {
        ug_err rc = fs_sync_parent(fs->path, err);
        if (rc != UG_OK)
            return rc;
        fs->created = false;
    }
    return UG_OK;
}

static void file_close(void *handle)
{
    struct file_store *fs = handle;
    close(fs->fd);
    free(fs);
}

const struct bootstate_backend bootstate_file_backend = {
    .name = "file",
    .open = file_open,
    .read_copy = file_read_copy,
    .write_copy = file_write_copy,
    .flush = file_flush,
    .close = file_close,
};
