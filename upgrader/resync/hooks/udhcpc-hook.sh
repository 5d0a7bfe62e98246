#!/bin/sh
# SPDX-License-Identifier: MIT
# udhcpc (busybox) hook: records the lease's provisioning servers (options 66, 150, 159, 160)
# with `upgrader dhcp`; run it from the udhcpc script with the script's arguments ("$@").
# udhcpc only reports options it asked for: start it with -O 150 -O 159 -O 160 (66 is "tftp").
# It passes unknown options as hex ($opt150 ...), which `upgrader dhcp` decodes ("hex:...").
UPGRADER=${UPGRADER:-@BINDIR@/upgrader}
case "$UPGRADER" in @*) UPGRADER=upgrader ;; esac
UPGRADER_ROOT=${UPGRADER_ROOT:-/var/lib/upgrader}

case "${1:-}" in
bound | renew)
    set --
    # Option 66 (TFTP server name); without it, the BOOTP next-server (siaddr) stands in.
    server=${tftp:-}
    if [ -z "$server" ] && [ -n "${siaddr:-}" ] && [ "$siaddr" != 0.0.0.0 ]; then
        server=$siaddr
    fi
    [ -n "$server" ] && set -- "$@" --option66 "$server"
    [ -n "${opt150:-}" ] && set -- "$@" --option150 "hex:$opt150"
    [ -n "${opt159:-}" ] && set -- "$@" --option159 "hex:$opt159"
    [ -n "${opt160:-}" ] && set -- "$@" --option160 "hex:$opt160"
    # Every lease replaces the record: options the new lease lacks are forgotten.
    "$UPGRADER" --root "$UPGRADER_ROOT" dhcp "$@"
    ;;
*)
    # deconfig, leasefail, nak: the last known server stays the default.
    ;;
esac
