/* SPDX-License-Identifier: MIT */
/* One transfer's libcurl side: options checked and set on an easy handle, each redirect
 * checked before it is followed, the body delivered (pushed or pulled), the outcome classified. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/fsutil.h"
#include "net/fetch_int.h"
#include "net/url.h"

/* libcurl's receive buffer for pulled HTTP bodies: fewer, larger recv() and callbacks. */
#define PULL_RECV_BUFFER (64 * 1024L)
#define CA_FILE_MAX      (4u << 20)

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
        fetch_copy_str(reason, reason_size, why);
    return rc;
}

static size_t on_header(char *data, size_t size, size_t count, void *user)
{
    struct fetch_transfer *t = user;
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
        fetch_set_msg(t->abort_msg, "redirect target too long");
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
        fetch_set_msg(t->abort_msg, "malformed redirect target");
    } else if (url_check_redirect(target, t->restricted, why) != UG_OK) {
        t->abort = ABORT_REDIRECT;
        fetch_set_msg(t->abort_msg, "redirect refused: %s", why);
    }
    curl_free(target);
    return t->abort == ABORT_REDIRECT ? 0 : len;
}

/* The first body byte: an HTTP error page is not the file, and a 206 starts at resume_from.
 * fetch_open waits for this moment. */
static int body_start(struct fetch_transfer *t)
{
    t->started = 1;
    if (t->is_http) {
        long code = 0;
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
        /* An error page is not the file: stop reading it at once. */
        if (code < 200 || code > 299) {
            t->abort = ABORT_STATUS;
            return -1;
        }
        if (code == 206 && (t->resume_from || t->range_length || t->ranges)) {
            t->res.resumed = 1;
            t->next_offset = t->resume_from;
        }
    }
    t->res.start_offset = t->next_offset;
    engine_broadcast(t->e);
    return 0;
}

/* Appends a block to the unread bytes, compacting first; grows the buffer only when a block
 * does not fit beside the unread ones. -1 when out of memory. Under p->mu. */
static int pull_store(struct fetch_pull *p, const char *data, size_t len)
{
    size_t unread = p->len - p->pos;
    if (p->len + len > p->cap) {
        if (unread)
            memmove(p->data, p->data + p->pos, unread);
        p->pos = 0;
        p->len = unread;
    }
    if (p->len + len > p->cap) {
        unsigned char *grown = realloc(p->data, p->len + len);
        if (!grown)
            return -1;
        p->data = grown;
        p->cap = p->len + len;
    }
    memcpy(p->data + p->len, data, len);
    p->len += len;
    return 0;
}

/* Pull mode: queues the block for the reader. An HTTP block that does not fit pauses the
 * transfer (libcurl offers it again on resume). A TFTP block is always taken, as its ACK
 * leaves once this returns, and a full buffer rests the lane instead: the next block waits
 * at the server (lock-step) or in the socket. */
static size_t pull_body(struct fetch_transfer *t, const char *data, size_t len)
{
    struct fetch_pull *p = t->pull;
    pthread_mutex_lock(&p->mu);
    size_t unread = p->len - p->pos;
    int pause = t->is_http && unread && unread + len > p->cap;
    int stored = !pause && pull_store(p, data, len) == 0;
    if (stored)
        unread += len;
    if (pause || (stored && !t->is_http && unread >= p->cap))
        p->held = 1;
    if (p->reader_waiting && (unread >= p->wants || p->held))
        pthread_cond_signal(&p->readable);
    pthread_mutex_unlock(&p->mu);
    if (pause) {
        t->curl_paused = 1;
        return CURL_WRITEFUNC_PAUSE;
    }
    if (!stored) {
        t->abort = ABORT_MEMORY;
        return 0;
    }
    if (p->held && !t->is_http)
        engine_lane_suspend(t->e, t->lane, 1);
    return len;
}

static size_t push_body(struct fetch_transfer *t, const char *data, size_t len)
{
    t->abort_msg[0] = '\0';
    ug_err rc = t->sink(t->ctx, data, len, t->next_offset, t->abort_msg);
    if (rc != UG_OK) {
        t->abort = ABORT_SINK;
        t->sink_rc = rc;
        return 0;
    }
    return len;
}

/* 1 when t is ahead of its rate: it rests until the bytes since the mark fit. The engine keeps
 * the rate itself, to within a block, for every protocol: libcurl 7.88 ignores
 * CURLOPT_MAX_RECV_SPEED_LARGE over TFTP, over HTTP reads up to 100 buffers past it in one go,
 * and beside this limit (counting the bytes it holds for a paused transfer) made transfers up
 * to a quarter slower than asked (docs/transport.md). */
