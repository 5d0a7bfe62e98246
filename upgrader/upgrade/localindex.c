/* SPDX-License-Identifier: MIT */
/* A slot's block table: built by one read of the slot (SHA-256 per block, the key kept),
 * sorted, written to the state folder with a fan-out of 4096 buckets; a lookup reads one
 * bucket with pread. Only the fan-out (16 KiB) and a bucket stay in memory. */
#include "upgrade/localindex.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/blockindex.h"
#include "common/fsutil.h"

#define MAGIC        "UGLIDX1\n"
#define FANOUT_BITS  12
#define FANOUT       (1u << FANOUT_BITS)
#define ENTRY        12 /* u64 key, u32 block, little-endian */
#define BUCKET_MAX   512
#define READ_BUFFER  (256u << 10)
#define VERSION_MAX  64
#define HEADER_BYTES (8 + 4 + 4 + 5 * 8 + VERSION_MAX + 8)

struct identity {
    uint32_t block_size;
    uint64_t size, mtime_s, mtime_ns, ino, rdev;
    char version[VERSION_MAX];
};

struct local_index {
    int fd;
    uint64_t count;
    uint32_t fanout[FANOUT + 1];
    uint8_t bucket[BUCKET_MAX * ENTRY];
};

struct entry {
    uint64_t key;
    uint32_t block;
} __attribute__((packed));

static void put(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* The slot as it is now: what its cache must have been built from. */
static ug_err identify(const struct local_slot *s, uint32_t block_size, struct identity *id,
                       char *err)
{
    struct slot slot;
    memset(id, 0, sizeof *id);
    ug_err rc = slot_open_read(&slot, s->backend, s->location, err);
    if (rc != UG_OK)
        return rc;
    id->size = slot.size;
    slot_close(&slot);
    struct stat st;
    if (stat(s->location, &st) == 0) { /* PARTLABEL= and friends are no paths */
        id->mtime_s = (uint64_t)st.st_mtim.tv_sec;
        id->mtime_ns = (uint64_t)st.st_mtim.tv_nsec;
        id->ino = st.st_ino;
        id->rdev = st.st_rdev;
    }
    id->block_size = block_size;
    snprintf(id->version, sizeof id->version, "%s", s->version ? s->version : "");
    return UG_OK;
}

static void encode_header(uint8_t *h, const struct identity *id, uint64_t count)
{
    memset(h, 0, HEADER_BYTES);
    memcpy(h, MAGIC, 8);
    put(h + 8, id->block_size, 4);
    put(h + 12, FANOUT_BITS, 4);
    const uint64_t v[5] = {id->size, id->mtime_s, id->mtime_ns, id->ino, id->rdev};
    for (int i = 0; i < 5; i++)
        put(h + 16 + 8 * i, v[i], 8);
    memcpy(h + 56, id->version, strnlen(id->version, VERSION_MAX - 1));
    put(h + 56 + VERSION_MAX, count, 8);
}

static int cmp_entry(const void *a, const void *b)
{
    uint64_t x = ((const struct entry *)a)->key, y = ((const struct entry *)b)->key;
    return x < y ? -1 : x > y;
}

/* Hashes every block of the slot into *out (zero blocks left out), sorted, one per key. */
static ug_err hash_slot(const struct local_slot *s, uint32_t bs, struct entry **out, uint64_t *n,
                        char *err)
{
    struct slot slot;
    ug_err rc = slot_open_read(&slot, s->backend, s->location, err);
    if (rc != UG_OK)
        return rc;
    uint64_t cap = slot.size / bs + 1, end = slot.size;
    uint8_t *buf = malloc(READ_BUFFER), *zero = calloc(1, bs);
    struct entry *e = malloc(cap * sizeof *e);
    *n = 0;
    if (!buf || !e || !zero)
        rc = ug_oom(err);
    for (uint64_t block = 0; rc == UG_OK && block * bs < end;) {
        size_t got = 0;
        rc = slot_read(&slot, buf, READ_BUFFER, &got, err);
        if (rc != UG_OK || got == 0)
            break;
        /* A slot holding a file system is read as far as the file system goes: the rest of
         * the partition is leftovers, and reading it would cost as much as the rest. */
        if (block == 0 && fs_size_of_image(buf, got) && fs_size_of_image(buf, got) < end)
            end = fs_size_of_image(buf, got);
        if (got > end - block * bs)
            got = (size_t)(end - block * bs);
        for (size_t at = 0; at + bs <= got; at += bs, block++)
            if (memcmp(buf + at, zero, bs) != 0)
                e[(*n)++] = (struct entry){block_key(buf + at, bs), (uint32_t)block};
    }
    slot_close(&slot);
    free(buf);
    free(zero);
    if (rc != UG_OK) {
        free(e);
        return rc;
    }
    qsort(e, *n, sizeof *e, cmp_entry);
    uint64_t w = 0; /* one block per key: the first of equal ones */
    for (uint64_t i = 0; i < *n; i++)
        if (w == 0 || e[i].key != e[w - 1].key)
            e[w++] = e[i];
    *n = w;
    *out = e;
    return UG_OK;
}

static ug_err write_all(int fd, const char *path, const void *data, size_t len, char *err)
{
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return ug_fail(err, UG_ERR_OTHER, "%s: write failed: %s", path, strerror(errno));
        p += w;
        len -= (size_t)w;
    }
    return UG_OK;
}

