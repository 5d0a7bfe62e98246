/* SPDX-License-Identifier: MIT */
/* Slot writers: the table of backends (one file each in this folder) and the dispatch that
 * keeps every write inside the slot's capacity. */
#include "upgrade/slots/slot.h"

#include <stdio.h>
#include <string.h>

/* Every slot backend this build has; a new one is a file in this folder and a line here. */
static const struct slot_backend *const backends[] = {
    &slot_file_backend,
    &slot_block_backend,
};
#define NBACKENDS (sizeof backends / sizeof backends[0])

const struct slot_backend *slot_backend_find(const char *name)
{
    for (size_t i = 0; name && i < NBACKENDS; i++)
        if (strcmp(backends[i]->name, name) == 0)
            return backends[i];
    return NULL;
}

void slot_backend_names(char *out, size_t outsz)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < NBACKENDS && used < outsz; i++) {
        int n = snprintf(out + used, outsz - used, "%s%s", i ? ", " : "", backends[i]->name);
        used += n > 0 ? (size_t)n : 0;
    }
}

ug_err slot_backend_lookup(const char *name, const struct slot_backend **be, char *err)
{
    *be = slot_backend_find(name);
    if (*be)
        return UG_OK;
    char known[128];
    slot_backend_names(known, sizeof known);
    return ug_fail(err, UG_ERR_USAGE, "unknown slot backend '%.64s' (known: %s)", name ? name : "",
                   known);
}

static ug_err slot_open(struct slot *s, const struct slot_backend *be, const char *location,
                        int writable, char *err)
{
    memset(s, 0, sizeof *s);
    if (snprintf(s->location, sizeof s->location, "%s", location) >= (int)sizeof s->location)
        return ug_fail(err, UG_ERR_OTHER, "%s: path too long", location);
    ug_err rc = be->open(location, writable, &s->handle, &s->size, err);
    if (rc != UG_OK)
        return rc;
    s->backend = be;
    s->writable = writable;
    return UG_OK;
}

ug_err slot_open_write(struct slot *s, const struct slot_backend *be, const char *location,
                       char *err)
{
    return slot_open(s, be, location, 1, err);
}

ug_err slot_open_read(struct slot *s, const struct slot_backend *be, const char *location,
                      char *err)
{
    return slot_open(s, be, location, 0, err);
}

ug_err slot_write(struct slot *s, const void *data, size_t len, char *err)
{
    if (!s->handle || !s->writable)
        return ug_fail(err, UG_ERR_OTHER, "%s: slot not open for writing", s->location);
    /* Refused before any byte lands: an image that does not fit must not half-fill the slot
     * past what a later read-back could check. */
    if (len > s->size - s->position)
        return ug_fail(err, UG_ERR_VERIFY, "%s: image larger than the slot (%llu bytes)",
                       s->location, (unsigned long long)s->size);
    ug_err rc = s->backend->write(s->handle, data, len, err);
    if (rc == UG_OK)
        s->position += len;
    return rc;
}

ug_err slot_read(struct slot *s, void *data, size_t len, size_t *got, char *err)
{
    *got = 0;
    if (!s->handle)
        return ug_fail(err, UG_ERR_OTHER, "%s: slot not open", s->location);
    if (len > s->size - s->position)
        len = (size_t)(s->size - s->position);
    ug_err rc = s->backend->read(s->handle, data, len, got, err);
    if (rc == UG_OK)
        s->position += *got;
    return rc;
}

ug_err slot_seek(struct slot *s, uint64_t offset, char *err)
{
    if (!s->handle || !s->backend->seek)
        return ug_fail(err, UG_ERR_OTHER, "%s: slot cannot continue at an offset", s->location);
    if (offset > s->size)
        return ug_fail(err, UG_ERR_OTHER, "%s: offset %llu is past the slot's end", s->location,
                       (unsigned long long)offset);
    ug_err rc = s->backend->seek(s->handle, offset, err);
    if (rc == UG_OK)
        s->position = offset;
    return rc;
}

ug_err slot_flush(struct slot *s, char *err)
{
    if (!s->handle)
        return ug_fail(err, UG_ERR_OTHER, "%s: slot not open", s->location);
    return s->backend->flush(s->handle, err);
}

void slot_close(struct slot *s)
{
    if (s->handle)
        s->backend->close(s->handle);
    s->handle = NULL;
}
