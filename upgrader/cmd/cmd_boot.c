/* SPDX-License-Identifier: MIT */
/* `upgrader boot [--no-reboot]`: what runs once at every boot. Confirms the booted slot of
 * a new release (health check, mark good) or reports the rollback from it; when a catalog
 * plan has hops left, resyncs first if the profile asks for it, then takes the next hop. */
#include <stdio.h>
#include <string.h>

#include "cmd/commands.h"
#include "cmd/signals.h"
#include "resync/resync.h"
#include "upgrade/upgrade.h"

/* docs/provisioning.md 4.2: after each upgrade attempt the phone resyncs, so the provider can
 * change the plan (a new Upgrade_Rule) between hops. A failed resync is recorded in
 * resync.json and does not stop the upgrade. */
static void resync_between_hops(struct session *s)
{
    struct resync_options ro;
    struct resync_report report;
    char ignored[UG_ERRBUF];
    resync_options_init(&ro);
    (void)!resync_run(s, &ro, &report, ignored); /* recorded in resync.json */
    resync_report_free(&report);
}

/* The next hop of the plan, its summary joined to the boot's. */
static ug_err next_hop(struct session *s, struct upgrade_options *o, struct upgrade_outcome *out,
                       char *err)
{
    if (upgrade_resync_between_hops(s))
        resync_between_hops(s);
    struct upgrade_outcome next;
    o->continuing = 1;
    ug_err rc = upgrade_pass(s, o, &next, err);
    char first[sizeof out->summary];
    snprintf(first, sizeof first, "%s", out->summary);
    if (next.summary[0] && strcmp(next.summary, first) != 0)
        snprintf(out->summary, sizeof out->summary, "%.380s; %.380s", first, next.summary);
    return rc;
}

ug_err cmd_boot(const char *root, int argc, char **argv, char *err)
{
    struct upgrade_options o = {0};
    if (argc == 2 && strcmp(argv[1], "--no-reboot") == 0)
        o.no_reboot = 1;
    else if (argc != 1)
        return ug_fail(err, UG_ERR_USAGE, "usage: upgrader boot [--no-reboot]");
    struct session s;
    ug_err rc = signals_open_session(root, &s, err);
    if (rc != UG_OK)
        return rc;
    struct upgrade_outcome out;
    rc = upgrade_boot(&s, &o, &out, err);
    if (rc == UG_OK && out.plan_continues && !session_cancelled(&s))
        rc = next_hop(&s, &o, &out, err);
    if (out.summary[0])
        printf("boot: %s\n", out.summary);
    session_close(&s);
    return rc;
}
