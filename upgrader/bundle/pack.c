/* SPDX-License-Identifier: MIT */
/* `pack`'s engine: compresses the image a chunk at a time into an unlinked scratch file
 * (the manifest, which comes first, needs every chunk's digest), then writes the archive. */
#include "bundle/pack.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootctl/bootstate.h"
#include "bundle/blockindex.h"
#include "bundle/bundle.h"
#include "bundle/sign.h"
#include "common/buf.h"
#include "common/fsutil.h"
#include "common/hex.h"
#include "common/version.h"

static int json_add_hex(json_object *o, const char *key, const unsigned char d[32])
{
    char hex[65];
    hex_encode(d, 32, hex);
    return json_object_object_add(o, key, json_object_new_string(hex));
}

static ug_err read_full(int fd, const char *path, uint8_t *buf, size_t want, size_t *got, char *err)
{
    *got = 0;
    while (*got < want) {
        ssize_t n = read(fd, buf + *got, want - *got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return ug_fail(err, UG_ERR_OTHER, "%s: read failed: %s", path, strerror(errno));
        if (n == 0)
            break;
        *got += (size_t)n;
    }
    return UG_OK;
}

static ug_err write_full(int fd, const char *path, const void *data, size_t len, char *err)
{
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return ug_fail(err, UG_ERR_OTHER, "%s: write failed: %s", path, strerror(errno));
        p += n;
        len -= (size_t)n;
    }
    return UG_OK;
}

/* The block index being built beside the payload (no_index: unused). */
struct index_build {
    uint32_t block_size, frame_size; /* frame_size 0: no index, a stream per chunk */
    int flush;                       /* flush frames: one gzip member per chunk */
    struct buf frames, keys;
    struct compressor *c;
};

/* Compresses one chunk into packed (as frames when indexing, noting each frame's stored size
 * and each block's key), *made its stored bytes. */
static ug_err compress_chunk(const struct bundle_pack_options *o, struct index_build *x,
                             const uint8_t *plain, size_t got, uint8_t *packed, size_t cap,
                             size_t *made, char *err)
{
    if (!x->frame_size)
        return compress_buffer(o->compression, o->level, plain, got, packed, cap, made, err);
    *made = 0;
    for (size_t at = 0; at < got; at += x->frame_size) {
        size_t len = got - at < x->frame_size ? got - at : x->frame_size, n;
        ug_err rc =
            x->flush ? compressor_frame(x->c, plain + at, len, at == 0, at + len == got,
                                        packed + *made, cap - *made, &n, err)
                     : compressor_run(x->c, plain + at, len, packed + *made, cap - *made, &n, err);
        if (rc != UG_OK)
            return rc;
        uint8_t le[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24)};
        if (buf_append(&x->frames, le, 4) != 0)
            return ug_oom(err);
        *made += n;
    }
    for (size_t at = 0; at < got; at += x->block_size) {
        uint64_t key = block_key(plain + at, got - at < x->block_size ? got - at : x->block_size);
        uint8_t be[8];
        for (int i = 0; i < 8; i++)
            be[i] = (uint8_t)(key >> (8 * (7 - i)));
        /* Version 2 (flush frames) keeps the first 6 bytes, version 1 all 8. */
        if (buf_append(&x->keys, be, block_index_key_bytes(x->flush ? 2 : 1)) != 0)
            return ug_oom(err);
    }
    return UG_OK;
}

static json_object *chunk_json(uint64_t offset, size_t got, uint64_t stored, size_t made,
                               const unsigned char dplain[32], const unsigned char dstored[32])
{
    json_object *c = json_object_new_object();
    json_object_object_add(c, "offset", json_object_new_int64((int64_t)offset));
    json_object_object_add(c, "size", json_object_new_int64((int64_t)got));
    json_object_object_add(c, "stored_offset", json_object_new_int64((int64_t)stored));
    json_object_object_add(c, "stored_size", json_object_new_int64((int64_t)made));
    json_add_hex(c, "sha256", dplain);
    json_add_hex(c, "stored_sha256", dstored);
    return c;
}