static int over_rate(struct fetch_transfer *t, int64_t now)
{
    uint64_t ms = (t->res.bytes - t->rate_mark_bytes) * 1000 / transfer_rate(t);
    int64_t due = t->rate_mark + (int64_t)ms;
    if (due <= now)
        return 0;
    t->throttle_until = due;
    return 1;
}

/* Calls t's progress callback with what has arrived and what the server announced. */
static void report_progress(struct fetch_transfer *t)
{
    curl_off_t total = -1;
    if (t->easy)
        curl_easy_getinfo(t->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &total);
    t->progress(t->progress_ctx, t, t->res.bytes, total > 0 ? (uint64_t)total : 0);
}

/* After a block: progress, and a TFTP lane over its rate rests (the block itself could not
 * wait: its ACK leaves as this returns). */
static void body_delivered(struct fetch_transfer *t, size_t len)
{
    t->next_offset += len;
    t->res.bytes += len;
    int tftp_rate = transfer_rate(t) && !t->is_http;
    if (!t->progress && !tftp_rate)
        return;
    int64_t now = fetch_now_ms();
    if (t->progress && now >= t->progress_next) {
        t->progress_next = now + FETCH_PROGRESS_EVERY_MS;
        report_progress(t);
    }
    if (tftp_rate && over_rate(t, now))
        engine_lane_suspend(t->e, t->lane, 1);
}

/* HTTP before a block: paused by its owner, or ahead of its rate, libcurl keeps the block
 * and offers it again on resume (and reads nothing meanwhile: TCP holds the sender). */
static int http_rests(struct fetch_transfer *t)
{
    if (!transfer_held(t) && !(transfer_rate(t) && over_rate(t, fetch_now_ms())))
        return 0;
    t->curl_paused = 1;
    return 1;
}

/* libcurl's write callback; runs on the driver, under the engine's lock. */
static size_t on_body(char *data, size_t size, size_t count, void *user)
{
    struct fetch_transfer *t = user;
    size_t len = size * count;
    if (!t->started && body_start(t) != 0)
        return 0;
    if (t->is_http && http_rests(t))
        return CURL_WRITEFUNC_PAUSE;
    if (t->max_size && t->res.bytes + len > t->max_size) {
        t->abort = ABORT_SIZE;
        return 0;
    }
    size_t took = t->sink ? push_body(t, data, len) : pull_body(t, data, len);
    if (took == len)
        body_delivered(t, len);
    return took;
}

static void header_value(CURL *easy, const char *name, char *out, size_t outsz)
{
    struct curl_header *h = NULL;
    out[0] = '\0';
    if (curl_easy_header(easy, name, 0, CURLH_HEADER, -1, &h) == CURLHE_OK && h && h->value)
        fetch_copy_printable(out, outsz, h->value);
}

/* Retry-After of the answer in seconds (RFC 9110: a delay, or an HTTP date), bounded to a
 * day so a wrong server cannot silence a device for longer; 0 when absent or unreadable. */
static long retry_after(CURL *easy)
{
    char v[64];
    header_value(easy, "Retry-After", v, sizeof v);
    if (!v[0])
        return 0;
    char *end = NULL;
    long s = strtol(v, &end, 10);
    if (end == v || *end) {
        time_t when = curl_getdate(v, NULL);
        s = when > 0 ? (long)(when - time(NULL)) : 0;
    }
    return s < 0 ? 0 : s > 86400 ? 86400 : s;
}

/* libcurl cannot tell the peer of its unconnected TFTP socket; an address literal in the
 * URL is that peer, a name is left for the caller to show instead. */
static void tftp_server_ip(const char *url, char *out, size_t outsz)
{
    char host[INET_ADDRSTRLEN]; /* a longer host is no IPv4 literal: url_host refuses it */
    unsigned char addr[sizeof(struct in6_addr)];
    if (url_host(url, host, sizeof host, NULL) == UG_OK && inet_pton(AF_INET, host, addr) == 1)
        fetch_copy_str(out, outsz, host);
}

void transfer_collect_info(struct fetch_transfer *t)
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
        fetch_copy_str(r->server_ip, sizeof r->server_ip, s);
    if (curl_easy_getinfo(t->easy, CURLINFO_PRIMARY_PORT, &port) == CURLE_OK)
        r->server_port = port;
    if (!r->server_ip[0] && !t->is_http)
        tftp_server_ip(t->url, r->server_ip, sizeof r->server_ip);
    if (t->is_http) {
        header_value(t->easy, "ETag", r->etag, sizeof r->etag);
        header_value(t->easy, "Last-Modified", r->last_modified, sizeof r->last_modified);
        header_value(t->easy, "Content-Encoding", r->content_encoding, sizeof r->content_encoding);
        header_value(t->easy, "Content-Type", r->content_type, sizeof r->content_type);
        header_value(t->easy, "Content-Range", r->content_range, sizeof r->content_range);
        r->retry_after = retry_after(t->easy);
    }
}

