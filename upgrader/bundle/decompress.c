/* SPDX-License-Identifier: MIT */
/* Streaming payload codecs behind one ops table: each backend turns compressed bytes into
 * plain bytes in caller-owned buffers (no copy of its own), and resets between chunks. */
#include "bundle/decompress.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#ifdef HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

#define ZSTD_WINDOWLOG_PACK 18

struct decompress_ops {
    const char *backend;
    enum codec codec;
    ug_err (*open)(struct decompressor *d, char *err);
    ug_err (*step)(struct decompressor *d, const uint8_t *in, size_t in_len, size_t *in_used,
                   uint8_t *out, size_t out_cap, size_t *out_made, int *ended, char *err);
    ug_err (*reset)(struct decompressor *d, char *err);
    void (*close)(struct decompressor *d);
};

struct decompressor {
    const struct decompress_ops *ops;
    int ended;
    union {
        z_stream z;
        ZSTD_DCtx *zstd;
#ifdef HAVE_ISAL
        struct inflate_state *isal;
#endif
    } u;
};

/* ---- copy (stored payloads): its stream ends where its input ends, so never by itself. */

static ug_err copy_open(struct decompressor *d, char *err)
{
    (void)d, (void)err;
    return UG_OK;
}

static ug_err copy_step(struct decompressor *d, const uint8_t *in, size_t in_len, size_t *in_used,
                        uint8_t *out, size_t out_cap, size_t *out_made, int *ended, char *err)
{
    (void)d, (void)err;
    size_t n = in_len < out_cap ? in_len : out_cap;
    if (n)
        memcpy(out, in, n);
    *in_used = *out_made = n;
    *ended = 0;
    return UG_OK;
}

static ug_err copy_reset(struct decompressor *d, char *err)
{
    (void)d, (void)err;
    return UG_OK;
}

static void copy_close(struct decompressor *d)
{
    (void)d;
}

/* ---- zlib gzip: windowBits 16+15 accepts the gzip wrapper only, so a zlib or raw
 * stream is refused rather than guessed at. */

static ug_err zlib_open(struct decompressor *d, char *err)
{
    memset(&d->u.z, 0, sizeof d->u.z);
    if (inflateInit2(&d->u.z, 16 + MAX_WBITS) != Z_OK)
        return ug_fail(err, UG_ERR_OTHER, "zlib: cannot initialise inflate");
    return UG_OK;
}

static ug_err zlib_step(struct decompressor *d, const uint8_t *in, size_t in_len, size_t *in_used,
                        uint8_t *out, size_t out_cap, size_t *out_made, int *ended, char *err)
{
    z_stream *z = &d->u.z;
    /* zlib counts in uInt; larger spans are simply taken in several steps. */
    uInt ilen = in_len > UINT32_MAX ? UINT32_MAX : (uInt)in_len;
    uInt olen = out_cap > UINT32_MAX ? UINT32_MAX : (uInt)out_cap;
    z->next_in = (Bytef *)in;
    z->avail_in = ilen;
    z->next_out = out;
    z->avail_out = olen;
    int rc = inflate(z, Z_NO_FLUSH);
    *in_used = ilen - z->avail_in;
    *out_made = olen - z->avail_out;
    *ended = rc == Z_STREAM_END;
    if (rc == Z_OK || rc == Z_STREAM_END || (rc == Z_BUF_ERROR && *in_used == 0 && *out_made == 0))
        return UG_OK;
    return ug_fail(err, UG_ERR_UNUSABLE, "gzip data is corrupt (%s)",
                   z->msg ? z->msg : "inflate error");
}

static ug_err zlib_reset(struct decompressor *d, char *err)
{
    if (inflateReset(&d->u.z) != Z_OK)
        return ug_fail(err, UG_ERR_OTHER, "zlib: cannot reset inflate");
    return UG_OK;
}

static void zlib_close(struct decompressor *d)
{
    inflateEnd(&d->u.z);
}

/* ---- ISA-L igzip: the same gzip members, inflated about four times faster than zlib. */
#ifdef HAVE_ISAL
static ug_err isal_open(struct decompressor *d, char *err)
{
    d->u.isal = malloc(sizeof *d->u.isal);
    if (!d->u.isal)
        return ug_oom(err);
    isal_inflate_init(d->u.isal);
    d->u.isal->crc_flag = ISAL_GZIP; /* parse the gzip header and check its CRC32 trailer */
    return UG_OK;
}

