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

/* The table is built in bounded memory whatever the slot's size: keys are collected a
 * segment at a time, each segment sorted and written as a run to a scratch file, and the
 * runs merged into the cache file (an external merge sort). */
#define SEGMENT   32768u /* entries per run: 384 KiB */
#define MAX_RUNS  512u
#define RUN_READ  128u /* entries read ahead per run while merging */
#define OUT_BATCH 1024u

struct builder {
    int runs;         /* scratch file of the sorted runs */
    const char *path; /* for messages */
    struct entry *seg;
    uint64_t nseg;
    uint64_t nruns, run_start[MAX_RUNS + 1];
};

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

/* Sorts the segment, keeps one block per key, appends it to the runs as a run. */
static ug_err flush_segment(struct builder *b, char *err)
{
    if (b->nseg == 0)
        return UG_OK;
    if (b->nruns == MAX_RUNS)
        return ug_fail(err, UG_ERR_OTHER, "%s: slot too large to index", b->path);
    qsort(b->seg, b->nseg, sizeof *b->seg, cmp_entry);
    uint64_t w = 0;
    for (uint64_t i = 0; i < b->nseg; i++)
        if (w == 0 || b->seg[i].key != b->seg[w - 1].key)
            b->seg[w++] = b->seg[i];
    b->run_start[b->nruns + 1] = b->run_start[b->nruns] + w;
    b->nruns++;
    b->nseg = 0;
    return write_all(b->runs, b->path, b->seg, (size_t)w * sizeof *b->seg, err);
}

