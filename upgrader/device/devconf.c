/* SPDX-License-Identifier: MIT */
/* DIR/device.conf: its keys checked and defaulted, and running its commands. Commands get the
 * state folder in $UPGRADER_ROOT, so the simulated device's lines need no quoting of paths. */
#include "device/devconf.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/blockdev.h"
#include "common/buf.h"
#include "common/fsutil.h"

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

/* The slot backends of upgrade/slots/slot.c, which device/ may not include (upgrade/ is
 * built on it); test_devconf checks that the two lists agree. */
static const char *const slot_backends[] = {"file", "block"};
#define NSLOT_BACKENDS (sizeof slot_backends / sizeof slot_backends[0])

enum kind {
    TEXT,              /* taken as written, even empty */
    PATH,              /* empty: the default; relative: inside the state folder; a device
                          tag (PARTLABEL=, PARTUUID=, ...) as written */
    BOOTSTATE_BACKEND, /* empty: the default; else a backend of bootstate.h */
    SLOT_BACKEND,      /* empty: the default; else one of slot_backends */
};

static const struct key {
    const char *name;
    enum kind kind;
    size_t offset, size;
    const char *fallback;          /* TEXT and backends: the default */
    enum state_file fallback_file; /* PATH: the default, a file of the state folder */
} keys[] = {
#define KEY(field, kind, fallback, file)                                                     \
    {                                                                                        \
#field, kind, offsetof(struct devconf, field), sizeof(((struct devconf *)0)->field), \
            fallback, file                                                                   \
    }
    KEY(reboot_command, TEXT, DEVCONF_DEFAULT_REBOOT, 0),
    KEY(health_check, TEXT, "", 0),
    KEY(bootstate_backend, BOOTSTATE_BACKEND, BOOTSTATE_DEFAULT_BACKEND, 0),
    KEY(bootstate_location, PATH, NULL, STATE_BOOTENV),
    KEY(slot_backend, SLOT_BACKEND, "file", 0),
    KEY(slot_a, PATH, NULL, STATE_SLOT_A),
    KEY(slot_b, PATH, NULL, STATE_SLOT_B),
#undef KEY
};
#define NKEYS (sizeof keys / sizeof keys[0])

/* Reading one device.conf: where its values go and what is said about it. */
struct reading {
    const char *root;
    const char *path; /* DIR/device.conf, for messages */
    struct devconf *c;
    int line[NKEYS]; /* where each key was last given a non-empty value; 0: not given */
};

static bool slot_backend_known(const char *name)
{
    for (size_t i = 0; i < NSLOT_BACKENDS; i++)
        if (strcmp(slot_backends[i], name) == 0)
            return true;
    return false;
}

/* Whether value names a backend of its kind; if not, the message lists the known ones. */
static ug_err check_backend(const struct reading *r, const struct key *k, int line,
                            const char *value, char *err)
{
    char known[128] = "";
    if (k->kind == BOOTSTATE_BACKEND) {
        if (bootstate_backend_find(value))
            return UG_OK;
        bootstate_backend_names(known, sizeof known);
    } else {
        if (slot_backend_known(value))
            return UG_OK;
        for (size_t i = 0; i < NSLOT_BACKENDS; i++)
            snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
                     slot_backends[i]);
    }
    return ug_fail(err, UG_ERR_OTHER, "%s:%d: unknown %s '%.64s' (known: %s)", r->path, line,
                   k->name, value, known);
}

/* Sets key k from value (line 0: the default), as its kind says. */
static ug_err set_key(struct reading *r, const struct key *k, int line, const char *value,
                      char *err)
{
    char *dst = (char *)r->c + k->offset;
    if (line > 0)
        r->line[k - keys] = value[0] ? line : 0;
    if (k->kind != TEXT && !value[0])
        value = k->kind == PATH ? state_file_name(k->fallback_file) : k->fallback;
    ug_err rc = k->kind == BOOTSTATE_BACKEND || k->kind == SLOT_BACKEND
                    ? check_backend(r, k, line, value, err)
                    : UG_OK;
    if (rc != UG_OK)
        return rc;
    int inside = k->kind == PATH && value[0] != '/' && !blockdev_is_tag(value);
    int n = inside ? snprintf(dst, k->size, "%s/%s", r->root, value)
                   : snprintf(dst, k->size, "%s", value);
    if (n < 0 || (size_t)n >= k->size)
        return line ? ug_fail(err, UG_ERR_OTHER, "%s:%d: %s is too long", r->path, line, k->name)
                    : ug_fail(err, UG_ERR_OTHER, "%s: path too long", r->root);
    return UG_OK;
}

/* One line: `key=value`, a `# comment` or blank; keys this version does not know are left
 * for the versions that do. */
static ug_err parse_line(struct reading *r, char *line, int lineno, char *err)
{
    while (*line == ' ' || *line == '\t')
        line++;
    char *eq = strchr(line, '=');
    if (line[0] == '#' || !eq)
        return UG_OK;
    *eq = '\0';
    char *value = eq + 1;
    while (*value == ' ' || *value == '\t')
        value++;
    trim(line);
    trim(value);
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(line, keys[i].name) == 0)
            return set_key(r, &keys[i], lineno, value, err);
    return UG_OK;
}