static ug_err isal_step(struct decompressor *d, const uint8_t *in, size_t in_len, size_t *in_used,
                        uint8_t *out, size_t out_cap, size_t *out_made, int *ended, char *err)
{
    struct inflate_state *s = d->u.isal;
    uint32_t ilen = in_len > UINT32_MAX ? UINT32_MAX : (uint32_t)in_len;
    uint32_t olen = out_cap > UINT32_MAX ? UINT32_MAX : (uint32_t)out_cap;
    s->next_in = (uint8_t *)in;
    s->avail_in = ilen;
    s->next_out = out;
    s->avail_out = olen;
    int rc = isal_inflate(s);
    *in_used = ilen - s->avail_in;
    *out_made = olen - s->avail_out;
    *ended = s->block_state == ISAL_BLOCK_FINISH;
    if (rc < 0 || rc == ISAL_NEED_DICT)
        return ug_fail(err, UG_ERR_UNUSABLE, "gzip data is corrupt (igzip error %d)", rc);
    return UG_OK;
}

static ug_err isal_reset(struct decompressor *d, char *err)
{
    (void)err;
    isal_inflate_reset(d->u.isal);
    d->u.isal->crc_flag = ISAL_GZIP;
    return UG_OK;
}

static void isal_close(struct decompressor *d)
{
    free(d->u.isal);
}
#endif

/* ---- zstd */

static ug_err zstd_open(struct decompressor *d, char *err)
{
    d->u.zstd = ZSTD_createDCtx();
    if (!d->u.zstd)
        return ug_fail(err, UG_ERR_OTHER, "zstd: cannot create a decoder");
    /* Bounded memory: refuse frames that ask for a window beyond 128 MiB. */
    ZSTD_DCtx_setParameter(d->u.zstd, ZSTD_d_windowLogMax, 27);
    return UG_OK;
}

static ug_err zstd_step(struct decompressor *d, const uint8_t *in, size_t in_len, size_t *in_used,
                        uint8_t *out, size_t out_cap, size_t *out_made, int *ended, char *err)
{
    ZSTD_inBuffer ib = {in, in_len, 0};
    ZSTD_outBuffer ob = {out, out_cap, 0};
    size_t rc = ZSTD_decompressStream(d->u.zstd, &ob, &ib);
    *in_used = ib.pos;
    *out_made = ob.pos;
    if (ZSTD_isError(rc)) {
        *ended = 0;
        return ug_fail(err, UG_ERR_UNUSABLE, "zstd data is corrupt (%s)", ZSTD_getErrorName(rc));
    }
    *ended = rc == 0;
    return UG_OK;
}

static ug_err zstd_reset(struct decompressor *d, char *err)
{
    if (ZSTD_isError(ZSTD_DCtx_reset(d->u.zstd, ZSTD_reset_session_only)))
        return ug_fail(err, UG_ERR_OTHER, "zstd: cannot reset the decoder");
    return UG_OK;
}

static void zstd_close(struct decompressor *d)
{
    ZSTD_freeDCtx(d->u.zstd);
}

/* Fastest first: decompress_open(codec, NULL) takes the first entry of the codec. */
static const struct decompress_ops backends[] = {
    {"copy", CODEC_NONE, copy_open, copy_step, copy_reset, copy_close},
#ifdef HAVE_ISAL
    {"isal", CODEC_GZIP, isal_open, isal_step, isal_reset, isal_close},
#endif
    {"zlib", CODEC_GZIP, zlib_open, zlib_step, zlib_reset, zlib_close},
    {"zstd", CODEC_ZSTD, zstd_open, zstd_step, zstd_reset, zstd_close},
};

static const char *const codec_names[] = {"none", "gzip", "zstd"};

const char *codec_name(enum codec codec)
{
    return (unsigned)codec < sizeof codec_names / sizeof codec_names[0] ? codec_names[codec] : "?";
}

