/* SPDX-License-Identifier: MIT */
/* The one transport of the agent: TFTP, HTTP and HTTPS through a single libcurl engine, with
 * outcomes classified once here into the exit codes of docs/design.md (docs/transport.md). */
#ifndef UPGRADER_FETCH_H
#define UPGRADER_FETCH_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/error.h"
#include "net/url.h" /* URL_MAX bounds the URLs in the results */

/* Defaults that fetch_options_init() sets; docs/transport.md explains each. */
#define FETCH_DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define FETCH_DEFAULT_LOW_SPEED_LIMIT    1L  /* bytes per second ... */
#define FETCH_DEFAULT_LOW_SPEED_TIME_S   30L /* ... below which, this long, means stalled */
#define FETCH_DEFAULT_MAX_REDIRECTS      5

/* Short $ERR reasons, and the effective URL, are bounded so results can live on the stack. */
#define FETCH_REASON_MAX 64
#define FETCH_URL_MAX    URL_MAX

enum fetch_method {
    FETCH_GET = 0,
    FETCH_POST,
    FETCH_PUT
};

/* One libcurl engine for the process (or a device session): its connections and TLS sessions
 * are reused from one transfer to the next. */
struct fetch_engine;
/* One transfer running on an engine: paused, resumed, rate-limited or cancelled through it. */
struct fetch_transfer;

/* Body bytes received so far by this transfer, and how many it will receive when the server
 * said (Content-Length, TFTP tsize), else 0. Runs on the thread driving the engine. */
typedef void (*fetch_progress_fn)(void *ctx, struct fetch_transfer *t, uint64_t received,
                                  uint64_t total);

/* Every pointer is borrowed and must stay valid until the call (or fetch_close) returns;
 * for fetch_transfer_start, cancel and progress_ctx until the transfer is freed. */
struct fetch_options {
    const char *url;      /* tftp://, http://, https://; no scheme means tftp */
    const char *username; /* answered to Basic or Digest challenges (HTTP only) */
    const char *password;
    enum fetch_method method; /* POST and PUT are HTTP(S) only */
    const void *body;         /* POST/PUT body, body_len bytes */
    size_t body_len;
    const char *content_type;       /* of the body; NULL: application/x-www-form-urlencoded */
    const char *ca_file;            /* PEM trust anchors; NULL: the system bundle */
    const char *extra_ca_file;      /* trusted in addition (Custom_CA_Rule), or NULL */
    const char *client_cert;        /* PEM certificate the device presents, or NULL */
    const char *client_key;         /* its PEM key */
    const char *user_agent;         /* see fetch_user_agent(); NULL: "upgrader" */
    const char *restricted_domains; /* comma list (Restricted_Access_Domains); NULL/"": any */
    uint64_t max_size;              /* body bytes allowed; 0: no limit */
    long connect_timeout_ms;        /* 0: no limit */
    long timeout_ms;                /* whole transfer; 0: no limit */
    long low_speed_limit;           /* bytes/s ... */
    long low_speed_time_s;          /* ... for this long aborts as a stall; 0: never */
    int max_redirects;              /* HTTP(S) redirects followed, only to http/https */
    int tftp_blksize;               /* RFC 2348 block size asked for; 0: 512, no option */
    uint64_t resume_from;           /* HTTP Range start; TFTP always starts at 0 */
    uint64_t range_length;          /* HTTP: only this many bytes from resume_from; 0: to the end */
    const char *ranges;             /* HTTP: a byte-range set "A-B,C-D" asked for instead; NULL:
                                     * none (an answer of several is multipart/byteranges) */
    const char *if_none_match;      /* ETag of the copy we hold, or NULL */
    const char *if_modified_since;  /* Last-Modified of the copy we hold, or NULL */
    int pin_transfer;               /* 1: fetch_open's transfer thread runs on transfer_cpu only */
    int transfer_cpu;
    struct fetch_engine *engine;         /* reused connections; NULL: one for this call alone */
    const volatile sig_atomic_t *cancel; /* non-zero (a signal handler's flag): stop, "cancelled" */
    uint64_t max_recv_speed;             /* body bytes per second; 0: no limit */
    fetch_progress_fn progress;          /* NULL: none; every 100 ms at most, and at the end */
    void *progress_ctx;
};

