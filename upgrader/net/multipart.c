/* SPDX-License-Identifier: MIT */
/* The multipart/byteranges reader: the server's bytes are trusted for nothing but their
 * shape; each part's length comes from its Content-Range, never from a boundary search. */
#include "net/multipart.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LINE_MAX_BYTES 1024 /* a header or delimiter line */
#define PREAMBLE_LINES 8    /* lines allowed before the first delimiter */
#define HEADER_LINES   16   /* header lines allowed in a part */

enum state {
    BEFORE_FIRST,
    IN_PART,
    CLOSED,
};

struct multipart {
    char boundary[MULTIPART_BOUNDARY_MAX + 1];
    multipart_pull_fn pull;
    void *ctx;
    enum state state;
    uint64_t left; /* bytes of the current part not yet read */
    size_t pos, len;
    uint8_t buf[4096];
};

static ug_err malformed(char *err, const char *why)
{
    return ug_fail(err, UG_ERR_UNUSABLE, "malformed multipart/byteranges answer: %s", why);
}

/* Parses decimal digits at *s (at most 19: no overflow) into *v. */
static int number(const char **s, uint64_t *v)
{
    int n = 0;
    *v = 0;
    for (; isdigit((unsigned char)**s) && n < 19; (*s)++, n++)
        *v = *v * 10 + (uint64_t)(**s - '0');
    return n > 0 && !isdigit((unsigned char)**s) ? 0 : -1;
}

int multipart_content_range(const char *value, uint64_t *first, uint64_t *last)
{
    const char *s = value;
    uint64_t length = 0;
    while (*s == ' ' || *s == '\t')
        s++;
    if (strncasecmp(s, "bytes ", 6) != 0)
        return -1;
    for (s += 6; *s == ' ';)
        s++;
    if (number(&s, first) != 0 || *s++ != '-' || number(&s, last) != 0 || *s++ != '/' ||
        *first > *last)
        return -1;
    if (*s == '*')
        s++;
    else if (number(&s, &length) != 0 || *last >= length)
        return -1;
    while (*s == ' ' || *s == '\t')
        s++;
    return *s ? -1 : 0;
}

/* A boundary's characters (RFC 2046 bchars): no quote, no control, not ending in a space. */
static int boundary_ok(const char *b, size_t n)
{
    if (n == 0 || n > MULTIPART_BOUNDARY_MAX || b[n - 1] == ' ')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (b[i] < ' ' || b[i] > '~' || b[i] == '"')
            return 0;
    return 1;
}

int multipart_boundary(const char *content_type, char *out)
{
    static const char type[] = "multipart/byteranges";
    const char *s = content_type;
    while (*s == ' ')
        s++;
    if (strncasecmp(s, type, sizeof type - 1) != 0)
        return -1;
    for (s += sizeof type - 1; (s = strchr(s, ';')) != NULL;) {
        for (s++; *s == ' ' || *s == '\t';)
            s++;
        if (strncasecmp(s, "boundary=", 9) != 0)
            continue;
        s += 9;
        int quoted = *s == '"';
        size_t n = quoted ? strcspn(++s, "\"") : strcspn(s, "; \t");
        if ((quoted && s[n] != '"') || !boundary_ok(s, n))
            return -1;
        memcpy(out, s, n);
        out[n] = '\0';
        return 0;
    }
    return -1;
}

ug_err multipart_open(const char *boundary, multipart_pull_fn pull, void *ctx,
                      struct multipart **out, char *err)
{
    *out = NULL;
    if (!boundary_ok(boundary, strlen(boundary)))
        return malformed(err, "bad boundary");
    struct multipart *m = calloc(1, sizeof *m);
    if (!m)
        return ug_oom(err);
    strcpy(m->boundary, boundary);
    m->pull = pull;
    m->ctx = ctx;
    *out = m;
    return UG_OK;
}

/* More bytes into the empty buffer: *eof when the body has ended. */
static ug_err fill(struct multipart *m, int *eof, char *err)
{
    size_t got = 0;
    m->pos = m->len = 0;
    ug_err rc = m->pull(m->ctx, m->buf, sizeof m->buf, &got, err);
    m->len = got;
    *eof = rc == UG_OK && got == 0;
    return rc;
}

