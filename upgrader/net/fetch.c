/* SPDX-License-Identifier: MIT */
/* TFTP, HTTP and HTTPS transfers over one libcurl multi-interface engine, consumed either
 * pushed (a sink per block) or pulled (fetch_read); each outcome is classified here once. */
#include "net/fetch.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/fsutil.h"
#include "net/url.h"

/* The pulled reader keeps at most this much unread; beyond it the transfer waits. Its
 * reads wait for half of it (or the end), so a thread wakes once per 64 KiB, not per block. */
#define PULL_BUFFER      (128 * 1024)
/* libcurl's receive buffer for pulled HTTP bodies: fewer, larger recv() and callbacks. */
#define PULL_RECV_BUFFER (64 * 1024L)
#define CA_FILE_MAX      (4u << 20)

enum abort_reason {
    ABORT_NONE,
    ABORT_STATUS,
    ABORT_SIZE,
    ABORT_SINK,
    ABORT_REDIRECT,
    ABORT_MEMORY,
    ABORT_CLOSED
};

struct transfer {
    CURL *easy;
    CURLM *multi;
    struct curl_slist *headers;
    char errbuf[CURL_ERROR_SIZE];
    char url[FETCH_URL_MAX];         /* checked, with scheme; may hold credentials */
    char display_url[FETCH_URL_MAX]; /* the same without credentials, for messages */
    char *restricted;                /* own copy: redirects are checked against it */
    int is_http;
    uint64_t resume_from;
    uint64_t max_size;

    fetch_sink_fn sink; /* push mode; NULL in pull mode */
    void *sink_ctx;
    unsigned char *pending; /* pull mode: received, not yet read */
    size_t pending_pos, pending_len, pending_cap;
    int paused;
    /* Pull mode once the body flows: libcurl runs on a transfer thread of its own, because
     * TFTP acknowledges a block only while libcurl runs, and a reader busy decoding would
     * hold every block back; on_body then waits for room instead of pausing. mu guards
     * pending and the fields below. */
    int threaded;
    pthread_mutex_t mu;
    pthread_cond_t readable, writable;
    size_t reader_wants; /* the reader sleeps until this much is unread */
    int reader_waiting, writer_waiting;
    int closing; /* fetch_close: the transfer is to stop */
    int ended;   /* the transfer thread is done with libcurl */

    int started;        /* first body byte seen */
    long header_status; /* status line of the answer being received */
    uint64_t next_offset;
    enum abort_reason abort;
    ug_err sink_rc;
    char abort_msg[UG_ERRBUF];

    int done, finished;
    CURLcode code;
    ug_err rc;
    char msg[UG_ERRBUF];
    struct fetch_result res;
};

struct fetch_reader {
    struct transfer t;
    pthread_t thread;
    int thread_started, joined;
    struct fetch_result res; /* what fetch_reader_result shows: never being written */
};

/* curl_global_init is not thread-safe in every libcurl build, so it runs exactly once
 * under pthread_once; the agent is single-threaded but the daemon may grow threads. */
static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void fetch_global_cleanup(void)
{
    if (global_rc == CURLE_OK)
        curl_global_cleanup();
    global_rc = CURLE_FAILED_INIT;
}

void fetch_options_init(struct fetch_options *o)
{
    memset(o, 0, sizeof *o);
    o->method = FETCH_GET;
    o->connect_timeout_ms = FETCH_DEFAULT_CONNECT_TIMEOUT_MS;
    o->low_speed_limit = FETCH_DEFAULT_LOW_SPEED_LIMIT;
    o->low_speed_time_s = FETCH_DEFAULT_LOW_SPEED_TIME_S;
    o->max_redirects = FETCH_DEFAULT_MAX_REDIRECTS;
}

/* Formats a message of UG_ERRBUF bytes; a long URL may cut the tail, never overflow. */
static void __attribute__((format(printf, 2, 3))) set_msg(char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, UG_ERRBUF, fmt, ap);
    va_end(ap);
}

static void copy_str(char *out, size_t outsz, const char *in)
{
    if (!outsz)
        return;
    snprintf(out, outsz, "%s", in ? in : "");
}

/* Header values and identity fields go into a request line: no control characters. */
static void copy_printable(char *out, size_t outsz, const char *in)
{
    size_t n = 0;
    for (; in && *in && n + 1 < outsz; in++)
        out[n++] = (unsigned char)*in < 0x20 || *in == 0x7f ? '?' : *in;
    if (outsz)
        out[n] = '\0';
}

