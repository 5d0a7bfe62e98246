/* SPDX-License-Identifier: MIT */
/* The daemon's wiring: the loop, the queue, the worker, the control socket, the call-state
 * sources, signals and the state folder's changes, from start to end. Everything here runs
 * on the loop's thread; only the worker's jobs block. */
#include "daemon/daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/lock.h"
#include "daemon/daemon_int.h"
#include "device/call.h"
#include "lang/paramdefs.h"
#include "web/web.h"

int64_t daemon_now_s(void)
{
    return (int64_t)time(NULL);
}

int64_t daemon_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Delays count from the next whole second: a job due at T runs once the clock reads T, so
 * "in 3 s" is never less than 3 s (a Retry-After is never cut short). */
int64_t daemon_now_ceil(void)
{
    return (daemon_now_ms() + 999) / 1000;
}

long daemon_utc_offset(void)
{
    time_t t = time(NULL);
    struct tm tm;
    return localtime_r(&t, &tm) ? tm.tm_gmtoff : 0;
}

const char *daemon_param(void *ctx, const char *name)
{
    return params_value(&((struct daemon *)ctx)->s.params, name);
}

int daemon_param_yes(struct daemon *d, const char *name)
{
    const char *v = daemon_param(d, name);
    return v && paramdefs_parse_bool(v) == 1;
}

int daemon_param_set(struct daemon *d, const char *name)
{
    const char *v = daemon_param(d, name);
    return v && v[strspn(v, " \t")];
}

void daemon_save_jobs(struct daemon *d)
{
    char err[UG_ERRBUF];
    if (jobs_save(&d->q, err) != UG_OK)
        log_msg(d->log, LOG_LEVEL_ERROR, "cannot keep the job queue: %s", err);
}

static ug_err calls_hook(void *ctx, int *active, char *err)
{
    struct daemon *d = ctx;
    (void)err;
    *active = __atomic_load_n(&d->busy_atomic, __ATOMIC_SEQ_CST);
    return UG_OK;
}

/* Downloads during a call: paused, or held to Download_Rate_During_Call; full speed when idle. */
static void apply_hold(struct daemon *d)
{
    fetch_engine_hold(d->s.net, d->busy && !d->hold_rate, d->busy ? d->hold_rate : 0);
}

static void update_busy(struct daemon *d)
{
    int sip = d->sip && sip_busy(d->sip);
    int busy = d->file_calls > 0 || sip;
    __atomic_store_n(&d->busy_atomic, busy ? (d->file_calls > 0 ? d->file_calls : 1) : 0,
                     __ATOMIC_SEQ_CST);
    if (busy == d->busy)
        return;
    d->busy = busy;
    d->busy_since = daemon_now_s();
    apply_hold(d);
    /* A source that has not answered yet counts as a call: say so, not "call up". */
    const char *what = !busy ? "idle"
                       : sip && !d->file_calls && !sip_known(d->sip)
                           ? "call state unknown (the SIP user agent has not "
                             "answered): counted as a call"
                           : "call up";
    if (busy && d->hold_rate)
        log_msg(d->log, LOG_LEVEL_INFO, "%s: downloads held to %llu bytes/s", what,
                (unsigned long long)d->hold_rate);
    else
        log_msg(d->log, LOG_LEVEL_INFO, "%s: %s", what,
                busy ? "downloads paused, reboots wait" : "downloads at full speed");
    daemon_kick(d);
}

void daemon_read_calls_file(struct daemon *d)
{
    char err[UG_ERRBUF];
    int n = 0;
    if (call_active_count(&d->s.folder, &n, err) != UG_OK) {
        log_msg(d->log, LOG_LEVEL_WARNING, "%s; counted as one call", err);
        n = 1; /* the safe side for a phone */
    }
    d->file_calls = n;
    update_busy(d);
}

static void on_sip_change(void *ctx)
{
    update_busy(ctx);
    daemon_kick(ctx); /* also after an answer that changed nothing: a job may wait for it */
}

