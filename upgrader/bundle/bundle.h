/* SPDX-License-Identifier: MIT */
/* The signed firmware bundle (docs/bundle.md): a ustar archive of manifest.json, its
 * detached CMS signature, then the payloads as independently compressed chunks; read as it
 * streams, manifest verified before the first payload byte, every digest checked. */
#ifndef UPGRADER_BUNDLE_H
#define UPGRADER_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "bundle/manifest.h"
#include "common/error.h"

/* The bundle's bytes, pulled in order: point *data at the next *len bytes (valid until the
 * next call), *len 0 at the end. Its error code (e.g. UG_ERR_UNREACHABLE) is passed through. */
typedef ug_err (*bundle_pull_fn)(void *ctx, const void **data, size_t *len, char *err);

/* Reads a bundle from pull (name: its URL or path, for messages): checks the manifest's
 * signature with keyring before anything else is used, then streams each payload to sink.
 * UG_ERR_VERIFY: unsigned, wrongly signed, members or bytes disagreeing with the signed
 * manifest (names, order, sizes, digests, extra members, links, unsafe paths);
 * UG_ERR_UNUSABLE: not a tar, truncated, or data that does not decode. On success the
 * verified manifest is left in *manifest (caller frees); on failure it is freed. */
ug_err bundle_read(bundle_pull_fn pull, void *pull_ctx, const char *name, const char *keyring,
                   const struct bundle_sink *sink, void *ctx, struct bundle_manifest *manifest,
                   char *err) UG_MUST_CHECK;
/* bundle_read() from a local file. */
ug_err bundle_read_file(const char *path, const char *keyring, const struct bundle_sink *sink,
                        void *ctx, struct bundle_manifest *manifest, char *err) UG_MUST_CHECK;

#endif