int codec_parse(const char *name, enum codec *out)
{
    for (size_t i = 0; i < sizeof codec_names / sizeof codec_names[0]; i++) {
        if (name && strcmp(name, codec_names[i]) == 0) {
            *out = (enum codec)i;
            return 0;
        }
    }
    return -1;
}

ug_err decompress_open(enum codec codec, const char *backend, struct decompressor **out, char *err)
{
    *out = NULL;
    const struct decompress_ops *ops = NULL;
    for (size_t i = 0; i < sizeof backends / sizeof backends[0] && !ops; i++)
        if (backends[i].codec == codec && (!backend || strcmp(backend, backends[i].backend) == 0))
            ops = &backends[i];
    if (!ops)
        return ug_fail(err, UG_ERR_USAGE, "no %s decoder%s%s in this build", codec_name(codec),
                       backend ? " named " : "", backend ? backend : "");
    struct decompressor *d = calloc(1, sizeof *d);
    if (!d)
        return ug_oom(err);
    d->ops = ops;
    ug_err rc = ops->open(d, err);
    if (rc != UG_OK) {
        free(d);
        return rc;
    }
    *out = d;
    return UG_OK;
}

const char *decompress_backend(const struct decompressor *d)
{
    return d->ops->backend;
}

ug_err decompress_step(struct decompressor *d, const uint8_t *in, size_t in_len, size_t *in_used,
                       uint8_t *out, size_t out_cap, size_t *out_made, int *ended, char *err)
{
    if (d->ended) {
        /* Backends differ on what they do past a stream end; make it uniform. */
        *in_used = *out_made = 0;
        *ended = 1;
        return UG_OK;
    }
    ug_err rc = d->ops->step(d, in, in_len, in_used, out, out_cap, out_made, ended, err);
    d->ended = rc == UG_OK && *ended;
    return rc;
}

ug_err decompress_reset(struct decompressor *d, char *err)
{
    d->ended = 0;
    return d->ops->reset(d, err);
}

void decompress_close(struct decompressor *d)
{
    if (!d)
        return;
    d->ops->close(d);
    free(d);
}

size_t compress_bound(enum codec codec, size_t len)
{
    switch (codec) {
    case CODEC_GZIP:
        return compressBound((uLong)len) + 32; /* + gzip header and trailer */
    case CODEC_ZSTD:
        return ZSTD_compressBound(len);
    case CODEC_NONE:
        break;
    }
    return len;
}

static ug_err gzip_compress(int level, const void *in, size_t len, uint8_t *out, size_t cap,
                            size_t *out_len, char *err)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (len > UINT32_MAX || cap > UINT32_MAX)
        return ug_fail(err, UG_ERR_USAGE, "gzip chunk of %zu bytes is too large", len);
    if (deflateInit2(&z, level ? level : 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK)
        return ug_fail(err, UG_ERR_OTHER, "zlib: cannot initialise deflate");
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    *out_len = cap - z.avail_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END)
        return ug_fail(err, UG_ERR_OTHER, "zlib: deflate failed (%d)", rc);
    return UG_OK;
}

ug_err compress_buffer(enum codec codec, int level, const void *in, size_t len, uint8_t *out,
                       size_t cap, size_t *out_len, char *err)
{
    *out_len = 0;
    if (cap < compress_bound(codec, len))
        return ug_fail(err, UG_ERR_OTHER, "compress: output buffer too small");
    switch (codec) {
    case CODEC_GZIP:
        return gzip_compress(level, in, len, out, cap, out_len, err);
    case CODEC_ZSTD: {
        ZSTD_CCtx *z = ZSTD_createCCtx();
        if (!z)
            return ug_oom(err);
        /* The frame checksum lets the decoder itself notice corruption, as gzip's CRC does. */
        ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, level ? level : 3);
        ZSTD_CCtx_setParameter(z, ZSTD_c_checksumFlag, 1);
        /* A 256 KiB window instead of the chunk's size: the device decodes each frame in
         * ~0.65 MiB rather than a buffer as large as the chunk (4 MiB by default), for
         * bundles ~2 % larger than with 512 KiB and ~4 % than with the chunk as window on
         * file-system images; it keeps the install within 16 MiB (docs/install.md). */
        ZSTD_CCtx_setParameter(z, ZSTD_c_windowLog, ZSTD_WINDOWLOG_PACK);
        size_t n = ZSTD_compress2(z, out, cap, in, len);
        ZSTD_freeCCtx(z);
        if (ZSTD_isError(n))
            return ug_fail(err, UG_ERR_OTHER, "zstd: %s", ZSTD_getErrorName(n));
        *out_len = n;
        return UG_OK;
    }
    case CODEC_NONE:
        memcpy(out, in, len);
        *out_len = len;
        return UG_OK;
    }
    return ug_fail(err, UG_ERR_USAGE, "unknown codec");
}