void fetch_user_agent(char *out, size_t outsz, const char *product, const char *version,
                      const char *serial, const char *mac)
{
    char p[128], v[128], s[128], m[64];
    copy_printable(p, sizeof p, product && *product ? product : "-");
    copy_printable(v, sizeof v, version && *version ? version : "-");
    copy_printable(s, sizeof s, serial && *serial ? serial : "-");
    copy_printable(m, sizeof m, mac && *mac ? mac : "-");
    snprintf(out, outsz, "upgrader/%s (%s; %s; %s)", v, p, s, m);
}

ug_err fetch_classify(int curl_code, long http_status, int *not_found, char *reason,
                      size_t reason_size)
{
    int nf = 0;
    ug_err rc;
    const char *why;
    char num[FETCH_REASON_MAX];
    switch ((CURLcode)curl_code) {
    case CURLE_OK:
    case CURLE_HTTP_RETURNED_ERROR:
        if (http_status == 0 || (http_status >= 200 && http_status < 300)) {
            rc = curl_code == CURLE_OK ? UG_OK : UG_ERR_UNUSABLE;
            why = rc == UG_OK ? "ok" : "server error";
        } else if (http_status == 304) {
            rc = UG_OK, why = "not modified";
        } else if (http_status == 404 || http_status == 410) {
            rc = UG_ERR_UNUSABLE, nf = 1, why = "file not found";
        } else if (http_status == 401 || http_status == 403 || http_status == 407) {
            snprintf(num, sizeof num, "access denied (http %ld)", http_status);
            rc = UG_ERR_UNUSABLE, why = num;
        } else {
            snprintf(num, sizeof num, "http error %ld", http_status);
            rc = UG_ERR_UNUSABLE, why = num;
        }
        break;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        rc = UG_ERR_USAGE, why = "bad url";
        break;
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
        rc = UG_ERR_UNREACHABLE, why = "host not found";
        break;
    case CURLE_COULDNT_CONNECT:
        rc = UG_ERR_UNREACHABLE, why = "connection refused";
        break;
    case CURLE_OPERATION_TIMEDOUT:
        rc = UG_ERR_UNREACHABLE, why = "timed out";
        break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CIPHER:
        rc = UG_ERR_UNREACHABLE, why = "tls handshake failed";
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
        rc = UG_ERR_UNREACHABLE, why = "certificate verify failed";
        break;
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
        rc = UG_ERR_UNREACHABLE, why = "connection lost";
        break;
    case CURLE_TFTP_NOTFOUND:
    case CURLE_REMOTE_FILE_NOT_FOUND:
        rc = UG_ERR_UNUSABLE, nf = 1, why = "file not found";
        break;
    case CURLE_TFTP_PERM:
    case CURLE_REMOTE_ACCESS_DENIED:
    case CURLE_LOGIN_DENIED:
    case CURLE_TFTP_NOSUCHUSER:
        rc = UG_ERR_UNUSABLE, why = "access denied";
        break;
    case CURLE_TFTP_ILLEGAL:
    case CURLE_TFTP_UNKNOWNID:
    case CURLE_REMOTE_DISK_FULL:
    case CURLE_REMOTE_FILE_EXISTS:
        rc = UG_ERR_UNUSABLE, why = "tftp error";
        break;
    case CURLE_FILESIZE_EXCEEDED:
        rc = UG_ERR_UNUSABLE, why = "file too large";
        break;
    case CURLE_TOO_MANY_REDIRECTS:
        rc = UG_ERR_UNUSABLE, why = "too many redirects";
        break;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_RANGE_ERROR:
        rc = UG_ERR_UNUSABLE, why = "bad server reply";
        break;
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
        rc = UG_ERR_OTHER, why = "local tls files unusable";
        break;
    case CURLE_OUT_OF_MEMORY:
        rc = UG_ERR_OTHER, why = "out of memory";
        break;
    default:
        rc = UG_ERR_OTHER, why = "transfer failed";
        break;
    }
    if (not_found)
        *not_found = nf;
    if (reason)
        copy_str(reason, reason_size, why);
    return rc;
}

