#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The web server's cost (make bench): the daemon's RSS with the web server on and off, and
# /admin/status with 20 concurrent Digest clients while an upgrade streams from the real
# nginx at a phone's network speed (/slow/, 4 MB/s): the requests per second, and the
# upgrade's MB/s beside a baseline upgrade without that load (goal: less than 5 % slower).
. "$TOP/tests/integration/lib.sh"
. "$TOP/tests/integration/servers.sh"
. "$TOP/tests/integration/daemon.sh"
LOAD=$TOP/${BUILD:-build}/tools/web_load

"$TOP/images/make-keys.sh" "$WORK/keys" test >/dev/null
K=$WORK/keys
mkdir -p "$WORK/fw" "$WORK/img"
head -c $((16 << 20)) /dev/urandom >"$WORK/img/2.0.0.img"
"$UPGRADER" pack --product UG-PHONE-1 --version 2.0.0 --hw 1.0 --image "$WORK/img/2.0.0.img" \
    --key "$K/signer.key" --cert "$K/signer.pem" --compress none -o "$WORK/fw/2.0.0.bundle" >/dev/null
size=$(stat -c %s "$WORK/fw/2.0.0.bundle")
pki_make "$WORK/pki" >/dev/null
nginx_start "$WORK/fw" >/dev/null
H=http://127.0.0.1:$NGINX_HTTP_PORT
PW=bench-pw

phone() { # DIR
    local dir=$1
    "$UPGRADER" --root "$dir" init --slot-size 24M --keyring "$K/ca.pem" >/dev/null
    "$UPGRADER" --root "$dir" param set Resync_On_Reset No >/dev/null
    "$UPGRADER" --root "$dir" param set Resync_Periodic 0 >/dev/null
    "$UPGRADER" --root "$dir" param set Admin_Passwd "$PW" >/dev/null
}
rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
rebooted() { [ -f "$1/reboot-requested" ]; }
# upgrade DIR URL: queues the upgrade through the web server; prints MB/s to the reboot.
upgrade() {
    local t0 t1
    t0=$(date +%s.%N)
    curl -s -o /dev/null --digest -u "admin:$PW" "$2/admin/upgrade?$H/slow/2.0.0.bundle"
    until rebooted "$1"; do sleep 0.02; done
    t1=$(date +%s.%N)
    awk -v s="$size" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", s / (b - a) / 1e6 }'
}

phone "$WORK/off"
daemon_start "$WORK/off" --listen off
off_rss=$(rss_kb "$DAEMON_PID")
daemon_stop

phone "$WORK/base"
daemon_start "$WORK/base" --listen 127.0.0.1:0
U=$(dstatus "$WORK/base" .web)
on_rss=$(rss_kb "$DAEMON_PID")
base=$(upgrade "$WORK/base" "$U")
daemon_stop

phone "$WORK/load"
daemon_start "$WORK/load" --listen 127.0.0.1:0
U=$(dstatus "$WORK/load" .web)
"$LOAD" "$U/admin/status" admin "$PW" 3 20 >"$WORK/idle-load.txt"
"$LOAD" "$U/admin/status" admin "$PW" 8 20 >"$WORK/load.txt" &
loadpid=$!
loaded=$(upgrade "$WORK/load" "$U")
wait "$loadpid"
after_rss=$(rss_kb "$DAEMON_PID")
daemon_stop

printf 'daemon RSS:        %s kB with the web server off, %s kB on, %s kB after the load\n' \
    "$off_rss" "$on_rss" "$after_rss"
printf '/admin/status:     %s req/s idle, %s req/s during the upgrade (20 clients, Digest)\n' \
    "$(awk '{print $6}' "$WORK/idle-load.txt")" "$(awk '{print $6}' "$WORK/load.txt")"
printf 'upgrade (%s MB):   %s MB/s alone, %s MB/s under the load: %s %%\n' \
    "$((size / 1000000))" "$base" "$loaded" \
    "$(awk -v a="$base" -v b="$loaded" 'BEGIN { printf "%+.1f", (b - a) / a * 100 }')"
