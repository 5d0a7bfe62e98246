/* SPDX-License-Identifier: MIT */
/* `upgrader param get|set|list|export|doc`: the parameter store from the command line,
 * for operators and for the phone's own programs, honouring the user's access levels. */
#include <stdio.h>
#include <string.h>

#include "cmd/commands.h"
#include "common/cli.h"
#include "session/session.h"

struct param_args {
    const char *positional[3];
    int npositional;
    enum param_role role;
    int show_secrets;
};

static ug_err parse_args(int argc, char **argv, struct param_args *a, char *err)
{
    memset(a, 0, sizeof *a);
    a->role = PARAM_ROLE_ADMIN;
    int only_positional = 0;
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        const char *as = NULL;
        if (!only_positional && strcmp(arg, "--") == 0) {
            only_positional = 1;
        } else if (!only_positional && strcmp(arg, "--show-secrets") == 0) {
            a->show_secrets = 1;
        } else if (!only_positional && strcmp(arg, "--as") == 0) {
            if (i + 1 >= argc)
                return ug_fail(err, UG_ERR_USAGE, "--as needs 'user' or 'admin'");
            as = argv[++i];
        } else if (!only_positional && strncmp(arg, "--as=", 5) == 0) {
            as = arg + 5;
        } else if (!only_positional && arg[0] == '-' && arg[1] == '-') {
            return ug_fail(err, UG_ERR_USAGE, "unknown option '%s'", arg);
        } else {
            if (a->npositional == 3)
                return ug_fail(err, UG_ERR_USAGE, "unexpected argument '%s'", arg);
            a->positional[a->npositional++] = arg;
        }
        if (as) {
            if (strcmp(as, "user") == 0)
                a->role = PARAM_ROLE_USER;
            else if (strcmp(as, "admin") == 0)
                a->role = PARAM_ROLE_ADMIN;
            else
                return ug_fail(err, UG_ERR_USAGE, "--as '%s': expected 'user' or 'admin'", as);
        }
    }
    if (a->show_secrets && a->role != PARAM_ROLE_ADMIN)
        return ug_fail(err, UG_ERR_USAGE, "--show-secrets is for the admin only");
    return UG_OK;
}

static ug_err expect_positional(const struct param_args *a, int n, const char *usage, char *err)
{
    if (a->npositional != n)
        return ug_fail(err, UG_ERR_USAGE, "usage: upgrader param %s", usage);
    return UG_OK;
}

ug_err cmd_param(const char *root, int argc, char **argv, char *err)
{
    if (argc < 2)
        return ug_fail(err, UG_ERR_USAGE, "usage: upgrader param get|set|list|export|doc ...");
    const char *sub = argv[1];
    struct param_args a;
    ug_err rc = parse_args(argc, argv, &a, err);
    if (rc != UG_OK)
        return rc;
    struct buf out = {0};
    if (strcmp(sub, "doc") == 0) {
        if ((rc = expect_positional(&a, 0, "doc", err)) != UG_OK)
            return rc;
        if (paramdefs_write_doc(&out) != 0)
            rc = ug_oom(err);
        else
            fputs(out.data, stdout);
        buf_free(&out);
        return rc;
    }
    int is_get = strcmp(sub, "get") == 0, is_set = strcmp(sub, "set") == 0;
    int is_list = strcmp(sub, "list") == 0, is_export = strcmp(sub, "export") == 0;
    if (!is_get && !is_set && !is_list && !is_export)
        return ug_fail(err, UG_ERR_USAGE, "unknown 'param %s' (get, set, list, export, doc)", sub);
    if (is_get)
        rc = expect_positional(&a, 1, "get NAME [--as user] [--show-secrets]", err);
    else if (is_set)
        rc = expect_positional(&a, 2, "set NAME VALUE [--as user]", err);
    else
        rc = expect_positional(
            &a, 0, is_list ? "list [--as user]" : "export [--as user] [--show-secrets]", err);
    if (rc == UG_OK && is_set && a.show_secrets)
        rc = ug_fail(err, UG_ERR_USAGE, "--show-secrets has no meaning for 'param set'");
    if (rc != UG_OK)
        return rc;

    struct session s;
    if ((rc = session_open(root, NULL, &s, err)) != UG_OK)
        return rc;
    struct param_store *store = &s.params;
    if (is_get) {
        const char *value = NULL;
        rc = params_get(store, a.positional[0], a.role, a.show_secrets, &value, err);
        if (rc == UG_OK) {
            cli_print(stdout, value);
            putchar('\n');
        }
    } else if (is_set) {
        rc = params_set(store, a.positional[0], a.positional[1], a.role, err);
    } else if (is_list) {
        rc = params_list(store, a.role, &out, err);
        if (rc == UG_OK)
            cli_print(stdout, out.data ? out.data : "");
    } else {
        rc = params_export_xml(store, a.role, a.show_secrets, &out, err);
        if (rc == UG_OK)
            fputs(out.data, stdout);
    }
    buf_free(&out);
    session_close(&s);
    return rc;
}
