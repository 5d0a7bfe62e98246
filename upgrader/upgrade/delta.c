/* SPDX-License-Identifier: MIT */
/* The delta install (docs/install.md): the signed head and the block index fetched by HTTP
 * range, every block the device already holds copied from a slot, the frames holding the
 * others fetched with several ranges a request, each chunk checked against the manifest. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/blockindex.h"
#include "bundle/bundle.h"
#include "common/hex.h"
#include "common/jsonfile.h"
#include "net/multipart.h"
#include "net/url.h"
#include "upgrade/install_int.h"
#include "upgrade/localindex.h"
#include "upgrade/slots/readback.h"

#define MAX_REUSE  4
#define HEAD_FIRST 4096u /* the first range asked for: the manifest's header and more */
#define SIG_GUESS  4096u /* room left for the signature's member in the second range */
#define GAP_BYTES \
    160u                         /* frames the device has, fetched anyway between two to fetch: less
                          * than the headers of one more part of a multipart answer */
#define MAX_RANGES  64u          /* ranges in one request: its Range header stays under ~1.5 KiB */
#define DRAIN_MAX   65536u       /* an answer's unread rest read rather than cut, up to this */
#define STREAM_READ 65536u       /* stored bytes read at once for a chunk decoded as a stream */
#define READ_AHEAD  (256u << 10) /* bytes read from a slot at once for the blocks it gives */
#define HISTORY     32768u /* plain bytes a flush frame may refer back to (deflate's window) */
#define BATCH       (256u << 10) /* plain bytes assembled before one write to the slot */
#define SRC_ZERO    -1           /* a block of zeros: made, not read */
#define SRC_NONE    -2           /* to be fetched */

/* A byte range of the bundle being read (HTTP range request, or the local file). */
struct ranger {
    struct fetch_reader *reader;
    uint64_t pos, end;
};

/* The last bytes read from a reusable slot: [off, off + len) of it. What lies ahead of the
 * image being written is never written before it is used (still_there()), so it stays true. */
struct read_ahead {
    uint8_t *buf; /* READ_AHEAD bytes */
    uint64_t off, len;
};

/* Bundle bytes [from, to) a chunk needs from the network. */
struct span {
    uint64_t from, to;
};

/* The answer to a request for several ranges, being read: a part at a time when it is
 * multipart/byteranges, else the one range the server sent. */
struct answer {
    struct ranger r;
    struct multipart *mp;
    uint64_t pos, end; /* the part at hand: bundle bytes [pos, end) not read yet */
    int open;
};

struct block_src {
    int slot; /* index into reuse[], SRC_ZERO or SRC_NONE */
    uint64_t block;
};

struct delta {
    struct install *in;
    int fd; /* a local bundle */
    int no_range;
    /* The head: the verified payload description and where its data starts. */
    struct bundle_payload *p;
    uint64_t data_offset;
    int head_done;
    /* The index and what the device holds. */
    int ixfd;                 /* the inflated index (a scratch file) */
    struct block_index ix;    /* its counts; the bytes stay in the file */
    uint8_t *wframes, *wkeys; /* the current chunk's frame sizes and keys */
    uint8_t *wplanes;         /* a byte plane of its frame sizes (version 2) */
    uint64_t wframe0, wblock0;
    uint64_t zero_key;
    struct local_index *local[MAX_REUSE];
    struct slot rd[MAX_REUSE];
    struct read_ahead ra[MAX_REUSE];
    int written_slot[MAX_REUSE]; /* 1: the slot being written (its blocks behind are new) */
    size_t nlocal;
    uint64_t pass_start; /* where this pass started writing (a resume point) */
    /* Per chunk: where each block comes from; frames to fetch. */
    struct block_src *plan;
    uint8_t *fetch;
    uint8_t *stored;
    /* The chunk's latest plain bytes: the history flush frames decode against, and a batch
     * not yet written; [0, wdone) are in the slot, [wdone, wlen) still to write. */
    uint8_t *win, *wbuf[2]; /* win: one of the two, the other may be the writer's */
    size_t wlen, wdone;
    /* The writer thread and its one batch at a time (wjob NULL: idle). */
    pthread_t writer;
    int wrunning, wstop;
    pthread_mutex_t wmu;
    pthread_cond_t wcv;
    const uint8_t *wjob;
    size_t wjob_len;
    ug_err wrc;
    char werr[UG_ERRBUF];
    struct decompressor *dec;
    struct frame_inflater *fin;
    struct decompressor *sdec; /* a chunk decoded as one stream (stream_chunk) */
    uint8_t *sbuf;             /* its stored bytes as they come */
    uint64_t splain;           /* its plain bytes so far */
    uint64_t fin_next;         /* the frame the inflater can go on with (0: none) */
    struct span *spans;        /* the chunk's, in order */
    size_t nspans;
    struct answer ans;
    unsigned max_ranges; /* MAX_RANGES; 1 once a server answered several with the whole file */
    char *range_text;
    EVP_MD_CTX *md, *md_stored;
};

static uint64_t div_up(uint64_t a, uint64_t b)
{
    return a / b + (a % b != 0);
}

/* Whether the digest so far is want; the context is ready for the next one either way. */
static int md_matches(EVP_MD_CTX *md, const unsigned char want[32])
{
    unsigned char got[32];
    int ok = EVP_DigestFinal_ex(md, got, NULL) == 1 && memcmp(got, want, 32) == 0;
    return EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 && ok;
}

/* ---- byte ranges */

/* The one refusal of a bundle that stops before a byte the install needs. */
static ug_err truncated(const struct delta *d, char *err)
{
    return ug_fail(err, UG_ERR_UNUSABLE, "%s: the bundle ends early (truncated)", d->in->display);
}

static ug_err ranger_open(struct delta *d, struct ranger *r, uint64_t off, uint64_t len, char *err)
{
    struct install *in = d->in;
    r->reader = NULL;
    r->pos = off;
    r->end = off + len;
    if (d->fd >= 0)
        return UG_OK;
    struct fetch_options o;
    install_fetch_options(in, off, &o);
    o.range_length = len;
    struct fetch_result res;
    ug_err rc = fetch_open(&o, &r->reader, &res, err);
    if (rc != UG_OK)
        return rc;
    res = *fetch_reader_result(r->reader);
    if (!res.resumed || res.start_offset != off) {
        d->no_range = 1; /* a 200: the server sends the whole file, whatever was asked */
        if (off == 0 && !in->handoff) { /* unread: the whole-stream pass takes it as it is */
            in->handoff = r->reader;
            r->reader = NULL;
        }
        return ug_fail(err, UG_ERR_UNUSABLE, "%s: the server ignores byte ranges", in->display);
    }
    if (!in->etag[0] && !in->last_modified[0])
        install_note_source(in, &res); /* the first answer names the bundle */
    else if (strcmp(res.etag, in->etag) != 0 || strcmp(res.last_modified, in->last_modified) != 0)
        return ug_fail(err, UG_ERR_UNUSABLE,
                       "%s: the bundle changed on the server during the install", in->display);
    return UG_OK;
}

static void ranger_close(struct ranger *r)
{
    fetch_close(r->reader);
    memset(r, 0, sizeof *r);
}

