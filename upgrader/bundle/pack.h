/* SPDX-License-Identifier: MIT */
/* Building a bundle (server side, `upgrader pack`): one image cut into independently
 * compressed chunks, a signed manifest listing them, all in one ustar archive. */
#ifndef UPGRADER_BUNDLE_PACK_H
#define UPGRADER_BUNDLE_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "bundle/decompress.h"
#include "common/error.h"

#define BUNDLE_DEFAULT_CHUNK (4u * 1024 * 1024)
#define BUNDLE_MAX_CHUNK     (256u * 1024 * 1024)
#define BUNDLE_DEFAULT_FRAME (16u * 1024) /* member frames: measured in docs/bundle.md */
#define BUNDLE_FLUSH_FRAME   4096u        /* flush frames: the block (at least this) */
#define BUNDLE_DEFAULT_BLOCK 4096u

struct bundle_pack_options {
    const char *product, *version;
    const char *const *hardware; /* at least one */
    size_t nhardware;
    const char *image; /* the plain image file */
    const char *slot;  /* NULL = "rootfs" */
    enum codec compression;
    int level;              /* 0 = the codec's default */
    uint64_t chunk_size;    /* 0 = BUNDLE_DEFAULT_CHUNK */
    int no_index;           /* 1: no block index, one compressed stream per chunk */
    uint32_t frame_size;    /* 0: flush frames the block size (>= 4 KiB), members 16 KiB */
    int member_frames;      /* 1: each frame its own member (zstd, none: always); 0: flush */
    int flush_frames;       /* 1: flush frames asked for (gzip only, else UG_ERR_USAGE) */
    uint32_t block_size;    /* 0 = the image's own (ext2/3/4), else BUNDLE_DEFAULT_BLOCK */
    const char *key, *cert; /* PEM files that sign the manifest */
    const char *out;        /* the bundle, replaced atomically */
};

/* Builds the bundle o->out; UG_ERR_USAGE for bad options or unreadable inputs. */
ug_err bundle_pack(const struct bundle_pack_options *o, char *err) UG_MUST_CHECK;

#endif
