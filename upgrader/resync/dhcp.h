/* SPDX-License-Identifier: MIT */
/* The provisioning server handed out by DHCP (options 66, 150, 159, 160): recorded in
 * DIR/dhcp.json by the DHCP client hooks (`upgrader dhcp`), read as the default server. */
#ifndef UPGRADER_DHCP_H
#define UPGRADER_DHCP_H

#include <stddef.h>

#include "common/error.h"
#include "device/folder.h"
#include "lang/rule.h"

#define DHCP_SERVER_MAX    256
/* The order used when DHCP_Option_To_Use is empty. */
#define DHCP_DEFAULT_ORDER "66,160,159,150"

/* One lease's servers, each "host" or "host:port" ("" when the lease had no such option). */
struct dhcp_servers {
    char option66[DHCP_SERVER_MAX];  /* TFTP server name */
    char option150[DHCP_SERVER_MAX]; /* Cisco TFTP server address list: the first one */
    char option159[DHCP_SERVER_MAX]; /* provisioning URL/server (IPv4) */
    char option160[DHCP_SERVER_MAX]; /* provisioning URL/server */
    char damaged[UG_ERRBUF];         /* load: why dhcp.json could not be read, else "" */
};

/* What a recorded DHCP value gives a resync. */
struct dhcp_default {
    int option;                   /* the DHCP option it came from, 0 for none */
    char scheme[8];               /* "http", "https", "tftp", or "" when the option named none */
    char server[DHCP_SERVER_MAX]; /* host[:port], the server of rules that name none; "" none */
    char rule[DHCP_SERVER_MAX];   /* the option's URL with a path, or its whole rule; "" none */
};

/* Turns what a DHCP client reports for option (66, 150, 159 or 160) into the value to record:
 * "hex:..." is decoded (option 150 as 4-byte addresses), lists give their first entry; a
 * server ("host[:port]"), a server with its scheme ("http://host[:port]"), a URL with its path
 * or a whole rule are kept as written. "" gives "". UG_ERR_USAGE for a value that names no
 * server or is not a valid URL or rule. */
ug_err dhcp_normalise(int option, const char *value, char *out, size_t outsz,
                      char *err) UG_MUST_CHECK;
/* Picks the first server of s in the order of a DHCP_Option_To_Use list ("66,160,..."; other
 * options are skipped); writes it into out and returns its option, or 0 when none is known. */
int dhcp_choose(const struct dhcp_servers *s, const char *order, char *out, size_t outsz);
/* Splits "host", "host:port" or "[v6]:port" into host and *port (0 when absent); -1 if malformed. */
int dhcp_split_server(const char *server, char *host, size_t hostsz, int *port);
/* Splits a recorded value (dhcp_choose's out) into scheme, server and rule. */
void dhcp_default_of(const char *value, int option, struct dhcp_default *d);
/* The rule to use for Profile_Rule: DHCP's rule while the stored rule is still the factory
 * one, else the stored rule. */
const char *dhcp_profile_rule(const struct dhcp_default *d, const char *stored,
                              const char *factory);
/* Puts d's server (its port and, when the URL named none, its scheme) into url, a URL
 * evaluated without a server. UG_ERR_USAGE when the server is not host[:port]. */
ug_err dhcp_use_default(const struct dhcp_default *d, struct rule_url *url,
                        char *err) UG_MUST_CHECK;
/* Replaces DIR/dhcp.json with s (the current lease: options it lacks are forgotten). */
ug_err dhcp_record(const struct state_folder *f, const struct dhcp_servers *s,
                   char *err) UG_MUST_CHECK;
/* Reads DIR/dhcp.json into s; a missing file leaves every server "", and so does a damaged
 * one (s->damaged says why): the lease's next `dhcp` call writes it whole again. */
ug_err dhcp_load(const struct state_folder *f, struct dhcp_servers *s, char *err) UG_MUST_CHECK;

#endif