/* The next line, without its LF (or CRLF), into line (LINE_MAX_BYTES + 1 bytes). */
static ug_err read_line(struct multipart *m, char *line, char *err)
{
    size_t n = 0;
    for (;;) {
        int eof = 0;
        if (m->pos == m->len) {
            ug_err rc = fill(m, &eof, err);
            if (rc != UG_OK)
                return rc;
            if (eof)
                return malformed(err, "it ends inside its headers");
        }
        uint8_t c = m->buf[m->pos++];
        if (c == '\n')
            break;
        if (n == LINE_MAX_BYTES)
            return malformed(err, "a line is too long");
        line[n++] = (char)c;
    }
    if (n > 0 && line[n - 1] == '\r')
        n--;
    line[n] = '\0';
    return memchr(line, '\0', n) ? malformed(err, "a line holds a NUL byte") : UG_OK;
}

/* 1: a delimiter line (*close: the closing one); 0: another line. Padding may follow. */
static int delimiter(const struct multipart *m, const char *line, int *close)
{
    size_t n = strlen(m->boundary);
    if (strncmp(line, "--", 2) != 0 || strncmp(line + 2, m->boundary, n) != 0)
        return 0;
    line += 2 + n;
    *close = strncmp(line, "--", 2) == 0;
    for (line += *close ? 2 : 0; *line == ' ' || *line == '\t';)
        line++;
    return *line == '\0';
}

/* A part's header lines up to the empty one: its Content-Range, exactly once. */
static ug_err part_headers(struct multipart *m, uint64_t *first, uint64_t *last, char *err)
{
    char line[LINE_MAX_BYTES + 1];
    int seen = 0;
    for (int i = 0; i <= HEADER_LINES; i++) {
        ug_err rc = read_line(m, line, err);
        if (rc != UG_OK)
            return rc;
        if (line[0] == '\0')
            return seen ? UG_OK : malformed(err, "a part has no Content-Range");
        if (strncasecmp(line, "Content-Range:", 14) != 0)
            continue;
        if (seen++ || multipart_content_range(line + 14, first, last) != 0)
            return malformed(err, "a part's Content-Range is not one valid range");
    }
    return malformed(err, "a part has too many header lines");
}

/* Reads and drops what is left of the current part. */
static ug_err skip_part(struct multipart *m, char *err)
{
    uint8_t scratch[4096];
    while (m->left > 0) {
        size_t got = 0;
        ug_err rc = multipart_read(m, scratch, sizeof scratch, &got, err);
        if (rc != UG_OK)
            return rc;
    }
    return UG_OK;
}

ug_err multipart_next(struct multipart *m, int *more, uint64_t *first, uint64_t *last, char *err)
{
    char line[LINE_MAX_BYTES + 1];
    int close = 0, lines = 0;
    *more = 0;
    if (m->state == CLOSED)
        return UG_OK;
    ug_err rc = skip_part(m, err);
    /* A part's bytes end with the CRLF that opens the next delimiter line. */
    if (rc == UG_OK && m->state == IN_PART && (rc = read_line(m, line, err)) == UG_OK &&
        line[0] != '\0')
        rc = malformed(err, "a part is longer than its Content-Range");
    while (rc == UG_OK && (rc = read_line(m, line, err)) == UG_OK && !delimiter(m, line, &close))
        if (m->state == IN_PART || ++lines > PREAMBLE_LINES)
            rc = malformed(err, "no delimiter where one must be");
    if (rc != UG_OK)
        return rc;
    if (close) {
        m->state = CLOSED;
        return UG_OK;
    }
    if ((rc = part_headers(m, first, last, err)) != UG_OK)
        return rc;
    m->left = *last - *first + 1;
    m->state = IN_PART;
    *more = 1;
    return UG_OK;
}

ug_err multipart_read(struct multipart *m, void *buf, size_t n, size_t *got, char *err)
{
    *got = 0;
    if (m->state != IN_PART || m->left == 0 || n == 0)
        return UG_OK;
    if (n > m->left)
        n = (size_t)m->left;
    if (m->pos < m->len) { /* what the line reader took ahead comes first */
        *got = m->len - m->pos < n ? m->len - m->pos : n;
        memcpy(buf, m->buf + m->pos, *got);
        m->pos += *got;
    } else {
        ug_err rc = m->pull(m->ctx, buf, n, got, err);
        if (rc != UG_OK)
            return rc;
        if (*got == 0)
            return malformed(err, "it ends inside a part");
        if (*got > n)
            return malformed(err, "the transport gave more than asked");
    }
    m->left -= *got;
    return UG_OK;
}

void multipart_close(struct multipart *m)
{
    free(m);
}
