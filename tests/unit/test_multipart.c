/* SPDX-License-Identifier: MIT */
/* Unit tests of multipart.c: an nginx-shaped answer read part by part (in pieces of every
 * size), parts skipped, the Content-Type and Content-Range forms, and malformed bodies
 * refused with UG_ERR_UNUSABLE. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "net/multipart.h"

struct feed {
    const char *data;
    size_t size, pos, piece;
};

static ug_err pull(void *ctx, void *buf, size_t n, size_t *got, char *err)
{
    struct feed *f = ctx;
    (void)err;
    size_t k = f->size - f->pos < n ? f->size - f->pos : n;
    if (k > f->piece)
        k = f->piece;
    memcpy(buf, f->data + f->pos, k);
    f->pos += k;
    *got = k;
    return UG_OK;
}

#define NGINX                                                                                 \
    "\r\n--00000000000000000001\r\nContent-Type: application/octet-stream\r\n"                \
    "Content-Range: bytes 0-4/100\r\n\r\nhello\r\n--00000000000000000001\r\n"                 \
    "Content-Type: application/octet-stream\r\nContent-Range: bytes 50-52/100\r\n\r\nabc\r\n" \
    "--00000000000000000001--\r\n"

/* Reads every part of body into out ("first-last:bytes;" each); the last call's result. */
static ug_err read_all(const char *body, size_t piece, char *out, size_t outsz)
{
    struct feed f = {body, strlen(body), 0, piece};
    struct multipart *m;
    char err[UG_ERRBUF];
    ug_err rc = multipart_open("00000000000000000001", pull, &f, &m, err);
    out[0] = '\0';
    for (int more = 1; rc == UG_OK && more;) {
        uint64_t first, last;
        char part[64] = "";
        size_t len = 0, got = 1;
        rc = multipart_next(m, &more, &first, &last, err);
        while (rc == UG_OK && more && got > 0 && len < sizeof part - 1) {
            rc = multipart_read(m, part + len, 2, &got, err);
            len += got;
        }
        if (rc == UG_OK && more)
            snprintf(out + strlen(out), outsz - strlen(out), "%llu-%llu:%s;",
                     (unsigned long long)first, (unsigned long long)last, part);
    }
    if (rc != UG_OK)
        assert_non_null(strstr(err, "malformed multipart/byteranges answer"));
    multipart_close(m);
    return rc;
}

static void test_nginx_answer(void **state)
{
    (void)state;
    char out[256];
    for (size_t piece = 1; piece <= sizeof NGINX; piece++) {
        assert_int_equal(read_all(NGINX, piece, out, sizeof out), UG_OK);
        assert_string_equal(out, "0-4:hello;50-52:abc;");
    }
}

static void test_part_skipped(void **state)
{
    (void)state;
    struct feed f = {NGINX, strlen(NGINX), 0, 3};
    struct multipart *m;
    char err[UG_ERRBUF], b[8] = "";
    uint64_t first, last;
    int more;
    size_t got;
    assert_int_equal(multipart_open("00000000000000000001", pull, &f, &m, err), UG_OK);
    assert_int_equal(multipart_next(m, &more, &first, &last, err), UG_OK);
    assert_int_equal(multipart_read(m, b, 1, &got, err), UG_OK);
    assert_int_equal(multipart_next(m, &more, &first, &last, err), UG_OK); /* skips "ello" */
    assert_true(more && first == 50 && last == 52);
    for (size_t len = 0; len < 3; len += got) { /* as much as has come, each call */
        assert_int_equal(multipart_read(m, b + len, sizeof b - len, &got, err), UG_OK);
        assert_true(got > 0);
    }
    assert_int_equal(multipart_read(m, b, sizeof b, &got, err), UG_OK);
    assert_int_equal(got, 0); /* the part's end */
    assert_memory_equal(b, "abc", 3);
    assert_int_equal(multipart_next(m, &more, &first, &last, err), UG_OK);
    assert_int_equal(more, 0);
    assert_int_equal(multipart_next(m, &more, &first, &last, err), UG_OK); /* stays closed */
    assert_int_equal(more, 0);
    multipart_close(m);
}

static void test_malformed(void **state)
{
    (void)state;
    static const char *bad[] = {
        "", /* no delimiter at all */
        "\r\n--00000000000000000001\r\nContent-Range: bytes 0-9/100\r\n\r\nshort\r\n"
        "--00000000000000000001--\r\n", /* a part longer than what follows */
        "\r\n--00000000000000000001\r\nContent-Type: text/plain\r\n\r\nabc\r\n"
        "--00000000000000000001--\r\n", /* no Content-Range */
        "\r\n--00000000000000000001\r\nContent-Range: bytes 5-4/100\r\n\r\n\r\n", /* reversed */
        "\r\n--00000000000000000001\r\nContent-Range: bytes 0-1/100\r\n"
        "Content-Range: bytes 0-1/100\r\n\r\nab\r\n--00000000000000000001--\r\n", /* twice */
        "\r\n--00000000000000000001\r\nContent-Range: bytes 0-1/100\r\n\r\nabXX\r\n"
        "--00000000000000000001--\r\n", /* more bytes than its range */
        "\r\n--00000000000000000001\r\nContent-Range: bytes 0-1/100\r\n\r\nab\r\n"
        "--another\r\n",                                                  /* a foreign delimiter */
        "\r\n--00000000000000000001\r\nContent-Range: bytes 0-1/100\r\n", /* ends in headers */
        "a\nb\nc\nd\ne\nf\ng\nh\ni\n--00000000000000000001--\r\n",        /* preamble too long */
    };
    char out[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (read_all(bad[i], 7, out, sizeof out) != UG_ERR_UNUSABLE)
            fail_msg("body %zu was not refused (read: %s)", i, out);
}

static void test_headers(void **state)
{
    (void)state;
    char b[MULTIPART_BOUNDARY_MAX + 1];
    uint64_t first, last;
    assert_int_equal(multipart_boundary("multipart/byteranges; boundary=00000000000000000001", b),
                     0);
    assert_string_equal(b, "00000000000000000001");
    assert_int_equal(multipart_boundary("Multipart/ByteRanges;charset=x; boundary=\"a b\"", b), 0);
    assert_string_equal(b, "a b");
    assert_int_equal(multipart_boundary("application/octet-stream", b), -1);
    assert_int_equal(multipart_boundary("multipart/byteranges", b), -1);
    assert_int_equal(multipart_boundary("multipart/byteranges; boundary=\"open", b), -1);
    assert_int_equal(multipart_content_range("bytes 10-19/100", &first, &last), 0);
    assert_true(first == 10 && last == 19);
    assert_int_equal(multipart_content_range(" bytes 0-0/*", &first, &last), 0);
    assert_int_equal(multipart_content_range("bytes 10-100/100", &first, &last), -1);
    assert_int_equal(multipart_content_range("bytes 9-8/100", &first, &last), -1);
    assert_int_equal(multipart_content_range("bytes 0-99999999999999999999/*", &first, &last), -1);
    assert_int_equal(multipart_content_range("items 0-1/2", &first, &last), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nginx_answer),
        cmocka_unit_test(test_part_skipped),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_headers),
    };
    return cmocka_run_group_tests_name("multipart", tests, NULL, NULL);
}