/* Compresses the image into scratch, listing each chunk in chunks (a JSON array). */
static ug_err compress_image(const struct bundle_pack_options *o, uint64_t chunk_size, int scratch,
                             struct index_build *x, json_object *payload, char *err)
{
    ug_err rc = UG_OK;
    int fd = open(o->image, O_RDONLY | O_CLOEXEC);
    uint8_t *plain = malloc(chunk_size);
    /* Frames each carry their own header and trailer: bound them one by one. */
    size_t cap = x->frame_size ? (size_t)(chunk_size / x->frame_size + 1) *
                                     compress_bound(o->compression, x->frame_size)
                               : compress_bound(o->compression, chunk_size);
    uint8_t *packed = malloc(cap);
    EVP_MD_CTX *whole = EVP_MD_CTX_new();
    json_object *chunks = json_object_new_array();
    uint64_t offset = 0, stored = 0;

    if (fd < 0) {
        rc = ug_fail(err, UG_ERR_USAGE, "%s: cannot open image: %s", o->image, strerror(errno));
        goto out;
    }
    if (!plain || !packed || !whole || !chunks ||
        EVP_DigestInit_ex(whole, EVP_sha256(), NULL) != 1) {
        rc = ug_oom(err);
        goto out;
    }
    for (;;) {
        size_t got, made;
        rc = read_full(fd, o->image, plain, chunk_size, &got, err);
        if (rc != UG_OK || got == 0)
            break;
        unsigned char dplain[32], dstored[32];
        rc = compress_chunk(o, x, plain, got, packed, cap, &made, err);
        if (rc != UG_OK)
            break;
        if (EVP_DigestUpdate(whole, plain, got) != 1 ||
            EVP_Digest(plain, got, dplain, NULL, EVP_sha256(), NULL) != 1 ||
            EVP_Digest(packed, made, dstored, NULL, EVP_sha256(), NULL) != 1) {
            rc = ug_fail(err, UG_ERR_OTHER, "SHA-256 failed");
            break;
        }
        rc = write_full(scratch, "scratch file", packed, made, err);
        if (rc != UG_OK)
            break;
        json_object_array_add(chunks, chunk_json(offset, got, stored, made, dplain, dstored));
        offset += got;
        stored += made;
        if (got < chunk_size)
            break;
    }
    if (rc != UG_OK)
        goto out;
    if (offset == 0) {
        rc = ug_fail(err, UG_ERR_USAGE, "%s: the image is empty", o->image);
        goto out;
    }
    unsigned char digest[32];
    if (EVP_DigestFinal_ex(whole, digest, NULL) != 1) {
        rc = ug_fail(err, UG_ERR_OTHER, "SHA-256 failed");
        goto out;
    }
    json_object_object_add(payload, "size", json_object_new_int64((int64_t)offset));
    json_add_hex(payload, "sha256", digest);
    json_object_object_add(payload, "stored_size", json_object_new_int64((int64_t)stored));
    json_object_object_add(payload, "chunk_size", json_object_new_int64((int64_t)chunk_size));
    json_object_object_add(payload, "chunks", chunks);
    chunks = NULL;
out:
    json_object_put(chunks);
    EVP_MD_CTX_free(whole);
    free(plain);
    free(packed);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* The block size of the index: asked for, else the image's own, else 4 KiB. */
static uint32_t pick_block_size(const struct bundle_pack_options *o)
{
    if (o->block_size)
        return o->block_size;
    uint8_t head[2048];
    size_t got = 0;
    int fd = open(o->image, O_RDONLY | O_CLOEXEC);
    char ignored[UG_ERRBUF];
    if (fd >= 0 && read_full(fd, o->image, head, sizeof head, &got, ignored) != UG_OK)
        got = 0;
    if (fd >= 0)
        close(fd);
    uint32_t bs = block_size_of_image(head, got);
    return bs ? bs : BUNDLE_DEFAULT_BLOCK;
}

static ug_err index_setup(const struct bundle_pack_options *o, uint64_t chunk_size,
                          struct index_build *x, char *err)
{
    memset(x, 0, sizeof *x);
    if (o->no_index)
        return UG_OK;
    x->block_size = pick_block_size(o);
    /* Flush frames share the chunk's history, so a frame can be as small as a block and
     * still compress about as well as the whole chunk (docs/bundle.md). */
    if (o->flush_frames && o->compression != CODEC_GZIP)
        return ug_fail(err, UG_ERR_USAGE, "pack: flush frames need gzip (--compress gzip)");
    x->flush = o->compression == CODEC_GZIP && !o->member_frames;
    x->frame_size = o->frame_size ? o->frame_size
                    : x->flush
                        ? (x->block_size > BUNDLE_FLUSH_FRAME ? x->block_size : BUNDLE_FLUSH_FRAME)
                        : BUNDLE_DEFAULT_FRAME;
    if (x->block_size < 512 || x->block_size > 65536 || (x->block_size & (x->block_size - 1)) ||
        x->frame_size % x->block_size || x->frame_size > (16u << 20) || chunk_size % x->frame_size)
        return ug_fail(err, UG_ERR_USAGE,
                       "pack: block size %u (a power of two, 512-65536) must divide frame size "
                       "%u (at most 16 MiB), which must divide chunk size %llu",
                       x->block_size, x->frame_size, (unsigned long long)chunk_size);
    return compressor_open(o->compression, o->level, &x->c, err);
}

/* The index member's bytes and its entry in the manifest's payload. */
static ug_err index_finish(struct index_build *x, const char *name, json_object *payload,
                           struct buf *out, char *err)
{
    json_object *sz;
    json_object_object_get_ex(payload, "size", &sz);
    uint64_t size = (uint64_t)json_object_get_int64(sz);
    uint8_t head[BLOCK_INDEX_HEADER];
    block_index_header(head, size, x->block_size, x->frame_size, x->flush ? 2 : 1);
    struct buf raw = {0};
    uint8_t *gz = NULL;
    size_t cap = 0, n = 0, nframes = x->frames.len / 4;
    /* Version 2: the frame sizes as byte planes (the high bytes, zeros mostly, compress to
     * nothing) and 6-byte keys (docs/bundle.md says why 48 bits are enough). */
    uint8_t *planes = malloc(x->frames.len ? x->frames.len : 1);
    for (size_t i = 0; planes && i < x->frames.len; i++) /* version 1: as they are */
        planes[x->flush ? (i % 4) * nframes + i / 4 : i] = ((const uint8_t *)x->frames.data)[i];
    int ok = planes && buf_append(&raw, head, sizeof head) == 0 &&
             buf_append(&raw, planes, x->frames.len) == 0;
    free(planes);
    if (!ok || buf_append(&raw, x->keys.data, x->keys.len) != 0 ||
        !(gz = malloc(cap = compress_bound(CODEC_GZIP, raw.len)))) {
        buf_free(&raw);
        return ug_oom(err);
    }
    /* gzip -9: the keys of blocks that repeat (zeros above all) and the frame sizes shrink,
     * and the index is on the wire of every delta install. */
    ug_err rc = compress_buffer(CODEC_GZIP, 9, raw.data, raw.len, gz, cap, &n, err);
    if (rc == UG_OK && buf_append(out, gz, n) != 0)
        rc = ug_oom(err);
    buf_free(&raw);
    free(gz);
    if (rc != UG_OK)
        return rc;
    unsigned char d[32];
    if (EVP_Digest(out->data, out->len, d, NULL, EVP_sha256(), NULL) != 1)
        return ug_fail(err, UG_ERR_OTHER, "SHA-256 failed");
    json_object *ix = json_object_new_object();
    json_object_object_add(ix, "name", json_object_new_string(name));
    json_object_object_add(ix, "size", json_object_new_int64((int64_t)out->len));
    json_add_hex(ix, "sha256", d);
    json_object_object_add(ix, "block_size", json_object_new_int64(x->block_size));
    json_object_object_add(ix, "frame_size", json_object_new_int64(x->frame_size));
    if (x->flush) /* members: the first delta release's layout, which its agents read */
        json_object_object_add(ix, "frames", json_object_new_string("flush"));
    json_object_object_add(payload, "index", ix);
    return UG_OK;
}

static ug_err add_member(struct archive *a, const char *name, int64_t size, const void *data,
                         int from_fd, const char *out, char *err)
{
    struct archive_entry *e = archive_entry_new();
    ug_err rc = UG_OK;
    if (!e)
        return ug_oom(err);
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, size);
    archive_entry_set_mtime(e, 0, 0); /* the same inputs make the same archive */
    if (archive_write_header(a, e) != ARCHIVE_OK) {
        rc = ug_fail(err, UG_ERR_OTHER, "%s: cannot write member %s: %s", out, name,
                     archive_error_string(a));
        goto out;
    }
    if (data) {
        if (archive_write_data(a, data, (size_t)size) != size)
            rc = ug_fail(err, UG_ERR_OTHER, "%s: cannot write member %s: %s", out, name,
                         archive_error_string(a));
        goto out;
    }
    const size_t blocksize = 1 << 20;
    uint8_t *block = malloc(blocksize);
    if (!block)
        rc = ug_oom(err);
    for (int64_t left = size; left > 0 && rc == UG_OK;) {
        size_t got;
        rc = read_full(from_fd, "scratch file", block,
                       left < (int64_t)blocksize ? (size_t)left : blocksize, &got, err);
        if (rc == UG_OK && got == 0)
            rc = ug_fail(err, UG_ERR_OTHER, "scratch file: shorter than expected");
        if (rc == UG_OK && archive_write_data(a, block, got) != (la_ssize_t)got)
            rc = ug_fail(err, UG_ERR_OTHER, "%s: cannot write member %s: %s", out, name,
                         archive_error_string(a));
        left -= (int64_t)got;
    }
    free(block);
out:
    archive_entry_free(e);
    return rc;
}