static size_t on_header(char *data, size_t size, size_t count, void *user)
{
    struct transfer *t = user;
    size_t len = size * count;
    if (len > 5 && strncmp(data, "HTTP/", 5) == 0) {
        const char *sp = memchr(data, ' ', len);
        t->header_status = sp ? strtol(sp + 1, NULL, 10) : 0;
        return len;
    }
    if (t->header_status < 300 || t->header_status > 399 || len < 9 ||
        strncasecmp(data, "Location:", 9) != 0)
        return len;
    /* libcurl follows the redirect itself (keeping its rules on credentials and methods);
     * here the target is checked first, before a packet goes to it. */
    char location[FETCH_URL_MAX];
    const char *v = data + 9, *end = data + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && isspace((unsigned char)end[-1]))
        end--;
    if ((size_t)(end - v) >= sizeof location) {
        t->abort = ABORT_REDIRECT;
        set_msg(t->abort_msg, "redirect target too long");
        return 0;
    }
    memcpy(location, v, (size_t)(end - v));
    location[end - v] = '\0';
    char *current = NULL;
    curl_easy_getinfo(t->easy, CURLINFO_EFFECTIVE_URL, &current);
    CURLU *u = curl_url();
    char *target = NULL;
    int parsed = u && current && curl_url_set(u, CURLUPART_URL, current, 0) == CURLUE_OK &&
                 curl_url_set(u, CURLUPART_URL, location, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
                 curl_url_get(u, CURLUPART_URL, &target, 0) == CURLUE_OK;
    curl_url_cleanup(u);
    char why[UG_ERRBUF];
    if (!parsed) {
        t->abort = ABORT_REDIRECT;
        set_msg(t->abort_msg, "malformed redirect target");
    } else if (url_check_redirect(target, t->restricted, why) != UG_OK) {
        t->abort = ABORT_REDIRECT;
        set_msg(t->abort_msg, "redirect refused: %s", why);
    }
    curl_free(target);
    return t->abort == ABORT_REDIRECT ? 0 : len;
}

static int has_unread(const struct transfer *t)
{
    return t->pending_len > t->pending_pos;
}

/* Appends a block to the unread bytes (which leave room for it unless there are none);
 * -1 when out of memory. */
static int pending_append(struct transfer *t, const char *data, size_t len)
{
    size_t unread = t->pending_len - t->pending_pos;
    if (t->pending_len + len > t->pending_cap) {
        if (unread)
            memmove(t->pending, t->pending + t->pending_pos, unread);
        t->pending_pos = 0;
        t->pending_len = unread;
    }
    if (t->pending_len + len > t->pending_cap) {
        /* Only when empty and libcurl hands over one block bigger than the buffer. */
        unsigned char *p = realloc(t->pending, t->pending_len + len);
        if (!p)
            return -1;
        t->pending = p;
        t->pending_cap = t->pending_len + len;
    }
    memcpy(t->pending + t->pending_len, data, len);
    t->pending_len += len;
    return 0;
}

static size_t on_body(char *data, size_t size, size_t count, void *user)
{
    struct transfer *t = user;
    size_t len = size * count;
    if (!t->started) {
        t->started = 1;
        if (t->is_http) {
            long code = 0;
            curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
            /* An error page is not the file: stop reading it at once. */
            if (code < 200 || code > 299) {
                t->abort = ABORT_STATUS;
                return 0;
            }
            if (code == 206 && t->resume_from) {
                t->res.resumed = 1;
                t->next_offset = t->resume_from;
            }
        }
        t->res.start_offset = t->next_offset;
    }
    if (t->max_size && t->res.bytes + len > t->max_size) {
        t->abort = ABORT_SIZE;
        return 0;
    }
    if (t->sink) {
        t->abort_msg[0] = '\0';
        ug_err rc = t->sink(t->sink_ctx, data, len, t->next_offset, t->abort_msg);
        if (rc != UG_OK) {
            t->abort = ABORT_SINK;
            t->sink_rc = rc;
            return 0;
        }
    } else if (t->threaded) {
        pthread_mutex_lock(&t->mu);
        while (has_unread(t) && t->pending_len - t->pending_pos + len > t->pending_cap &&
               !t->closing) {
            /* The reader is behind: wait for it (TCP or TFTP's lock-step hold the sender). A
             * reader waiting for more than there is gets what there is, so neither waits on
             * the other. */
            if (t->reader_waiting)
                pthread_cond_signal(&t->readable);
            t->writer_waiting = 1;
            pthread_cond_wait(&t->writable, &t->mu);
            t->writer_waiting = 0;
        }
        int ok = !t->closing && pending_append(t, data, len) == 0;
        if (!ok)
            t->abort = t->closing ? ABORT_CLOSED : ABORT_MEMORY;
        else if (t->reader_waiting && t->pending_len - t->pending_pos >= t->reader_wants)
            pthread_cond_signal(&t->readable);
        pthread_mutex_unlock(&t->mu);
        if (!ok)
            return 0;
    } else {
        if (has_unread(t) && t->pending_len - t->pending_pos + len > t->pending_cap) {
            /* The reader is behind: libcurl keeps this block and offers it again on resume. */
            t->paused = 1;
            return CURL_WRITEFUNC_PAUSE;
        }
        if (pending_append(t, data, len) != 0) {
            t->abort = ABORT_MEMORY;
            return 0;
        }
    }
    t->next_offset += len;
    t->res.bytes += len;
    return len;
}