struct compressor {
    enum codec codec;
    int level;
    int z_ready;
    z_stream z;
    ZSTD_CCtx *zstd;
};

ug_err compressor_open(enum codec codec, int level, struct compressor **out, char *err)
{
    struct compressor *c = calloc(1, sizeof *c);
    if (!c)
        return ug_oom(err);
    c->codec = codec;
    c->level = level;
    *out = c;
    if (codec == CODEC_GZIP) {
        if (deflateInit2(&c->z, level ? level : 6, Z_DEFLATED, 16 + MAX_WBITS, 8,
                         Z_DEFAULT_STRATEGY) != Z_OK)
            return ug_fail(err, UG_ERR_OTHER, "zlib: cannot initialise deflate");
        c->z_ready = 1;
    } else if (codec == CODEC_ZSTD) {
        if (!(c->zstd = ZSTD_createCCtx()))
            return ug_oom(err);
        ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_compressionLevel, level ? level : 3);
        ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_checksumFlag, 1);
        ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_windowLog, ZSTD_WINDOWLOG_PACK);
    }
    return UG_OK;
}

ug_err compressor_run(struct compressor *c, const void *in, size_t len, uint8_t *out, size_t cap,
                      size_t *out_len, char *err)
{
    *out_len = 0;
    if (cap < compress_bound(c->codec, len) || len > UINT32_MAX || cap > UINT32_MAX)
        return ug_fail(err, UG_ERR_OTHER, "compress: output buffer too small or input too large");
    if (c->codec == CODEC_GZIP) {
        if (deflateReset(&c->z) != Z_OK)
            return ug_fail(err, UG_ERR_OTHER, "zlib: cannot reset deflate");
        c->z.next_in = (Bytef *)in;
        c->z.avail_in = (uInt)len;
        c->z.next_out = out;
        c->z.avail_out = (uInt)cap;
        if (deflate(&c->z, Z_FINISH) != Z_STREAM_END)
            return ug_fail(err, UG_ERR_OTHER, "zlib: deflate failed");
        *out_len = cap - c->z.avail_out;
        return UG_OK;
    }
    if (c->codec == CODEC_ZSTD) {
        size_t n = ZSTD_compress2(c->zstd, out, cap, in, len);
        if (ZSTD_isError(n))
            return ug_fail(err, UG_ERR_OTHER, "zstd: %s", ZSTD_getErrorName(n));
        *out_len = n;
        return UG_OK;
    }
    memcpy(out, in, len);
    *out_len = len;
    return UG_OK;
}

void compressor_close(struct compressor *c)
{
    if (!c)
        return;
    if (c->z_ready)
        deflateEnd(&c->z);
    ZSTD_freeCCtx(c->zstd);
    free(c);
}

ug_err compressor_frame(struct compressor *c, const void *in, size_t len, int first, int last,
                        uint8_t *out, size_t cap, size_t *out_len, char *err)
{
    *out_len = 0;
    if (c->codec != CODEC_GZIP)
        return ug_fail(err, UG_ERR_USAGE, "flush frames need gzip");
    if (cap < compress_bound(c->codec, len) || len > UINT32_MAX || cap > UINT32_MAX)
        return ug_fail(err, UG_ERR_OTHER, "compress: output buffer too small or input too large");
    if (first && deflateReset(&c->z) != Z_OK)
        return ug_fail(err, UG_ERR_OTHER, "zlib: cannot reset deflate");
    c->z.next_in = (Bytef *)in;
    c->z.avail_in = (uInt)len;
    c->z.next_out = out;
    c->z.avail_out = (uInt)cap;
    int rc = deflate(&c->z, last ? Z_FINISH : Z_SYNC_FLUSH);
    if (rc != (last ? Z_STREAM_END : Z_OK) || c->z.avail_in != 0 || c->z.avail_out == 0)
        return ug_fail(err, UG_ERR_OTHER, "zlib: deflate failed (%d)", rc);
    *out_len = cap - c->z.avail_out;
    return UG_OK;
}

