/* SPDX-License-Identifier: MIT */
/* The command line shared by upgrader and bootctl (cli.h): global options, dispatch to one
 * function a command, and the one line a failure prints. */
#include "common/cli.h"

#include <string.h>

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
        char err[UG_ERRBUF] = "";
        ug_err rc = cmd->run(where, argc - i, argv + i, err);
        if (prog->one_failure_code && rc != UG_OK && rc != UG_ERR_USAGE)
            rc = UG_ERR_OTHER;
        if (rc != UG_OK)
            fprintf(stderr, "%s %s: %s\n", prog->name, cmd->name, err[0] ? err : ug_err_name(rc));
        return (int)rc;
    }
    fprintf(stderr, "%s: unknown command '%s' (see %s --help)\n", prog->name, argv[i], prog->name);
    return UG_ERR_USAGE;
}
