/* SPDX-License-Identifier: MIT */
/* The release manifest of a bundle (docs/bundle.md): parsed from its JSON once the
 * signature over it is verified; names, sizes and the signed digest of every chunk. */
#include "bundle/manifest.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootctl/bootstate.h"
#include "bundle/blockindex.h"
#include "common/hex.h"
#include "common/version.h"

/* A member name is one plain file name: no folders, no "..", nothing hidden. */
static int safe_member_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 99 || s[0] == '.')
        return 0;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static ug_err need(json_object *obj, const char *field, json_type type, const char *where,
                   json_object **v, char *err)
{
    if (!json_object_object_get_ex(obj, field, v) || !json_object_is_type(*v, type))
        return ug_fail(err, UG_ERR_USAGE, "bundle manifest: %s'%s' is missing or of the wrong type",
                       where, field);
    return UG_OK;
}

static ug_err need_string(json_object *obj, const char *field, const char *where, char **out,
                          char *err)
{
    json_object *v;
    ug_err rc = need(obj, field, json_type_string, where, &v, err);
    if (rc == UG_OK && json_object_get_string_len(v) == 0)
        rc = ug_fail(err, UG_ERR_USAGE, "bundle manifest: %s'%s' is empty", where, field);
    if (rc == UG_OK && !(*out = strdup(json_object_get_string(v))))
        rc = ug_oom(err);
    return rc;
}

static ug_err need_u64(json_object *obj, const char *field, const char *where, uint64_t *out,
                       char *err)
{
    json_object *v;
    ug_err rc = need(obj, field, json_type_int, where, &v, err);
    if (rc == UG_OK && json_object_get_int64(v) < 0)
        rc = ug_fail(err, UG_ERR_USAGE, "bundle manifest: %s'%s' is negative", where, field);
    if (rc == UG_OK)
        *out = (uint64_t)json_object_get_int64(v);
    return rc;
}

static ug_err need_digest(json_object *obj, const char *field, const char *where,
                          unsigned char out[32], char *err)
{
    json_object *v;
    ug_err rc = need(obj, field, json_type_string, where, &v, err);
    if (rc == UG_OK && hex_decode(json_object_get_string(v), out, 32) != 0)
        rc = ug_fail(err, UG_ERR_USAGE, "bundle manifest: %s'%s' is not 64 hex digits", where,
                     field);
    return rc;
}

static ug_err parse_chunks(json_object *arr, struct bundle_payload *p, const char *where, char *err)
{
    size_t n = json_object_array_length(arr);
    p->chunks = calloc(n ? n : 1, sizeof *p->chunks);
    if (!p->chunks)
        return ug_oom(err);
    uint64_t plain = 0, stored = 0;
    for (size_t i = 0; i < n; i++) {
        char at[160];
        snprintf(at, sizeof at, "%schunk %zu: ", where, i);
        json_object *c = json_object_array_get_idx(arr, i);
        struct bundle_chunk *k = &p->chunks[p->nchunks++];
        if (!json_object_is_type(c, json_type_object))
            return ug_fail(err, UG_ERR_USAGE, "bundle manifest: %snot an object", at);
        ug_err rc = need_u64(c, "offset", at, &k->offset, err);
        if (rc == UG_OK)
            rc = need_u64(c, "size", at, &k->size, err);
        if (rc == UG_OK)
            rc = need_u64(c, "stored_offset", at, &k->stored_offset, err);
        if (rc == UG_OK)
            rc = need_u64(c, "stored_size", at, &k->stored_size, err);
        if (rc == UG_OK)
            rc = need_digest(c, "sha256", at, k->sha256, err);
        if (rc == UG_OK)
            rc = need_digest(c, "stored_sha256", at, k->stored_sha256, err);
        if (rc != UG_OK)
            return rc;
        /* The chunks must tile both the plain and the stored bytes exactly, in order. */
        if (k->offset != plain || k->stored_offset != stored || k->size == 0 ||
            k->stored_size == 0 || k->size > UINT64_MAX - plain ||
            k->stored_size > UINT64_MAX - stored)
            return ug_fail(err, UG_ERR_USAGE,
                           "bundle manifest: %soffsets do not follow the previous chunk", at);
        if (p->compression == CODEC_NONE && k->size != k->stored_size)
            return ug_fail(err, UG_ERR_USAGE,
                           "bundle manifest: %sstored size differs from size without compression",
                           at);
        plain += k->size;
        stored += k->stored_size;
    }
    if (plain != p->size || stored != p->stored_size)
        return ug_fail(
            err, UG_ERR_USAGE,
            "bundle manifest: %schunks add up to %llu/%llu bytes, not size %llu/stored_size %llu",
            where, (unsigned long long)plain, (unsigned long long)stored,
            (unsigned long long)p->size, (unsigned long long)p->stored_size);
    return UG_OK;
}