static void header_value(CURL *easy, const char *name, char *out, size_t outsz)
{
    struct curl_header *h = NULL;
    out[0] = '\0';
    if (curl_easy_header(easy, name, 0, CURLH_HEADER, -1, &h) == CURLHE_OK && h && h->value)
        copy_printable(out, outsz, h->value);
}

/* libcurl cannot tell the peer of its unconnected TFTP socket; an address literal in the
 * URL is that peer, a name is left for the caller to show instead. */
static void tftp_server_ip(const char *url, char *out, size_t outsz)
{
    char host[INET_ADDRSTRLEN]; /* a longer host is no IPv4 literal: url_host refuses it */
    unsigned char addr[sizeof(struct in6_addr)];
    if (url_host(url, host, sizeof host, NULL) == UG_OK && inet_pton(AF_INET, host, addr) == 1)
        copy_str(out, outsz, host);
}

static void collect_info(struct transfer *t)
{
    struct fetch_result *r = &t->res;
    char *s = NULL;
    long port = 0;
    if (t->is_http)
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &r->status);
    if (curl_easy_getinfo(t->easy, CURLINFO_EFFECTIVE_URL, &s) == CURLE_OK && s)
        url_for_display(s, r->effective_url, sizeof r->effective_url);
    s = NULL;
    if (curl_easy_getinfo(t->easy, CURLINFO_PRIMARY_IP, &s) == CURLE_OK && s)
        copy_str(r->server_ip, sizeof r->server_ip, s);
    if (curl_easy_getinfo(t->easy, CURLINFO_PRIMARY_PORT, &port) == CURLE_OK)
        r->server_port = port;
    if (!r->server_ip[0] && !t->is_http)
        tftp_server_ip(t->url, r->server_ip, sizeof r->server_ip);
    if (t->is_http) {
        header_value(t->easy, "ETag", r->etag, sizeof r->etag);
        header_value(t->easy, "Last-Modified", r->last_modified, sizeof r->last_modified);
        header_value(t->easy, "Content-Encoding", r->content_encoding, sizeof r->content_encoding);
    }
}

/* Decides the outcome once the transfer has ended; sets rc, msg and the result's reason. */
static void finish(struct transfer *t)
{
    if (t->finished)
        return;
    t->finished = 1;
    collect_info(t);
    struct fetch_result *r = &t->res;
    /* Over TFTP libcurl 7.88 leaves a harmless getpeername() complaint in the error buffer
     * first (its UDP socket is unconnected), so the generic text says more there. */
    const char *detail = t->errbuf[0] && t->is_http ? t->errbuf : curl_easy_strerror(t->code);
    switch (t->abort) {
    case ABORT_SIZE:
        t->rc = UG_ERR_UNUSABLE;
        copy_str(r->reason, sizeof r->reason, "file too large");
        set_msg(t->msg, "%s: file too large (more than %llu bytes)", t->display_url,
                (unsigned long long)t->max_size);
        return;
    case ABORT_SINK:
        t->rc = t->sink_rc;
        copy_str(r->reason, sizeof r->reason, "cannot store file");
        set_msg(t->msg, "%s: %s", t->display_url,
                t->abort_msg[0] ? t->abort_msg : ug_err_name(t->sink_rc));
        return;
    case ABORT_REDIRECT:
        t->rc = UG_ERR_UNUSABLE;
        copy_str(r->reason, sizeof r->reason, "redirect refused");
        set_msg(t->msg, "%s: %s", t->display_url, t->abort_msg);
        return;
    case ABORT_MEMORY:
        t->code = CURLE_OUT_OF_MEMORY;
        break;
    case ABORT_CLOSED: /* nobody reads the outcome of a closed reader */
        t->rc = UG_ERR_OTHER;
        copy_str(r->reason, sizeof r->reason, "closed");
        set_msg(t->msg, "%s: transfer closed", t->display_url);
        return;
    case ABORT_STATUS:
        t->code = CURLE_HTTP_RETURNED_ERROR;
        break;
    case ABORT_NONE:
        break;
    }
    if (t->code == CURLE_OK && t->is_http && (r->status < 200 || r->status > 299) &&
        r->status != 304)
        t->code = CURLE_HTTP_RETURNED_ERROR; /* an error answer with an empty body */
    t->rc = fetch_classify((int)t->code, t->is_http ? r->status : 0, &r->not_found, r->reason,
                           sizeof r->reason);
    r->not_modified = t->rc == UG_OK && r->status == 304;
    if (t->rc == UG_OK)
        return;
    if (t->code == CURLE_HTTP_RETURNED_ERROR)
        set_msg(t->msg, "%s: %s (server answered HTTP %ld)", t->display_url, r->reason, r->status);
    else
        set_msg(t->msg, "%s: %s (%s)", t->display_url, r->reason, detail);
}

