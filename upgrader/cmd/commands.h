/* SPDX-License-Identifier: MIT */
/* The commands of the upgrader program (docs/design.md, "Commands"): one function a command,
 * each in its own cmd_*.c, called by main.c with the arguments after the command name. */
#ifndef UPGRADER_COMMANDS_H
#define UPGRADER_COMMANDS_H

#include "common/error.h"

/* Each is a cli_command_fn (cli.h): argv[0] is the command name, getopt-style parsing starts
 * at argv[1]; on failure it fills err (UG_ERRBUF bytes) and returns the exit code. */

ug_err cmd_init(const char *root, int argc, char **argv, char *err);
ug_err cmd_call(const char *root, int argc, char **argv, char *err);
ug_err cmd_param(const char *root, int argc, char **argv, char *err);
ug_err cmd_apply(const char *root, int argc, char **argv, char *err);
ug_err cmd_plan(const char *root, int argc, char **argv, char *err);
ug_err cmd_pack(const char *root, int argc, char **argv, char *err);
ug_err cmd_sign(const char *root, int argc, char **argv, char *err);
ug_err cmd_resync(const char *root, int argc, char **argv, char *err);
ug_err cmd_status(const char *root, int argc, char **argv, char *err);
ug_err cmd_factory_reset(const char *root, int argc, char **argv, char *err);
ug_err cmd_dhcp(const char *root, int argc, char **argv, char *err);
ug_err cmd_upgrade(const char *root, int argc, char **argv, char *err);
ug_err cmd_boot(const char *root, int argc, char **argv, char *err);
ug_err cmd_daemon(const char *root, int argc, char **argv, char *err);

#endif