static int power_of_two(uint64_t v)
{
    return v && (v & (v - 1)) == 0;
}

/* The shape of an index: blocks of 512 B-64 KiB, frames of whole blocks up to 16 MiB that
 * every chunk but the last holds a whole number of (frames never cross a chunk). */
static ug_err check_index_shape(const struct bundle_payload *p, const char *where, char *err)
{
    if (!power_of_two(p->block_size) || p->block_size < 512 || p->block_size > 65536 ||
        p->frame_size % p->block_size != 0 || p->frame_size > (16u << 20))
        return ug_fail(err, UG_ERR_USAGE,
                       "bundle manifest: %sindex block_size %u or frame_size %u not allowed", where,
                       p->block_size, p->frame_size);
    for (size_t k = 0; k + 1 < p->nchunks; k++)
        if (p->chunks[k].size % p->frame_size != 0)
            return ug_fail(err, UG_ERR_USAGE,
                           "bundle manifest: %schunk %zu is not a whole number of frames", where,
                           k);
    /* The member is the index gzip-compressed: never empty, never more than gzip can make. */
    uint64_t raw = block_index_size(p->size, p->block_size, p->frame_size, p->index_version);
    if (p->index_size == 0 || raw > SIZE_MAX / 2 ||
        p->index_size > compress_bound(CODEC_GZIP, (size_t)raw))
        return ug_fail(err, UG_ERR_USAGE, "bundle manifest: %sindex size %llu does not fit %llu",
                       where, (unsigned long long)p->index_size, (unsigned long long)raw);
    return UG_OK;
}

static ug_err parse_index(json_object *obj, struct bundle_payload *p, const char *where, char *err)
{
    uint64_t bs = 0, fs = 0;
    ug_err rc = need_string(obj, "name", where, &p->index_name, err);
    if (rc == UG_OK &&
        (!safe_member_name(p->index_name) || strcmp(p->index_name, BUNDLE_MANIFEST_NAME) == 0 ||
         strcmp(p->index_name, BUNDLE_SIGNATURE_NAME) == 0 || strcmp(p->index_name, p->name) == 0))
        rc = ug_fail(err, UG_ERR_VERIFY, "bundle manifest: %sindex name '%s' is not allowed", where,
                     p->index_name);
    if (rc == UG_OK)
        rc = need_u64(obj, "size", where, &p->index_size, err);
    if (rc == UG_OK)
        rc = need_digest(obj, "sha256", where, p->index_sha256, err);
    if (rc == UG_OK)
        rc = need_u64(obj, "block_size", where, &bs, err);
    if (rc == UG_OK)
        rc = need_u64(obj, "frame_size", where, &fs, err);
    if (rc != UG_OK)
        return rc;
    p->block_size = bs > 65536 ? 0 : (uint32_t)bs;
    p->frame_size = fs > (16u << 20) ? 0 : (uint32_t)fs;
    json_object *v;
    if (json_object_object_get_ex(obj, "frames", &v)) {
        p->index_version = 2; /* written by the packer that writes "frames" */
        const char *mode =
            json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
        p->flush_frames = strcmp(mode, "flush") == 0;
        if ((!p->flush_frames && strcmp(mode, "members") != 0) ||
            (p->flush_frames && p->compression != CODEC_GZIP))
            return ug_fail(err, UG_ERR_USAGE,
                           "bundle manifest: %sindex frames '%s' is not members, or flush (gzip)",
                           where, mode);
    }
    return check_index_shape(p, where, err);
}