/* Reads the device CA and the extra CA into one PEM blob, as libcurl takes a single set. */
static ug_err load_ca_blob(struct transfer *t, const struct fetch_options *o, struct buf *pem,
                           char *err)
{
    const char *base = o->ca_file;
    char *builtin = NULL;
    if (!base && curl_easy_getinfo(t->easy, CURLINFO_CAINFO, &builtin) == CURLE_OK)
        base = builtin;
    if (base) {
        ug_err rc = fs_read_file(base, CA_FILE_MAX, pem, err);
        if (rc != UG_OK)
            return rc;
        if (buf_append_str(pem, "\n") != 0)
            return ug_oom(err);
    }
    return fs_read_file(o->extra_ca_file, CA_FILE_MAX, pem, err);
}

#define SETOPT(opt, val)                                                                         \
    do {                                                                                         \
        if (curl_easy_setopt(t->easy, opt, val) != CURLE_OK) {                                   \
            rc = ug_fail(err, UG_ERR_OTHER, "%s: libcurl refused option " #opt, t->display_url); \
            goto out;                                                                            \
        }                                                                                        \
    } while (0)

static ug_err add_header(struct transfer *t, const char *name, const char *value, char *err)
{
    for (const char *p = value; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\t')
            return ug_fail(err, UG_ERR_USAGE, "%s: %s value contains a control character",
                           t->display_url, name);
    char line[512];
    int n = snprintf(line, sizeof line, "%s: %s", name, value);
    if (n < 0 || (size_t)n >= sizeof line)
        return ug_fail(err, UG_ERR_USAGE, "%s: %s value too long", t->display_url, name);
    struct curl_slist *l = curl_slist_append(t->headers, line);
    if (!l)
        return ug_oom(err);
    t->headers = l;
    return UG_OK;
}

/* Sets up the easy handle on a multi handle; nothing is sent until the first pump. */
static ug_err transfer_start(struct transfer *t, const struct fetch_options *o, char *err)
{
    ug_err rc = UG_OK;
    struct buf ca = {0};
    t->res.transfer_cpu = -1;
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK)
        return ug_fail(err, UG_ERR_OTHER, "libcurl initialisation failed: %s",
                       curl_easy_strerror(global_rc));
    url_for_display(o->url, t->display_url, sizeof t->display_url);
    /* Refusals happen here, before a handle exists, so no packet (not even DNS) leaves. */
    const char *why = NULL;
    rc = url_check(o->url, o->restricted_domains, t->url, sizeof t->url, &why, err);
    if (rc != UG_OK) {
        copy_str(t->res.reason, sizeof t->res.reason, why);
        goto out;
    }
    url_for_display(t->url, t->display_url, sizeof t->display_url);
    t->is_http = strncasecmp(t->url, "http", 4) == 0;
    if (!t->is_http && o->method != FETCH_GET) {
        rc = ug_fail(err, UG_ERR_USAGE, "%s: POST and PUT need http or https", t->display_url);
        goto out;
    }
    if (o->restricted_domains && !(t->restricted = strdup(o->restricted_domains))) {
        rc = ug_oom(err);
        goto out;
    }
    t->max_size = o->max_size;
    t->resume_from = t->is_http ? o->resume_from : 0;
    t->easy = curl_easy_init();
    t->multi = curl_multi_init();
    if (!t->easy || !t->multi) {
        rc = ug_fail(err, UG_ERR_OTHER, "%s: cannot create a libcurl handle", t->display_url);
        goto out;
    }
    SETOPT(CURLOPT_URL, t->url);
    SETOPT(CURLOPT_PROTOCOLS_STR, "tftp,http,https");
    SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_ERRORBUFFER, t->errbuf);
    SETOPT(CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(CURLOPT_WRITEDATA, t);
    if (!t->sink && t->is_http)
        SETOPT(CURLOPT_BUFFERSIZE, PULL_RECV_BUFFER);
    SETOPT(CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(CURLOPT_HEADERDATA, t);
    SETOPT(CURLOPT_USERAGENT, o->user_agent ? o->user_agent : "upgrader");
    SETOPT(CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 0L);
    SETOPT(CURLOPT_TIMEOUT_MS, o->timeout_ms > 0 ? o->timeout_ms : 0L);
    if (o->low_speed_time_s > 0) {
        SETOPT(CURLOPT_LOW_SPEED_LIMIT, o->low_speed_limit > 0 ? o->low_speed_limit : 1L);
        SETOPT(CURLOPT_LOW_SPEED_TIME, o->low_speed_time_s);
    }
    if (o->max_redirects > 0) {
        SETOPT(CURLOPT_FOLLOWLOCATION, 1L);
        SETOPT(CURLOPT_MAXREDIRS, (long)o->max_redirects);
    }
    if (o->tftp_blksize) {
        if (o->tftp_blksize < 8 || o->tftp_blksize > 65464) {
            rc = ug_fail(err, UG_ERR_USAGE, "%s: TFTP block size %d is not within 8..65464",
                         t->display_url, o->tftp_blksize);
            goto out;
        }
        SETOPT(CURLOPT_TFTP_BLKSIZE, (long)o->tftp_blksize);
    }
    if (o->max_size)
        SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_size);
    if (o->username || o->password) {
        SETOPT(CURLOPT_USERNAME, o->username ? o->username : "");
        SETOPT(CURLOPT_PASSWORD, o->password ? o->password : "");
        /* No credentials until the server challenges; then Digest if it offers it. */
        SETOPT(CURLOPT_HTTPAUTH, (long)(CURLAUTH_BASIC | CURLAUTH_DIGEST));
    }
    /* Peer and host-name verification are libcurl's defaults; stated so no edit drops them. */
    SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
    SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
    if (o->extra_ca_file) {
        rc = load_ca_blob(t, o, &ca, err);
        if (rc != UG_OK)
            goto out;
        struct curl_blob blob = {ca.data, ca.len, CURL_BLOB_COPY};
        SETOPT(CURLOPT_CAINFO_BLOB, &blob);
    } else if (o->ca_file) {
        SETOPT(CURLOPT_CAINFO, o->ca_file);
    }
    if (o->client_cert) {
        SETOPT(CURLOPT_SSLCERT, o->client_cert);
        SETOPT(CURLOPT_SSLCERTTYPE, "PEM");
        SETOPT(CURLOPT_SSLKEY, o->client_key ? o->client_key : o->client_cert);
    }
    if (t->resume_from) {
        char range[32];
        snprintf(range, sizeof range, "%llu-", (unsigned long long)t->resume_from);
        SETOPT(CURLOPT_RANGE, range);
    }
    if (o->if_none_match && *o->if_none_match &&
        (rc = add_header(t, "If-None-Match", o->if_none_match, err)) != UG_OK)
        goto out;
    if (o->if_modified_since && *o->if_modified_since &&
        (rc = add_header(t, "If-Modified-Since", o->if_modified_since, err)) != UG_OK)
        goto out;
    if (o->method != FETCH_GET) {
        if ((rc =
                 add_header(t, "Content-Type",
                            o->content_type ? o->content_type : "application/x-www-form-urlencoded",
                            err)) != UG_OK)
            goto out;
        /* From memory, so libcurl can resend it after an authentication challenge. */
        SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->body_len);
        SETOPT(CURLOPT_COPYPOSTFIELDS, o->body ? (const char *)o->body : "");
        if (o->method == FETCH_PUT)
            SETOPT(CURLOPT_CUSTOMREQUEST, "PUT");
    }
    if (t->headers)
        SETOPT(CURLOPT_HTTPHEADER, t->headers);
    if (curl_multi_add_handle(t->multi, t->easy) != CURLM_OK) {
        rc = ug_fail(err, UG_ERR_OTHER, "%s: cannot start the transfer", t->display_url);
        goto out;
    }
out:
    buf_free(&ca);
    return rc;
}

