/* SPDX-License-Identifier: MIT */
/* The command line shared by upgrader and bootctl (cli.h): global options, dispatch to one
 * function a command, and the one line a failure prints. */
#include "common/cli.h"

#include <string.h>

/* The length of the valid UTF-8 sequence at s (2..4), 0 when there is none. */
static size_t utf8_tail(const unsigned char *s)
{
    size_t n = (s[0] & 0xE0) == 0xC0   ? 2
               : (s[0] & 0xF0) == 0xE0 ? 3
               : (s[0] & 0xF8) == 0xF0 ? 4
                                       : 0;
    if (n == 0 || (n == 2 && s[0] < 0xC2) || (s[0] == 0xE0 && s[1] < 0xA0) ||
        (s[0] == 0xED && s[1] > 0x9F) || (s[0] == 0xF0 && s[1] < 0x90) || s[0] > 0xF4 ||
        (s[0] == 0xF4 && s[1] > 0x8F))
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

void cli_print(FILE *out, const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        size_t n = *p < 0x80 ? 1 : utf8_tail(p);
        if (*p == '\n' || *p == '\t' || (*p >= 0x20 && *p < 0x7f)) {
            fputc(*p, out);
        } else if (n == 2 && p[0] == 0xC2 && p[1] < 0xA0) { /* C1: U+0080..U+009F */
            fprintf(out, "\\u%04x", p[1]);
        } else if (n > 1) {
            fwrite(p, 1, n, out);
        } else {
            fprintf(out, "\\x%02x", *p);
            n = 1;
        }
        p += n;
    }
}

int cli_main(const struct cli_program *prog, int argc, char **argv)
{
    const char *where = prog->option_default;
    size_t optlen = strlen(prog->option);
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            prog->usage(stdout);
            return 0;
        } else if (strcmp(argv[i], prog->option) == 0 && i + 1 < argc) {
            where = argv[++i];
        } else if (strncmp(argv[i], prog->option, optlen) == 0 && argv[i][optlen] == '=') {
            where = argv[i] + optlen + 1;
        } else {
            fprintf(stderr, "%s: unknown or incomplete option '%s' (see %s --help)\n", prog->name,
                    argv[i], prog->name);
            return UG_ERR_USAGE;
        }
    }
    if (!where[0]) {
        fprintf(stderr, "%s: %s needs %s\n", prog->name, prog->option, prog->option_needs);
        return UG_ERR_USAGE;
    }
    if (i >= argc) {
        prog->usage(stderr);
        return UG_ERR_USAGE;
    }
    for (size_t c = 0; c < prog->ncommands; c++) {
        const struct cli_command *cmd = &prog->commands[c];
        if (strcmp(argv[i], cmd->name) != 0)
            continue;
        /* COMMAND --help (or -h) as its first argument: that command's lines, or the whole
         * help for a program whose commands have none of their own. Only the first argument,
         * so a value such as `param set NAME -h` still reaches its command. */
        if (i + 1 < argc &&
            (strcmp(argv[i + 1], "--help") == 0 || strcmp(argv[i + 1], "-h") == 0)) {
            if (cmd->usage)
                printf("usage: %s %s\n", prog->name, cmd->usage);
            else
                prog->usage(stdout);
            return 0;
        }
        char err[UG_ERRBUF] = "";
        ug_err rc = cmd->run(where, argc - i, argv + i, err);
        if (prog->one_failure_code && rc != UG_OK && rc != UG_ERR_USAGE)
            rc = UG_ERR_OTHER;
        if (rc != UG_OK) {
            fprintf(stderr, "%s %s: ", prog->name, cmd->name);
            cli_print(stderr, err[0] ? err : ug_err_name(rc));
            fputc('\n', stderr);
        }
        return (int)rc;
    }
    fprintf(stderr, "%s: unknown command '%s' (see %s --help)\n", prog->name, argv[i], prog->name);
    return UG_ERR_USAGE;
}