static ug_err parse_payload(json_object *obj, size_t i, struct bundle_payload *p, char *err)
{
    char where[64];
    json_object *v;
    snprintf(where, sizeof where, "payload %zu: ", i);
    if (!json_object_is_type(obj, json_type_object))
        return ug_fail(err, UG_ERR_USAGE, "bundle manifest: %snot an object", where);
    ug_err rc = need_string(obj, "name", where, &p->name, err);
    if (rc == UG_OK && (!safe_member_name(p->name) || strcmp(p->name, BUNDLE_MANIFEST_NAME) == 0 ||
                        strcmp(p->name, BUNDLE_SIGNATURE_NAME) == 0))
        rc = ug_fail(err, UG_ERR_VERIFY, "bundle manifest: %sname '%s' is not a plain file name",
                     where, p->name);
    if (rc == UG_OK)
        rc = need_string(obj, "slot", where, &p->slot, err);
    if (rc == UG_OK)
        rc = need(obj, "compression", json_type_string, where, &v, err);
    if (rc == UG_OK && codec_parse(json_object_get_string(v), &p->compression) != 0)
        rc = ug_fail(err, UG_ERR_USAGE,
                     "bundle manifest: %scompression '%s' is not gzip, zstd or none", where,
                     json_object_get_string(v));
    if (rc == UG_OK)
        rc = need_u64(obj, "size", where, &p->size, err);
    if (rc == UG_OK)
        rc = need_digest(obj, "sha256", where, p->sha256, err);
    if (rc == UG_OK)
        rc = need_u64(obj, "stored_size", where, &p->stored_size, err);
    if (rc == UG_OK)
        rc = need(obj, "chunks", json_type_array, where, &v, err);
    if (rc == UG_OK)
        rc = parse_chunks(v, p, where, err);
    if (rc == UG_OK && json_object_object_get_ex(obj, "index", &v)) {
        if (!json_object_is_type(v, json_type_object))
            return ug_fail(err, UG_ERR_USAGE, "bundle manifest: %s'index' is not an object", where);
        rc = parse_index(v, p, where, err);
    }
    return rc;
}

/* Two payloads whose members (payload or index) share a name. */
static int member_clash(const struct bundle_payload *a, const struct bundle_payload *b)
{
    const char *an[2] = {a->name, a->index_name}, *bn[2] = {b->name, b->index_name};
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            if (an[i] && bn[j] && strcmp(an[i], bn[j]) == 0)
                return 1;
    return 0;
}

