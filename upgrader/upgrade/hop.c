/* SPDX-License-Identifier: MIT */
/* A hop into the inactive slot and the switch to it (docs/upgrade.md). Every change to the
 * boot state is ordered so that a power cut at any point leaves a device that boots a
 * verified slot; each step says where it stands in that order. */
#include "upgrade/hop.h"

#include <stdio.h>
#include <string.h>

#include "net/syslog_udp.h"

/* Progress is written to upgrade.json at most this often (never per block). */
#define PROGRESS_WRITE_SECONDS 1
#define PROGRESS_WRITE_BYTES   (4u << 20)

static void on_install_progress(void *ctx, uint64_t done, uint64_t total)
{
    struct pass *p = ctx;
    struct upgrade_status *s = &p->st.status;
    s->bytes_done = done;
    s->bytes_total = total;
    if (p->installing) {
        s->bytes_reused = p->installing->bytes_reused;
        s->bytes_fetched = p->installing->bytes_fetched;
        s->bytes_full = p->installing->bytes_full;
    }
    /* A bundle rule names no version: the verified manifest, read before any byte, does. */
    if (!s->version[0] && p->installing && p->installing->version[0])
        snprintf(s->version, sizeof s->version, "%s", p->installing->version);
    time_t now = time(NULL);
    if (now - p->last_write >= PROGRESS_WRITE_SECONDS ||
        done - p->last_written_bytes >= PROGRESS_WRITE_BYTES || done == total) {
        char ignored[UG_ERRBUF];
        /* Progress is informative: a failed write must not abort the install. */
        if (upgrade_state_save(session_path(p->s, STATE_UPGRADE), &p->st, ignored) == UG_OK) {
            p->last_write = now;
            p->last_written_bytes = done;
        }
    }
    pass_notify(p);
}

static int inactive_slot(const struct pass *p)
{
    return p->s->boot.booted == BOOTSTATE_SLOT_A ? BOOTSTATE_SLOT_B : BOOTSTATE_SLOT_A;
}

/* Power-loss ordering, step 1: right before its first byte changes (the install calls
 * begin_writing), the slot is made unbootable and forgets its version, and that is flushed
 * (bootstate_save fsyncs). A cut during the write then leaves a slot the bootloader never
 * picks, and a version that no longer matches upgrade.json, so it is never trusted as
 * written. A pass that fails before (unreachable, refused bundle) keeps the fallback slot. */
static ug_err mark_unbootable(struct pass *p, int slot, char *err)
{
    ug_err rc = pass_boot_begin(p, err);
    if (rc != UG_OK)
        return rc;
    if ((rc = bootstate_mark_bad(&p->s->boot, slot, err)) == UG_OK)
        rc = bootstate_set_version(&p->s->boot, slot, "", err);
    return pass_boot_end(p, rc, err);
}

/* The download starts: status says so (the slot is not touched yet). */
static ug_err record_request(struct pass *p, const struct hop *h, char letter, char *err)
{
    struct upgrade_status *s = &p->st.status;
    pass_set_state(p, UPGRADE_DOWNLOADING, NULL, NULL);
    s->slot = letter;
    s->bytes_done = s->bytes_total = 0;
    s->bytes_reused = s->bytes_fetched = s->bytes_full = 0;
    ug_err rc = pass_save(p, err);
    if (rc == UG_OK)
        pass_log(p, "Log_Upgrade_Request_Msg", h->display, "", SYSLOG_SEVERITY_INFO);
    return rc;
}

/* What the install's first write needs: the slot unbootable (step 1), then upgrade.json
 * records the slot being written, so `boot` and the next pass know it holds nothing usable. */
struct writing {
    struct pass *p;
    const struct hop *h;
    int slot;
};

static ug_err begin_writing(void *ctx, char *err)
{
    struct writing *w = ctx;
    ug_err rc = mark_unbootable(w->p, w->slot, err);
    if (rc != UG_OK)
        return rc;
    struct upgrade_pending *pend = &w->p->st.pending;
    pend->state = PENDING_WRITING;
    pend->slot = bootstate_slot_letter(w->slot);
    snprintf(pend->version, sizeof pend->version, "%s", w->h->version);
    snprintf(pend->url, sizeof pend->url, "%s", w->h->display);
    return pass_save(w->p, err);
}

