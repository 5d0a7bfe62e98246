/* SPDX-License-Identifier: MIT */
/* What the transport's files (fetch, fetch_engine, fetch_control, fetch_transfer, fetch_reader)
 * share and no caller sees: the engine, a transfer, a pulled reader's buffer. */
#ifndef UPGRADER_FETCH_INT_H
#define UPGRADER_FETCH_INT_H

#include <curl/curl.h>
#include <poll.h>
#include <pthread.h>

#include "net/fetch.h"
#include "net/fetch_loop.h"

/* A pulled reader keeps at most this much unread; beyond it the transfer waits. Its reads
 * wait for half of it (or the end), so a thread wakes once per 64 KiB, not per block. */
#define FETCH_PULL_BUFFER       (128 * 1024)
/* A flag a signal handler sets cannot wake a thread: it is looked at this often. */
#define FETCH_CANCEL_CHECK_MS   100
/* The progress callback is called at most this often while bytes flow (and once at the end). */
#define FETCH_PROGRESS_EVERY_MS 100

enum fetch_abort {
    ABORT_NONE,
    ABORT_STATUS,
    ABORT_SIZE,
    ABORT_SINK,
    ABORT_REDIRECT,
    ABORT_MEMORY,
    ABORT_CANCELLED
};

/* One libcurl multi handle and what libcurl asked of it. The engine's shared lane carries
 * every HTTP(S) transfer (one connection cache); each TFTP transfer has a lane of its own,
 * because libcurl 7.88 neither pauses nor rate-limits TFTP: not driving the lane is the pause. */
struct fetch_lane {
    CURLM *multi;
    struct fetch_engine *e;
    int64_t deadline; /* libcurl's timer, fetch_now_ms() clock; -1: none */
    int suspended;    /* neither its sockets nor its timer are serviced */
};

/* A socket libcurl wants watched: want is what it asked, shown what the loop (or the
 * engine's own poll) is watching; they differ while the socket's lane is suspended. */
struct fetch_watch {
    int fd;
    struct fetch_lane *lane; /* NULL: the engine's wake-up eventfd */
    int want, shown;         /* FETCH_EV_IN | FETCH_EV_OUT */
};

struct fetch_engine {
    /* Recursive: a callback running under the engine (sink, progress) may ask for a pause. */
    pthread_mutex_t mu;
    pthread_cond_t cv; /* a transfer ended or started its body, a driver left, a release */
    int waiters;       /* threads waiting on cv */
    struct fetch_lane shared;
    CURLSH *share; /* TLS sessions and DNS, for connections that could not be kept */
    struct fetch_transfer *transfers;
    struct fetch_transfer *completed, *completed_tail; /* ended, callbacks not yet run */
    struct fetch_watch *watches;
    size_t nwatches, watch_cap;
    struct pollfd *pfds; /* the detached driver's poll set */
    size_t pfd_cap;
    int wake_fd; /* eventfd: another thread asked the driver for something */
    int wake_pending;
    int dirty;            /* requests to apply (start, pause, rate, cancel, free) */
    int64_t cancel_check; /* next look at the cancel flags */
    /* fetch_engine_hold: every transfer paused, or capped at hold_rate (0: no cap). */
    int hold_pause;
    uint64_t hold_rate;
    /* Attached to an outside loop: its thread alone drives. */
    const struct fetch_loop_ops *ops;
    void *loop;
    pthread_t loop_thread;
    int64_t armed; /* deadline the loop's timer is set for; -1: none */
    /* Detached: the thread driving it (drive_depth > 0), others wait on cv. */
    pthread_t driver;
    int drive_depth;
    int in_curl; /* inside a libcurl call: callbacks may be running */
};

/* The pulled reader's buffer; mu guards it, between the driver and the reading thread. */
struct fetch_pull {
    pthread_mutex_t mu;
    pthread_cond_t readable;
    unsigned char *data;
    size_t pos, len, cap;
    size_t wants; /* the reader sleeps until this much is unread */
    int reader_waiting;
    int held;  /* full: the transfer waits for the reader (paused, or its lane suspended) */
    int room;  /* the reader made room: the driver resumes the transfer */
    int ended; /* the transfer is over; rc, msg and res are final */
};

enum fetch_state {
    TS_NEW,     /* set up, not yet given to libcurl */
    TS_RUNNING, /* in its lane's multi handle */
    TS_ENDED,   /* outcome decided, libcurl done with it, callbacks pending */
    TS_DONE     /* callbacks run: the owner may read the result and free it */
};

struct fetch_transfer {
    struct fetch_engine *e; /* NULL once the engine was freed under it */
    struct fetch_transfer *next, *done_next;
    enum fetch_state state;
    int queued, delivering, released;
    int want_free, engine_frees; /* freed off the driver / from inside a callback */
    CURL *easy;
    struct curl_slist *headers;
    char errbuf[CURL_ERROR_SIZE];
    struct fetch_lane *lane;
    struct fetch_lane own;           /* TFTP */
    char url[FETCH_URL_MAX];         /* checked, with scheme; may hold credentials */
    char display_url[FETCH_URL_MAX]; /* the same without credentials, for messages */
    char *restricted;                /* own copy: redirects are checked against it */
    int is_http;
    uint64_t resume_from, range_length, max_size;
    const char *ranges; /* borrowed from the options: the Range header is set at setup */

