/* SPDX-License-Identifier: MIT */
/* Entry point of bootctl: the A/B boot control command line of docs/bootstate.md over the
 * boot-state store of any backend; `boot` is the reference slot selection a bootloader runs. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootctl/bootstate.h"
#include "common/cli.h"
#include "common/error.h"

/* --backend NAME: which store backend; cli.c knows one global option (--env), so this one
 * is taken out of argv before it looks (take_backend_option). */
static const char *backend_name = BOOTSTATE_DEFAULT_BACKEND;

static void usage(FILE *out)
{
    char known[256];
    bootstate_backend_names(known, sizeof known);
    fprintf(
        out,
        "usage: bootctl [--backend NAME] [--env PATH] COMMAND\n\n"
        "A/B boot control: which slot boots, its tries left and its successful flag.\n"
        "--backend NAME is how the boot state is kept (default " BOOTSTATE_DEFAULT_BACKEND
        "; this build has: %s).\n"
        "--env PATH is where: for file, the file holding the state's two copies (default\n" BOOTSTATE_DEFAULT_ENV
        "); for grub, the grubenv the bootloader loads (its second\n"
        "copy is PATH.1); for uboot, the fw_env.config naming the U-Boot environment.\n\n"
        "commands:\n"
        "  status [--json]          both slots, the booted slot, whether the last boot was a\n"
        "                           fallback, and the health of the two stored copies\n"
        "  current                  print the booted slot (A or B)\n"
        "  set-active A|B [--tries N]\n"
        "                           give the slot top priority and N boot tries (1-%d, default %d)\n"
        "  mark-good                the booted slot becomes successful\n"
        "  mark-bad A|B             the slot loses its priority, tries and successful flag\n"
        "  boot                     choose the slot to boot as a bootloader would, use up one\n"
        "                           try of a slot not yet successful, print its letter\n\n"
        "RAUC's custom-backend verbs (bootloader-custom-backend=bootctl ...):\n"
        "  get-primary              print the slot that boots next (A or B)\n"
        "  set-primary A|B          set-active with the default tries\n"
        "  get-state A|B            print good (bootable) or bad\n"
        "  set-state A|B good|bad   mark the slot good (successful) or bad\n"
        "  get-current              print the booted slot (as current)\n\n"
        "With grub and uboot the booted slot is the kernel command line's upgrader.slot= or\n"
        "rauc.slot=, else what the bootloader recorded; GRUB gives a slot one try.\n\n"
        "set-active, set-primary, set-state, mark-good, mark-bad and boot wait up to %d s for\n"
        "another process changing the state (it holds PATH" BOOTSTATE_LOCK_SUFFIX ").\n\n"
        "exit codes: 0 done, 1 failed (e.g. no bootable slot, no valid state), 2 bad usage\n",
        known, BOOTSTATE_TRIES_MAX, BOOTSTATE_TRIES_DEFAULT, BOOTSTATE_LOCK_WAIT_MS / 1000);
}

/* Writes only when something changed or a copy needs repair: `boot` of a good slot runs at
 * every power-on and must not wear the flash. */
static ug_err save_if_needed(const struct bootstate_store *store, const struct bootstate *before,
                             struct bootstate *after, char *err)
{
    const struct bootstate_health *h = &before->health;
    bool healthy = h->serving >= 0;
    for (int n = 0; n < h->copies; n++)
        healthy = healthy && h->copy[n] == BOOTSTATE_COPY_VALID;
    if (healthy && bootstate_equal(before, after))
        return UG_OK;
    return bootstate_store_save(store, after, err);
}

/* The store every command works on: --backend's, at --env's location. */
static ug_err open_store(const char *env, struct bootstate_store *store, char *err)
{
    return bootstate_store_init(store, backend_name, env, err);
}

static json_object *slot_json(const struct bootstate_slot *s)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "priority", json_object_new_int((int)s->priority));
    json_object_object_add(o, "tries", json_object_new_int((int)s->tries));
    json_object_object_add(o, "successful", json_object_new_boolean(s->successful));
    json_object_object_add(o, "bootable", json_object_new_boolean(bootstate_slot_bootable(s)));
    json_object_object_add(o, "version", json_object_new_string(s->version));
    return o;
}