/* Up to n bytes of the range; *got 0 at its end (or the file's). */
static ug_err ranger_some(struct delta *d, struct ranger *r, void *buf, size_t n, size_t *got,
                          char *err)
{
    const struct install_request *req = d->in->req;
    *got = 0;
    if (req->cancel && *req->cancel)
        return ug_fail(err, UG_ERR_OTHER, "%s: cancelled", d->in->display);
    if (n > r->end - r->pos)
        n = (size_t)(r->end - r->pos);
    if (n == 0)
        return UG_OK;
    if (d->fd >= 0) {
        ssize_t k = pread(d->fd, buf, n, (off_t)r->pos);
        if (k < 0)
            return ug_fail(err, UG_ERR_UNUSABLE, "%s: read failed: %s", d->in->display,
                           strerror(errno));
        *got = (size_t)k;
    } else {
        ug_err rc = fetch_read(r->reader, buf, n, got, err);
        if (rc != UG_OK)
            return rc;
    }
    r->pos += *got;
    d->in->out->bytes_fetched += *got;
    return UG_OK;
}

static ug_err ranger_read(struct delta *d, struct ranger *r, void *buf, size_t n, char *err)
{
    for (size_t done = 0, got; done < n; done += got) {
        ug_err rc = ranger_some(d, r, (uint8_t *)buf + done, n - done, &got, err);
        if (rc != UG_OK)
            return rc;
        if (got == 0)
            return truncated(d, err);
    }
    return UG_OK;
}

/* ---- the head: manifest, signature and payload header, read in growing ranges */

struct head_pull {
    struct delta *d;
    struct ranger r;
    uint64_t window;
    uint8_t tar[512]; /* the first member's header */
    uint8_t buf[HEAD_FIRST];
};

/* The end of the second range: the manifest, whose size the first member's ustar header
 * gives (octal at 124), the signature's header, a usual signature, the payload's header. */
static uint64_t head_guess(const uint8_t *tar)
{
    uint64_t m = 0;
    for (int i = 124; i < 136 && tar[i] >= '0' && tar[i] <= '7'; i++)
        m = m * 8 + (uint64_t)(tar[i] - '0');
    return 512 + div_up(m, 512) * 512 + 512 + SIG_GUESS + 512;
}

/* Pulls the head in as few ranges as it takes, with as little read past it as can be: 4 KiB,
 * then up to where the payload's header should end, then four times more each time. */
static ug_err head_pull(void *ctx, const void **data, size_t *len, char *err)
{
    struct head_pull *h = ctx;
    *data = h->buf;
    *len = 0;
    if (h->r.pos == h->r.end) {
        uint64_t from = h->r.end, want = h->window;
        if (from == HEAD_FIRST && head_guess(h->tar) > from)
            want = head_guess(h->tar) - from;
        ranger_close(&h->r);
        ug_err rc = ranger_open(h->d, &h->r, from, want, err);
        if (rc != UG_OK)
            return rc;
        h->window = want * 4;
    }
    uint64_t at = h->r.pos;
    ug_err rc = ranger_some(h->d, &h->r, h->buf, sizeof h->buf, len, err);
    if (rc == UG_OK && at < sizeof h->tar)
        memcpy(h->tar + at, h->buf, *len < sizeof h->tar - at ? *len : sizeof h->tar - at);
    return rc;
}

static ug_err head_begin(void *ctx, const struct bundle_payload *p, uint64_t data_offset, char *err)
{
    struct delta *d = ctx;
    if (!(d->p = calloc(1, sizeof *d->p)) || install_copy_payload(d->p, p) != UG_OK)
        return ug_oom(err);
    d->data_offset = data_offset;
    d->head_done = 1;
    return ug_fail(err, UG_ERR_OTHER, "head read"); /* stops bundle_read: not an error */
}

static ug_err head_check(void *ctx, const struct bundle_manifest *m, char *err)
{
    return install_check_manifest(((struct delta *)ctx)->in, m, err);
}

static const struct bundle_sink head_sink = {.check = head_check, .payload_begin = head_begin};

static ug_err read_head(struct delta *d, char *err)
{
    struct head_pull *h = calloc(1, sizeof *h);
    struct bundle_manifest m;
    if (!h)
        return ug_oom(err);
    h->d = d;
    h->window = HEAD_FIRST;
    ug_err rc =
        bundle_read(head_pull, h, d->in->display, d->in->req->keyring, &head_sink, d, &m, err);
    /* The few bytes of the range past the head are read, not cut: an aborted transfer
     * closes the connection, and the next range would need a new one (and TLS handshake). */
    for (size_t got = 1; d->head_done && got > 0 && h->r.end - h->r.pos <= 65536;) {
        char ignored[UG_ERRBUF];
        if (ranger_some(d, &h->r, h->buf, sizeof h->buf, &got, ignored) != UG_OK)
            break;
    }
    ranger_close(&h->r);
    free(h);
    if (rc == UG_OK) {
        bundle_manifest_free(&m);
        return ug_fail(err, UG_ERR_UNUSABLE, "%s: the bundle has no payload", d->in->display);
    }
    return d->head_done ? UG_OK : rc;
}

/* A scratch file for the inflated index beside the resume file (else in /tmp), unlinked at
 * once: the keys of a 1 GiB image are 2 MiB the process need not hold. */
static int scratch_file(const struct install_request *req)
{
    char dir[4096] = "/tmp";
    const char *slash = req->resume_file ? strrchr(req->resume_file, '/') : NULL;
    if (slash && (size_t)(slash - req->resume_file) < sizeof dir)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - req->resume_file), req->resume_file);
    else if (req->resume_file)
        snprintf(dir, sizeof dir, ".");
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) { /* a file system without O_TMPFILE */
        char path[4200];
        snprintf(path, sizeof path, "%s/.index.XXXXXX", dir);
        if ((fd = mkstemp(path)) >= 0)
            unlink(path);
    }
    return fd;
}

/* Inflates what came so far into the scratch file. */
static ug_err inflate_to(struct delta *d, const uint8_t *in, size_t n, uint64_t *raw, int *ended,
                         char *err)
{
    uint8_t out[16384];
    while (n > 0 || !*ended) {
        size_t used = 0, made = 0;
        ug_err rc = decompress_step(d->dec, in, n, &used, out, sizeof out, &made, ended, err);
        if (rc == UG_OK && made && pwrite(d->ixfd, out, made, (off_t)*raw) != (ssize_t)made)
            rc = ug_fail(err, UG_ERR_OTHER, "block index scratch file: %s", strerror(errno));
        if (rc != UG_OK)
            return rc;
        *raw += made;
        in += used;
        n -= used;
        if (used == 0 && made == 0)
            break;
    }
    return UG_OK;
}

/* The index member follows the payload's data, padded to 512, and its own header: fetched by
 * range, hashed and inflated as it comes, never whole in memory. */
