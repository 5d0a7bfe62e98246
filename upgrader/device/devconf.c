/* SPDX-License-Identifier: MIT */
/* DIR/device.conf, and running its commands. Commands get the state folder in
 * $UPGRADER_ROOT, so the simulated device's lines need no quoting of paths. */
#include "device/devconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/fsutil.h"

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

ug_err devconf_load(const char *root, struct devconf *c, char *err)
{
    memset(c, 0, sizeof *c);
    snprintf(c->reboot_command, sizeof c->reboot_command, "%s", DEVCONF_DEFAULT_REBOOT);
    char path[1100];
    if (fs_join(path, sizeof path, root, DEVCONF_FILE) != 0)
        return ug_fail(err, UG_ERR_OTHER, "%s: path too long", root);
    if (!fs_exists(path))
        return UG_OK;
    struct buf text = {0};
    ug_err rc = fs_read_file(path, 65536, &text, err);
    char *save = NULL;
    for (char *line = rc == UG_OK ? strtok_r(text.data, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        while (*line == ' ' || *line == '\t')
            line++;
        char *eq = strchr(line, '=');
        if (line[0] == '#' || !eq)
            continue;
        *eq = '\0';
        char *value = eq + 1;
        trim(line);
        trim(value);
        char *dst = strcmp(line, "reboot_command") == 0 ? c->reboot_command
                    : strcmp(line, "health_check") == 0 ? c->health_check
                                                        : NULL;
        if (dst &&
            snprintf(dst, sizeof c->reboot_command, "%s", value) >= (int)sizeof c->reboot_command) {
            rc = ug_fail(err, UG_ERR_OTHER, "%s: %s is too long", path, line);
            break;
        }
    }
    buf_free(&text);
    return rc;
}

ug_err devconf_write_simulated(const char *root, char *err)
{
    static const char text[] =
        "# Device configuration of a simulated device (docs/state-folder.md).\n"
        "# Its reboot only records that one is due; the test or demo then \"powers on\" with\n"
        "# bootctl --env DIR/bootenv boot && upgrader --root DIR boot.\n"
        "reboot_command=touch \"$UPGRADER_ROOT/" DEVCONF_REQUESTED_FILE "\"\n"
        "# Empty: the built-in check (the agent can read its own state).\n"
        "health_check=\n";
    char path[1100];
    if (fs_join(path, sizeof path, root, DEVCONF_FILE) != 0)
        return ug_fail(err, UG_ERR_OTHER, "%s: path too long", root);
    return fs_write_atomic(path, text, sizeof text - 1, 0644, err);
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