static void print_json(const struct bootstate_store *store, const struct bootstate *st, bool valid)
{
    json_object *root = json_object_new_object();
    json_object_object_add(root, "backend", json_object_new_string(store->backend->name));
    json_object_object_add(root, "env", json_object_new_string(store->location));
    json_object_object_add(root, "valid", json_object_new_boolean(valid));
    if (valid) {
        char booted[2] = {bootstate_slot_letter(st->booted), '\0'};
        json_object *slots = json_object_new_object();
        json_object_object_add(slots, "A", slot_json(&st->slot[BOOTSTATE_SLOT_A]));
        json_object_object_add(slots, "B", slot_json(&st->slot[BOOTSTATE_SLOT_B]));
        json_object_object_add(root, "slots", slots);
        json_object_object_add(root, "booted", json_object_new_string(booted));
        json_object_object_add(root, "fallback", json_object_new_boolean(st->fallback));
    } else {
        json_object_object_add(root, "slots", NULL);
        json_object_object_add(root, "booted", NULL);
        json_object_object_add(root, "fallback", NULL);
    }
    json_object *store_json = json_object_new_object();
    json_object *copies = json_object_new_array();
    for (int n = 0; n < st->health.copies; n++) {
        json_object *c = json_object_new_object();
        json_object_object_add(
            c, "status", json_object_new_string(bootstate_copy_status_name(st->health.copy[n])));
        json_object_object_add(c, "valid",
                               json_object_new_boolean(st->health.copy[n] == BOOTSTATE_COPY_VALID));
        json_object_object_add(c, "generation",
                               json_object_new_int64((int64_t)st->health.generation[n]));
        json_object_array_add(copies, c);
    }
    json_object_object_add(store_json, "copies", copies);
    json_object_object_add(store_json, "serving",
                           st->health.serving >= 0 ? json_object_new_int(st->health.serving)
                                                   : NULL);
    json_object_object_add(root, "store", store_json);
    printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                                                            JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(root);
}

static void print_text(const struct bootstate_store *store, const struct bootstate *st, bool valid)
{
    if (valid) {
        for (int s = 0; s < BOOTSTATE_SLOTS; s++) {
            const struct bootstate_slot *c = &st->slot[s];
            printf("slot %c: priority %u, tries %u, %s, %s, version %s%s\n",
                   bootstate_slot_letter(s), c->priority, c->tries,
                   c->successful ? "successful" : "not successful",
                   bootstate_slot_bootable(c) ? "bootable" : "not bootable",
                   c->version[0] ? c->version : "(none)", s == st->booted ? "  <- booted" : "");
        }
        printf("booted: %c\n", bootstate_slot_letter(st->booted));
        printf("last boot: %s\n",
               st->fallback ? "fallback (the top-priority slot ran out of tries)" : "normal");
    } else {
        printf(
            "boot state: NONE VALID; `bootctl boot` will start over from a fresh state that boots slot A\n");
    }
    printf("store %s (%s):", store->location, store->backend->name);
    for (int n = 0; n < st->health.copies; n++) {
        printf("%s copy %d %s", n ? "," : "", n, bootstate_copy_status_name(st->health.copy[n]));
        if (st->health.copy[n] == BOOTSTATE_COPY_VALID)
            printf(" (generation %llu)", (unsigned long long)st->health.generation[n]);
    }
    printf("\n");
}

static ug_err cmd_status(const char *env, int argc, char **argv, char *err)
{
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else
            return ug_fail(err, UG_ERR_USAGE, "status: unexpected argument '%s'", argv[i]);
    }
    struct bootstate_store store;
    struct bootstate st;
    ug_err rc = open_store(env, &store, err);
    if (rc == UG_OK)
        rc = bootstate_store_load(&store, &st, err);
    if (rc != UG_OK && rc != UG_ERR_UNUSABLE)
        return rc;
    if (json)
        print_json(&store, &st, rc == UG_OK);
    else
        print_text(&store, &st, rc == UG_OK);
    /* Printed, and still a failure: a script must not read "no state" as "all well". */
    return rc == UG_OK ? UG_OK : UG_ERR_OTHER;
}

/* The store's lock, taken by a command that changes the state once its arguments are
 * checked, from its load until main() ends the command (after the save). */
