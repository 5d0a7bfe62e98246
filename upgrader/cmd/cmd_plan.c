/* SPDX-License-Identifier: MIT */
/* `upgrader plan`: verifies a catalog (a file, or a URL fetched with its .sig) against the
 * device's keyring and prints the hops from the running version to the target, or why not. */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "cmd/commands.h"
#include "session/session.h"
#include "upgrade/catalog.h"
#include "upgrade/planner.h"

static void print_json(const struct catalog *c, const struct plan_request *req,
                       const struct plan *p)
{
    json_object *root = json_object_new_object(), *hops = json_object_new_array();
    json_object_object_add(root, "product", json_object_new_string(c->product));
    json_object_object_add(root, "from", json_object_new_string(req->from));
    json_object_object_add(root, "to", json_object_new_string(p->target));
    for (size_t i = 0; i < p->nhops; i++) {
        const struct catalog_release *r = p->hops[i].release;
        json_object *h = json_object_new_object();
        json_object_object_add(h, "from", json_object_new_string(p->hops[i].from));
        json_object_object_add(h, "to", json_object_new_string(r->version));
        json_object_object_add(h, "bundle", json_object_new_string(r->bundle_url));
        json_object_object_add(h, "size", json_object_new_int64((int64_t)r->size));
        json_object_object_add(h, "sha256", json_object_new_string(r->sha256));
        json_object_array_add(hops, h);
    }
    json_object_object_add(root, "hops", hops);
    json_object_object_add(root, "total_size", json_object_new_int64((int64_t)p->total_size));
    printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                                                            JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(root);
}

/* Fills what the request leaves open from the device (NULL: none, derr says why). */
static ug_err device_defaults(const struct session *s, const char *derr, struct plan_request *req,
                              char *err)
{
    if (!req->hardware && s)
        req->hardware = s->dev.hwver;
    if (!req->from && s && s->boot_valid && s->running_version[0])
        req->from = s->running_version;
    if (!req->downgrade_limit && s)
        req->downgrade_limit = params_value(&s->params, "Downgrade_Rev_Limit");
    if (!req->hardware)
        return ug_fail(err, UG_ERR_USAGE, "--hw is required (%s)", derr);
    if (!req->from)
        return ug_fail(err, UG_ERR_USAGE, "--from VERSION is required (%s)",
                       s ? "the boot state does not say what runs" : derr);
    return UG_OK;
}

/* The catalog, checked against DIR/keyring.pem (with or without a device there), fetched with
 * the device's transport settings when there is one, and of the device's product. */
static ug_err load_catalog(const char *root, const struct session *s, const char *catalog_path,
                           struct catalog *c, char *err)
{
    struct state_folder folder;
    ug_err rc = state_folder_open(root, &folder, err);
    if (rc != UG_OK)
        return rc;
    struct fetch_options fo;
    if (s)
        session_fetch_options(s, &fo);
    else
        fetch_options_init(&fo);
    rc = catalog_fetch(catalog_path, &fo, state_path(&folder, STATE_KEYRING), c, err);
    state_folder_close(&folder);
    if (rc == UG_OK && s && strcmp(c->product, s->dev.product) != 0)
        rc = ug_fail(err, UG_ERR_VERIFY, "%s: catalog of product %s, this device is %s",
                     catalog_path, c->product, s->dev.product);
    return rc;
}

ug_err cmd_plan(const char *root, int argc, char **argv, char *err)
{
    static const struct option options[] = {
        {"catalog", required_argument, NULL, 'c'},
        {"to", required_argument, NULL, 't'},
        {"from", required_argument, NULL, 'f'},
        {"hw", required_argument, NULL, 'H'},
        {"json", no_argument, NULL, 'j'},
        {"downgrade-limit", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    const char *catalog_path = NULL;
    struct plan_request req = {0};
    int json = 0;
    opterr = 0;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'c':
            catalog_path = optarg;
            break;
        case 't':
            req.to = optarg;
            break;
        case 'f':
            req.from = optarg;
            break;
        case 'H':
            req.hardware = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'd':
            req.downgrade_limit = optarg;
            break;
        default:
            return ug_fail(err, UG_ERR_USAGE, "unknown or incomplete option '%s'",
                           argv[optind - 1]);
        }
    }
    if (optind < argc)
        return ug_fail(err, UG_ERR_USAGE, "unexpected argument '%s'", argv[optind]);
    if (!catalog_path)
        return ug_fail(err, UG_ERR_USAGE, "--catalog FILE-or-URL is required");
    if (!req.to)
        req.to = "latest";

    /* The device, when --root holds one, supplies the hardware revision, the running version
     * (its booted slot's), Downgrade_Rev_Limit, the product and the transport settings. */
    struct session s;
    char derr[UG_ERRBUF];
    int have_device = session_open(root, NULL, &s, derr) == UG_OK;
    struct catalog c = {0};
    struct plan p = {0};
    ug_err rc = device_defaults(have_device ? &s : NULL, derr, &req, err);
    if (rc == UG_OK)
        rc = load_catalog(root, have_device ? &s : NULL, catalog_path, &c, err);
    if (rc == UG_OK)
        rc = planner_plan(&c, &req, &p, err);
    if (rc == UG_OK && json) {
        print_json(&c, &req, &p);
    } else if (rc == UG_OK) {
        if (p.nhops == 0)
            fprintf(stderr, "already at %s: nothing to do\n", p.target);
        for (size_t i = 0; i < p.nhops; i++)
            printf("%s -> %s  %s  %llu\n", p.hops[i].from, p.hops[i].release->version,
                   p.hops[i].release->bundle_url, (unsigned long long)p.hops[i].release->size);
    }
    plan_free(&p);
    catalog_free(&c);
    if (have_device)
        session_close(&s);
    return rc;
}
