/* SPDX-License-Identifier: MIT */
/* Entry point of the upgrader program: global options and command dispatch only;
 * each command lives in its own cmd_*.c module. */
#include <stdio.h>
#include <string.h>

#include "cmd/commands.h"
#include "common/cli.h"
#include "common/error.h"
#include "device/device.h"

static const struct cli_command commands[] = {
    {"init", cmd_init,
     "init [--mac M] [--serial S] [--product P] [--psn N] [--hwver H] [--version V]\n"
     "      [--slot-size N] [--keyring PEM] [--ca PEM] [--client-cert PEM --client-key PEM]\n"
     "      create a simulated device in the state folder ($PSN derived from --product:\n"
     "      CP-8841-3PCC gives 8841-3PCC, SPA504G 504G, ATA191-MPP 191)"},
    {"call", cmd_call,
     "call start|end|status\n"
     "      the SIP stack reports a call began or ended; reboots wait until none is active"},
    {"resync", cmd_resync,
     "resync [RULE] [--timeout S]\n"
     "      one resync now: Profile_Rule, _B, _C, _D in order (or DHCP's rule for a factory\n"
     "      Profile_Rule), or RULE alone; prints each file applied and each value ignored"},
    {"status", cmd_status,
     "status [--json]\n"
     "      provisioning state, last resync and LED, slots, calls, upgrade progress"},
    {"factory-reset", cmd_factory_reset,
     "factory-reset\n"
     "      every parameter back to its default, state MFG-RESET (unless Protect_Factory_Reset)"},
    {"dhcp", cmd_dhcp,
     "dhcp [--option66 V] [--option150 V] [--option159 V] [--option160 V]\n"
     "      record the lease's provisioning servers, URLs or rules (called by the DHCP hooks)"},
    {"apply", cmd_apply,
     "apply FILE [--key K] [--alias a..p]\n"
     "      apply a local profile (XML or text, gzip, encrypted) in one atomic change; a value\n"
     "      the device cannot use is ignored (or an empty one defaulted), one line each"},
    {"param", cmd_param,
     "param get NAME [--as user] [--show-secrets] | param set NAME VALUE [--as user]\n"
     "      | param list [--as user] | param export [--as user] [--show-secrets] | param doc\n"
     "      read and change the parameter store"},
    {"upgrade", cmd_upgrade,
     "upgrade [RULE|URL] [--no-reboot] [--force]\n"
     "      one upgrade pass: plan, write the next hop into the inactive slot, switch, reboot when idle"},
    {"boot", cmd_boot,
     "boot [--no-reboot]\n"
     "      run once at every boot: confirm the new slot (health check, mark good, next hop) or report a rollback"},
    {"daemon", cmd_daemon,
     "daemon [--pidfile FILE] [--log stderr|syslog] [--listen ADDR:PORT|off]\n"
     "      the agent in the foreground: schedules, a queue of work that waits for idle, call\n"
     "      state; while it runs, call, resync, upgrade and status go through it; its web\n"
     "      server (Enable_Web_Server, Web_Server_Port; --listen overrides) serves the pages\n"
     "      and the URL commands /admin/upgrade?RULE, /admin/resync[?RULE], /admin/reboot"},
    {"plan", cmd_plan,
     "plan --catalog FILE-or-URL [--to V|latest] [--from V] [--hw H] [--downgrade-limit V] [--json]\n"
     "      print the hops to V (default: from the running version, the device's hardware,\n"
     "      Downgrade_Rev_Limit; catalog checked with DIR/keyring.pem)"},
    {"pack", cmd_pack,
     "pack --product P --version V --hw H[,H2] --image FILE --key KEY --cert CERT\n"
     "      [--compress gzip|zstd|none] [--chunk-size N] [--slot NAME] -o OUT\n"
     "      [--frame-size N] [--block-size N] [--no-index] [--frames flush|members]\n"
     "      build a signed bundle (server side)"},
    {"sign", cmd_sign,
     "sign --key KEY --cert CERT [-o SIG] FILE\n"
     "      write FILE.sig, a detached DER CMS signature (server side)"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: upgrader [--root DIR] COMMAND [ARGS]\n\n"
                 "Firmware upgrade and provisioning agent for A/B devices.\n"
                 "--root DIR is the device's state folder (default " DEVICE_DEFAULT_ROOT ").\n\n"
                 "commands (COMMAND --help prints its lines alone):\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %s\n", commands[i].usage);
    fprintf(out, "\nexit codes: 0 done, 1 failed, 2 bad usage or input, 3 server unreachable,\n"
                 "4 file missing or unusable, 5 verification failed, 6 deferred (call active),\n"
                 "7 no upgrade path\n");
}

int main(int argc, char **argv)
{
    static const struct cli_program upgrader = {
        .name = "upgrader",
        .option = "--root",
        .option_default = DEVICE_DEFAULT_ROOT,
        .option_needs = "a folder",
        .usage = usage,
        .commands = commands,
        .ncommands = sizeof commands / sizeof commands[0],
    };
    return cli_main(&upgrader, argc, argv);
}