ug_err bundle_manifest_parse(const char *json, size_t len, struct bundle_manifest *out, char *err)
{
    json_object *root = NULL, *v;
    struct json_tokener *tok = json_tokener_new();
    ug_err rc = UG_OK;
    memset(out, 0, sizeof *out);
    if (!tok)
        return ug_oom(err);
    if (len <= BUNDLE_MANIFEST_MAX)
        root = json_tokener_parse_ex(tok, json, (int)len);
    if (!root || json_tokener_get_error(tok) != json_tokener_success ||
        json_tokener_get_parse_end(tok) != len || !json_object_is_type(root, json_type_object)) {
        rc = ug_fail(err, UG_ERR_USAGE, "bundle manifest is not one JSON object");
        goto out;
    }
    rc = need(root, "format", json_type_int, "", &v, err);
    if (rc == UG_OK && json_object_get_int(v) != BUNDLE_FORMAT)
        rc = ug_fail(err, UG_ERR_USAGE, "bundle manifest: format %d is not supported (only %d)",
                     json_object_get_int(v), BUNDLE_FORMAT);
    if (rc == UG_OK)
        rc = need_string(root, "product", "", &out->product, err);
    if (rc == UG_OK)
        rc = need_string(root, "version", "", &out->version, err);
    struct version parsed;
    if (rc == UG_OK && version_parse(out->version, &parsed) != 0)
        rc = ug_fail(err, UG_ERR_USAGE, "bundle manifest: version '%.80s' is not a version",
                     out->version);
    /* The boot state records the version of what a slot holds: one it cannot hold whole
     * would be cut short there, and then match nothing. */
    if (rc == UG_OK && !bootstate_version_valid(out->version))
        rc = ug_fail(err, UG_ERR_USAGE,
                     "bundle manifest: version '%.80s' is longer than the %d characters the boot "
                     "state records",
                     out->version, BOOTSTATE_VERSION_MAX - 1);
    if (rc == UG_OK)
        rc = need(root, "hardware", json_type_array, "", &v, err);
    if (rc == UG_OK) {
        size_t n = json_object_array_length(v);
        out->hardware = calloc(n ? n : 1, sizeof *out->hardware);
        if (!out->hardware)
            rc = ug_oom(err);
        else if (n == 0)
            rc = ug_fail(err, UG_ERR_USAGE, "bundle manifest: 'hardware' is empty");
        for (size_t i = 0; i < n && rc == UG_OK; i++) {
            json_object *h = json_object_array_get_idx(v, i);
            if (!json_object_is_type(h, json_type_string) || json_object_get_string_len(h) == 0)
                rc = ug_fail(err, UG_ERR_USAGE,
                             "bundle manifest: 'hardware' must hold non-empty strings");
            else if (!(out->hardware[out->nhardware++] = strdup(json_object_get_string(h))))
                rc = ug_oom(err);
        }
    }
    if (rc == UG_OK)
        rc = need(root, "payloads", json_type_array, "", &v, err);
    if (rc == UG_OK) {
        size_t n = json_object_array_length(v);
        out->payloads = calloc(n ? n : 1, sizeof *out->payloads);
        if (!out->payloads)
            rc = ug_oom(err);
        else if (n == 0)
            rc = ug_fail(err, UG_ERR_USAGE, "bundle manifest: no payloads");
        for (size_t i = 0; i < n && rc == UG_OK; i++) {
            rc = parse_payload(json_object_array_get_idx(v, i), i, &out->payloads[out->npayloads++],
                               err);
            for (size_t k = 0; k < i && rc == UG_OK; k++)
                if (strcmp(out->payloads[k].name, out->payloads[i].name) == 0 ||
                    member_clash(&out->payloads[k], &out->payloads[i]))
                    rc = ug_fail(err, UG_ERR_VERIFY,
                                 "bundle manifest: member name '%s' is listed twice",
                                 out->payloads[i].name);
        }
    }
out:
    if (rc != UG_OK)
        bundle_manifest_free(out);
    json_object_put(root);
    json_tokener_free(tok);
    return rc;
}

void bundle_manifest_free(struct bundle_manifest *m)
{
    free(m->product);
    free(m->version);
    for (size_t i = 0; i < m->nhardware; i++)
        free(m->hardware[i]);
    free(m->hardware);
    for (size_t i = 0; i < m->npayloads; i++) {
        free(m->payloads[i].name);
        free(m->payloads[i].slot);
        free(m->payloads[i].chunks);
        free(m->payloads[i].index_name);
    }
    free(m->payloads);
    memset(m, 0, sizeof *m);
}

int bundle_manifest_fits(const struct bundle_manifest *m, const char *hw)
{
    for (size_t i = 0; hw && i < m->nhardware; i++)
        if (strcmp(m->hardware[i], hw) == 0)
            return 1;
    return 0;
}