    fetch_sink_fn sink; /* push mode; NULL in pull mode */
    void *ctx;          /* of the sink and the done callback */
    fetch_done_fn done;
    fetch_progress_fn progress;
    void *progress_ctx;
    int64_t progress_next;
    const volatile sig_atomic_t *cancel;
    struct fetch_pull *pull; /* pull mode */

    /* Asked by any thread under e->mu, applied by the driver. */
    int want_pause, want_cancel, rate_dirty;
    uint64_t rate;
    int curl_paused;          /* HTTP: libcurl holds the transfer paused */
    int64_t throttle_until;   /* over its rate: it rests until then */
    int64_t rate_mark;        /* the rate is counted from here ... */
    uint64_t rate_mark_bytes; /* ... and this many bytes */
    long timeout_ms;          /* the whole transfer's; 0: none */
    int64_t timeout_at;       /* TFTP: libcurl keeps it, but not while the lane rests */

    int started;        /* first body byte seen */
    long header_status; /* status line of the answer being received */
    uint64_t next_offset;
    enum fetch_abort abort;
    ug_err sink_rc;
    char abort_msg[UG_ERRBUF];
    CURLcode code;
    ug_err rc;
    char msg[UG_ERRBUF];
    struct fetch_result res;
};

/* fetch.c */
/* Runs curl_global_init once for the process. */
ug_err fetch_global_init(char *err);
/* Milliseconds on the monotonic clock. */
int64_t fetch_now_ms(void);
/* Formats a message of UG_ERRBUF bytes; a long URL may cut the tail, never overflow. */
void fetch_set_msg(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Copies a string, "" for NULL, cut to outsz. */
void fetch_copy_str(char *out, size_t outsz, const char *in);
/* Header values and identity fields go into a request line: control characters become '?'. */
void fetch_copy_printable(char *out, size_t outsz, const char *in);

/* fetch_transfer.c */
/* Checks o (URL first: a refusal sends nothing) and sets up t's easy handle; on failure
 * t->res.reason may be set. Nothing is sent until the engine adds the handle. */
ug_err transfer_setup(struct fetch_transfer *t, const struct fetch_options *o, char *err);
/* Fills the result from the answer's headers (status, URL, server, validators). */
void transfer_collect_info(struct fetch_transfer *t);
/* Decides the outcome once libcurl is done with t: rc, msg and the result's reason. */
void transfer_finish(struct fetch_transfer *t);

/* fetch_engine.c */
/* Creates a lane's multi handle with the engine's socket and timer callbacks; -1 on failure. */
int engine_lane_init(struct fetch_lane *l, struct fetch_engine *e);
/* Forgets every socket of a lane that is going away. Under e->mu, on the driver. */
void engine_lane_forget(struct fetch_engine *e, struct fetch_lane *l);
/* Rests or wakes a lane (its sockets unwatched, its timer not serviced). Under e->mu. */
void engine_lane_suspend(struct fetch_engine *e, struct fetch_lane *l, int on);
/* 1 if this thread may call libcurl for e now: the loop's thread of an attached engine; the
 * detached engine's driver, or any thread while none drives. Under e->mu. */
int engine_may_drive(const struct fetch_engine *e);
/* Takes the driver's role if this thread may: 1 (detached, counted), 2 (the loop's thread),
 * 0 (another thread drives). engine_unclaim gives it back. Under e->mu. */
int engine_claim(struct fetch_engine *e);
void engine_unclaim(struct fetch_engine *e, int kind);
/* Wakes the threads waiting on e->cv. Under e->mu. */
void engine_broadcast(struct fetch_engine *e);
/* Records that the driver has something to apply, waking it if it is another thread. */
void engine_poke(struct fetch_engine *e);
/* Until pred(arg): drives e if this thread may (docs/transport.md), else waits on e->cv.
 * Under e->mu, held once. */
void engine_wait(struct fetch_engine *e, int (*pred)(void *arg), void *arg);

/* fetch_control.c */
/* The rate t is held to now: its own, or the engine's hold when that is lower; 0: none. */
uint64_t transfer_rate(const struct fetch_transfer *t);
/* 1 while t must not receive: paused by its owner or by the engine's hold. */
int transfer_held(const struct fetch_transfer *t);
/* Creates a transfer on e (a refusal is recorded as its outcome); pull_cap > 0: pull mode. */
ug_err transfer_create(struct fetch_engine *e, const struct fetch_options *o, fetch_sink_fn sink,
                       fetch_done_fn done, void *ctx, size_t pull_cap, struct fetch_transfer **out,
                       char *err);
/* UG_ERR_OTHER when this thread is inside one of e's callbacks, where nothing may block. */
ug_err transfer_blocking_ok(struct fetch_engine *e, const struct fetch_transfer *t, char *err);
/* 1 once arg (a transfer) has ended and its callbacks have run: an engine_wait predicate. */
int transfer_is_done(void *arg);
/* libcurl finished t with code: out of its multi handle, outcome decided, callbacks queued. */
void transfer_end(struct fetch_engine *e, struct fetch_transfer *t, CURLcode code);
/* t's part of a turn: requests from other threads (dirty), its cancel flag, its rate. */
void transfer_service(struct fetch_engine *e, struct fetch_transfer *t, int dirty, int64_t now);
/* Runs the callbacks of ended transfers, with e->mu released (it is held once). */
void transfer_deliver_ended(struct fetch_engine *e);
/* Takes t out of libcurl (cancelling it if it runs) and out of e; its memory stays. */
void transfer_release(struct fetch_engine *e, struct fetch_transfer *t);
/* Frees a released transfer's memory. */
void transfer_destroy(struct fetch_transfer *t);

#endif
