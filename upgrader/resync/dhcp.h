/* SPDX-License-Identifier: MIT */
/* The provisioning server handed out by DHCP (options 66, 150, 159, 160): recorded in
 * DIR/dhcp.json by the DHCP client hooks (`upgrader dhcp`), read as the default server. */
#ifndef UPGRADER_DHCP_H
#define UPGRADER_DHCP_H

#include <stddef.h>

#include "common/error.h"
#include "device/folder.h"

#define DHCP_SERVER_MAX    256
/* The order used when DHCP_Option_To_Use is empty. */
#define DHCP_DEFAULT_ORDER "66,160,159,150"

/* One lease's servers, each "host" or "host:port" ("" when the lease had no such option). */
struct dhcp_servers {
    char option66[DHCP_SERVER_MAX];  /* TFTP server name */
    char option150[DHCP_SERVER_MAX]; /* Cisco TFTP server address list: the first one */
    char option159[DHCP_SERVER_MAX]; /* provisioning URL/server (IPv4) */
    char option160[DHCP_SERVER_MAX]; /* provisioning URL/server */
};

/* Turns what a DHCP client reports for option (66, 150, 159 or 160) into "host[:port]":
 * "hex:..." is decoded (option 150 as 4-byte addresses), lists give their first entry,
 * a URL its server. "" gives "". UG_ERR_USAGE for a value that names no server. */
ug_err dhcp_normalise(int option, const char *value, char *out, size_t outsz,
                      char *err) UG_MUST_CHECK;
/* Picks the first server of s in the order of a DHCP_Option_To_Use list ("66,160,..."; other
 * options are skipped); writes it into out and returns its option, or 0 when none is known. */
int dhcp_choose(const struct dhcp_servers *s, const char *order, char *out, size_t outsz);
/* Splits "host", "host:port" or "[v6]:port" into host and *port (0 when absent); -1 if malformed. */
int dhcp_split_server(const char *server, char *host, size_t hostsz, int *port);
/* Replaces DIR/dhcp.json with s (the current lease: options it lacks are forgotten). */
ug_err dhcp_record(const struct state_folder *f, const struct dhcp_servers *s,
                   char *err) UG_MUST_CHECK;
/* Reads DIR/dhcp.json into s; a missing file leaves every server "". */
ug_err dhcp_load(const struct state_folder *f, struct dhcp_servers *s, char *err) UG_MUST_CHECK;

#endif