void transfer_finish(struct fetch_transfer *t)
{
    transfer_collect_info(t);
    struct fetch_result *r = &t->res;
    /* Over TFTP libcurl 7.88 leaves a harmless getpeername() complaint in the error buffer
     * first (its UDP socket is unconnected), so the generic text says more there. */
    const char *detail = t->errbuf[0] && t->is_http ? t->errbuf : curl_easy_strerror(t->code);
    switch (t->abort) {
    case ABORT_SIZE:
        t->rc = UG_ERR_UNUSABLE;
        fetch_copy_str(r->reason, sizeof r->reason, "file too large");
        fetch_set_msg(t->msg, "%s: file too large (more than %llu bytes)", t->display_url,
                      (unsigned long long)t->max_size);
        return;
    case ABORT_SINK:
        t->rc = t->sink_rc;
        fetch_copy_str(r->reason, sizeof r->reason, "cannot store file");
        fetch_set_msg(t->msg, "%s: %s", t->display_url,
                      t->abort_msg[0] ? t->abort_msg : ug_err_name(t->sink_rc));
        return;
    case ABORT_REDIRECT:
        t->rc = UG_ERR_UNUSABLE;
        fetch_copy_str(r->reason, sizeof r->reason, "redirect refused");
        fetch_set_msg(t->msg, "%s: %s", t->display_url, t->abort_msg);
        return;
    case ABORT_MEMORY:
        t->code = CURLE_OUT_OF_MEMORY;
        break;
    case ABORT_CANCELLED:
        t->rc = UG_ERR_OTHER;
        fetch_copy_str(r->reason, sizeof r->reason, "cancelled");
        fetch_set_msg(t->msg, "%s: cancelled", t->display_url);
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
        fetch_set_msg(t->msg, "%s: %s (server answered HTTP %ld)", t->display_url, r->reason,
                      r->status);
    else
        fetch_set_msg(t->msg, "%s: %s (%s)", t->display_url, r->reason, detail);
}

/* Reads the device CA and the extra CA into one PEM blob, as libcurl takes a single set. */
static ug_err load_ca_blob(struct fetch_transfer *t, const struct fetch_options *o, struct buf *pem,
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

#define SETOPT(opt, val)                                                                           \
    do {                                                                                           \
        if (curl_easy_setopt(t->easy, opt, val) != CURLE_OK)                                       \
            return ug_fail(err, UG_ERR_OTHER, "%s: libcurl refused option " #opt, t->display_url); \
    } while (0)

static ug_err add_header(struct fetch_transfer *t, const char *name, const char *value, char *err)
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

/* What every transfer sets: the URL and protocols, callbacks, timeouts, limits. */
static ug_err set_transfer_options(struct fetch_transfer *t, const struct fetch_options *o,
                                   char *err)
{
    SETOPT(CURLOPT_URL, t->url);
    SETOPT(CURLOPT_PROTOCOLS_STR, "tftp,http,https");
    SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_PRIVATE, t);
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
    if (o->tftp_blksize)
        SETOPT(CURLOPT_TFTP_BLKSIZE, (long)o->tftp_blksize);
    if (o->max_size)
        SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_size);
    return UG_OK;
}

/* Peer and host-name verification, trust anchors, the device's client certificate. */
static ug_err set_tls_options(struct fetch_transfer *t, const struct fetch_options *o, char *err)
{
    /* Peer and host-name verification are libcurl's defaults; stated so no edit drops them. */
    SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
    SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
    if (o->extra_ca_file) {
        struct buf ca = {0};
        ug_err rc = load_ca_blob(t, o, &ca, err);
        struct curl_blob blob = {ca.data, ca.len, CURL_BLOB_COPY};
        if (rc == UG_OK && curl_easy_setopt(t->easy, CURLOPT_CAINFO_BLOB, &blob) != CURLE_OK)
            rc = ug_fail(err, UG_ERR_OTHER, "%s: libcurl refused the CA files", t->display_url);
        buf_free(&ca);
        if (rc != UG_OK)
            return rc;
    } else if (o->ca_file) {
        SETOPT(CURLOPT_CAINFO, o->ca_file);
    }
    if (o->client_cert) {
        SETOPT(CURLOPT_SSLCERT, o->client_cert);
        SETOPT(CURLOPT_SSLCERTTYPE, "PEM");
        SETOPT(CURLOPT_SSLKEY, o->client_key ? o->client_key : o->client_cert);
    }
    return UG_OK;
}

/* Credentials, range, conditional GET, the body of a POST or PUT. */
static ug_err set_request_options(struct fetch_transfer *t, const struct fetch_options *o,
                                  char *err)
{
    ug_err rc;
    if (o->username || o->password) {
        SETOPT(CURLOPT_USERNAME, o->username ? o->username : "");
        SETOPT(CURLOPT_PASSWORD, o->password ? o->password : "");
        /* No credentials until the server challenges; then Digest if it offers it. */
        SETOPT(CURLOPT_HTTPAUTH, (long)(CURLAUTH_BASIC | CURLAUTH_DIGEST));
    }
    if (t->ranges) {
        SETOPT(CURLOPT_RANGE, t->ranges); /* copied by libcurl */
    } else if (t->resume_from || t->range_length) {
        char range[48];
        int n = snprintf(range, sizeof range, "%llu-", (unsigned long long)t->resume_from);
        /* A bounded range: the server sends only these bytes, so nothing is in flight to be
         * thrown away when the reader has what it wanted (delta installs, docs/install.md). */
        if (t->range_length)
            snprintf(range + n, sizeof range - (size_t)n, "%llu",
                     (unsigned long long)(t->resume_from + t->range_length - 1));
        SETOPT(CURLOPT_RANGE, range);
    }
    if (o->if_none_match && *o->if_none_match &&
        (rc = add_header(t, "If-None-Match", o->if_none_match, err)) != UG_OK)
        return rc;
    if (o->if_modified_since && *o->if_modified_since &&
        (rc = add_header(t, "If-Modified-Since", o->if_modified_since, err)) != UG_OK)
        return rc;
    if (o->method != FETCH_GET) {
        const char *type = o->content_type ? o->content_type : "application/x-www-form-urlencoded";
        if ((rc = add_header(t, "Content-Type", type, err)) != UG_OK)
            return rc;
        /* From memory, so libcurl can resend it after an authentication challenge. */
        SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->body_len);
        SETOPT(CURLOPT_COPYPOSTFIELDS, o->body ? (const char *)o->body : "");
        if (o->method == FETCH_PUT)
            SETOPT(CURLOPT_CUSTOMREQUEST, "PUT");
    }
    if (t->headers)
        SETOPT(CURLOPT_HTTPHEADER, t->headers);
    return UG_OK;
}