static int change_lock = -1;

/* Names the store, takes its lock, then loads the state a change starts from. */
static ug_err lock_and_load(const char *env, struct bootstate_store *store, struct bootstate *st,
                            char *err)
{
    ug_err rc = open_store(env, store, err);
    if (rc == UG_OK)
        rc = bootstate_store_lock(store, BOOTSTATE_LOCK_WAIT_MS, &change_lock, err);
    return rc == UG_OK ? bootstate_store_load(store, st, err) : rc;
}

/* Loads the state for a command that changes it; a store without a valid copy is an
 * error here (only `boot` may start over). */
static ug_err load_for_change(const char *env, struct bootstate_store *store, struct bootstate *st,
                              char *err)
{
    ug_err rc = lock_and_load(env, store, st, err);
    return rc == UG_ERR_UNUSABLE ? UG_ERR_OTHER : rc;
}

static ug_err cmd_current(const char *env, int argc, char **argv, char *err)
{
    if (argc > 1)
        return ug_fail(err, UG_ERR_USAGE, "current: unexpected argument '%s'", argv[1]);
    struct bootstate_store store;
    struct bootstate st;
    ug_err rc = open_store(env, &store, err);
    if (rc == UG_OK)
        rc = bootstate_store_load(&store, &st, err); /* a reader: no lock */
    if (rc == UG_OK)
        printf("%c\n", bootstate_slot_letter(st.booted));
    return rc == UG_ERR_UNUSABLE ? UG_ERR_OTHER : rc;
}

static ug_err parse_slot(const char *cmd, const char *text, int *slot, char *err)
{
    *slot = bootstate_slot_from_letter(text);
    if (*slot < 0)
        return ug_fail(err, UG_ERR_USAGE, "%s: '%s' is not a slot (A or B)", cmd, text);
    return UG_OK;
}

static ug_err parse_tries(const char *text, unsigned *tries, char *err)
{
    char *end = NULL;
    long n = strtol(text, &end, 10);
    if (end == text || *end || n < 1 || n > BOOTSTATE_TRIES_MAX)
        return ug_fail(err, UG_ERR_USAGE, "set-active: --tries '%s' is not a number from 1 to %d",
                       text, BOOTSTATE_TRIES_MAX);
    *tries = (unsigned)n;
    return UG_OK;
}

static ug_err cmd_set_active(const char *env, int argc, char **argv, char *err)
{
    const char *slot_text = NULL;
    unsigned tries = BOOTSTATE_TRIES_DEFAULT;
    ug_err rc = UG_OK;
    for (int i = 1; i < argc && rc == UG_OK; i++) {
        if (strcmp(argv[i], "--tries") == 0) {
            if (i + 1 >= argc)
                return ug_fail(err, UG_ERR_USAGE, "set-active: --tries needs a number");
            rc = parse_tries(argv[++i], &tries, err);
        } else if (strncmp(argv[i], "--tries=", 8) == 0) {
            rc = parse_tries(argv[i] + 8, &tries, err);
        } else if (!slot_text && argv[i][0] != '-') {
            slot_text = argv[i];
        } else {
            return ug_fail(err, UG_ERR_USAGE, "set-active: unexpected argument '%s'", argv[i]);
        }
    }
    if (rc != UG_OK)
        return rc;
    if (!slot_text)
        return ug_fail(err, UG_ERR_USAGE, "set-active: which slot? (A or B)");
    int slot;
    if ((rc = parse_slot("set-active", slot_text, &slot, err)) != UG_OK)
        return rc;
    struct bootstate_store store;
    struct bootstate st;
    if ((rc = load_for_change(env, &store, &st, err)) != UG_OK)
        return rc;
    struct bootstate before = st;
    if ((rc = bootstate_set_active(&st, slot, tries, err)) != UG_OK)
        return rc;
    return save_if_needed(&store, &before, &st, err);
}

static ug_err cmd_mark_good(const char *env, int argc, char **argv, char *err)
{
    if (argc > 1)
        return ug_fail(err, UG_ERR_USAGE, "mark-good: unexpected argument '%s'", argv[1]);
    struct bootstate_store store;
    struct bootstate st;
    ug_err rc = load_for_change(env, &store, &st, err);
    if (rc != UG_OK)
        return rc;
    struct bootstate before = st;
    if ((rc = bootstate_mark_good(&st, err)) != UG_OK)
        return rc;
    return save_if_needed(&store, &before, &st, err);
}

