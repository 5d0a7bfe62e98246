/* SPDX-License-Identifier: MIT */
/* `upgrader apply FILE [--key K] [--alias x]`: a local profile through the same decrypt,
 * gunzip, parse and apply path as a fetched one (factory pre-provisioning, tests). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cmd/commands.h"
#include "common/fsutil.h"
#include "lang/profile.h"
#include "session/session.h"

/* The alias map of --alias x: the text of GPP_x. */
static const char *alias_map(const struct session *s, const char *letter)
{
    char gpp[8];
    if (!letter)
        return NULL;
    snprintf(gpp, sizeof gpp, "GPP_%c", toupper((unsigned char)letter[0]));
    return params_value(&s->params, gpp);
}

ug_err cmd_apply(const char *root, int argc, char **argv, char *err)
{
    const char *file = NULL, *key = NULL, *alias = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
            key = argv[++i];
        else if (strncmp(argv[i], "--key=", 6) == 0)
            key = argv[i] + 6;
        else if (strcmp(argv[i], "--alias") == 0 && i + 1 < argc)
            alias = argv[++i];
        else if (argv[i][0] == '-' && argv[i][1] == '-')
            return ug_fail(err, UG_ERR_USAGE, "unknown or incomplete option '%s'", argv[i]);
        else if (!file)
            file = argv[i];
        else
            return ug_fail(err, UG_ERR_USAGE, "unexpected argument '%s'", argv[i]);
    }
    if (!file)
        return ug_fail(err, UG_ERR_USAGE, "usage: upgrader apply FILE [--key K] [--alias a..p]");
    if (alias && (strlen(alias) != 1 || tolower((unsigned char)alias[0]) < 'a' ||
                  tolower((unsigned char)alias[0]) > 'p'))
        return ug_fail(err, UG_ERR_USAGE, "--alias takes a GPP letter a..p, not '%s'", alias);

    struct session s;
    ug_err rc = session_open(root, NULL, &s, err);
    if (rc != UG_OK)
        return rc;
    struct buf data = {0}, out = {0};
    struct profile profile = {0};
    struct params_apply_result result = {0};
    rc = fs_read_regular_file(file, PROFILE_MAX_SIZE, &data, err);
    if (rc == UG_OK)
        rc = profile_read_aliased(data.data, data.len, key, alias_map(&s, alias), file, &profile,
                                  err);
    if (rc == UG_OK)
        rc = params_apply(&s.params, &profile, file, &result, err);
    /* One line for what was applied, then one per defaulted or ignored value (docs/
     * provisioning-language.md): the file was not refused, so they go to stdout. */
    if (rc == UG_OK && params_apply_result_format(&result, file, &out) == 0 && out.data)
        fputs(out.data, stdout);
    params_apply_result_free(&result);
    session_close(&s);
    profile_free(&profile);
    buf_free(&data);
    buf_free(&out);
    return rc;
}