static void transfer_free(struct transfer *t)
{
    if (t->multi && t->easy)
        curl_multi_remove_handle(t->multi, t->easy);
    if (t->easy)
        curl_easy_cleanup(t->easy);
    if (t->multi)
        curl_multi_cleanup(t->multi);
    curl_slist_free_all(t->headers);
    free(t->restricted);
    free(t->pending);
    t->easy = NULL;
    t->multi = NULL;
    t->headers = NULL;
    t->restricted = NULL;
    t->pending = NULL;
}

/* One turn of libcurl; marks the transfer done (with its result) when it has ended. */
static void perform_once(struct transfer *t)
{
    int running = 0;
    CURLMcode mc = curl_multi_perform(t->multi, &running);
    CURLMsg *m;
    int queued;
    while ((m = curl_multi_info_read(t->multi, &queued)))
        if (m->msg == CURLMSG_DONE) {
            t->done = 1;
            t->code = m->data.result;
        }
    if (mc != CURLM_OK && !t->done) {
        t->done = 1;
        t->code = mc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY : CURLE_FAILED_INIT;
    }
}

/* Drives libcurl until the transfer ends, or (pull mode) until unread bytes are waiting.
 * libcurl enforces every timeout itself, so the poll below only sets the loop's pace. */
static void pump(struct transfer *t)
{
    while (!t->done && !has_unread(t)) {
        if (t->paused) {
            t->paused = 0;
            curl_easy_pause(t->easy, CURLPAUSE_CONT); /* may call on_body at once */
            if (has_unread(t))
                break;
        }
        perform_once(t);
        if (t->done || has_unread(t) || t->paused)
            break;
        curl_multi_poll(t->multi, NULL, 0, 1000, NULL);
    }
}

