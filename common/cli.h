/* SPDX-License-Identifier: MIT */
/* The command line shared by upgrader and bootctl: one global option naming where the state
 * lives (--root DIR, --env PATH), --help, then COMMAND [ARGS] from a table (COMMAND --help);
 * errors in a line. */
#ifndef UPGRADER_CLI_H
#define UPGRADER_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "common/error.h"

/* argv[0] is the command name; on failure err (UG_ERRBUF bytes) says why. */
typedef ug_err (*cli_command_fn)(const char *where, int argc, char **argv, char *err);

struct cli_command {
    const char *name;
    cli_command_fn run;
    const char *usage; /* its lines in the program's --help (the program prints them) */
};

struct cli_program {
    const char *name;           /* "upgrader": the first word of every message */
    const char *option;         /* "--root": the global option naming where the state lives */
    const char *option_default; /* where, without the option */
    const char *option_needs;   /* "a folder": said when the option's value is empty */
    void (*usage)(FILE *out);   /* the whole --help text */
    const struct cli_command *commands;
    size_t ncommands;
    int one_failure_code; /* 1: every failure but bad usage exits UG_ERR_OTHER (bootctl) */
};

/* Writes text to out with every character that could drive a terminal shown instead as
 * \xNN (C0 controls but line feed and tab, DEL, bytes that are not UTF-8) or \uNNNN (C1
 * controls): what a server or a stored value says can never recolour, move or retitle the
 * operator's terminal. */
void cli_print(FILE *out, const char *text);
/* Reads the global options (--help: the program's usage on stdout, exit 0), runs the named
 * command (COMMAND --help: its usage lines, exit 0), prints a failure as "NAME COMMAND: why"
 * on stderr and returns the exit code for main(). */
int cli_main(const struct cli_program *prog, int argc, char **argv);

#endif
