/* SPDX-License-Identifier: MIT */
/* `upgrader upgrade [RULE] [--no-reboot] [--force]`: one upgrade pass now, with a progress
 * line when stderr is a terminal. The pass itself is upgrade.c. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/commands.h"
#include "cmd/signals.h"
#include "cmd/via_daemon.h"
#include "common/jsonfile.h"
#include "upgrade/upgrade.h"

struct progress_line {
    int drawn;
    double last;
    enum upgrade_phase last_state;
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Redraws at most ten times a second, and at every change of state. */
static void draw_progress(void *ctx, const struct upgrade_status *s)
{
    struct progress_line *line = ctx;
    double t = now_seconds();
    int state_changed = !line->drawn || line->last_state != s->state;
    if (!state_changed && t - line->last < 0.1 && s->bytes_done != s->bytes_total)
        return;
    line->last = t;
    line->last_state = s->state;
    unsigned pct = s->bytes_total ? (unsigned)(s->bytes_done * 100 / s->bytes_total) : 0;
    fprintf(stderr, "\r\033[Kupgrade: hop %d/%d %s  %s  %.1f/%.1f MiB  %u%%", s->hop, s->hops,
            s->version[0] ? s->version : "?", upgrade_phase_name(s->state),
            (double)s->bytes_done / 1048576.0, (double)s->bytes_total / 1048576.0, pct);
    /* A delta install: what came from the device itself, what over the network, the saving. */
    if (s->bytes_reused && s->bytes_full)
        fprintf(stderr, "  reused %.1f MiB, fetched %.1f MiB (%.0f%% saved)",
                (double)s->bytes_reused / 1048576.0, (double)s->bytes_fetched / 1048576.0,
                s->bytes_fetched < s->bytes_full
                    ? 100.0 * (double)(s->bytes_full - s->bytes_fetched) / (double)s->bytes_full
                    : 0.0);
    fflush(stderr);
    line->drawn = 1;
}

/* A running daemon runs the pass (queued, one at a time); its summary is printed the same. */
static ug_err through_daemon(const char *root, const struct upgrade_options *o, int *handled,
                             char *err)
{
    json_object *req = json_object_new_object(), *reply = NULL;
    if (!req)
        return ug_oom(err);
    jsonfile_set_string(req, "cmd", "upgrade");
    jsonfile_set_string(req, "rule", o->rule);
    jsonfile_set_int(req, "force", o->force);
    jsonfile_set_int(req, "no_reboot", o->no_reboot);
    ug_err rc = via_daemon(root, req, -1, handled, &reply, err);
    const char *summary = jsonfile_get_string(reply, "summary", "");
    if (*handled && rc == UG_OK && summary[0])
        printf("upgrade: %s\n", summary);
    json_object_put(reply);
    return rc;
}

ug_err cmd_upgrade(const char *root, int argc, char **argv, char *err)
{
    static const struct option options[] = {
        {"no-reboot", no_argument, NULL, 'n'},
        {"force", no_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    struct upgrade_options o = {0};
    opterr = 0;
    optind = 1;
    int opt;
    /* "+": a rule may contain words that look like options ([--uid u]); stop at the first operand. */
    while ((opt = getopt_long(argc, argv, "+", options, NULL)) != -1) {
        switch (opt) {
        case 'n':
            o.no_reboot = 1;
            break;
        case 'f':
            o.force = 1;
            break;
        default:
            return ug_fail(err, UG_ERR_USAGE, "unknown or incomplete option '%s'",
                           argv[optind - 1]);
        }
    }
    if (optind < argc)
        o.rule = argv[optind++];
    for (; optind < argc; optind++) {
        if (strcmp(argv[optind], "--no-reboot") == 0)
            o.no_reboot = 1;
        else if (strcmp(argv[optind], "--force") == 0)
            o.force = 1;
        else
            return ug_fail(err, UG_ERR_USAGE, "unexpected argument '%s' (quote a RULE with spaces)",
                           argv[optind]);
    }
    int handled = 0;
    ug_err rc = through_daemon(root, &o, &handled, err);
    if (handled)
        return rc;
    struct progress_line line = {0};
    if (isatty(STDERR_FILENO)) {
        o.progress = draw_progress;
        o.progress_ctx = &line;
    }
    struct session s;
    rc = signals_open_session(root, &s, err);
    if (rc != UG_OK)
        return rc;
    struct upgrade_outcome out;
    rc = upgrade_pass(&s, &o, &out, err);
    session_close(&s);
    if (line.drawn)
        fputc('\n', stderr);
    /* A failure's one line is printed by main(); the summary would only repeat it. */
    if (rc == UG_OK && out.summary[0])
        printf("upgrade: %s\n", out.summary);
    return rc;
}