struct frame_inflater {
    z_stream z;
};

ug_err frame_inflater_open(struct frame_inflater **out, char *err)
{
    struct frame_inflater *f = calloc(1, sizeof *f);
    *out = NULL;
    if (!f)
        return ug_oom(err);
    if (inflateInit2(&f->z, -MAX_WBITS) != Z_OK) { /* raw deflate: the caller cuts the frame */
        free(f);
        return ug_fail(err, UG_ERR_OTHER, "zlib: cannot initialise inflate");
    }
    *out = f;
    return UG_OK;
}

/* Runs the raw inflater over the frame; *made plain bytes (one more than room means more). */
static int frame_run(struct frame_inflater *f, const uint8_t *in, size_t len, uint8_t *out,
                     size_t out_len, size_t *made)
{
    uint8_t spare;
    f->z.next_in = (Bytef *)in;
    f->z.avail_in = (uInt)len;
    f->z.next_out = out;
    f->z.avail_out = (uInt)out_len;
    int rc = inflate(&f->z, Z_SYNC_FLUSH);
    *made = out_len - f->z.avail_out;
    if ((rc == Z_OK || rc == Z_BUF_ERROR) && f->z.avail_in > 0 && f->z.avail_out == 0) {
        /* Output full, input left: the end of its block and the flush marker, or more. */
        f->z.next_out = &spare;
        f->z.avail_out = 1;
        rc = inflate(&f->z, Z_SYNC_FLUSH);
        *made += 1 - f->z.avail_out;
    }
    return rc;
}

ug_err frame_inflate(struct frame_inflater *f, const uint8_t *in, size_t len, int first, int last,
                     const uint8_t *hist, size_t hist_len, uint8_t *out, size_t out_len, char *err)
{
    if (len > UINT32_MAX || out_len > UINT32_MAX || inflateReset(&f->z) != Z_OK)
        return ug_fail(err, UG_ERR_UNUSABLE, "frame too large");
    /* pack writes the plain 10-byte gzip header (no name, no extra fields). */
    if (first && (len < 10 || in[0] != 0x1f || in[1] != 0x8b || in[2] != 8 || in[3] != 0))
        return ug_fail(err, UG_ERR_UNUSABLE, "frame does not open a gzip member");
    if (first) {
        in += 10;
        len -= 10;
    }
    if (hist_len > 32768) {
        hist += hist_len - 32768;
        hist_len = 32768;
    }
    if (hist_len && inflateSetDictionary(&f->z, hist, (uInt)hist_len) != Z_OK)
        return ug_fail(err, UG_ERR_UNUSABLE, "frame: cannot set its history");
    return frame_inflate_next(f, in, len, last, out, out_len, err);
}

ug_err frame_inflate_next(struct frame_inflater *f, const uint8_t *in, size_t len, int last,
                          uint8_t *out, size_t out_len, char *err)
{
    static const uint8_t marker[4] = {0, 0, 0xff, 0xff};
    size_t made = 0;
    if (len > UINT32_MAX || out_len > UINT32_MAX)
        return ug_fail(err, UG_ERR_UNUSABLE, "frame too large");
    int rc = frame_run(f, in, len, out, out_len, &made);
    /* Not last: every byte taken, ending at the flush marker, the member still open. Last:
     * the member's end, then only its 8-byte trailer (the chunk's SHA-256 checks the bytes). */
    int ok = made == out_len && (last ? rc == Z_STREAM_END && f->z.avail_in == 8
                                      : rc != Z_STREAM_END && f->z.avail_in == 0 && len >= 4 &&
                                            memcmp(in + len - 4, marker, 4) == 0);
    if (!ok)
        return ug_fail(err, UG_ERR_UNUSABLE, "frame does not decode to its %zu bytes", out_len);
    return UG_OK;
}

void frame_inflater_close(struct frame_inflater *f)
{
    if (!f)
        return;
    inflateEnd(&f->z);
    free(f);
}
