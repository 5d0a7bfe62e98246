/* SPDX-License-Identifier: MIT */
/* The streaming install: one bundle from a URL (or a local file) into one slot, in a
 * single pass of network, tar, inflate, SHA-256 and slot write, in bounded memory. */
#ifndef UPGRADER_INSTALL_H
#define UPGRADER_INSTALL_H

#include <signal.h>
#include <stdint.h>

#include "common/error.h"
#include "net/fetch.h"

/* Called as bytes of the image reach the slot (done of total plain bytes). */
typedef void (*install_progress_fn)(void *ctx, uint64_t done, uint64_t total);
/* Called once, right before the first byte of a call reaches the slot; a failure stops the
 * install with the slot untouched. */
typedef ug_err (*install_before_write_fn)(void *ctx, char *err);

/* A slot whose blocks a delta install may copy (docs/install.md): the running one, and the
 * inactive one (the slot being written: its blocks are read before they are overwritten). */
struct install_reuse {
    const char *location; /* as slot_location, through the same backend */
    const char *version;  /* the release it holds per the boot state ("" unknown) */
    const char *cache;    /* its block table in the state folder (localindex.h) */
};

struct install_request {
    const char *url;                   /* bundle: tftp://, http://, https:// or a local path */
    const struct fetch_options *fetch; /* transport settings (CA, client cert, UA, domains,
                                          timeouts); its url is ignored; NULL: defaults */
    const char *keyring;               /* CA PEM the bundle manifest must be signed under */
    const char *slot_backend;          /* how the slot is reached: "file" or "block" (slot.h);
                                          NULL or "": "file" */
    const char *slot_location;         /* the inactive slot to write: a path (a file or a
                                          block device node) */
    const char *product;               /* the device's: the bundle must be for it */
    const char *hardware;              /* the device's hardware revision: the bundle must fit */
    const char *running_version;       /* with downgrade_limit: refuse what may not be installed */
    const char *downgrade_limit;       /* Downgrade_Rev_Limit; NULL or "": no limit */
    const char *expected_version;      /* the plan's target for this hop; NULL: any */
    const char *resume_file;           /* progress kept here lets a cut transfer resume at a
                                          chunk boundary; NULL: always start over */
    install_progress_fn progress;      /* may be NULL */
    void *progress_ctx;
    install_before_write_fn before_write; /* makes the slot unbootable; may be NULL */
    void *before_write_ctx;
    const volatile sig_atomic_t *cancel; /* once set (by a signal handler), the install stops
                                            at its next read: UG_ERR_OTHER "URL: cancelled";
                                            NULL: never */
    const struct install_reuse *reuse;   /* slots to copy blocks from; with them, an HTTP(S)
                                            or local bundle with a block index installs as a
                                            delta; NULL: always the whole stream */
    size_t nreuse;
    uint64_t checkpoint_bytes; /* resume granularity: at the first chunk end after this
                                          many image bytes, the slot is fsynced and the resume
                                          file saved; 0: INSTALL_CHECKPOINT_BYTES */
};

#define INSTALL_CHECKPOINT_BYTES (32u << 20)

struct install_result {
    char version[64];       /* the installed release, from its verified manifest */
    uint64_t image_size;    /* plain bytes written to the slot */
    uint64_t bytes_fetched; /* bundle bytes transferred by this call (less when resumed) */
    int resumed;            /* 1: continued a transfer cut off before */
    uint64_t resume_offset; /* when resumed: image bytes already in the slot, not fetched again */
    int transfer_cpu; /* TFTP: the CPU kept for the transfer thread; -1: none (HTTP, one CPU) */
    int delta;        /* 1: installed as a delta (blocks copied, frames fetched by range) */
    uint64_t bytes_reused; /* image bytes copied from the device's own slots */
    uint64_t bytes_full;   /* bundle bytes a whole-stream install fetches (0: not known) */
    uint64_t index_builds; /* local block tables built (not found current in the cache) */
};

/* Streams the bundle into the slot and verifies every byte (docs/install.md).
 * Contract: the caller must make the slot unbootable before its first byte changes (in
 * before_write, so a bundle refused or unreachable leaves the slot as it was; or before the
 * call), and may make it bootable only when this returns UG_OK, at which point the whole image is verified and
 * fsynced. On any failure the slot's content is garbage (part old, part new, possibly
 * unverified bytes) and must stay unbootable; only the resume file may reuse it.
 * A url starting with '/', '.' or file:// is a local file; anything else goes to fetch.h.
 * UG_ERR_USAGE for an unknown slot backend; UG_ERR_OTHER for a slot that cannot be opened
 * (missing, not of the backend's kind, a block device that is mounted or in use).
 * Refusals before any payload byte is written: UG_ERR_VERIFY (signature, product,
 * hardware, downgrade below downgrade_limit, version other than expected, image larger
 * than the slot). Transport errors as fetch.h; UG_ERR_UNUSABLE for a truncated bundle. */
ug_err install_bundle(const struct install_request *req, struct install_result *out,
                      char *err) UG_MUST_CHECK;

#endif
