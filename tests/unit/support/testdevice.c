/* SPDX-License-Identifier: MIT */
/* Simulated devices for the unit tests: init's own code makes them, so a test device is
 * always what `upgrader --root DIR init` makes, whatever init comes to write. */
#include "testdevice.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/commands.h"
#include "common/error.h"
#include "common/fsutil.h"

int testdevice_make(char *root, size_t n, const char *tag, const char *version,
                    const char *slot_size, const char *keyring)
{
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    if (snprintf(root, n, "%s/%s-XXXXXX", tmp, tag) >= (int)n || !mkdtemp(root))
        return -1;
    char *argv[8] = {"init", "--version", (char *)version, "--slot-size", (char *)slot_size};
    int argc = 5;
    if (keyring) {
        argv[argc++] = "--keyring";
        argv[argc++] = (char *)keyring;
    }
    char err[UG_ERRBUF];
    /* init's line on stdout ("initialised device ...") would only bury the test's own. */
    fflush(stdout);
    int saved = dup(STDOUT_FILENO), null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (saved >= 0 && null >= 0)
        dup2(null, STDOUT_FILENO);
    ug_err rc = cmd_init(root, argc, argv, err);
    fflush(stdout);
    if (saved >= 0 && null >= 0)
        dup2(saved, STDOUT_FILENO);
    if (saved >= 0)
        close(saved);
    if (null >= 0)
        close(null);
    if (rc != UG_OK) {
        fprintf(stderr, "testdevice_make: %s\n", err);
        return -1;
    }
    return 0;
}

int testdevice_remove(const char *root)
{
    char cmd[400];
    if (!root[0])
        return 0;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

int testdevice_write(const char *root, const char *name, const char *text)
{
    char path[400], err[UG_ERRBUF];
    snprintf(path, sizeof path, "%s/%s", root, name);
    if (fs_write_atomic(path, text, strlen(text), 0644, err) != UG_OK) {
        fprintf(stderr, "testdevice_write: %s\n", err);
        return -1;
    }
    return 0;
}
