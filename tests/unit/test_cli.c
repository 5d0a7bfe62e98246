/* SPDX-License-Identifier: MIT */
/* Unit tests of cli.c: the global option, --help for the program and for one command, the
 * dispatch and its exit codes, the one line a failure prints, and cli_print's escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/cli.h"

/* ---- a program of two commands, recording what they were given */

static char seen_where[64];
static int seen_argc;
static char seen_arg1[64];

static ug_err cmd_ok(const char *where, int argc, char **argv, char *err)
{
    (void)err;
    snprintf(seen_where, sizeof seen_where, "%s", where);
    seen_argc = argc;
    snprintf(seen_arg1, sizeof seen_arg1, "%s", argc > 1 ? argv[1] : "");
    return UG_OK;
}

static ug_err cmd_fail(const char *where, int argc, char **argv, char *err)
{
    (void)where, (void)argc, (void)argv;
    return ug_fail(err, UG_ERR_UNREACHABLE, "server \x1b[31mgone");
}

static const struct cli_command commands[] = {
    {"go", cmd_ok, "go [--fast]\n      does it"},
    {"fail", cmd_fail, NULL},
};

static void usage(FILE *out)
{
    fputs("usage: prog [--state DIR] COMMAND\nWHOLE HELP\n", out);
}

static const struct cli_program prog = {
    .name = "prog",
    .option = "--state",
    .option_default = "/default",
    .option_needs = "a folder",
    .usage = usage,
    .commands = commands,
    .ncommands = 2,
};

/* What the last run() printed on stdout and stderr. */
static char out[512], errs[512];

/* Runs cli_main on the words given (ending with NULL), catching stdout and stderr in out and
 * errs. */
static int run(const char *first, ...)
{
    char *argv[16] = {"prog", (char *)first};
    int argc = first ? 2 : 1;
    va_list ap;
    va_start(ap, first);
    for (char *a; first && argc < 15 && (a = va_arg(ap, char *)) != NULL;)
        argv[argc++] = a;
    va_end(ap);
    FILE *o = tmpfile(), *e = tmpfile();
    assert_non_null(o);
    assert_non_null(e);
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    dup2(fileno(o), 1);
    dup2(fileno(e), 2);
    int rc = cli_main(&prog, argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    FILE *files[2] = {o, e};
    char *bufs[2] = {out, errs};
    for (int i = 0; i < 2; i++) {
        rewind(files[i]);
        size_t n = fread(bufs[i], 1, sizeof out - 1, files[i]);
        bufs[i][n] = '\0';
        fclose(files[i]);
    }
    return rc;
}

static void test_dispatch_and_option(void **state)
{
    (void)state;
    assert_int_equal(run("go", "x", NULL), 0);
    assert_string_equal(seen_where, "/default");
    assert_int_equal(seen_argc, 2);
    assert_string_equal(seen_arg1, "x");
    assert_int_equal(run("--state", "/s", "go", NULL), 0);
    assert_string_equal(seen_where, "/s");
    assert_int_equal(run("--state=/t", "go", NULL), 0);
    assert_string_equal(seen_where, "/t");
    assert_string_equal(errs, "");
}

static void test_bad_usage(void **state)
{
    (void)state;
    assert_int_equal(run("nope", NULL), UG_ERR_USAGE);
    assert_string_equal(errs, "prog: unknown command 'nope' (see prog --help)\n");
    assert_int_equal(run("--bogus", "go", NULL), UG_ERR_USAGE);
    assert_string_equal(errs, "prog: unknown or incomplete option '--bogus' (see prog --help)\n");
    assert_int_equal(run("--state=", "go", NULL), UG_ERR_USAGE);
    assert_string_equal(errs, "prog: --state needs a folder\n");
    /* No command: the help, on stderr, as bad usage. */
    assert_int_equal(run(NULL), UG_ERR_USAGE);
    assert_non_null(strstr(errs, "WHOLE HELP"));
    assert_string_equal(out, "");
}

static void test_help(void **state)
{
    (void)state;
    assert_int_equal(run("--help", NULL), 0);
    assert_non_null(strstr(out, "WHOLE HELP"));
    /* A command's own lines, and nothing run. */
    seen_argc = 0;
    assert_int_equal(run("go", "--help", NULL), 0);
    assert_string_equal(out, "usage: prog go [--fast]\n      does it\n");
    assert_string_equal(errs, "");
    assert_int_equal(seen_argc, 0);
    assert_int_equal(run("go", "-h", NULL), 0);
    assert_string_equal(out, "usage: prog go [--fast]\n      does it\n");
    /* A command without lines of its own: the whole help. */
    assert_int_equal(run("fail", "--help", NULL), 0);
    assert_non_null(strstr(out, "WHOLE HELP"));
    /* Past the first argument it is the command's to read (a value may be "-h"). */
    assert_int_equal(run("go", "x", "-h", NULL), 0);
    assert_int_equal(seen_argc, 3);
    assert_string_equal(out, "");
}

static void test_failure_line(void **state)
{
    (void)state;
    assert_int_equal(run("fail", NULL), UG_ERR_UNREACHABLE);
    /* One line, named, and the escape sequence from "the server" shown, not obeyed. */
    assert_string_equal(errs, "prog fail: server \\x1b[31mgone\n");
}

static void test_print_escapes(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    cli_print(f, "a\tb\nc\x07\x7f \xc2\x9b \xc3\xa9 \xff \xe2\x82");
    fclose(f);
    assert_string_equal(text, "a\tb\nc\\x07\\x7f \\u009b \xc3\xa9 \\xff \\xe2\\x82");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dispatch_and_option),
        cmocka_unit_test(test_bad_usage),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_failure_line),
        cmocka_unit_test(test_print_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