/* The transfer thread of a pulled reader: runs libcurl to the end (or until closed). */
static void *transfer_main(void *arg)
{
    struct transfer *t = arg;
    if (t->paused) { /* the caller's first pump left a block with libcurl */
        t->paused = 0;
        curl_easy_pause(t->easy, CURLPAUSE_CONT);
    }
    for (;;) {
        perform_once(t);
        pthread_mutex_lock(&t->mu);
        int closing = t->closing;
        pthread_mutex_unlock(&t->mu);
        if (t->done || closing)
            break;
        /* fetch_close interrupts this wait with curl_multi_wakeup. */
        curl_multi_poll(t->multi, NULL, 0, 1000, NULL);
    }
    pthread_mutex_lock(&t->mu);
    t->ended = 1;
    pthread_cond_signal(&t->readable);
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

static ug_err run_pushed(const struct fetch_options *o, fetch_sink_fn sink, void *ctx,
                         struct fetch_result *res, char *err)
{
    struct transfer *t = calloc(1, sizeof *t);
    if (!t)
        return ug_oom(err);
    t->sink = sink;
    t->sink_ctx = ctx;
    ug_err rc = transfer_start(t, o, err);
    if (rc != UG_OK)
        goto out;
    pump(t);
    finish(t);
    rc = t->rc;
    if (rc != UG_OK)
        ug_fail(err, rc, "%s", t->msg);
out:
    if (res)
        *res = t->res;
    transfer_free(t);
    free(t);
    return rc;
}

ug_err fetch_to_sink(const struct fetch_options *o, fetch_sink_fn sink, void *ctx,
                     struct fetch_result *res, char *err)
{
    if (!sink)
        return ug_fail(err, UG_ERR_OTHER, "fetch_to_sink: no sink");
    return run_pushed(o, sink, ctx, res, err);
}

struct buffer_sink {
    struct buf *out;
    size_t max, got;
};

static ug_err buffer_sink(void *ctx, const void *data, size_t len, uint64_t offset, char *err)
{
    struct buffer_sink *b = ctx;
    (void)offset; /* the buffer variant never asks to resume */
    if (len > b->max - b->got)
        return ug_fail(err, UG_ERR_UNUSABLE, "file too large (more than %zu bytes)", b->max);
    if (buf_append(b->out, data, len) != 0)
        return ug_oom(err);
    b->got += len;
    return UG_OK;
}

ug_err fetch_to_buffer(const struct fetch_options *o, size_t max_size, struct buf *out,
                       struct fetch_result *res, char *err)
{
    struct fetch_options copy = *o;
    copy.resume_from = 0;
    if (!copy.max_size || copy.max_size > max_size)
        copy.max_size = max_size;
    struct buffer_sink b = {out, max_size, 0};
    return run_pushed(&copy, buffer_sink, &b, res, err);
}

/* Starts transfer_main, on o->transfer_cpu alone if asked and possible (docs/install.md:
 * a lock-step transfer must not wait behind the decoder); anywhere otherwise. */
static int start_transfer_thread(struct fetch_reader *r, const struct fetch_options *o)
{
    struct transfer *t = &r->t;
    if (o->pin_transfer && o->transfer_cpu >= 0 && o->transfer_cpu < CPU_SETSIZE) {
        pthread_attr_t attr;
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(o->transfer_cpu, &one);
        int started = pthread_attr_init(&attr) == 0;
        if (started) {
            started = pthread_attr_setaffinity_np(&attr, sizeof one, &one) == 0 &&
                      pthread_create(&r->thread, &attr, transfer_main, t) == 0;
            pthread_attr_destroy(&attr);
        }
        if (started) {
            t->res.transfer_cpu = o->transfer_cpu;
            return 0;
        }
    }
    return pthread_create(&r->thread, NULL, transfer_main, t);
}

ug_err fetch_open(const struct fetch_options *o, struct fetch_reader **reader,
                  struct fetch_result *res, char *err)
{
    *reader = NULL;
    struct fetch_reader *r = calloc(1, sizeof *r);
    if (!r)
        return ug_oom(err);
    struct transfer *t = &r->t;
    ug_err rc = UG_ERR_OTHER;
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->readable, NULL);
    pthread_cond_init(&t->writable, NULL);
    t->pending_cap = PULL_BUFFER;
    if (!(t->pending = malloc(t->pending_cap))) {
        rc = ug_oom(err);
        goto out;
    }
    rc = transfer_start(t, o, err);
    if (rc != UG_OK)
        goto out;
    pump(t);
    if (t->done) {
        finish(t);
        if ((rc = t->rc) != UG_OK) {
            ug_fail(err, rc, "%s", t->msg);
            goto out;
        }
    } else {
        collect_info(t);
        /* From here libcurl belongs to the transfer thread until it is joined. */
        t->threaded = 1;
        if (start_transfer_thread(r, o) != 0) {
            t->threaded = 0;
            rc = ug_fail(err, UG_ERR_OTHER, "%s: cannot start the transfer thread", t->display_url);
            goto out;
        }
        r->thread_started = 1;
    }
    r->res = t->res;
    *reader = r;
    return UG_OK;
out:
    if (res)
        *res = t->res;
    fetch_close(r);
    return rc;
}