/* Parameters read again (SIGHUP, a change of DIR/params): timers re-armed, sources followed. */
static void reload(struct daemon *d, const char *why)
{
    char err[UG_ERRBUF];
    if (session_reload(&d->s, err) != UG_OK) {
        log_msg(d->log, LOG_LEVEL_ERROR, "parameters not re-read (%s): %s", why, err);
        return;
    }
    struct sched_params sp;
    sched_params_read(&sp, daemon_param, d);
    if (!sched_params_equal(&sp, &d->sp)) {
        d->sp = sp;
        log_msg(d->log, LOG_LEVEL_INFO, "resync schedule changed (%s): re-planned", why);
        daemon_replan(d);
    }
    const char *rate = daemon_param(d, "Download_Rate_During_Call");
    d->hold_rate = rate ? strtoull(rate, NULL, 10) : 0;
    apply_hold(d);
    sip_configure(d->sip, daemon_param_yes(d, "SIP_UA_Control_Enable"),
                  daemon_param(d, "SIP_UA_Control_Address"));
    daemon_kick(d);
}

static void on_signal(void *ctx, int signo)
{
    struct daemon *d = ctx;
    if (signo == SIGHUP)
        return reload(d, "SIGHUP");
    if (d->stopping)
        return;
    d->stopping = 1;
    d->cancel = 1;
    log_msg(d->log, LOG_LEVEL_INFO, "%s: stopping%s", signo == SIGTERM ? "SIGTERM" : "SIGINT",
            d->running ? " after the running job's current step" : "");
    for (struct waiter *w; (w = d->waiters);) {
        d->waiters = w->next;
        control_reply(w->conn,
                      daemon_reply_rc(UG_ERR_OTHER, "the daemon is stopping; the job stays "
                                                    "queued for its next start"));
        free(w);
    }
    daemon_kick(d);
}

static void on_folder_change(void *ctx, int fd, unsigned events)
{
    struct daemon *d = ctx;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    int params = 0, calls = 0;
    (void)events;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            if (ev->len && strcmp(ev->name, "params") == 0)
                params = 1;
            if (ev->len && strcmp(ev->name, "calls") == 0)
                calls = 1;
            p += sizeof *ev + ev->len;
        }
    }
    if (calls)
        daemon_read_calls_file(d);
    if (params)
        reload(d, "parameters changed");
}

static ug_err write_pidfile(const char *path, char *err)
{
    char text[32];
    int n = snprintf(text, sizeof text, "%ld\n", (long)getpid());
    return fs_write_atomic(path, text, (size_t)n, 0644, err);
}

/* What a start queues: the boot-time step when a switched slot (or an unconfirmed one)
 * booted and the boot unit did not confirm it, a deferred switch, and the first resync. */
static void queue_start_jobs(struct daemon *d)
{
    struct upgrade_state st;
    char err[UG_ERRBUF];
    if (d->s.boot_valid &&
        upgrade_state_load(session_path(&d->s, STATE_UPGRADE), &st, err) == UG_OK) {
        enum upgrade_boot_action a = upgrade_decide_boot(&d->s.boot, &st.pending);
        if (a != BOOT_ACTION_NONE && a != BOOT_ACTION_KEEP_PENDING) {
            struct job j = daemon_job_now(d, JOB_BOOT, "start");
            daemon_queue(d, &j, NULL);
        } else if (a == BOOT_ACTION_KEEP_PENDING && st.pending.state == PENDING_VERIFIED) {
            struct job j = daemon_job_now(d, JOB_SWITCH, "start");
            daemon_queue(d, &j, NULL);
        }
        upgrade_state_free(&st);
    }
    daemon_replan(d);
}