static ug_err cmd_mark_bad(const char *env, int argc, char **argv, char *err)
{
    if (argc != 2)
        return ug_fail(err, UG_ERR_USAGE,
                       argc < 2 ? "mark-bad: which slot? (A or B)"
                                : "mark-bad: takes one slot (A or B)");
    int slot;
    ug_err rc = parse_slot("mark-bad", argv[1], &slot, err);
    if (rc != UG_OK)
        return rc;
    struct bootstate_store store;
    struct bootstate st;
    if ((rc = load_for_change(env, &store, &st, err)) != UG_OK)
        return rc;
    struct bootstate before = st;
    if ((rc = bootstate_mark_bad(&st, slot, err)) != UG_OK)
        return rc;
    return save_if_needed(&store, &before, &st, err);
}

static ug_err cmd_boot(const char *env, int argc, char **argv, char *err)
{
    if (argc > 1)
        return ug_fail(err, UG_ERR_USAGE, "boot: unexpected argument '%s'", argv[1]);
    struct bootstate_store store;
    struct bootstate st;
    ug_err rc = lock_and_load(env, &store, &st, err);
    if (rc == UG_ERR_UNUSABLE) {
        /* A device with no readable state must still boot: slot A is the factory slot. */
        fprintf(stderr,
                "bootctl: warning: %s; starting over from a fresh state that boots slot A\n", err);
        struct bootstate_health health = st.health;
        rc = bootstate_init_fresh(&st, "", err);
        st.health = health;
    }
    if (rc != UG_OK)
        return rc;
    struct bootstate before = st;
    int slot;
    if ((rc = bootstate_select_boot(&st, &slot, err)) != UG_OK)
        return rc;
    /* The used-up try must be on the medium before the slot is reported: a slot that
     * hangs before the write would otherwise be tried for ever. */
    if ((rc = save_if_needed(&store, &before, &st, err)) != UG_OK)
        return rc;
    printf("%c\n", bootstate_slot_letter(slot));
    return UG_OK;
}

/* ---- RAUC's custom-backend contract: same state, RAUC's words ---- */

/* Loads the state for a reader (no lock); a store without a valid state fails. */
static ug_err load_for_read(const char *env, struct bootstate_store *store, struct bootstate *st,
                            char *err)
{
    ug_err rc = open_store(env, store, err);
    if (rc == UG_OK)
        rc = bootstate_store_load(store, st, err);
    return rc == UG_ERR_UNUSABLE ? UG_ERR_OTHER : rc;
}

static ug_err cmd_get_primary(const char *env, int argc, char **argv, char *err)
{
    if (argc > 1)
        return ug_fail(err, UG_ERR_USAGE, "get-primary: unexpected argument '%s'", argv[1]);
    struct bootstate_store store;
    struct bootstate st;
    ug_err rc = load_for_read(env, &store, &st, err);
    if (rc != UG_OK)
        return rc;
    int primary = bootstate_primary(&st);
    if (primary < 0)
        return ug_fail(err, UG_ERR_OTHER, "no bootable slot");
    printf("%c\n", bootstate_slot_letter(primary));
    return UG_OK;
}

static ug_err cmd_set_primary(const char *env, int argc, char **argv, char *err)
{
    if (argc != 2)
        return ug_fail(err, UG_ERR_USAGE, "set-primary: takes one slot (A or B)");
    int slot;
    ug_err rc = parse_slot("set-primary", argv[1], &slot, err);
    struct bootstate_store store;
    struct bootstate st;
    if (rc != UG_OK || (rc = load_for_change(env, &store, &st, err)) != UG_OK)
        return rc;
    struct bootstate before = st;
    if ((rc = bootstate_set_active(&st, slot, BOOTSTATE_TRIES_DEFAULT, err)) != UG_OK)
        return rc;
    return save_if_needed(&store, &before, &st, err);
}

