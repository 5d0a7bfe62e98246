/* SPDX-License-Identifier: MIT */
/* `upgrader pack` (server side): builds one signed bundle from a firmware image, and
 * `upgrader sign`: a detached CMS signature beside any file (catalogs). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/pack.h"
#include "bundle/sign.h"
#include "cmd/commands.h"
#include "common/buf.h"
#include "common/fsutil.h"
#include "common/units.h"

#define MAX_HARDWARE 32

ug_err cmd_pack(const char *root, int argc, char **argv, char *err)
{
    static const struct option options[] = {
        {"product", required_argument, NULL, 'p'},    {"version", required_argument, NULL, 'v'},
        {"hw", required_argument, NULL, 'H'},         {"image", required_argument, NULL, 'i'},
        {"key", required_argument, NULL, 'k'},        {"cert", required_argument, NULL, 'c'},
        {"compress", required_argument, NULL, 'z'},   {"chunk-size", required_argument, NULL, 's'},
        {"slot", required_argument, NULL, 'S'},       {"level", required_argument, NULL, 'l'},
        {"output", required_argument, NULL, 'o'},     {"frame-size", required_argument, NULL, 'F'},
        {"block-size", required_argument, NULL, 'B'}, {"no-index", no_argument, NULL, 'N'},
        {"frames", required_argument, NULL, 'R'},     {NULL, 0, NULL, 0},
    };
    (void)root;
    uint64_t size;
    struct bundle_pack_options o = {.compression = CODEC_GZIP};
    const char *hardware[MAX_HARDWARE];
    char hwlist[1024] = "";
    opterr = 0;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "o:", options, NULL)) != -1) {
        switch (opt) {
        case 'p':
            o.product = optarg;
            break;
        case 'v':
            o.version = optarg;
            break;
        case 'H':
            if (snprintf(hwlist, sizeof hwlist, "%s", optarg) >= (int)sizeof hwlist)
                return ug_fail(err, UG_ERR_USAGE, "--hw list too long");
            break;
        case 'i':
            o.image = optarg;
            break;
        case 'k':
            o.key = optarg;
            break;
        case 'c':
            o.cert = optarg;
            break;
        case 'z':
            if (codec_parse(optarg, &o.compression) != 0)
                return ug_fail(err, UG_ERR_USAGE, "--compress '%s': use gzip, zstd or none",
                               optarg);
            break;
        case 's':
            if (units_parse_size(optarg, &o.chunk_size) != 0)
                return ug_fail(err, UG_ERR_USAGE, "--chunk-size '%s' is not a size (e.g. 4M)",
                               optarg);
            break;
        case 'S':
            o.slot = optarg;
            break;
        case 'F':
        case 'B':
            if (units_parse_size(optarg, &size) != 0 || size == 0 || size > (16u << 20))
                return ug_fail(err, UG_ERR_USAGE, "--%s '%s' is not a size up to 16M",
                               opt == 'F' ? "frame-size" : "block-size", optarg);
            *(opt == 'F' ? &o.frame_size : &o.block_size) = (uint32_t)size;
            break;
        case 'N':
            o.no_index = 1;
            break;
        case 'R':
            if (strcmp(optarg, "flush") != 0 && strcmp(optarg, "members") != 0)
                return ug_fail(err, UG_ERR_USAGE, "--frames '%s': use flush or members", optarg);
            o.member_frames = strcmp(optarg, "members") == 0;
            o.flush_frames = !o.member_frames;
            break;
        case 'l':
            o.level = atoi(optarg);
            break;
        case 'o':
            o.out = optarg;
            break;
        default:
            return ug_fail(err, UG_ERR_USAGE, "unknown or incomplete option '%s'",
                           argv[optind - 1]);
        }
    }
    if (optind < argc)
        return ug_fail(err, UG_ERR_USAGE, "unexpected argument '%s'", argv[optind]);
    if (!o.product || !o.version || !hwlist[0] || !o.image || !o.key || !o.cert || !o.out)
        return ug_fail(err, UG_ERR_USAGE,
                       "--product, --version, --hw, --image, --key, --cert and -o are required");
    char *save = NULL;
    for (char *h = strtok_r(hwlist, ",", &save); h; h = strtok_r(NULL, ",", &save)) {
        if (o.nhardware == MAX_HARDWARE)
            return ug_fail(err, UG_ERR_USAGE, "--hw: more than %d hardware revisions",
                           MAX_HARDWARE);
        hardware[o.nhardware++] = h;
    }
    o.hardware = hardware;
    if (o.slot && (strchr(o.slot, '/') || o.slot[0] == '.' || strlen(o.slot) > 80))
        return ug_fail(err, UG_ERR_USAGE, "--slot '%s' must be a plain name", o.slot);
    ug_err rc = bundle_pack(&o, err);
    if (rc == UG_OK)
        printf("packed %s %s into %s\n", o.product, o.version, o.out);
    return rc;
}

ug_err cmd_sign(const char *root, int argc, char **argv, char *err)
{
    static const struct option options[] = {
        {"key", required_argument, NULL, 'k'},
        {"cert", required_argument, NULL, 'c'},
        {"output", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    (void)root;
    const char *key = NULL, *cert = NULL, *out = NULL;
    opterr = 0;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "o:", options, NULL)) != -1) {
        switch (opt) {
        case 'k':
            key = optarg;
            break;
        case 'c':
            cert = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        default:
            return ug_fail(err, UG_ERR_USAGE, "unknown or incomplete option '%s'",
                           argv[optind - 1]);
        }
    }
    if (!key || !cert || optind != argc - 1)
        return ug_fail(err, UG_ERR_USAGE, "usage: sign --key KEY --cert CERT [-o SIG] FILE");
    const char *file = argv[optind];
    char sigpath[4200];
    if (!out) {
        if (snprintf(sigpath, sizeof sigpath, "%s.sig", file) >= (int)sizeof sigpath)
            return ug_fail(err, UG_ERR_USAGE, "%s: path too long", file);
        out = sigpath;
    }
    struct buf data = {0}, sig = {0};
    ug_err rc = fs_read_file(file, (size_t)1 << 30, &data, err);
    if (rc != UG_OK)
        rc = UG_ERR_USAGE; /* a local input the operator named: bad input, message kept */
    if (rc == UG_OK)
        rc = sign_create(key, cert, data.data ? data.data : "", data.len, &sig, err);
    if (rc == UG_OK)
        rc = fs_write_atomic(out, sig.data, sig.len, 0644, err);
    if (rc == UG_OK)
        printf("signed %s into %s\n", file, out);
    buf_free(&data);
    buf_free(&sig);
    return rc;
}