/* A descriptor to find a slot file's holes with (SEEK_DATA), or -1 (a block device: none). */
static int hole_probe(const char *location)
{
    struct stat st;
    int fd = open(location, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Moves *block past a hole of the file (zeros, never listed, and reading them costs the
 * kernel a page of zeros each: an empty slot file is mostly hole): 1 when it moved it, or
 * when nothing but a hole is left (then *block is past the end). */
static int skip_hole(int fd, uint32_t bs, uint64_t *block)
{
    off_t data = lseek(fd, (off_t)(*block * bs), SEEK_DATA);
    if (data < 0) {
        if (errno != ENXIO)
            return 0; /* cannot tell: read it */
        *block = UINT64_MAX / bs;
        return 1;
    }
    if ((uint64_t)data / bs <= *block)
        return 0;
    *block = (uint64_t)data / bs;
    return 1;
}

/* Hashes the slot's blocks (zero blocks left out) into sorted runs. */
static ug_err hash_slot(const struct local_slot *s, uint32_t bs, struct builder *b, char *err)
{
    struct slot slot;
    ug_err rc = slot_open_read(&slot, s->backend, s->location, err);
    if (rc != UG_OK)
        return rc;
    uint64_t end = slot.size;
    uint8_t *buf = malloc(READ_BUFFER), *zero = calloc(1, bs);
    int holes = hole_probe(s->location);
    if (!buf || !zero)
        rc = ug_oom(err);
    for (uint64_t block = 0; rc == UG_OK && block * bs < end;) {
        size_t got = 0;
        if (holes >= 0 && skip_hole(holes, bs, &block)) {
            if (block * bs >= end || (rc = slot_seek(&slot, block * bs, err)) != UG_OK)
                break; /* only a hole is left (or the seek failed: rc says) */
        }
        rc = slot_read(&slot, buf, READ_BUFFER, &got, err);
        if (rc != UG_OK || got == 0)
            break;
        /* A slot holding a file system is read as far as the file system goes: the rest of
         * the partition is leftovers, and reading it would cost as much as the rest. */
        if (block == 0 && fs_size_of_image(buf, got) && fs_size_of_image(buf, got) < end)
            end = fs_size_of_image(buf, got);
        if (got > end - block * bs)
            got = (size_t)(end - block * bs);
        for (size_t at = 0; rc == UG_OK && at + bs <= got; at += bs, block++) {
            if (memcmp(buf + at, zero, bs) == 0)
                continue;
            b->seg[b->nseg++] = (struct entry){block_key(buf + at, bs), (uint32_t)block};
            if (b->nseg == SEGMENT)
                rc = flush_segment(b, err);
        }
    }
    slot_close(&slot);
    if (holes >= 0)
        close(holes);
    free(buf);
    free(zero);
    return rc == UG_OK ? flush_segment(b, err) : rc;
}

/* One run being merged: a window of its entries. */
struct run {
    uint64_t next, end; /* entries of the run not yet taken */
    struct entry buf[RUN_READ];
    uint32_t at, len;
};

static int run_peek(struct builder *b, struct run *r, struct entry *e)
{
    if (r->at == r->len) {
        uint64_t n = r->end - r->next < RUN_READ ? r->end - r->next : RUN_READ;
        if (n == 0 || pread(b->runs, r->buf, n * sizeof *r->buf,
                            (off_t)(r->next * sizeof *r->buf)) != (ssize_t)(n * sizeof *r->buf))
            return 0;
        r->next += n;
        r->at = 0;
        r->len = (uint32_t)n;
    }
    *e = r->buf[r->at];
    return 1;
}

/* The smallest key at the head of the runs (the first run's block on a tie), taken; 0 at
 * the end. */
static int merge_next(struct builder *b, struct run *runs, struct entry *out)
{
    int best = -1;
    struct entry e, m = {0, 0};
    for (uint64_t i = 0; i < b->nruns; i++)
        if (run_peek(b, &runs[i], &e) && (best < 0 || e.key < m.key)) {
            best = (int)i;
            m = e;
        }
    if (best < 0)
        return 0;
    for (uint64_t i = 0; i < b->nruns; i++) /* the same key in later runs: dropped */
        while (run_peek(b, &runs[i], &e) && e.key == m.key)
            runs[i].at++;
    *out = m;
    return 1;
}

/* Merges the runs into fd after the header and fan-out (written last, once known). */
static ug_err merge(struct builder *b, int fd, const char *path, const struct identity *id,
                    char *err)
{
    struct run *runs = calloc(b->nruns ? b->nruns : 1, sizeof *runs);
    uint8_t *out = malloc(OUT_BATCH * ENTRY), head[HEADER_BYTES], fan[4 * (FANOUT + 1)];
    uint32_t *count = calloc(FANOUT + 1, sizeof *count);
    uint64_t n = 0, batched = 0;
    ug_err rc = runs && out && count ? UG_OK : ug_oom(err);
    for (uint64_t i = 0; i < b->nruns && rc == UG_OK; i++)
        runs[i] = (struct run){.next = b->run_start[i], .end = b->run_start[i + 1]};
    if (rc == UG_OK && lseek(fd, HEADER_BYTES + sizeof fan, SEEK_SET) < 0)
        rc = ug_fail(err, UG_ERR_OTHER, "%s: cannot seek: %s", path, strerror(errno));
    for (struct entry e; rc == UG_OK && merge_next(b, runs, &e); n++) {
        put(out + batched * ENTRY, e.key, 8);
        put(out + batched * ENTRY + 8, e.block, 4);
        count[(e.key >> (64 - FANOUT_BITS)) + 1]++;
        if (++batched == OUT_BATCH) {
            rc = write_all(fd, path, out, batched * ENTRY, err);
            batched = 0;
        }
    }
    if (rc == UG_OK)
        rc = write_all(fd, path, out, batched * ENTRY, err);
    for (uint32_t i = 0; rc == UG_OK && i <= FANOUT; i++) /* bucket starts: running sums */
        put(fan + 4 * i, i ? (count[i] += count[i - 1]) : 0, 4);
    encode_header(head, id, n);
    if (rc == UG_OK && (pwrite(fd, head, sizeof head, 0) != (ssize_t)sizeof head ||
                        pwrite(fd, fan, sizeof fan, sizeof head) != (ssize_t)sizeof fan))
        rc = ug_fail(err, UG_ERR_OTHER, "%s: write failed: %s", path, strerror(errno));
    free(runs);
    free(out);
    free(count);
    return rc;
}

/* Builds the table of slot s into path: to a temporary file, fsynced, then renamed, so a cut
 * leaves the old cache or the new one (and a cache is checked before use anyway). */
static ug_err build(const struct local_slot *s, const struct identity *id, char *err)
{
    char tmp[4200], runs[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", s->cache) >= (int)sizeof tmp ||
        snprintf(runs, sizeof runs, "%s.runs", s->cache) >= (int)sizeof runs)
        return ug_fail(err, UG_ERR_OTHER, "%s: path too long", s->cache);
    struct builder b = {.path = runs, .seg = malloc(SEGMENT * sizeof(struct entry))};
    b.runs = open(runs, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    unlink(runs); /* scratch: gone whatever happens */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ug_err rc = UG_OK;
    if (!b.seg)
        rc = ug_oom(err);
    else if (b.runs < 0 || fd < 0)
        rc = ug_fail(err, UG_ERR_OTHER, "%s: cannot create: %s", s->cache, strerror(errno));
    if (rc == UG_OK)
        rc = hash_slot(s, id->block_size, &b, err);
    free(b.seg);
    if (rc == UG_OK)
        rc = merge(&b, fd, tmp, id, err);
    if (rc == UG_OK && fsync(fd) != 0)
        rc = ug_fail(err, UG_ERR_OTHER, "%s: fsync failed: %s", tmp, strerror(errno));
    if (b.runs >= 0)
        close(b.runs);
    if (fd >= 0)
        close(fd);
    if (rc == UG_OK && rename(tmp, s->cache) != 0)
        rc = ug_fail(err, UG_ERR_OTHER, "%s: cannot rename: %s", tmp, strerror(errno));
    if (rc != UG_OK)
        unlink(tmp);
    return rc == UG_OK ? fs_sync_parent(s->cache, err) : rc;
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
        rc = build(s, &id, err);
        malloc_trim(0); /* the segment and the read buffer go back to the system */
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
int local_index_find(struct local_index *x, uint64_t key, uint64_t mask, uint64_t *block)
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
        /* Sorted by whole key, so the keys sharing the masked bits are next to each other. */
        uint64_t first = get(x->bucket, 8) & mask,
                 last = get(x->bucket + (n - 1) * ENTRY, 8) & mask;
        for (uint64_t i = 0; i < n && key >= first && key <= last; i++)
            if ((get(x->bucket + i * ENTRY, 8) & mask) == key) {
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