static ug_err cmd_get_state(const char *env, int argc, char **argv, char *err)
{
    if (argc != 2)
        return ug_fail(err, UG_ERR_USAGE, "get-state: takes one slot (A or B)");
    int slot;
    ug_err rc = parse_slot("get-state", argv[1], &slot, err);
    struct bootstate_store store;
    struct bootstate st;
    if (rc != UG_OK || (rc = load_for_read(env, &store, &st, err)) != UG_OK)
        return rc;
    printf("%s\n", bootstate_slot_good(&st, slot) ? "good" : "bad");
    return UG_OK;
}

static ug_err cmd_set_state(const char *env, int argc, char **argv, char *err)
{
    if (argc != 3 || (strcmp(argv[2], "good") != 0 && strcmp(argv[2], "bad") != 0))
        return ug_fail(err, UG_ERR_USAGE, "set-state: takes a slot (A or B) and good or bad");
    int slot;
    ug_err rc = parse_slot("set-state", argv[1], &slot, err);
    struct bootstate_store store;
    struct bootstate st;
    if (rc != UG_OK || (rc = load_for_change(env, &store, &st, err)) != UG_OK)
        return rc;
    struct bootstate before = st;
    rc = strcmp(argv[2], "good") == 0 ? bootstate_mark_slot_good(&st, slot, err)
                                      : bootstate_mark_bad(&st, slot, err);
    return rc == UG_OK ? save_if_needed(&store, &before, &st, err) : rc;
}

/* The help text (usage() above) lists the commands, so the table has no usage lines. */
static const struct cli_command commands[] = {
    {"status", cmd_status, NULL},           {"current", cmd_current, NULL},
    {"set-active", cmd_set_active, NULL},   {"mark-good", cmd_mark_good, NULL},
    {"mark-bad", cmd_mark_bad, NULL},       {"boot", cmd_boot, NULL},
    {"get-primary", cmd_get_primary, NULL}, {"set-primary", cmd_set_primary, NULL},
    {"get-state", cmd_get_state, NULL},     {"set-state", cmd_set_state, NULL},
    {"get-current", cmd_current, NULL},
};

/* Takes --backend NAME (or --backend=NAME) out of the global options, those before the
 * command, and leaves the rest in argv for cli_main; UG_ERR_USAGE for a missing or unknown
 * name, checked before any command runs. */
static ug_err take_backend_option(int *argc, char **argv, char *err)
{
    int out = 1, i = 1;
    for (; i < *argc && argv[i][0] == '-'; i++) {
        const char *name;
        if (strcmp(argv[i], "--backend") == 0) {
            name = i + 1 < *argc ? argv[++i] : "";
        } else if (strncmp(argv[i], "--backend=", 10) == 0) {
            name = argv[i] + 10;
        } else {
            argv[out++] = argv[i];
            if (strcmp(argv[i], "--env") == 0 && i + 1 < *argc)
                argv[out++] = argv[++i];
            continue;
        }
        char known[256];
        bootstate_backend_names(known, sizeof known);
        if (!name[0])
            return ug_fail(err, UG_ERR_USAGE, "--backend needs a name (known: %s)", known);
        if (!bootstate_backend_find(name))
            return ug_fail(err, UG_ERR_USAGE, "unknown boot-state backend '%.64s' (known: %s)",
                           name, known);
        backend_name = name;
    }
    while (i < *argc)
        argv[out++] = argv[i++];
    argv[out] = NULL;
    *argc = out;
    return UG_OK;
}

int main(int argc, char **argv)
{
    char err[UG_ERRBUF];
    if (take_backend_option(&argc, argv, err) != UG_OK) {
        fprintf(stderr, "bootctl: %s\n", err);
        return UG_ERR_USAGE;
    }
    /* bootctl's contract has three codes; the store's finer ones all mean "failed". */
    const struct cli_program bootctl = {
        .name = "bootctl",
        .option = "--env",
        .option_default = bootstate_backend_find(backend_name)->default_location,
        .option_needs = "a path",
        .usage = usage,
        .commands = commands,
        .ncommands = sizeof commands / sizeof commands[0],
        .one_failure_code = 1,
    };
    int rc = cli_main(&bootctl, argc, argv);
    bootstate_unlock(&change_lock); /* what a changing command took, after its save */
    return rc;
}
