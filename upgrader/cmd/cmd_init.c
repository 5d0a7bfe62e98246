/* SPDX-License-Identifier: MIT */
/* `upgrader init`: creates a simulated device in the state folder, the embedded default
 * that the demo and the tests use: identity, trust anchors and two file-backed slots. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "bootctl/bootstate.h"
#include "bundle/sign.h"
#include "cmd/commands.h"
#include "common/fsutil.h"
#include "common/units.h"
#include "device/devconf.h"
#include "device/device.h"
#include "lang/params.h"

static ug_err create_slot(const char *path, uint64_t size, char *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return ug_fail(err, UG_ERR_OTHER, "%s: cannot create slot: %s", path, strerror(errno));
    /* Sparse: a simulated slot costs no disk until an image is written into it. */
    int rc = ftruncate(fd, (off_t)size);
    int saved = errno;
    close(fd);
    if (rc != 0)
        return ug_fail(err, UG_ERR_OTHER, "%s: cannot size slot: %s", path, strerror(saved));
    return UG_OK;
}

static ug_err install_file(const char *from, const struct state_folder *f, enum state_file to,
                           int mode, char *err)
{
    return from ? fs_copy_file(from, state_path(f, to), mode, err) : UG_OK;
}

/* What init was asked to put into the device. */
struct init_files {
    const char *version, *keyring, *ca, *client_cert, *client_key;
    uint64_t slot_size;
};

/* The simulated device's device.conf, then what it names: the two slot files and the boot
 * state, in which slot A holds the version and is the slot that boots. Its reboot only
 * records that one is due (docs/state-folder.md). */
static ug_err make_simulated_media(const struct state_folder *f, const struct init_files *in,
                                   char *err)
{
    struct devconf conf;
    struct bootstate_store store;
    ug_err rc = devconf_write_simulated(f, err);
    if (rc == UG_OK)
        rc = devconf_load(f, &conf, err);
    if (rc == UG_OK)
        rc = create_slot(conf.slot_a, in->slot_size, err);
    if (rc == UG_OK)
        rc = create_slot(conf.slot_b, in->slot_size, err);
    if (rc == UG_OK)
        rc = devconf_bootstate_store(&conf, &store, err);
    if (rc == UG_OK)
        rc = bootstate_store_create(&store, in->version, err);
    return rc;
}

/* Creates the device's files in the folder, the identity last: its presence is what makes
 * the folder a device, so an init cut short can simply be run again. */
static ug_err create_device(const struct state_folder *f, const struct device *dev,
                            const struct init_files *in, char *err)
{
    ug_err rc = fs_mkdir_p(f->root, err);
    if (rc == UG_OK)
        rc = install_file(in->keyring, f, STATE_KEYRING, 0644, err);
    if (rc == UG_OK)
        rc = install_file(in->ca, f, STATE_CA, 0644, err);
    if (rc == UG_OK)
        rc = install_file(in->client_cert, f, STATE_CLIENT_CERT, 0644, err);
    if (rc == UG_OK)
        rc = install_file(in->client_key, f, STATE_CLIENT_KEY, 0600, err);
    if (rc == UG_OK)
        rc = make_simulated_media(f, in, err);
    if (rc == UG_OK)
        rc = params_create_defaults(f, err);
    if (rc == UG_OK)
        rc = device_save_identity(f, dev, err);
    return rc;
}

/* An identity field from the command line: whole, or refused (never cut short). */
static ug_err take_field(char *field, size_t size, const char *option, const char *value, char *err)
{
    if (strlen(value) >= size)
        return ug_fail(err, UG_ERR_USAGE, "--%s is longer than %zu characters", option, size - 1);
    snprintf(field, size, "%s", value);
    return UG_OK;
}

/* What init refuses before it creates anything: an identity that would not read back as
 * given, trust anchors that are no certificates (or hold a private key). */
static ug_err check_request(const struct device *dev, const struct init_files *in, char *err)
{
    ug_err rc = device_check_identity(dev, err);
    if (rc == UG_OK && in->keyring && (rc = sign_check_anchors(in->keyring, err)) != UG_OK)
        ug_prefix(err, "--keyring: ");
    if (rc == UG_OK && in->ca && (rc = sign_check_anchors(in->ca, err)) != UG_OK)
        ug_prefix(err, "--ca: ");
    if (rc == UG_OK && in->client_cert && (rc = sign_check_anchors(in->client_cert, err)) != UG_OK)
        ug_prefix(err, "--client-cert: ");
    return rc;
}

/* $PSN from the product name, as Cisco's devices form it: CP-8841-3PCC gives 8841-3PCC, SPA504G
 * 504G, SPA112 112, ATA191-MPP 191 (the factory rules /$PSN.xml, /spa$PSN.cfg, /ata$PSN.cfg
 * then name the files the provisioning systems serve); any other product is its own. */