/* The checks that need no handle: a refusal here sends nothing, not even a DNS query. */
static ug_err check_options(struct fetch_transfer *t, const struct fetch_options *o, char *err)
{
    const char *why = NULL;
    url_for_display(o->url ? o->url : "", t->display_url, sizeof t->display_url);
    ug_err rc = url_check(o->url, o->restricted_domains, t->url, sizeof t->url, &why, err);
    if (rc != UG_OK) {
        fetch_copy_str(t->res.reason, sizeof t->res.reason, why);
        return rc;
    }
    url_for_display(t->url, t->display_url, sizeof t->display_url);
    t->is_http = strncasecmp(t->url, "http", 4) == 0;
    if (!t->is_http && o->method != FETCH_GET)
        return ug_fail(err, UG_ERR_USAGE, "%s: POST and PUT need http or https", t->display_url);
    if (o->tftp_blksize && (o->tftp_blksize < 8 || o->tftp_blksize > 65464))
        return ug_fail(err, UG_ERR_USAGE, "%s: TFTP block size %d is not within 8..65464",
                       t->display_url, o->tftp_blksize);
    if (o->max_recv_speed > (uint64_t)INT64_MAX)
        return ug_fail(err, UG_ERR_USAGE, "%s: receive rate %llu is too large", t->display_url,
                       (unsigned long long)o->max_recv_speed);
    return UG_OK;
}

ug_err transfer_setup(struct fetch_transfer *t, const struct fetch_options *o, char *err)
{
    t->res.transfer_cpu = -1;
    ug_err rc = check_options(t, o, err);
    if (rc != UG_OK)
        return rc;
    if (o->restricted_domains && !(t->restricted = strdup(o->restricted_domains)))
        return ug_oom(err);
    t->max_size = o->max_size;
    t->resume_from = t->is_http ? o->resume_from : 0;
    t->range_length = t->is_http ? o->range_length : 0;
    t->ranges = t->is_http && o->ranges && *o->ranges ? o->ranges : NULL;
    t->rate = o->max_recv_speed;
    t->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 0;
    t->cancel = o->cancel;
    t->progress = o->progress;
    t->progress_ctx = o->progress_ctx;
    if (!(t->easy = curl_easy_init()))
        return ug_fail(err, UG_ERR_OTHER, "%s: cannot create a libcurl handle", t->display_url);
    if ((rc = set_transfer_options(t, o, err)) != UG_OK ||
        (rc = set_tls_options(t, o, err)) != UG_OK)
        return rc;
    return set_request_options(t, o, err);
}