static ug_err read_index(struct delta *d, char *err)
{
    const struct bundle_payload *p = d->p;
    uint64_t at = d->data_offset + div_up(p->stored_size, 512) * 512 + 512, raw = 0;
    uint8_t buf[16384], head[BLOCK_INDEX_HEADER];
    struct ranger r = {0};
    int ended = 0, decoded = 1;
    char derr[UG_ERRBUF] = "";
    if ((d->ixfd = scratch_file(d->in->req)) < 0)
        return ug_fail(err, UG_ERR_OTHER, "cannot create a scratch file for the block index: %s",
                       strerror(errno));
    ug_err rc = decompress_open(CODEC_GZIP, NULL, &d->dec, err);
    if (rc == UG_OK)
        rc = ranger_open(d, &r, at, p->index_size, err);
    for (size_t got = 1; rc == UG_OK && got > 0;) {
        rc = ranger_some(d, &r, buf, sizeof buf, &got, err);
        if (rc == UG_OK && EVP_DigestUpdate(d->md_stored, buf, got) != 1)
            rc = ug_fail(err, UG_ERR_OTHER, "SHA-256 failed");
        /* A decode failure is held until the digest is known: tampering is told first. */
        if (rc == UG_OK && decoded && inflate_to(d, buf, got, &raw, &ended, derr) != UG_OK)
            decoded = 0;
    }
    ranger_close(&r);
    decompress_close(d->dec);
    d->dec = NULL;
    if (rc == UG_OK && r.pos != r.end)
        rc = truncated(d, err);
    if (rc != UG_OK)
        return rc;
    if (!md_matches(d->md_stored, p->index_sha256))
        return ug_fail(err, UG_ERR_VERIFY,
                       "%s: block index %s does not match its signed digest (tampered or corrupt)",
                       d->in->display, p->index_name);
    if (!decoded || !ended)
        return ug_fail(err, UG_ERR_UNUSABLE, "%s: block index does not inflate: %s", d->in->display,
                       derr[0] ? derr : "truncated");
    if (pread(d->ixfd, head, sizeof head, 0) != (ssize_t)sizeof head)
        memset(head, 0, sizeof head);
    rc = block_index_check_header(head, raw, p, &d->ix, err);
    if (rc != UG_OK)
        ug_prefix(err, "%s: ", d->in->display);
    return rc;
}

/* Chunk k's frame sizes and block keys, read from the scratch file into the windows. */
static ug_err load_window(struct delta *d, size_t k, char *err)
{
    const struct bundle_chunk *c = &d->p->chunks[k];
    uint64_t f0 = c->offset / d->ix.frame_size, f1 = div_up(c->offset + c->size, d->ix.frame_size);
    uint64_t b0 = c->offset / d->ix.block_size, b1 = div_up(c->offset + c->size, d->ix.block_size);
    off_t keys = BLOCK_INDEX_HEADER + 4 * (off_t)d->ix.nframes;
    size_t nf = (size_t)(f1 - f0), nb = (size_t)(b1 - b0) * d->ix.key_bytes;
    int ok = pread(d->ixfd, d->wkeys, nb, keys + d->ix.key_bytes * (off_t)b0) == (ssize_t)nb;
    if (d->ix.version != 2) {
        ok = ok && pread(d->ixfd, d->wframes, 4 * nf, BLOCK_INDEX_HEADER + 4 * (off_t)f0) ==
                       (ssize_t)(4 * nf);
    } else { /* byte planes, put together as little-endian u32 */
        for (int plane = 0; ok && plane < 4; plane++) {
            off_t at = BLOCK_INDEX_HEADER + (off_t)(plane * d->ix.nframes + f0);
            ok = pread(d->ixfd, d->wplanes, nf, at) == (ssize_t)nf;
            for (size_t i = 0; ok && i < nf; i++)
                d->wframes[4 * i + (size_t)plane] = d->wplanes[i];
        }
    }
    if (!ok)
        return ug_fail(err, UG_ERR_OTHER, "block index scratch file: cannot read");
    d->wframe0 = f0;
    d->wblock0 = b0;
    return UG_OK;
}