struct fetch_result {
    long status;           /* HTTP status of the final answer; 0 for TFTP */
    uint64_t start_offset; /* file offset of the first body byte delivered */
    uint64_t bytes;        /* body bytes delivered */
    int resumed;           /* 1: the server honoured the range asked for (206) */
    int not_modified;      /* 1: 304, the held copy is current; no body */
    int not_found;         /* on failure: HTTP 404/410 or TFTP error 1 */
    char etag[128];        /* response headers, "" when absent */
    char last_modified[64];
    char content_encoding[32];         /* curl does not decode: the bytes are as sent */
    char content_type[128];            /* of the answer (a multipart boundary, say) */
    char content_range[96];            /* of a single-range answer */
    char effective_url[FETCH_URL_MAX]; /* after redirects, credentials removed */
    char server_ip[64];
    long server_port;
    char reason[FETCH_REASON_MAX]; /* short $ERR text: "ok", "file not found", ... */
    long retry_after;              /* seconds a 503 (or 429) asked to wait (Retry-After); 0: none */
    int transfer_cpu;              /* the CPU the transfer thread was kept on; -1: any */
};

/* Receives each block of the body in order; offset is its position in the file. A
 * non-UG_OK return aborts the transfer and becomes the fetch's result and message. */
typedef ug_err (*fetch_sink_fn)(void *ctx, const void *data, size_t len, uint64_t offset,
                                char *err);

struct fetch_reader;

/* Fills o with the defaults above (GET, 5 redirects, 10 s connect, 30 s stall abort). */
void fetch_options_init(struct fetch_options *o);
/* Creates an engine: one connection cache for every transfer given it, until freed. */
ug_err fetch_engine_new(struct fetch_engine **e, char *err) UG_MUST_CHECK;
/* Frees the engine and its connections; every transfer and reader on it must be gone. */
void fetch_engine_free(struct fetch_engine *e);
/* Streams the body to sink, never holding the whole file; fills res (may be NULL). */
ug_err fetch_to_sink(const struct fetch_options *o, fetch_sink_fn sink, void *ctx,
                     struct fetch_result *res, char *err) UG_MUST_CHECK;
/* Appends the body to out, refusing more than max_size bytes (and o->max_size). */
ug_err fetch_to_buffer(const struct fetch_options *o, size_t max_size, struct buf *out,
                       struct fetch_result *res, char *err) UG_MUST_CHECK;
/* Starts a pulled transfer; returns once the body starts or the transfer has ended, so
 * unreachable servers and HTTP errors fail here, with res (may be NULL) filled. */
ug_err fetch_open(const struct fetch_options *o, struct fetch_reader **reader,
                  struct fetch_result *res, char *err) UG_MUST_CHECK;
/* Reads up to len (> 0) body bytes into buf; *got == 0 means the end of a good transfer. */
ug_err fetch_read(struct fetch_reader *reader, void *buf, size_t len, size_t *got,
                  char *err) UG_MUST_CHECK;
/* The result so far (headers at open, totals once fetch_read reported the end). */
const struct fetch_result *fetch_reader_result(const struct fetch_reader *reader);
/* Ends the transfer (aborting it if unfinished) and frees the reader; NULL is fine. */
void fetch_close(struct fetch_reader *reader);
/* Releases libcurl's global state; call once at the end of main, after all transfers and
 * engines are gone. */
void fetch_global_cleanup(void);

/* Pauses (on = 1) or resumes a running transfer; UG_ERR_USAGE once it has finished. Over
 * TFTP a pause longer than the server's retransmission patience fails the transfer. */
ug_err fetch_transfer_pause(struct fetch_transfer *t, int on, char *err) UG_MUST_CHECK;
/* Limits the transfer to bytes_per_s from now on (0: no limit); UG_ERR_USAGE once finished. */
ug_err fetch_transfer_set_rate(struct fetch_transfer *t, uint64_t bytes_per_s,
                               char *err) UG_MUST_CHECK;
/* Stops a running transfer: it ends with UG_ERR_OTHER, "URL: cancelled"; finished: nothing. */
void fetch_transfer_cancel(struct fetch_transfer *t);
/* Holds every transfer of the engine, running and to come: pause 1 stops delivery (as
 * fetch_transfer_pause); else bytes_per_s > 0 caps each one's rate; 0, 0 releases them to
 * their own settings. What a device does while a call is up (docs/transport.md). */
void fetch_engine_hold(struct fetch_engine *e, int pause, uint64_t bytes_per_s);

/* Builds the phones' User-Agent "Cisco-PRODUCT/VERSION (MAC)" into out; missing fields become
 * "-", control characters '?'. */
void fetch_user_agent(char *out, size_t outsz, const char *product, const char *version,
                      const char *mac);
/* Maps a libcurl result (CURLcode as int) and the HTTP status to the agent's class, the
 * file-not-found flag and the short $ERR reason. */
ug_err fetch_classify(int curl_code, long http_status, int *not_found, char *reason,
                      size_t reason_size);

#endif
