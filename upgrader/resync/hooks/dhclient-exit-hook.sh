# SPDX-License-Identifier: MIT
# ISC dhclient exit hook (sourced by dhclient-script; install it as
# /etc/dhcp/dhclient-exit-hooks.d/upgrader): records the lease's provisioning servers with
# `upgrader dhcp`. Options 150, 159 and 160 need the declarations of dhclient-upgrader.conf.
# Sourced, so it defines one function and never calls exit.
upgrader_dhcp_hook() {
    local upgrader root
    upgrader=${UPGRADER:-@BINDIR@/upgrader}
    case "$upgrader" in @*) upgrader=upgrader ;; esac
    root=${UPGRADER_ROOT:-/var/lib/upgrader}
    case "${reason:-}" in
    BOUND | RENEW | REBIND | REBOOT) ;;
    *) return 0 ;;
    esac
    set --
    [ -n "${new_tftp_server_name:-}" ] && set -- "$@" --option66 "$new_tftp_server_name"
    # "array of ip-address" arrives space-separated: the first address is the server.
    [ -n "${new_upgrader_tftp_servers:-}" ] && set -- "$@" --option150 "$new_upgrader_tftp_servers"
    [ -n "${new_upgrader_prov_url_159:-}" ] && set -- "$@" --option159 "$new_upgrader_prov_url_159"
    [ -n "${new_upgrader_prov_url_160:-}" ] && set -- "$@" --option160 "$new_upgrader_prov_url_160"
    "$upgrader" --root "$root" dhcp "$@"
}
upgrader_dhcp_hook