/* Header, fan-out and entries, written to a temporary file, fsynced and renamed: a cut
 * leaves the old cache or the new one, and a cache is checked before use anyway. */
static ug_err save(const char *path, const struct identity *id, struct entry *e, uint64_t n,
                   char *err)
{
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return ug_fail(err, UG_ERR_OTHER, "%s: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return ug_fail(err, UG_ERR_OTHER, "%s: cannot create: %s", tmp, strerror(errno));
    uint8_t head[HEADER_BYTES], fan[4 * (FANOUT + 1)];
    encode_header(head, id, n);
    uint64_t at = 0;
    for (uint32_t b = 0; b <= FANOUT; b++) {
        while (at < n && (e[at].key >> (64 - FANOUT_BITS)) < b)
            at++;
        put(fan + 4 * b, b == FANOUT ? n : at, 4);
    }
    for (uint64_t i = 0; i < n; i++) { /* in place: 12 packed bytes become 12 LE bytes */
        struct entry x = e[i];
        put((uint8_t *)&e[i], x.key, 8);
        put((uint8_t *)&e[i] + 8, x.block, 4);
    }
    ug_err rc = write_all(fd, tmp, head, sizeof head, err);
    if (rc == UG_OK)
        rc = write_all(fd, tmp, fan, sizeof fan, err);
    if (rc == UG_OK)
        rc = write_all(fd, tmp, e, (size_t)n * ENTRY, err);
    if (rc == UG_OK && fsync(fd) != 0)
        rc = ug_fail(err, UG_ERR_OTHER, "%s: fsync failed: %s", tmp, strerror(errno));
    close(fd);
    if (rc == UG_OK && rename(tmp, path) != 0)
        rc = ug_fail(err, UG_ERR_OTHER, "%s: cannot rename: %s", tmp, strerror(errno));
    if (rc != UG_OK)
        unlink(tmp);
    return rc == UG_OK ? fs_sync_parent(path, err) : rc;
}

/* Opens the cache if it was made from this very slot; 0 when it was not (or is damaged). */
static int load(const char *path, const struct identity *id, struct local_index *x)
{
    uint8_t head[HEADER_BYTES], want[HEADER_BYTES], fan[4 * (FANOUT + 1)];
    struct stat st;
    x->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (x->fd < 0)
        return 0;
    if (pread(x->fd, head, sizeof head, 0) != (ssize_t)sizeof head ||
        pread(x->fd, fan, sizeof fan, sizeof head) != (ssize_t)sizeof fan || fstat(x->fd, &st))
        return 0;
    x->count = get(head + 56 + VERSION_MAX, 8);
    encode_header(want, id, x->count);
    if (memcmp(head, want, sizeof head) != 0 ||
        (uint64_t)st.st_size != sizeof head + sizeof fan + x->count * ENTRY)
        return 0;
    for (uint32_t b = 0; b <= FANOUT; b++) {
        x->fanout[b] = (uint32_t)get(fan + 4 * b, 4);
        if ((b && x->fanout[b] < x->fanout[b - 1]) || x->fanout[b] > x->count)
            return 0;
    }
    return x->fanout[FANOUT] == x->count;
}

ug_err local_index_open(const struct local_slot *s, uint32_t block_size, struct local_index **out,
                        int *built, char *err)
{
    struct identity id;
    *out = NULL;
    *built = 0;
    ug_err rc = identify(s, block_size, &id, err);
    struct local_index *x = rc == UG_OK ? calloc(1, sizeof *x) : NULL;
    if (rc != UG_OK)
        return rc;
    if (!x)
        return ug_oom(err);
    x->fd = -1;
    if (!load(s->cache, &id, x)) {
        if (x->fd >= 0)
            close(x->fd);
        x->fd = -1;
        struct entry *e = NULL;
        uint64_t n = 0;
        rc = hash_slot(s, block_size, &e, &n, err);
        if (rc == UG_OK)
            rc = save(s->cache, &id, e, n, err);
        free(e);
        malloc_trim(0); /* the table was the largest thing this process held */
        *built = 1;
        if (rc == UG_OK && !load(s->cache, &id, x))
            rc = ug_fail(err, UG_ERR_OTHER, "%s: the index just written does not read back",
                         s->cache);
    }
    if (rc != UG_OK) {
        local_index_close(x);
        ug_prefix(err, "indexing slot %s: ", s->location);
        return rc;
    }
    *out = x;
    return UG_OK;
}

/* Searches entries [lo, hi) by pread, a bucket at a time. */
int local_index_find(struct local_index *x, uint64_t key, uint64_t *block)
{
    uint32_t b = (uint32_t)(key >> (64 - FANOUT_BITS));
    uint64_t lo = x->fanout[b], hi = x->fanout[b + 1];
    off_t base = HEADER_BYTES + 4 * (FANOUT + 1);
    while (lo < hi) {
        uint64_t n = hi - lo < BUCKET_MAX ? hi - lo : BUCKET_MAX;
        uint64_t from = hi - lo <= BUCKET_MAX ? lo : lo + (hi - lo) / 2 - n / 2;
        if (pread(x->fd, x->bucket, n * ENTRY, base + (off_t)(from * ENTRY)) !=
            (ssize_t)(n * ENTRY))
            return 0;
        uint64_t first = get(x->bucket, 8), last = get(x->bucket + (n - 1) * ENTRY, 8);
        for (uint64_t i = 0; i < n && key >= first && key <= last; i++)
            if (get(x->bucket + i * ENTRY, 8) == key) {
                *block = get(x->bucket + i * ENTRY + 8, 4);
                return 1;
            }
        if (key >= first && key <= last)
            return 0; /* in range and not there */
        if (key < first)
            hi = from;
        else
            lo = from + n;
    }
    return 0;
}

uint64_t local_index_count(const struct local_index *x)
{
    return x->count;
}

void local_index_close(struct local_index *x)
{
    if (!x)
        return;
    if (x->fd >= 0)
        close(x->fd);
    free(x);
}

ug_err local_index_forget(const char *cache, char *err)
{
    if (unlink(cache) != 0) {
        if (errno == ENOENT)
            return UG_OK;
        return ug_fail(err, UG_ERR_OTHER, "%s: cannot remove: %s", cache, strerror(errno));
    }
    return fs_sync_parent(cache, err);
}