static ug_err open_parts(struct daemon *d, char *err)
{
    struct session_options so = {.log = d->log};
    ug_err rc = session_open(d->o->root, &so, &d->s, err);
    if (rc != UG_OK)
        return rc;
    if ((rc = lock_take(session_path(&d->s, STATE_DAEMON_LOCK), LOCK_TRY_ONCE,
                        "another daemon of this state folder", &d->lock_fd, err)) != UG_OK)
        return rc;
    if (d->o->pidfile && (rc = write_pidfile(d->o->pidfile, err)) != UG_OK)
        return rc;
    if ((rc = loop_new(&d->loop, err)) != UG_OK ||
        (rc = loop_attach_engine(d->loop, d->s.net, err)) != UG_OK ||
        (rc = jobs_open(&d->q, session_path(&d->s, STATE_JOBS), err)) != UG_OK)
        return rc;
    static const int signals[] = {SIGTERM, SIGINT, SIGHUP};
    struct worker_config wc = {.root = d->o->root,
                               .loop = d->loop,
                               .engine = d->s.net,
                               .cancel = &d->cancel,
                               .calls = calls_hook,
                               .calls_ctx = d,
                               .log = d->log,
                               .cb = {daemon_on_progress, daemon_on_done, d}};
    if ((rc = loop_signals(d->loop, signals, 3, on_signal, d, err)) != UG_OK ||
        (rc = worker_new(&wc, &d->w, err)) != UG_OK ||
        (rc = sip_new(d->loop, d->log, on_sip_change, d, &d->sip, err)) != UG_OK ||
        (rc = control_listen(d->loop, session_path(&d->s, STATE_CONTROL), daemon_on_request, d,
                             &d->ctl, err)) != UG_OK ||
        (rc = daemon_start_web(d, err)) != UG_OK)
        return rc;
    d->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (d->inotify_fd < 0 ||
        inotify_add_watch(d->inotify_fd, d->s.folder.root, IN_MOVED_TO | IN_CLOSE_WRITE) < 0)
        return ug_fail(err, UG_ERR_OTHER, "%s: cannot watch the folder: %s", d->s.folder.root,
                       strerror(errno));
    return loop_watch(d->loop, d->inotify_fd, LOOP_IN, on_folder_change, d, err);
}

static void close_parts(struct daemon *d)
{
    for (struct waiter *w; (w = d->waiters);) {
        d->waiters = w->next;
        free(w);
    }
    web_stop(d->web);
    control_close(d->ctl); /* closes the waiters' connections too */
    sip_free(d->sip);
    worker_free(d->w);
    if (d->inotify_fd >= 0)
        close(d->inotify_fd);
    if (d->loop) {
        loop_timer_stop(d->loop, &d->wake);
        loop_detach_engine(d->loop);
    }
    loop_free(d->loop);
    jobs_close(&d->q);
    if (d->o->pidfile && d->lock_fd >= 0)
        unlink(d->o->pidfile);
    lock_release(&d->lock_fd);
    session_close(&d->s);
}

ug_err daemon_run(const struct daemon_options *o, char *err)
{
    struct daemon *d = calloc(1, sizeof *d);
    if (!d)
        return ug_oom(err);
    d->o = o;
    d->log = o->log ? o->log : &log_stderr;
    d->lock_fd = d->inotify_fd = -1;
    d->started = daemon_now_s();
    delay_rng_seed(&d->rng, (uint64_t)d->started ^ ((uint64_t)getpid() << 32));
    ug_err rc = open_parts(d, err);
    if (rc == UG_OK) {
        sched_params_read(&d->sp, daemon_param, d);
        log_msg(d->log, LOG_LEVEL_INFO, "daemon started on %s (pid %ld)", o->root, (long)getpid());
        queue_start_jobs(d);
        reload(d, "start"); /* call-state sources, the download hold */
        daemon_read_calls_file(d);
        daemon_kick(d);
        rc = loop_run(d->loop, err);
        log_msg(d->log, LOG_LEVEL_INFO, "daemon stopped; %zu job%s queued", d->q.n,
                d->q.n == 1 ? "" : "s");
    }
    close_parts(d);
    free(d);
    return rc;
}
