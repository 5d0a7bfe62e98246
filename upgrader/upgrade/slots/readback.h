/* SPDX-License-Identifier: MIT */
/* Read-back of a written slot: its bytes read again from the medium and checked against the
 * payload's signed chunk digests, for media that may acknowledge a write they did not keep. */
#ifndef UPGRADER_READBACK_H
#define UPGRADER_READBACK_H

#include "bundle/manifest.h"
#include "common/error.h"
#include "upgrade/slots/slot.h"

/* Reads the first p->size bytes of the slot at location back (after the writer's flush) and
 * checks each chunk's SHA-256. UG_ERR_VERIFY naming the first chunk that differs;
 * UG_ERR_OTHER when the slot cannot be read. */
ug_err slot_readback(const struct slot_backend *be, const char *location,
                     const struct bundle_payload *p, char *err) UG_MUST_CHECK;

#endif
