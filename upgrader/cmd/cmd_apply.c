/* SPDX-License-Identifier: MIT */
/* `upgrader apply FILE [--key K]`: a local profile through the same decrypt, gunzip,
 * parse and all-or-nothing apply path as a fetched one (factory pre-provisioning, tests). */
#include <stdio.h>
#include <string.h>

#include "cmd/commands.h"
#include "common/fsutil.h"
#include "lang/profile.h"
#include "session/session.h"

ug_err cmd_apply(const char *root, int argc, char **argv, char *err)
{
    const char *file = NULL, *key = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
            key = argv[++i];
        else if (strncmp(argv[i], "--key=", 6) == 0)
            key = argv[i] + 6;
        else if (argv[i][0] == '-' && argv[i][1] == '-')
            return ug_fail(err, UG_ERR_USAGE, "unknown or incomplete option '%s'", argv[i]);
        else if (!file)
            file = argv[i];
        else
            return ug_fail(err, UG_ERR_USAGE, "unexpected argument '%s'", argv[i]);
    }
    if (!file)
        return ug_fail(err, UG_ERR_USAGE, "usage: upgrader apply FILE [--key K]");

    struct session s;
    ug_err rc = session_open(root, NULL, &s, err);
    if (rc != UG_OK)
        return rc;
    struct buf data = {0};
    struct profile profile = {0};
    struct params_apply_result result = {0};
    rc = fs_read_file(file, PROFILE_MAX_SIZE, &data, err);
    if (rc == UG_OK)
        rc = profile_read(data.data, data.len, key, file, &profile, err);
    if (rc == UG_OK)
        rc = params_apply(&s.params, &profile, file, &result, err);
    if (rc == UG_OK) {
        printf("applied %s: %zu parameters, %zu changed", file, profile.n - result.unknown,
               result.changed);
        if (result.unknown) {
            printf(", %zu unknown ignored:", result.unknown);
            for (size_t i = 0; i < result.n_unknown_names; i++)
                printf(" %s", result.unknown_names[i]);
            if (result.unknown > result.n_unknown_names)
                printf(" ...");
        }
        printf("\n");
    }
    params_apply_result_free(&result);
    session_close(&s);
    profile_free(&profile);
    buf_free(&data);
    return rc;
}