ug_err bundle_pack(const struct bundle_pack_options *o, char *err)
{
    ug_err rc = UG_OK;
    char scratch_path[4200], tmp_path[4200];
    int scratch = -1, tmp = -1;
    json_object *root = NULL, *payload = NULL;
    struct buf sig = {0}, index = {0};
    struct index_build x = {0};
    struct archive *a = NULL;
    uint64_t chunk_size = o->chunk_size ? o->chunk_size : BUNDLE_DEFAULT_CHUNK;
    const char *slot = o->slot ? o->slot : "rootfs";
    struct version v;
    tmp_path[0] = '\0';

    if (!o->product || !o->product[0] || !o->version || version_parse(o->version, &v) != 0)
        return ug_fail(err, UG_ERR_USAGE, "pack: --product and a valid --version are required");
    /* Devices refuse a manifest whose version their boot state cannot record whole. */
    if (!bootstate_version_valid(o->version))
        return ug_fail(err, UG_ERR_USAGE,
                       "pack: --version '%.80s' is longer than the %d characters a device records",
                       o->version, BOOTSTATE_VERSION_MAX - 1);
    if (o->nhardware == 0)
        return ug_fail(err, UG_ERR_USAGE, "pack: at least one --hw is required");
    if (chunk_size > BUNDLE_MAX_CHUNK)
        return ug_fail(err, UG_ERR_USAGE, "pack: chunk size over %u bytes", BUNDLE_MAX_CHUNK);
    char name[128];
    snprintf(name, sizeof name, "%s.img%s", slot,
             o->compression == CODEC_GZIP   ? ".gz"
             : o->compression == CODEC_ZSTD ? ".zst"
                                            : "");
    if (snprintf(scratch_path, sizeof scratch_path, "%s.payload.XXXXXX", o->out) >=
            (int)sizeof scratch_path ||
        snprintf(tmp_path, sizeof tmp_path, "%s.XXXXXX", o->out) >= (int)sizeof tmp_path)
        return ug_fail(err, UG_ERR_USAGE, "%s: path too long", o->out);

    /* The scratch file is unlinked at once: nothing is left behind whatever happens. */
    scratch = mkstemp(scratch_path);
    if (scratch < 0) {
        rc = ug_fail(err, UG_ERR_OTHER, "%s: cannot create a scratch file: %s", scratch_path,
                     strerror(errno));
        goto out;
    }
    unlink(scratch_path);

    root = json_object_new_object();
    payload = json_object_new_object();
    json_object *hw = json_object_new_array(), *payloads = json_object_new_array();
    json_object_object_add(root, "format", json_object_new_int(BUNDLE_FORMAT));
    json_object_object_add(root, "product", json_object_new_string(o->product));
    json_object_object_add(root, "version", json_object_new_string(o->version));
    for (size_t i = 0; i < o->nhardware; i++)
        json_object_array_add(hw, json_object_new_string(o->hardware[i]));
    json_object_object_add(root, "hardware", hw);
    json_object_object_add(root, "payloads", payloads);
    json_object_object_add(payload, "name", json_object_new_string(name));
    json_object_object_add(payload, "slot", json_object_new_string(slot));
    json_object_object_add(payload, "compression",
                           json_object_new_string(codec_name(o->compression)));
    char index_name[160];
    snprintf(index_name, sizeof index_name, "%s.index", name);
    rc = index_setup(o, chunk_size, &x, err);
    if (rc == UG_OK)
        rc = compress_image(o, chunk_size, scratch, &x, payload, err);
    if (rc == UG_OK && x.frame_size)
        rc = index_finish(&x, index_name, payload, &index, err);
    if (rc != UG_OK)
        goto out;
    json_object_array_add(payloads, payload);
    payload = NULL;
    size_t mlen;
    const char *manifest = json_object_to_json_string_length(
        root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE, &mlen);
    if (!manifest || mlen > BUNDLE_MANIFEST_MAX) {
        rc = ug_fail(err, UG_ERR_USAGE,
                     "pack: the manifest would exceed %d bytes (use a larger --chunk-size)",
                     BUNDLE_MANIFEST_MAX);
        goto out;
    }
    rc = sign_create(o->key, o->cert, manifest, mlen, &sig, err);
    if (rc != UG_OK)
        goto out;
    off_t stored = lseek(scratch, 0, SEEK_CUR);
    if (stored < 0 || lseek(scratch, 0, SEEK_SET) != 0) {
        rc = ug_fail(err, UG_ERR_OTHER, "scratch file: cannot seek: %s", strerror(errno));
        goto out;
    }

    tmp = mkstemp(tmp_path);
    if (tmp < 0) {
        rc = ug_fail(err, UG_ERR_USAGE, "%s: cannot create: %s", o->out, strerror(errno));
        tmp_path[0] = '\0';
        goto out;
    }
    a = archive_write_new();
    /* Plain ustar: every member's data follows one 512-byte header, which is what lets a
     * device resume a payload at a known byte offset. */
    if (!a || archive_write_set_format_ustar(a) != ARCHIVE_OK ||
        archive_write_add_filter_none(a) != ARCHIVE_OK ||
        archive_write_open_fd(a, tmp) != ARCHIVE_OK) {
        rc = ug_fail(err, UG_ERR_OTHER, "%s: cannot start the archive", o->out);
        goto out;
    }
    rc = add_member(a, BUNDLE_MANIFEST_NAME, (int64_t)mlen, manifest, -1, o->out, err);
    if (rc == UG_OK)
        rc = add_member(a, BUNDLE_SIGNATURE_NAME, (int64_t)sig.len, sig.data, -1, o->out, err);
    if (rc == UG_OK)
        rc = add_member(a, name, (int64_t)stored, NULL, scratch, o->out, err);
    /* The index comes after the payload: a whole-stream install reads it last and a delta
     * install asks for its byte range (docs/bundle.md). */
    if (rc == UG_OK && x.frame_size)
        rc = add_member(a, index_name, (int64_t)index.len, index.data, -1, o->out, err);
    if (rc == UG_OK && archive_write_close(a) != ARCHIVE_OK)
        rc = ug_fail(err, UG_ERR_OTHER, "%s: cannot finish the archive: %s", o->out,
                     archive_error_string(a));
    if (rc != UG_OK)
        goto out;
    /* Flushed before the rename, so the name never points at a partial bundle. */
    if (fchmod(tmp, 0644) != 0 || fsync(tmp) != 0 || rename(tmp_path, o->out) != 0) {
        rc = ug_fail(err, UG_ERR_OTHER, "%s: cannot write: %s", o->out, strerror(errno));
        goto out;
    }
    tmp_path[0] = '\0';
    rc = fs_sync_parent(o->out, err);
out:
    if (a)
        archive_write_free(a);
    if (tmp >= 0)
        close(tmp);
    if (tmp_path[0] && tmp >= 0)
        unlink(tmp_path);
    if (scratch >= 0)
        close(scratch);
    json_object_put(payload);
    json_object_put(root);
    buf_free(&sig);
    buf_free(&index);
    buf_free(&x.frames);
    buf_free(&x.keys);
    compressor_close(x.c);
    return rc;
}