/* The slots a delta install may copy blocks from: the running one and the one about to be
 * written (an older release or a cut install may hold blocks), each with its block table. */
static void reuse_slots(struct session *s, char letter, const char *old_version,
                        struct install_reuse out[2])
{
    char running = letter == 'A' ? 'B' : 'A';
    int ri = bootstate_slot_from_letter((char[]){running, 0});
    out[0] =
        (struct install_reuse){session_slot_location(s, running), s->boot.slot[ri].version,
                               session_path(s, running == 'A' ? STATE_BLOCKS_A : STATE_BLOCKS_B)};
    out[1] =
        (struct install_reuse){session_slot_location(s, letter), old_version,
                               session_path(s, letter == 'A' ? STATE_BLOCKS_A : STATE_BLOCKS_B)};
}

/* The streaming install of the hop's bundle into the slot (install.h). */
static ug_err stream_bundle(struct pass *p, struct hop *h, const struct fetch_options *fo, int slot,
                            const char *old_version, struct install_result *res, char *err)
{
    struct session *s = p->s;
    char letter = bootstate_slot_letter(slot);
    struct writing w = {p, h, slot};
    struct install_reuse reuse[2];
    reuse_slots(s, letter, old_version, reuse);
    const char *limit = params_value(&s->params, "Downgrade_Rev_Limit");
    struct install_request req = {
        .url = h->bundle_url,
        .fetch = fo,
        .keyring = s->keyring,
        .slot_backend = s->conf.slot_backend,
        .slot_location = session_slot_location(s, letter),
        .product = s->dev.product,
        .hardware = s->dev.hwver,
        .running_version = s->running_version,
        .downgrade_limit = limit && limit[0] ? limit : NULL,
        .expected_version = h->version[0] ? h->version : NULL,
        .resume_file = session_path(s, STATE_UPGRADE_RESUME),
        .progress = on_install_progress,
        .progress_ctx = p,
        .before_write = begin_writing,
        .before_write_ctx = &w,
        .cancel = s->cancel,
        .reuse = reuse,
        .nreuse = 2,
    };
    p->last_write = time(NULL);
    p->last_written_bytes = 0;
    p->installing = res;
    ug_err rc = install_bundle(&req, res, err);
    p->installing = NULL;
    return rc;
}

/* Step 2: the version is recorded in the boot state while the slot is still unbootable
 * (flushed), then upgrade.json says "verified". A cut between the two leaves a slot that is
 * simply written again; upgrade.json never claims a slot the boot state does not. */
static ug_err record_verified(struct pass *p, int slot, const struct install_result *res, char *err)
{
    ug_err rc = pass_boot_begin(p, err);
    if (rc != UG_OK ||
        (rc = pass_boot_end(p, bootstate_set_version(&p->s->boot, slot, res->version, err), err)) !=
            UG_OK)
        return rc;
    struct upgrade_status *s = &p->st.status;
    p->st.pending.state = PENDING_VERIFIED;
    snprintf(p->st.pending.version, sizeof p->st.pending.version, "%s", res->version);
    snprintf(s->version, sizeof s->version, "%s", res->version);
    s->bytes_done = s->bytes_total = res->image_size;
    pass_set_state(p, UPGRADE_VERIFIED, NULL, NULL);
    return pass_save(p, err);
}

ug_err hop_install(struct pass *p, struct hop *h, const struct fetch_options *fo, char *err)
{
    int slot = inactive_slot(p);
    char letter = bootstate_slot_letter(slot);
    struct install_result res = {0};
    /* The release the slot holds now names its block table; begin_writing clears it at the
     * install's first write. */
    char old_version[sizeof p->s->boot.slot[slot].version];
    snprintf(old_version, sizeof old_version, "%s", p->s->boot.slot[slot].version);
    ug_err rc = record_request(p, h, letter, err);
    if (rc == UG_OK)
        rc = stream_bundle(p, h, fo, slot, old_version, &res, err);
    if (rc != UG_OK)
        return rc;
    snprintf(h->version, sizeof h->version, "%s", res.version);
    return record_verified(p, slot, &res, err);
}