/* Waits for the transfer thread to end; libcurl and the totals are the caller's again. */
static void join_transfer(struct fetch_reader *r)
{
    if (!r->thread_started || r->joined)
        return;
    pthread_join(r->thread, NULL);
    r->joined = 1;
}

ug_err fetch_read(struct fetch_reader *r, void *buf, size_t len, size_t *got, char *err)
{
    struct transfer *t = &r->t;
    *got = 0;
    if (!r->thread_started) { /* the transfer ended within fetch_open */
        if (!has_unread(t) && !t->done)
            pump(t);
    } else {
        pthread_mutex_lock(&t->mu);
        size_t want = len < t->pending_cap / 2 ? len : t->pending_cap / 2;
        while (t->pending_len - t->pending_pos < want && !t->ended &&
               !(t->writer_waiting && has_unread(t))) {
            t->reader_wants = want;
            t->reader_waiting = 1;
            pthread_cond_wait(&t->readable, &t->mu);
            t->reader_waiting = 0;
        }
    }
    size_t n = t->pending_len - t->pending_pos;
    if (n > len)
        n = len;
    if (n) {
        memcpy(buf, t->pending + t->pending_pos, n);
        t->pending_pos += n;
    }
    if (r->thread_started) {
        if (t->writer_waiting && t->pending_len - t->pending_pos <= t->pending_cap / 2)
            pthread_cond_signal(&t->writable);
        pthread_mutex_unlock(&t->mu);
    }
    if (n) {
        *got = n;
        return UG_OK;
    }
    join_transfer(r);
    finish(t);
    r->res = t->res;
    if (t->rc != UG_OK)
        return ug_fail(err, t->rc, "%s", t->msg);
    return UG_OK;
}

const struct fetch_result *fetch_reader_result(const struct fetch_reader *r)
{
    return &r->res;
}

void fetch_close(struct fetch_reader *r)
{
    if (!r)
        return;
    struct transfer *t = &r->t;
    if (r->thread_started && !r->joined) {
        pthread_mutex_lock(&t->mu);
        t->closing = 1;
        pthread_cond_broadcast(&t->writable);
        pthread_mutex_unlock(&t->mu);
        curl_multi_wakeup(t->multi);
        join_transfer(r);
    }
    transfer_free(t);
    pthread_cond_destroy(&t->readable);
    pthread_cond_destroy(&t->writable);
    pthread_mutex_destroy(&t->mu);
    free(r);
}
