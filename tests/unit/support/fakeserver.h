/* SPDX-License-Identifier: MIT */
/* A file server in memory for the unit tests that wrap the transport (test_NAME.wrap): files
 * found by their URL path, answered as fetch.h answers (200 or 206, 304 for a matching
 * validator, 404, 500, unreachable), and every request kept with the options it came with. */
#ifndef TESTS_FAKESERVER_H
#define TESTS_FAKESERVER_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/error.h"
#include "net/fetch.h"

enum fake_answer {
    FAKE_OK,          /* 200 with the body (206 from resume_from when ranges are on) */
    FAKE_NOT_FOUND,   /* HTTP 404 / TFTP file not found */
    FAKE_SERVER_FAIL, /* HTTP 500 */
    FAKE_UNREACHABLE, /* connection refused */
};

struct fake_file {
    char path[256]; /* the URL's path, without ?query or #fragment */
    enum fake_answer answer;
    struct buf body;
    char etag[128], last_modified[64]; /* sent with the body; a matching request gets 304 */
    int ranges;                        /* honours resume_from */
};

/* One request as the transport was asked for it (copies of the strings; NULL stays NULL). */
struct fake_request {
    char *url, *username, *password, *if_none_match, *if_modified_since, *user_agent;
    char *ca_file, *extra_ca_file;
    enum fetch_method method;
    char *body;
    long timeout_ms;
    int tftp_blksize;
    uint64_t resume_from;
};

#define FAKE_MAX_FILES    16
#define FAKE_MAX_REQUESTS 64

/* Called at the start of every request, before it is answered (e.g. to start a second
 * resync while the first one is "in the network"). */
typedef void (*fake_hook_fn)(void *ctx, const struct fake_request *request);

/* Forgets every file, request and hook. */
void fake_reset(void);
/* Serves data at path with 200 (replacing what was there); returns the file to adjust. */
struct fake_file *fake_serve(const char *path, const void *data, size_t len);
/* Serves the content of a local file at path; fails the test (returns NULL) if unreadable. */
struct fake_file *fake_serve_file(const char *path, const char *local_file);
/* Makes path answer with a failure instead (the file need not be served). */
struct fake_file *fake_fail(const char *path, enum fake_answer answer);
/* Requests made so far, in order; the i-th one, or NULL. */
size_t fake_request_count(void);
const struct fake_request *fake_request_at(size_t i);
/* Requests of one path so far, and the last of them (NULL when none). */
size_t fake_requests_of(const char *path);
const struct fake_request *fake_last_request_of(const char *path);
/* Body bytes handed out so far (buffers and readers). */
uint64_t fake_bytes_served(void);
/* Sets the hook called at each request (NULL: none). */
void fake_set_hook(fake_hook_fn hook, void *ctx);

/* The transport's functions as the fake answers them: a test's __wrap_fetch_* call these. */
ug_err fake_fetch_to_buffer(const struct fetch_options *o, size_t max_size, struct buf *out,
                            struct fetch_result *res, char *err);
ug_err fake_fetch_open(const struct fetch_options *o, struct fetch_reader **reader,
                       struct fetch_result *res, char *err);
ug_err fake_fetch_read(struct fetch_reader *reader, void *buf, size_t len, size_t *got, char *err);
const struct fetch_result *fake_fetch_reader_result(const struct fetch_reader *reader);
void fake_fetch_close(struct fetch_reader *reader);

#endif