static uint32_t frame_stored(const struct delta *d, uint64_t f)
{
    const uint8_t *p = d->wframes + 4 * (f - d->wframe0);
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t key_of(const struct delta *d, uint64_t b)
{
    return block_key_of_digest(d->wkeys + d->ix.key_bytes * (b - d->wblock0), d->ix.key_bytes);
}

/* ---- what the device holds */

/* The same file or device under two names (or the same name). */
static int same_slot(const char *a, const char *b)
{
    struct stat x, y;
    if (strcmp(a, b) == 0)
        return 1;
    return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

/* One slot's table, opened or built on a thread of its own. */
struct table_job {
    struct local_slot ls;
    uint32_t block_size;
    struct local_index *x;
    int built, started;
    ug_err rc;
    pthread_t thread;
};

static void *table_main(void *arg)
{
    struct table_job *j = arg;
    char ignored[UG_ERRBUF];
    j->rc = local_index_open(&j->ls, j->block_size, &j->x, &j->built, ignored);
    return NULL;
}

/* Opens (or builds) every reusable slot's table, each on its own thread but the last: two
 * tables to build (a first delta) take the time of one on two CPUs. */
static void open_tables(struct delta *d, struct table_job *jobs, size_t n)
{
    const struct install_request *req = d->in->req;
    for (size_t i = 0; i < n; i++) {
        const struct install_reuse *u = &req->reuse[i];
        jobs[i] = (struct table_job){.ls = {d->in->slot.backend, u->location, u->version, u->cache},
                                     .block_size = d->ix.block_size};
        jobs[i].started =
            i + 1 < n && pthread_create(&jobs[i].thread, NULL, table_main, &jobs[i]) == 0;
        if (!jobs[i].started && i + 1 < n)
            table_main(&jobs[i]);
    }
    if (n > 0)
        table_main(&jobs[n - 1]);
    for (size_t i = 0; i < n; i++)
        if (jobs[i].started)
            pthread_join(jobs[i].thread, NULL);
}

/* Indexes every reusable slot; one that cannot be read is simply not reused. The slot being
 * written loses its cache before its first byte changes (power-loss ordering: a cut never
 * leaves a cache that describes bytes no longer there; the table already open stays usable). */
static ug_err open_local(struct delta *d, char *err)
{
    const struct install_request *req = d->in->req;
    struct table_job jobs[MAX_REUSE];
    size_t n = req->nreuse < MAX_REUSE ? req->nreuse : MAX_REUSE;
    uint8_t *zero = calloc(1, d->ix.block_size);
    if (!zero)
        return ug_oom(err);
    d->zero_key = block_key(zero, d->ix.block_size) & block_index_key_mask(d->ix.version);
    free(zero);
    open_tables(d, jobs, n);
    for (size_t i = 0; i < n; i++) {
        char ignored[UG_ERRBUF];
        if (jobs[i].rc != UG_OK)
            continue;
        if (!(d->ra[d->nlocal].buf = malloc(READ_AHEAD)) ||
            slot_open_read(&d->rd[d->nlocal], jobs[i].ls.backend, jobs[i].ls.location, ignored) !=
                UG_OK) {
            free(d->ra[d->nlocal].buf);
            d->ra[d->nlocal].buf = NULL;
            local_index_close(jobs[i].x);
            continue;
        }
        d->in->out->index_builds += (uint64_t)jobs[i].built;
        d->written_slot[d->nlocal] = same_slot(jobs[i].ls.location, req->slot_location);
        d->local[d->nlocal++] = jobs[i].x;
    }
    for (size_t i = 0; i < req->nreuse; i++)
        if (same_slot(req->reuse[i].location, req->slot_location)) {
            ug_err rc = local_index_forget(req->reuse[i].cache, err);
            if (rc != UG_OK)
                return rc;
        }
    return UG_OK;
}

/* Where block b of the new image can come from. */
static struct block_src locate(struct delta *d, uint64_t b)
{
    struct block_src s = {SRC_NONE, 0};
    uint64_t len = d->ix.image_size - b * d->ix.block_size;
    if (len < d->ix.block_size)
        return s; /* a short last block is never in a slot's table */
    uint64_t key = key_of(d, b);
    if (key == d->zero_key) {
        s.slot = SRC_ZERO;
        return s;
    }
    for (size_t i = 0; i < d->nlocal; i++)
        if (local_index_find(d->local[i], key, block_index_key_mask(d->ix.version), &s.block)) {
            s.slot = (int)i;
            return s;
        }
    return s;
}

/* Reads n blocks from src into buf, through the slot's read-ahead (copied blocks mostly
 * follow each other: a read a frame cost more than the copy). */
static int read_blocks(struct delta *d, struct block_src src, uint64_t n, uint8_t *buf)
{
    uint32_t bs = d->ix.block_size;
    if (src.slot == SRC_ZERO) {
        memset(buf, 0, n * bs);
        return 1;
    }
    struct read_ahead *ra = &d->ra[src.slot];
    uint64_t from = src.block * bs, len = n * bs;
    if (from < ra->off || from + len > ra->off + ra->len) {
        char ignored[UG_ERRBUF];
        struct slot *s = &d->rd[src.slot];
        uint64_t want = from < s->size && s->size - from < READ_AHEAD ? s->size - from : READ_AHEAD;
        ra->off = from;
        ra->len = 0;
        if (len > READ_AHEAD || slot_seek(s, from, ignored) != UG_OK)
            return 0;
        for (size_t got = 1; ra->len < want && got > 0; ra->len += got)
            if (slot_read(s, ra->buf + ra->len, (size_t)(want - ra->len), &got, ignored) != UG_OK)
                return 0;
        if (ra->len < len)
            return 0;
    }
    memcpy(buf, ra->buf + (from - ra->off), len);
    return 1;
}

/* ---- several ranges in one request */

/* The multipart reader's source: the answer's body, counted as fetched. */
static ug_err answer_pull(void *ctx, void *buf, size_t n, size_t *got, char *err)
{
    struct delta *d = ctx;
    struct ranger *r = &d->ans.r;
    r->end = r->pos + n; /* a multipart body's length is its parts': read until it ends */
    return ranger_some(d, r, buf, n, got, err);
}

/* The next bytes of the current part: through the multipart reader, or the single range. */
static ug_err answer_some(struct delta *d, void *buf, size_t n, size_t *got, char *err)
{
    return d->ans.mp ? multipart_read(d->ans.mp, buf, n, got, err)
                     : ranger_some(d, &d->ans.r, buf, n, got, err);
}

static void answer_close(struct delta *d)
{
    multipart_close(d->ans.mp);
    ranger_close(&d->ans.r);
    memset(&d->ans, 0, sizeof d->ans);
}

/* The Range set of a request for the bytes [at, at + n) and the chunk's spans after them, as
 * many as a request may ask for: into d->range_text. */
static void range_set(struct delta *d, uint64_t at, uint64_t n)
{
    uint64_t from = at, to = at + n;
    size_t len = 0, i = 0;
    char *t = d->range_text;
    while (i < d->nspans && d->spans[i].to <= at)
        i++;
    if (i < d->nspans && d->spans[i].from <= at && d->spans[i].to > to)
        to = d->spans[i].to; /* the rest of the span holding it */
    for (unsigned k = 0; k < d->max_ranges; k++) {
        len += (size_t)sprintf(t + len, "%s%llu-%llu", k ? "," : "", (unsigned long long)from,
                               (unsigned long long)to - 1);
        while (i < d->nspans && d->spans[i].from < to)
            i++;
        if (i == d->nspans)
            break;
        from = d->spans[i].from;
        to = d->spans[i].to;
    }
}

/* Opens a request for [at, at + n) and what follows it; a server that answers several ranges
 * with the whole file is asked one range at a time from then on (*again). */
static ug_err answer_open(struct delta *d, uint64_t at, uint64_t n, int *again, char *err)
{
    struct install *in = d->in;
    struct fetch_options o;
    struct fetch_result res;
    *again = 0;
    range_set(d, at, n);
    install_fetch_options(in, 0, &o);
    o.resume_from = o.range_length = 0;
    o.ranges = d->range_text;
    ug_err rc = fetch_open(&o, &d->ans.r.reader, &res, err);
    if (rc != UG_OK)
        return rc;
    d->ans.open = 1;
    res = *fetch_reader_result(d->ans.r.reader);
    if (!res.resumed) {
        answer_close(d); /* the whole file: cut at once */
        if (d->max_ranges == 1)
            return ug_fail(err, UG_ERR_UNUSABLE, "%s: the server ignores byte ranges", in->display);
        d->max_ranges = 1;
        *again = 1;
        return UG_OK;
    }
    if (strcmp(res.etag, in->etag) != 0 || strcmp(res.last_modified, in->last_modified) != 0)
        return ug_fail(err, UG_ERR_UNUSABLE,
                       "%s: the bundle changed on the server during the install", in->display);
    char boundary[MULTIPART_BOUNDARY_MAX + 1];
    if (multipart_boundary(res.content_type, boundary) == 0)
        return multipart_open(boundary, answer_pull, d, &d->ans.mp, err);
    /* One range: the first asked for, or several the server joined. */
    uint64_t first, last;
    if (multipart_content_range(res.content_range, &first, &last) != 0)
        return ug_fail(err, UG_ERR_UNUSABLE, "%s: a 206 answer without a valid Content-Range",
                       in->display);
    d->ans.pos = d->ans.r.pos = first;
    d->ans.end = d->ans.r.end = last + 1;
    return UG_OK;
}

/* Moves the answer to bundle offset `at` within its part, or past parts that end before it;
 * 1 when it is there, 0 when this answer cannot give it (closed then). */
static ug_err answer_seek(struct delta *d, uint64_t at, uint64_t n, int *there, char *err)
{
    uint8_t scratch[4096];
    *there = 0;
    while (d->ans.open && d->ans.mp && at >= d->ans.end) {
        int more;
        uint64_t first, last;
        ug_err rc = multipart_next(d->ans.mp, &more, &first, &last, err);
        if (rc != UG_OK)
            return rc;
        if (!more)
            answer_close(d);
        else {
            d->ans.pos = first;
            d->ans.end = last + 1;
        }
    }
    if (!d->ans.open || at < d->ans.pos || at + n > d->ans.end) {
        answer_close(d);
        return UG_OK;
    }
    while (d->ans.pos < at) { /* bytes the server joined in: read, dropped */
        size_t want = at - d->ans.pos < sizeof scratch ? (size_t)(at - d->ans.pos) : sizeof scratch;
        ug_err rc = answer_some(d, scratch, want, &want, err);
        if (rc != UG_OK)
            return rc;
        if (want == 0)
            return truncated(d, err);
        d->ans.pos += want;
    }
    *there = 1;
    return UG_OK;
}

/* Reads n bytes of the current part into buf. */
static ug_err answer_read(struct delta *d, uint8_t *buf, size_t n, char *err)
{
    for (size_t got; n > 0; buf += got, n -= got, d->ans.pos += got) {
        ug_err rc = answer_some(d, buf, n, &got, err);
        if (rc != UG_OK)
            return rc;
        if (got == 0)
            return truncated(d, err);
    }
    return UG_OK;
}

/* The n bundle bytes at `at` into d->stored: from the answer at hand if it holds them, else
 * from a new request (which asks for the chunk's next spans too). */
static ug_err net_read(struct delta *d, uint64_t at, size_t n, char *err)
{
    if (d->fd >= 0) {
        struct ranger r = {.pos = at, .end = at + n};
        return ranger_read(d, &r, d->stored, n, err);
    }
    for (int tries = 0;; tries++) {
        int there = 0, again = 0;
        ug_err rc = answer_seek(d, at, n, &there, err);
        if (rc != UG_OK || there)
            return rc == UG_OK ? answer_read(d, d->stored, n, err) : rc;
        /* An answer that did not hold what was asked first: once more, one range alone. */
        if (tries == 2)
            return ug_fail(err, UG_ERR_UNUSABLE, "%s: the server did not send bytes %llu-%llu",
                           d->in->display, (unsigned long long)at,
                           (unsigned long long)(at + n - 1));
        if (tries == 1)
            d->max_ranges = 1;
        if ((rc = answer_open(d, at, n, &again, err)) != UG_OK)
            return rc;
    }
}

/* At a chunk's end: the answer's last bytes (the closing delimiter) read, so the connection
 * stays open for the next request; a larger rest is cut. */
static ug_err answer_finish(struct delta *d, char *err)
{
    uint8_t scratch[4096];
    ug_err rc = UG_OK;
    int more = 1;
    for (unsigned parts = 0; d->ans.open && d->ans.mp && rc == UG_OK && more &&
                             parts <= MAX_RANGES && d->ans.end - d->ans.pos <= DRAIN_MAX;
         parts++) {
        uint64_t first, last;
        rc = multipart_next(d->ans.mp, &more, &first, &last, err);
        d->ans.pos = more ? first : 0;
        d->ans.end = more ? last + 1 : 0;
    }
    for (size_t got = 1; d->ans.open && !d->ans.mp && rc == UG_OK && got > 0 &&
                         d->ans.r.end - d->ans.r.pos <= DRAIN_MAX;)
        rc = ranger_some(d, &d->ans.r, scratch, sizeof scratch, &got, err);
    answer_close(d);
    return rc;
}

/* ---- frames */

/* Plain bytes of frame f: [f * frame_size, ...) cut at the image's end. */
static size_t frame_len(const struct delta *d, uint64_t f)
{
    uint64_t left = d->ix.image_size - f * d->ix.frame_size;
    return left < d->ix.frame_size ? (size_t)left : d->ix.frame_size;
}

/* Whether blocks b and b + 1 of the new image come from one read (the same slot, adjacent). */
static int adjacent(const struct block_src *a, const struct block_src *b)
{
    return a->slot == b->slot && (a->slot == SRC_ZERO || b->block == a->block + 1);
}

/* Whether blocks [s.block, s.block + n) of their slot still hold what its table says when
 * the image is written up to byte `at`: in the slot being written, this pass has overwritten
 * [pass_start, at), and nothing else (its table was made before the pass). */
static int still_there(const struct delta *d, struct block_src s, uint64_t n, uint64_t at)
{
    uint64_t from = s.block * d->ix.block_size, to = (s.block + n) * d->ix.block_size;
    return s.slot < 0 || !d->written_slot[s.slot] || from >= at || to <= d->pass_start;
}

/* Assembles frame f (at image offset `at`) from local blocks into out (plan indexed from
 * block first_block), adjacent blocks in one read: 0 if a block is missing or unreadable.
 * Not hashed here: the chunk's signed SHA-256 checks every byte, and a block that is not
 * what its table said (a stale table, a bad sector) fails the chunk, which is then fetched. */
static int local_frame(struct delta *d, uint64_t f, uint64_t first_block, uint8_t *out)
{
    uint32_t bs = d->ix.block_size;
    uint64_t b0 = f * d->ix.frame_size / bs, n = div_up(frame_len(d, f), bs);
    for (uint64_t b = b0, run; b < b0 + n; b += run) {
        const struct block_src *s = &d->plan[b - first_block];
        for (run = 1; b + run < b0 + n && adjacent(&s[run - 1], &s[run]); run++)
            ;
        if (s->slot == SRC_NONE || !still_there(d, *s, run, f * d->ix.frame_size) ||
            !read_blocks(d, *s, run, out + (b - b0) * bs))
            return 0;
    }
    return 1;
}

/* Decodes one member frame's stored bytes into out: exactly its plain length, nothing after. */
static ug_err decode_member(struct delta *d, uint64_t f, size_t stored, uint8_t *o, char *err)
{
    size_t want = frame_len(d, f), in = 0, out = 0;
    int ended = 0;
    ug_err rc = decompress_reset(d->dec, err);
    while (rc == UG_OK && !ended) {
        size_t used = 0, made = 0;
        rc = decompress_step(d->dec, d->stored + in, stored - in, &used, o + out, want - out, &made,
                             &ended, err);
        in += used;
        out += made;
        if (rc == UG_OK && used == 0 && made == 0 && !ended) {
            if (d->p->compression == CODEC_NONE && in == stored)
                break;
            rc = ug_fail(err, UG_ERR_UNUSABLE, "frame %llu does not decode", (unsigned long long)f);
        }
    }
    if (rc == UG_OK && (in != stored || out != want))
        rc = ug_fail(err, UG_ERR_UNUSABLE, "frame %llu decodes to %zu bytes, not %zu",
                     (unsigned long long)f, out, want);
    return rc;
}

/* Decodes frame f (frames [f0, f1) make its chunk) into the window after the chunk's bytes
 * before it, which a flush frame refers back to. */
static ug_err decode_frame(struct delta *d, uint64_t f, uint64_t f0, uint64_t f1, size_t stored,
                           char *err)
{
    if (!d->p->flush_frames)
        return decode_member(d, f, stored, d->win + d->wlen, err);
    /* The frame after the one just decoded goes on from the inflater's own history. */
    ug_err rc = f != f0 && f == d->fin_next
                    ? frame_inflate_next(d->fin, d->stored, stored, f + 1 == f1, d->win + d->wlen,
                                         frame_len(d, f), err)
                    : frame_inflate(d->fin, d->stored, stored, f == f0, f + 1 == f1, d->win,
                                    d->wlen, d->win + d->wlen, frame_len(d, f), err);
    d->fin_next = rc == UG_OK ? f + 1 : 0;
    if (rc != UG_OK)
        ug_prefix(err, "frame %llu: ", (unsigned long long)f);
    return rc;
}

/* Frame f (its stored bytes at `at` in the payload) from the network into the window;
 * *bad: it came but does not decode (the chunk is then fetched whole). */
static ug_err fetch_frame(struct delta *d, uint64_t f, uint64_t at, uint64_t f0, uint64_t f1,
                          int *bad, char *err)
{
    uint32_t n = frame_stored(d, f);
    ug_err rc = net_read(d, d->data_offset + at, n, err);
    if (rc == UG_OK && !*bad && decode_frame(d, f, f0, f1, n, err) != UG_OK)
        *bad = 1;
    return rc;
}

/* ---- chunks */

/* The writer thread: hashes each batch into the chunk's digest and writes it to the slot
 * while the next batch is assembled in the other window (the whole stream has its writer
 * thread too; here it takes about half of the work a copied block costs). */
static void *writer_main(void *arg)
{
    struct delta *d = arg;
    struct install *in = d->in;
    pthread_mutex_lock(&d->wmu);
    for (;;) {
        while (!d->wjob && !d->wstop)
            pthread_cond_wait(&d->wcv, &d->wmu);
        if (!d->wjob)
            break;
        const uint8_t *data = d->wjob;
        size_t len = d->wjob_len;
        pthread_mutex_unlock(&d->wmu);
        ug_err rc = d->wrc != UG_OK ? d->wrc : install_slot_write(in, data, len, d->werr);
        if (rc == UG_OK && EVP_DigestUpdate(d->md, data, len) != 1)
            rc = ug_fail(d->werr, UG_ERR_OTHER, "SHA-256 failed");
        if (rc == UG_OK) {
            in->written += len;
            if (in->req->progress)
                in->req->progress(in->req->progress_ctx, in->written, in->total);
        }
        pthread_mutex_lock(&d->wmu);
        d->wrc = rc;
        d->wjob = NULL;
        pthread_cond_broadcast(&d->wcv);
    }
    pthread_mutex_unlock(&d->wmu);
    return NULL;
}

/* Waits until the writer has done every batch: its result (the digest is then whole). */
static ug_err window_drain(struct delta *d, char *err)
{
    pthread_mutex_lock(&d->wmu);
    while (d->wjob)
        pthread_cond_wait(&d->wcv, &d->wmu);
    ug_err rc = d->wrc;
    pthread_mutex_unlock(&d->wmu);
    return rc == UG_OK ? UG_OK : ug_fail(err, rc, "%s", d->werr);
}

/* Hands the window's unwritten bytes to the writer (once it is done with the last batch). */
static ug_err window_out(struct delta *d, char *err)
{
    size_t len = d->wlen - d->wdone;
    ug_err rc = window_drain(d, err);
    if (rc != UG_OK || len == 0)
        return rc;
    if (!d->wrunning) {
        if (pthread_create(&d->writer, NULL, writer_main, d) != 0)
            return ug_fail(err, UG_ERR_OTHER, "cannot start the writer thread");
        d->wrunning = 1;
    }
    pthread_mutex_lock(&d->wmu);
    d->wjob = d->win + d->wdone;
    d->wjob_len = len;
    pthread_cond_broadcast(&d->wcv);
    pthread_mutex_unlock(&d->wmu);
    d->wdone = d->wlen;
    return UG_OK;
}

/* Room for a frame at the window's end: when full, handed to the writer, and the other
 * window (which the writer is done with) goes on from the last 32 KiB of history. */
static ug_err window_room(struct delta *d, char *err)
{
    if (d->wlen + d->ix.frame_size <= HISTORY + BATCH + d->ix.frame_size)
        return UG_OK;
    ug_err rc = window_out(d, err);
    if (rc != UG_OK)
        return rc;
    uint8_t *other = d->win == d->wbuf[0] ? d->wbuf[1] : d->wbuf[0];
    size_t keep = d->wlen < HISTORY ? d->wlen : HISTORY;
    memcpy(other, d->win + d->wlen - keep, keep); /* the writer only reads the batch */
    d->win = other;
    d->wlen = d->wdone = keep;
    return UG_OK;
}

/* Stops the writer thread (every batch done). */
static void writer_stop(struct delta *d)
{
    if (!d->wrunning)
        return;
    pthread_mutex_lock(&d->wmu);
    d->wstop = 1;
    pthread_cond_broadcast(&d->wcv);
    pthread_mutex_unlock(&d->wmu);
    pthread_join(d->writer, NULL);
    d->wrunning = 0;
}

/* The chunk's spans: runs of frames to fetch, joined over frames the device has when their
 * stored bytes cost less than another part (zeros, mostly); those are then fetched too. */
static void plan_spans(struct delta *d, const struct bundle_chunk *c, uint64_t f0, uint64_t f1)
{
    uint64_t at = d->data_offset + c->stored_offset;
    d->nspans = 0;
    for (uint64_t f = f0, last = 0; f < f1; at += frame_stored(d, f++)) {
        if (!d->fetch[f - f0])
            continue;
        struct span *s = d->nspans ? &d->spans[d->nspans - 1] : NULL;
        if (s && at - s->to <= GAP_BYTES) {
            for (uint64_t g = last + 1; g < f; g++)
                d->fetch[g - f0] = 1;
            s->to = at + frame_stored(d, f);
        } else {
            d->spans[d->nspans++] = (struct span){at, at + frame_stored(d, f)};
        }
        last = f;
    }
}

/* Bundle bytes the chunk's spans ask for. */
static uint64_t spans_bytes(const struct delta *d)
{
    uint64_t n = 0;
    for (size_t i = 0; i < d->nspans; i++)
        n += d->spans[i].to - d->spans[i].from;
    return n;
}

/* Plans chunk k: the source of each block, and which frames must be fetched. */
static void plan_chunk(struct delta *d, const struct bundle_chunk *c, uint64_t f0, uint64_t f1)
{
    uint32_t bs = d->ix.block_size;
    uint64_t b0 = c->offset / bs;
    for (uint64_t f = f0; f < f1; f++) {
        uint64_t fb = f * d->ix.frame_size / bs, n = div_up(frame_len(d, f), bs);
        d->fetch[f - f0] = 0;
        for (uint64_t b = fb; b < fb + n; b++) {
            d->plan[b - b0] = locate(d, b);
            if (d->plan[b - b0].slot == SRC_NONE)
                d->fetch[f - f0] = 1;
        }
    }
    plan_spans(d, c, f0, f1);
}

/* Starts (or starts again) chunk k in the slot and the window. */
static ug_err chunk_begin(struct delta *d, const struct bundle_chunk *c, char *err)
{
    ug_err rc = window_drain(d, err);
    d->wlen = d->wdone = 0;
    d->in->written = c->offset;
    return rc == UG_OK ? slot_seek(&d->in->slot, c->offset, err) : rc;
}

/* Feeds stored bytes of a chunk to the stream decoder, plain bytes into the window (written
 * out as it fills); *ended: its stream ended (a member layout's frames each end one). */
static ug_err stream_feed(struct delta *d, const struct bundle_chunk *c, const uint8_t *in,
                          size_t n, int *ended, char *derr, char *err)
{
    size_t cap = HISTORY + BATCH + d->ix.frame_size;
    while (n > 0) {
        size_t used = 0, made = 0;
        if (*ended && d->p->flush_frames)
            return ug_fail(derr, UG_ERR_UNUSABLE, "data after the end of its stream");
        if (*ended && decompress_reset(d->sdec, derr) != UG_OK)
            return UG_ERR_UNUSABLE;
        *ended = 0;
        ug_err rc = window_room(d, err);
        if (rc != UG_OK)
            return rc;
        if (decompress_step(d->sdec, in, n, &used, d->win + d->wlen, cap - d->wlen, &made, ended,
                            derr) != UG_OK)
            return UG_ERR_UNUSABLE;
        if (used == 0 && made == 0 && !*ended)
            return ug_fail(derr, UG_ERR_UNUSABLE, "its stream does not go on");
        d->wlen += made;
        d->splain += made;
        if (d->splain > c->size)
            return ug_fail(derr, UG_ERR_UNUSABLE, "decodes to more than its %llu bytes",
                           (unsigned long long)c->size);
        in += used;
        n -= used;
    }
    return UG_OK;
}

/* Chunk k as the bundle has it, fetched in one range and decoded as one stream (ISA-L's
 * igzip where built in), stored and plain bytes checked as a whole-stream install checks
 * them: after an assembled chunk did not match (a frame corrupted on the way or tampered
 * with, a local block not what its table said), or when it needs most of its bytes anyway. */
static ug_err stream_chunk(struct delta *d, size_t k, char *err)
{
    const struct bundle_chunk *c = &d->p->chunks[k];
    struct ranger r = {0};
    char derr[UG_ERRBUF] = "";
    int ended = 0, bad = 0;
    ug_err rc = chunk_begin(d, c, err);
    d->splain = 0;
    if (rc == UG_OK && !d->sdec)
        rc = decompress_open(d->p->compression, NULL, &d->sdec, err);
    if (rc == UG_OK && (EVP_DigestInit_ex(d->md, EVP_sha256(), NULL) != 1 ||
                        decompress_reset(d->sdec, err) != UG_OK))
        rc = ug_fail(err, UG_ERR_OTHER, "SHA-256 or decoder reset failed");
    if (rc == UG_OK)
        rc = ranger_open(d, &r, d->data_offset + c->stored_offset, c->stored_size, err);
    for (size_t got = 1; rc == UG_OK && got > 0;) {
        rc = ranger_some(d, &r, d->sbuf, STREAM_READ, &got, err);
        if (rc == UG_OK && EVP_DigestUpdate(d->md_stored, d->sbuf, got) != 1)
            rc = ug_fail(err, UG_ERR_OTHER, "SHA-256 failed");
        /* A decode failure is held until the stored digest is known: tampering is told first. */
        if (rc == UG_OK && !bad &&
            (rc = stream_feed(d, c, d->sbuf, got, &ended, derr, err)) == UG_ERR_UNUSABLE) {
            bad = 1;
            rc = UG_OK;
        }
    }
    ranger_close(&r);
    if (rc == UG_OK && r.pos != r.end)
        rc = truncated(d, err);
    if (rc == UG_OK && !bad)
        rc = window_out(d, err);
    if (rc == UG_OK)
        rc = window_drain(d, err);
    if (rc != UG_OK)
        return rc;
    if (!md_matches(d->md_stored, c->stored_sha256))
        return ug_fail(err, UG_ERR_VERIFY,
                       "%s: payload %s chunk %zu does not match its signed digest (tampered or "
                       "corrupt)",
                       d->in->display, d->p->name, k);
    if (bad || d->splain != c->size || (!ended && d->p->compression != CODEC_NONE))
        return ug_fail(err, UG_ERR_UNUSABLE, "%s: payload %s chunk %zu does not decode%s%s",
                       d->in->display, d->p->name, k, derr[0] ? ": " : "", derr);
    if (!md_matches(d->md, c->sha256))
        return ug_fail(err, UG_ERR_VERIFY,
                       "%s: payload %s chunk %zu: SHA-256 of the decoded bytes does not match "
                       "the signed manifest",
                       d->in->display, d->p->name, k);
    return UG_OK;
}

/* Frame f into the window: copied from the slots, or fetched (*bad: it did not decode). */
static ug_err one_frame(struct delta *d, const struct bundle_chunk *c, uint64_t f, uint64_t at,
                        uint64_t f0, uint64_t f1, int *bad, int *reused, char *err)
{
    ug_err rc = window_room(d, err);
    *reused = rc == UG_OK && !d->fetch[f - f0] &&
              local_frame(d, f, c->offset / d->ix.block_size, d->win + d->wlen);
    if (rc == UG_OK && !*reused) {
        char ferr[UG_ERRBUF];
        rc = fetch_frame(d, f, at, f0, f1, bad, ferr);
        if (rc != UG_OK) /* transport, cancel, a malformed answer: as they are */
            return ug_fail(err, rc, "%s", ferr);
        if (*bad && d->no_range)
            return ug_fail(err, UG_ERR_UNUSABLE, "%s", ferr);
    }
    d->wlen += frame_len(d, f);
    return rc;
}

/* One chunk into the slot: local frames copied, the others fetched; checked whole. */
static ug_err delta_chunk(struct delta *d, size_t k, char *err)
{
    const struct bundle_chunk *c = &d->p->chunks[k];
    uint64_t f0 = c->offset / d->ix.frame_size, f1 = div_up(c->offset + c->size, d->ix.frame_size);
    uint64_t at = c->stored_offset, reused_here = 0;
    int bad = 0, reused;
    ug_err rc = load_window(d, k, err);
    if (rc != UG_OK)
        return rc;
    plan_chunk(d, c, f0, f1);
    /* Most of it to fetch (an unrelated image): one range and one stream cost no more bytes
     * than the spans, and igzip decodes a stream faster than frames one by one. */
    if (spans_bytes(d) >= c->stored_size / 8 * 7)
        return stream_chunk(d, k, err);
    rc = chunk_begin(d, c, err);
    for (uint64_t f = f0; rc == UG_OK && f < f1 && !bad; f++) {
        rc = one_frame(d, c, f, at, f0, f1, &bad, &reused, err);
        at += frame_stored(d, f);
        reused_here += reused ? frame_len(d, f) : 0;
    }
    if (rc == UG_OK && !bad)
        rc = window_out(d, err);
    if (rc == UG_OK)
        rc = bad ? (answer_close(d), UG_OK) : answer_finish(d, err);
    if (rc == UG_OK)
        rc = window_drain(d, err);
    if (rc == UG_OK && (bad || !md_matches(d->md, c->sha256))) {
        rc = stream_chunk(d, k, err);
        reused_here = 0; /* all of it fetched again */
    }
    d->in->out->bytes_reused += reused_here;
    return rc;
}

/* ---- the pass */

/* The chunk to start from: a resume file of this very bundle and slot says how far the slot
 * is durably written; else 0. */
static size_t resume_point(struct delta *d)
{
    struct install *in = d->in;
    json_object *st = in->state;
    char hex[65];
    if (!st || !in->can_resume)
        return 0;
    size_t done = (size_t)jsonfile_get_int(st, "chunks_done", 0);
    hex_encode(d->p->sha256, 32, hex);
    if (done == 0 || done >= d->p->nchunks ||
        strcmp(jsonfile_get_string(st, "url", ""), in->display) != 0 ||
        strcmp(jsonfile_get_string(st, "slot", ""), in->slot.location) != 0 ||
        strcmp(jsonfile_get_string(st, "payload_sha256", ""), hex) != 0 ||
        strcmp(jsonfile_get_string(st, "etag", ""), in->etag) != 0 ||
        strcmp(jsonfile_get_string(st, "last_modified", ""), in->last_modified) != 0 ||
        (uint64_t)jsonfile_get_int(st, "data_offset", -1) != d->data_offset ||
        (uint64_t)jsonfile_get_int(st, "bytes_done", -1) != d->p->chunks[done].offset)
        return 0;
    return done;
}

/* The buffers a chunk needs; every chunk's frames checked against the signed payload. */
static ug_err setup_buffers(struct delta *d, char *err)
{
    const struct bundle_payload *p = d->p;
    uint64_t max_chunk = 0, max_stored = 0;
    for (size_t k = 0; k < p->nchunks; k++)
        max_chunk = p->chunks[k].size > max_chunk ? p->chunks[k].size : max_chunk;
    uint64_t blocks = div_up(max_chunk, d->ix.block_size) + 1;
    uint64_t frames = div_up(max_chunk, d->ix.frame_size) + 1;
    d->plan = malloc(blocks * sizeof *d->plan);
    d->fetch = malloc(frames);
    d->spans = malloc(frames * sizeof *d->spans);
    d->range_text = malloc(MAX_RANGES * 44 + 1); /* "A-B," at most, with 20-digit numbers */
    d->max_ranges = MAX_RANGES;
    d->wframes = malloc(frames * 4);
    d->wkeys = malloc(blocks * BLOCK_KEY_BYTES);
    d->wplanes = malloc(frames);
    d->wbuf[0] = malloc(HISTORY + BATCH + (size_t)d->ix.frame_size);
    d->wbuf[1] = malloc(HISTORY + BATCH + (size_t)d->ix.frame_size);
    d->win = d->wbuf[0];
    if (!d->plan || !d->fetch || !d->spans || !d->range_text || !d->wplanes || !d->wframes ||
        !d->wkeys || !d->wbuf[0] || !d->wbuf[1])
        return ug_oom(err);
    for (size_t k = 0; k < p->nchunks; k++) {
        ug_err rc = load_window(d, k, err);
        if (rc == UG_OK)
            rc = block_index_check_chunk(d->wframes, &p->chunks[k], k, d->ix.frame_size, err);
        if (rc != UG_OK) {
            ug_prefix(err, "%s: ", d->in->display);
            return rc;
        }
        for (uint64_t f = d->wframe0;
             f * d->ix.frame_size < p->chunks[k].offset + p->chunks[k].size; f++)
            max_stored = frame_stored(d, f) > max_stored ? frame_stored(d, f) : max_stored;
    }
    if (!(d->stored = malloc(max_stored)) || !(d->sbuf = malloc(STREAM_READ)))
        return ug_oom(err);
    if (p->flush_frames)
        return frame_inflater_open(&d->fin, err);
    return decompress_open(p->compression, NULL, &d->dec, err);
}

/* Chunks [k, n): each written, checked, and every checkpoint_every bytes made durable and
 * recorded by the flusher thread, as for a whole stream (fsync first, then the resume file
 * claims the chunks), while the next chunks are assembled. */
static ug_err delta_chunks(struct delta *d, size_t k, char *err)
{
    struct install *in = d->in;
    ug_err rc = UG_OK;
    for (; rc == UG_OK && k < d->p->nchunks; k++) {
        /* A chunk copied from the slots reads nothing from the network: the cancel flag is
         * looked at here too, not only before each read of a range. */
        if (in->req->cancel && *in->req->cancel)
            rc = ug_fail(err, UG_ERR_OTHER, "%s: cancelled", in->display);
        if (rc == UG_OK)
            rc = delta_chunk(d, k, err);
        if (rc == UG_OK)
            rc = install_chunk_verified(in, d->p, k, err);
    }
    answer_close(d);
    char flush_err[UG_ERRBUF];
    ug_err frc = install_flusher_stop(in, flush_err);
    if (rc == UG_OK && frc != UG_OK)
        rc = ug_fail(err, frc, "%s", flush_err);
    if (rc == UG_OK)
        rc = slot_flush(&in->slot, err);
    if (rc == UG_OK && in->slot.backend->readback)
        rc = slot_readback(in->slot.backend, in->slot.location, d->p, err);
    return rc;
}

static ug_err delta_run(struct delta *d, int *fallback, char *err)
{
    struct install *in = d->in;
    ug_err rc = read_head(d, err);
    if (rc != UG_OK || !d->p->index_name) {
        *fallback = d->no_range || (rc == UG_OK && !d->p->index_name);
        return rc;
    }
    d->md = EVP_MD_CTX_new();
    d->md_stored = EVP_MD_CTX_new();
    if (!d->md || !d->md_stored || EVP_DigestInit_ex(d->md, EVP_sha256(), NULL) != 1 ||
        EVP_DigestInit_ex(d->md_stored, EVP_sha256(), NULL) != 1)
        return ug_oom(err);
    rc = read_index(d, err);
    if (rc == UG_OK)
        rc = setup_buffers(d, err);
    if (rc == UG_OK)
        rc = open_local(d, err);
    if (rc != UG_OK) {
        *fallback = d->no_range;
        return rc;
    }
    hex_encode(d->p->sha256, 32, in->payload_sha256);
    in->head_data_offset = d->data_offset;
    in->total = d->p->size;
    in->out->delta = 1;
    /* What a whole-stream install reads: every member, the end blocks, the 10240-byte record. */
    uint64_t full = d->data_offset + div_up(d->p->stored_size, 512) * 512 + 512 +
                    div_up(d->p->index_size, 512) * 512 + 1024;
    in->out->bytes_full = div_up(full, 10240) * 10240;
    size_t k = resume_point(d);
    in->written = in->checkpointed = d->pass_start = d->p->chunks[k].offset;
    if (k > 0) {
        in->out->resumed = 1;
        in->out->resume_offset = in->written;
    } else if (in->req->resume_file && in->can_resume) {
        /* Power-loss ordering: "nothing done" is durable before the first byte changes. */
        rc = install_save_state(in, d->data_offset, 0, 0, err);
    }
    if (rc == UG_OK)
        rc = delta_chunks(d, k, err);
    if (rc == UG_OK)
        in->out->image_size = in->written;
    return rc;
}

static void delta_free(struct delta *d)
{
    answer_close(d);
    for (size_t i = 0; i < d->nlocal; i++) {
        local_index_close(d->local[i]);
        slot_close(&d->rd[i]);
        free(d->ra[i].buf);
    }
    if (d->fd >= 0)
        close(d->fd);
    if (d->p)
        install_free_payload(d->p);
    free(d->p);
    free(d->wframes);
    free(d->wkeys);
    free(d->wplanes);
    if (d->ixfd >= 0)
        close(d->ixfd);
    free(d->plan);
    free(d->fetch);
    free(d->spans);
    free(d->range_text);
    writer_stop(d);
    free(d->wbuf[0]);
    free(d->wbuf[1]);
    pthread_mutex_destroy(&d->wmu);
    pthread_cond_destroy(&d->wcv);
    free(d->stored);
    free(d->sbuf);
    decompress_close(d->sdec);
    decompress_close(d->dec);
    frame_inflater_close(d->fin);
    EVP_MD_CTX_free(d->md);
    EVP_MD_CTX_free(d->md_stored);
}

ug_err install_delta(struct install *in, int *fallback, char *err)
{
    struct delta d = {.in = in, .fd = -1, .ixfd = -1};
    *fallback = 0;
    in->etag[0] = in->last_modified[0] = '\0';
    in->can_resume = 1;
    if (in->local) {
        const char *path = install_local_path(in->req->url);
        if ((d.fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
            return ug_fail(err, UG_ERR_UNUSABLE, "%s: cannot open: %s", path, strerror(errno));
    }
    pthread_mutex_init(&d.wmu, NULL);
    pthread_cond_init(&d.wcv, NULL);
    ug_err rc = delta_run(&d, fallback, err);
    delta_free(&d);
    return rc;
}