/* A call keeps the verified slot pending: the switch (and its reboot) waits for idle. */
static ug_err defer_while_calls(struct pass *p, char *err)
{
    int calls = 0;
    ug_err rc = session_calls_active(p->s, &calls, err);
    if (rc != UG_OK || calls == 0)
        return rc;
    const struct upgrade_pending *pend = &p->st.pending;
    char reason[256];
    snprintf(reason, sizeof reason,
             "%d call%s active: slot %c holds verified %s; the next pass switches to it", calls,
             calls == 1 ? "" : "s", pend->slot, pend->version);
    pass_set_state(p, UPGRADE_DEFERRED, ug_err_name(UG_ERR_DEFERRED), reason);
    if ((rc = pass_save(p, err)) != UG_OK)
        return rc;
    pass_summarise(p, "deferred: %s", reason);
    return ug_fail(err, UG_ERR_DEFERRED, "%s", reason);
}

/* Power-loss ordering, step 3: only now, every byte verified and flushed, does the slot
 * become bootable; the boot state write is the switch. upgrade.json follows, and `upgrader
 * boot` accepts a booted slot that upgrade.json still calls "verified". */
static ug_err make_bootable(struct pass *p, char *err)
{
    struct upgrade_pending *pend = &p->st.pending;
    ug_err rc = pass_boot_begin(p, err);
    if (rc != UG_OK)
        return rc;
    struct bootstate *bs = &p->s->boot;
    int slot = bootstate_slot_from_letter((char[]){pend->slot, 0});
    if (strcmp(bs->slot[slot].version, pend->version) != 0)
        rc = ug_fail(err, UG_ERR_OTHER,
                     "slot %c no longer holds %s (boot state says '%s'); not switching", pend->slot,
                     pend->version, bs->slot[slot].version);
    else
        rc = bootstate_set_active(bs, slot, UPGRADE_SLOT_TRIES, err);
    if ((rc = pass_boot_end(p, rc, err)) != UG_OK)
        return rc;
    pend->state = PENDING_SWITCHED;
    pass_set_state(p, UPGRADE_SWITCHED, "ok", NULL);
    snprintf(p->st.status.reason, sizeof p->st.status.reason,
             "slot %c (%s) boots next with %d tries", pend->slot, pend->version,
             UPGRADE_SLOT_TRIES);
    return pass_save(p, err);
}

static ug_err reboot(struct pass *p, char *err)
{
    const struct upgrade_pending *pend = &p->st.pending;
    const struct upgrade_status *s = &p->st.status;
    ug_err rc = session_reboot(p->s, err);
    if (rc != UG_OK) {
        ug_prefix(err, "switched to slot %c (%s), but the reboot failed: ", pend->slot,
                  pend->version);
        return rc;
    }
    pass_summarise(p, "hop %d of %d: slot %c holds verified %s; rebooting into it", s->hop, s->hops,
                   pend->slot, pend->version);
    return UG_OK;
}

ug_err hop_switch(struct pass *p, char *err)
{
    ug_err rc = defer_while_calls(p, err);
    if (rc != UG_OK)
        return rc;
    /* A cancel stops the pass before the switch, never inside it: the slot stays verified
     * and pending, and the next pass only switches. */
    if (session_cancelled(p->s))
        return pass_record_cancel(p, "before the switch to the verified slot", err);
    if ((rc = make_bootable(p, err)) != UG_OK)
        return rc;
    if (!p->o->no_reboot)
        return reboot(p, err);
    const struct upgrade_pending *pend = &p->st.pending;
    pass_summarise(
        p, "hop %d of %d: slot %c holds verified %s and boots next (--no-reboot: reboot to run it)",
        p->st.status.hop, p->st.status.hops, pend->slot, pend->version);
    return UG_OK;
}