/* The line that last gave the key a value; 0 if none did. */
static int given_at(const struct reading *r, const char *name)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].name, name) == 0)
            return r->line[i];
    return 0;
}

/* What no single line can say: a block slot has no default location, and A is not B. */
static ug_err check_slots(const struct reading *r, char *err)
{
    const struct devconf *c = r->c;
    int a = given_at(r, "slot_a"), b = given_at(r, "slot_b");
    if (strcmp(c->slot_backend, "block") == 0 && (!a || !b))
        return ug_fail(err, UG_ERR_OTHER,
                       "%s:%d: slot_backend=block needs slot_a= and slot_b= (the two "
                       "partitions)",
                       r->path, given_at(r, "slot_backend"));
    if (strcmp(c->slot_a, c->slot_b) == 0)
        return ug_fail(err, UG_ERR_OTHER, "%s:%d: slot_a and slot_b both name %s", r->path,
                       a > b ? a : b, c->slot_a);
    return UG_OK;
}

ug_err devconf_load(const struct state_folder *f, struct devconf *c, char *err)
{
    struct reading r = {.root = f->root, .path = state_path(f, STATE_DEVICE_CONF), .c = c};
    memset(c, 0, sizeof *c);
    ug_err rc = UG_OK;
    for (size_t i = 0; i < NKEYS && rc == UG_OK; i++)
        rc = set_key(&r, &keys[i], 0, keys[i].kind == TEXT ? keys[i].fallback : "", err);
    if (rc != UG_OK || !fs_exists(r.path))
        return rc;
    struct buf text = {0};
    rc = fs_read_file(r.path, 65536, &text, err);
    int lineno = 0;
    for (char *line = text.data, *next; rc == UG_OK && line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        rc = parse_line(&r, line, ++lineno, err);
    }
    buf_free(&text);
    return rc == UG_OK ? check_slots(&r, err) : rc;
}

ug_err devconf_bootstate_store(const struct devconf *c, struct bootstate_store *store, char *err)
{
    ug_err rc = bootstate_store_init(store, c->bootstate_backend, c->bootstate_location, err);
    /* Block slots let a bootloader backend tell the booted slot by the root device. */
    int block = strcmp(c->slot_backend, "block") == 0;
    if (rc == UG_OK)
        rc = bootstate_store_set_slots(store, block ? c->slot_a : NULL, block ? c->slot_b : NULL,
                                       err);
    return rc;
}

ug_err devconf_write_simulated(const struct state_folder *f, char *err)
{
    struct buf text = {0};
    int failed = buf_printf(
        &text,
        "# Device configuration of a simulated device (docs/state-folder.md).\n"
        "# Its reboot only records that one is due; the test or demo then \"powers on\" with\n"
        "# bootctl --env DIR/%s boot && upgrader --root DIR boot.\n"
        "reboot_command=touch \"$UPGRADER_ROOT/%s\"\n"
        "# Empty: the built-in check (the agent can read its own state).\n"
        "health_check=\n"
        "# The boot state and the two slots: files in this folder (relative paths are in it).\n"
        "bootstate_backend=%s\nbootstate_location=%s\n"
        "slot_backend=file\nslot_a=%s\nslot_b=%s\n",
        state_file_name(STATE_BOOTENV), state_file_name(STATE_REBOOT_REQUESTED),
        BOOTSTATE_DEFAULT_BACKEND, state_file_name(STATE_BOOTENV), state_file_name(STATE_SLOT_A),
        state_file_name(STATE_SLOT_B));
    ug_err rc =
        failed ? ug_oom(err)
               : fs_write_atomic(state_path(f, STATE_DEVICE_CONF), text.data, text.len, 0644, err);
    buf_free(&text);
    return rc;
}

ug_err devconf_run(const char *command, const char *root, const char *extra_env, const char *what,
                   char *err)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return ug_fail(err, UG_ERR_OTHER, "%s: cannot start '%s': %s", what, command,
                       strerror(errno));
    if (pid == 0) {
        setenv("UPGRADER_ROOT", root, 1);
        if (extra_env) {
            char *copy = strdup(extra_env);
            char *eq = copy ? strchr(copy, '=') : NULL;
            if (eq) {
                *eq = '\0';
                setenv(copy, eq + 1, 1);
            }
        }
        execl("/bin/sh", "sh", "-c", command, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return ug_fail(err, UG_ERR_OTHER, "%s: cannot wait for '%s': %s", what, command,
                           strerror(errno));
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return UG_OK;
    if (WIFEXITED(status))
        return ug_fail(err, UG_ERR_OTHER, "%s '%s' exited with %d", what, command,
                       WEXITSTATUS(status));
    return ug_fail(err, UG_ERR_OTHER, "%s '%s' was killed by signal %d", what, command,
                   WTERMSIG(status));
}