static void psn_of(const char *product, char *out, size_t outsz)
{
    const char *p = product;
    if (strncasecmp(p, "CP-", 3) == 0)
        p += 3;
    else if ((strncasecmp(p, "SPA", 3) == 0 || strncasecmp(p, "ATA", 3) == 0) &&
             isdigit((unsigned char)p[3]))
        p += 3;
    size_t n = strlen(p);
    if (p != product && strncasecmp(product, "ATA", 3) == 0 && n > 4 &&
        strcasecmp(p + n - 4, "-MPP") == 0)
        n -= 4;
    snprintf(out, outsz, "%.*s", (int)n, p);
}

ug_err cmd_init(const char *root, int argc, char **argv, char *err)
{
    static const struct option options[] = {
        {"mac", required_argument, NULL, 'm'},        {"serial", required_argument, NULL, 's'},
        {"product", required_argument, NULL, 'p'},    {"psn", required_argument, NULL, 'n'},
        {"hwver", required_argument, NULL, 'H'},      {"version", required_argument, NULL, 'v'},
        {"slot-size", required_argument, NULL, 'z'},  {"keyring", required_argument, NULL, 'k'},
        {"ca", required_argument, NULL, 'c'},         {"client-cert", required_argument, NULL, 'C'},
        {"client-key", required_argument, NULL, 'K'}, {NULL, 0, NULL, 0},
    };
    struct device dev = {0};
    const char *mac = "000e08aabbcc", *version = "1.0.0";
    const char *keyring = NULL, *ca = NULL, *client_cert = NULL, *client_key = NULL;
    uint64_t slot_size = 64ull << 20;
    snprintf(dev.serial, sizeof dev.serial, "SIM00000001");
    snprintf(dev.product, sizeof dev.product, "UG-PHONE-1");
    snprintf(dev.psn, sizeof dev.psn, "1");
    snprintf(dev.hwver, sizeof dev.hwver, "1.0");

    opterr = 0;
    optind = 1;
    int opt, psn_given = 0;
    ug_err rc = UG_OK;
    while (rc == UG_OK && (opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'm':
            mac = optarg;
            break;
        case 's':
            rc = take_field(dev.serial, sizeof dev.serial, "serial", optarg, err);
            break;
        case 'p':
            rc = take_field(dev.product, sizeof dev.product, "product", optarg, err);
            if (!psn_given)
                psn_of(dev.product, dev.psn, sizeof dev.psn);
            break;
        case 'n':
            rc = take_field(dev.psn, sizeof dev.psn, "psn", optarg, err);
            psn_given = 1;
            break;
        case 'H':
            rc = take_field(dev.hwver, sizeof dev.hwver, "hwver", optarg, err);
            break;
        case 'v':
            version = optarg;
            break;
        case 'z':
            if (units_parse_size(optarg, &slot_size) != 0)
                return ug_fail(err, UG_ERR_USAGE, "--slot-size '%s' is not a size (e.g. 64M)",
                               optarg);
            break;
        case 'k':
            keyring = optarg;
            break;
        case 'c':
            ca = optarg;
            break;
        case 'C':
            client_cert = optarg;
            break;
        case 'K':
            client_key = optarg;
            break;
        default:
            return ug_fail(err, UG_ERR_USAGE, "unknown or incomplete option '%s'",
                           argv[optind - 1]);
        }
    }
    if (rc != UG_OK)
        return rc;
    if (optind < argc)
        return ug_fail(err, UG_ERR_USAGE, "unexpected argument '%s'", argv[optind]);
    if (device_parse_mac(mac, dev.mac) != 0)
        return ug_fail(err, UG_ERR_USAGE, "--mac '%s' is not a MAC address", mac);
    if (!client_cert != !client_key)
        return ug_fail(err, UG_ERR_USAGE, "--client-cert and --client-key go together");
    if (!bootstate_version_valid(version))
        return ug_fail(err, UG_ERR_USAGE, "--version '%s' cannot be recorded in the boot state",
                       version);

    struct init_files in = {version, keyring, ca, client_cert, client_key, slot_size};
    if ((rc = check_request(&dev, &in, err)) != UG_OK)
        return rc;
    struct state_folder f;
    if ((rc = state_folder_open(root, &f, err)) != UG_OK)
        return rc;
    if (fs_exists(state_path(&f, STATE_IDENTITY)))
        rc = ug_fail(err, UG_ERR_OTHER, "%s already holds a device; remove the folder first", root);
    else
        rc = create_device(&f, &dev, &in, err);
    state_folder_close(&f);
    if (rc == UG_OK)
        printf("initialised device %s in %s\n", dev.mac, root);
    return rc;
}
