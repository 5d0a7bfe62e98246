#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Upgrades in the running daemon against the real nginx: a pass triggered by a resync that
# brings a new Upgrade_Rule, and the boot-time step at the next start on the switched slot;
# a reboot held through a call and released at its end; a resync deferred during a call and
# forced at due + Forced_Resync_Delay; a download paused during a call (the server sends
# nothing while it lasts) and completed after; SIGTERM during a download leaving a bootable
# device, and the next start completing the work.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"
. "$(dirname "$0")/daemon.sh"

"$TOP/images/make-keys.sh" "$WORK/keys" test >/dev/null
K=$WORK/keys
FW=$WORK/fw
mkdir -p "$FW/bundles" "$WORK/img"
# 1.5 MB of which 1 MiB is random: about 1 MB on the wire, 4 s through /crawl/ (256 kB/s).
{ head -c 1048576 /dev/urandom; yes "release 1.5.0" | head -c 500000; } >"$WORK/img/1.5.0.img"
"$UPGRADER" pack --product UG-PHONE-1 --version 1.5.0 --hw 1.0 --image "$WORK/img/1.5.0.img" \
    --key "$K/signer.key" --cert "$K/signer.pem" --chunk-size 256K -o "$FW/bundles/1.5.0.bundle" >/dev/null ||
    fail "pack"
pki_make "$WORK/pki" >/dev/null
nginx_start "$FW" || fail "nginx did not start"
H=http://127.0.0.1:$NGINX_HTTP_PORT

device() { # DIR [NAME VALUE]...
    local d=$1
    shift
    "$UPGRADER" --root "$d" init --slot-size "${SLOT_SIZE:-4M}" --keyring "$K/ca.pem" >/dev/null || fail "init $d"
    while [ $# -ge 2 ]; do
        "$UPGRADER" --root "$d" param set "$1" "$2" >/dev/null || fail "param set $1 $2"
        shift 2
    done
}
profile() { # FILE UPGRADE_RULE
    printf '<flat-profile><Upgrade_Rule>%s</Upgrade_Rule></flat-profile>\n' "$2" >"$FW/$1"
}
booted() { "$BOOTCTL" --env "$1/bootenv" status --json | jqr .booted; }
ustate() { jqr .status.state "$1/upgrade.json" 2>/dev/null; }
rebooted() { [ -f "$1/reboot-requested" ]; }
upgrade_state_is() { [ "$(ustate "$1")" = "$2" ]; }
bytes_done() { jqr .status.bytes_done "$1/upgrade.json"; }
bytes_above() { [ "$(bytes_done "$1")" -gt "$2" ] 2>/dev/null; }
job_waits() { # DIR KIND: a job of KIND is queued and waits for the call to end
    dstatus "$1" ".jobs[] | select(.kind == \"$2\") | .why" | grep -q "waiting for the call to end"
}
# power_on DIR: the simulated device's bootloader, then the daemon (not `upgrader boot`).
power_on() {
    rm -f "$1/reboot-requested"
    "$BOOTCTL" --env "$1/bootenv" boot >/dev/null || fail "bootctl boot of $1"
}

# ---- A resync brings a new Upgrade_Rule: the pass runs, switches and reboots; at the next
# start on the new slot the daemon runs the boot-time step itself.
D=$WORK/rule
printf '<flat-profile><GPP_A>no upgrade yet</GPP_A></flat-profile>\n' >"$FW/rule.xml"
device "$D" Profile_Rule "$H/rule.xml" Resync_Random_Delay 0 Resync_Periodic 1
daemon_start "$D"
wait_until 10 "a resync without an Upgrade_Rule" log_has "resync (start): resync ok"
profile rule.xml "$H/bundles/1.5.0.bundle"
wait_until 20 "the resync applied the new Upgrade_Rule and the pass rebooted" rebooted "$D"
assert_eq "the switched slot boots next" "$(ustate "$D")" switched-awaiting-boot
assert_contains "the pass was queued by the resync" "$(cat "$DAEMON_LOG")" "upgrade (resync): hop 1 of 1"
assert_eq "status says a reboot is under way" "$(dstatus "$D" .state)" rebooting
daemon_stop
power_on "$D"
assert_eq "the bootloader picked B" "$(booted "$D")" B
daemon_start "$D"
wait_until 10 "the daemon confirmed the new slot at start" log_has "boot (start): slot B booted 1.5.0"
assert_eq "B is marked good" "$("$BOOTCTL" --env "$D/bootenv" status --json | jqr .slots.B.successful)" true
assert_eq "the plan is done" "$(ustate "$D")" done
daemon_stop

# ---- A pending reboot is held through a call and released at its end. Downloads are
# allowed during the call here (Download_Rate_During_Call), so that the switch is what waits.
C=$WORK/call
profile call.xml "$H/bundles/1.5.0.bundle"
device "$C" Profile_Rule "$H/call.xml" Resync_Random_Delay 0 Resync_Periodic 3600 \
    Download_Rate_During_Call 100000000
"$UPGRADER" --root "$C" call start >/dev/null
daemon_start "$C"
wait_until 20 "the verified slot waits for the call to end" job_waits "$C" switch
assert_eq "upgrade.json says deferred" "$(ustate "$C")" deferred-call-active
rebooted "$C" && fail "rebooted during the call"
ok "no reboot during the call"
expect_exit 0 "the call ends" "$UPGRADER" --root "$C" call end
wait_until 10 "the switch and the reboot follow the end of the call" rebooted "$C"
assert_eq "switched" "$(ustate "$C")" switched-awaiting-boot
daemon_stop

# ---- A resync that comes due during a call waits, and runs at due + Forced_Resync_Delay.
R=$WORK/forced
printf '<flat-profile><GPP_A>x</GPP_A></flat-profile>\n' >"$FW/forced.xml"
device "$R" Profile_Rule "$H/forced.xml" Resync_Random_Delay 0 Resync_Periodic 2 Forced_Resync_Delay 3
daemon_start "$R"
wait_until 10 "the resync at start" log_has "resync (start): resync ok"
"$UPGRADER" --root "$R" call start >/dev/null
n=$(requests "GET /forced.xml")
wait_until 15 "a resync forced during the call" log_has "resync (periodic) starts: forced during a call"
wait_until 5 "it reached the server" requests_at_least "GET /forced.xml" $((n + 1))
gap_between "$n" 4.9 7 "GET /forced.xml"
"$UPGRADER" --root "$R" call end >/dev/null
daemon_stop

# ---- A download paused during a call: nothing moves while it lasts, then it completes.
# The bundle is larger (16 MiB at 4 MB/s) than the socket buffers between nginx and the
# daemon can hold during the pause, so that nginx cannot finish sending before the call ends.
P=$WORK/paused
mkdir -p "$FW/big"
head -c 16777216 /dev/urandom >"$WORK/img/big.img"
# --no-index: one whole-stream request, whose pause nginx's socket and log can show (a delta
# install's many range requests are paused the same way, by the engine-wide hold).
"$UPGRADER" pack --product UG-PHONE-1 --version 1.5.0 --hw 1.0 --image "$WORK/img/big.img" --compress none --no-index \
    --key "$K/signer.key" --cert "$K/signer.pem" -o "$FW/big/1.5.0.bundle" >/dev/null || fail "pack big"
profile paused.xml "$H/slow/big/1.5.0.bundle"
SLOT_SIZE=32M device "$P" Profile_Rule "$H/paused.xml" Resync_Random_Delay 0 Resync_Periodic 3600
daemon_start "$P"
wait_until 15 "the download is under way" bytes_above "$P" 200000
"$UPGRADER" --root "$P" call start >/dev/null
wait_until 5 "the daemon holds the downloads" log_has "call up: downloads paused"
# What the server has had acknowledged on the connection, sampled twice 2 s apart once the
# socket buffers are full: it must not move. (nginx logs a request only at its end.)
acked() { ss -Htin state established "sport = :$NGINX_HTTP_PORT" | sed -n 's/.*bytes_acked:\([0-9]*\).*/\1/p' | head -n 1; }
sleep 2 # let the buffers between the two fill, so that what follows measures the pause
a1=$(acked) b1=$(bytes_done "$P")
sleep 2
a2=$(acked) b2=$(bytes_done "$P")
[ -n "$a1" ] || fail "no connection to the server seen during the call"
assert_eq "the server sent nothing during the call" "$a2" "$a1"
assert_eq "the slot got no byte during the call" "$b2" "$b1"
rebooted "$P" && fail "rebooted during the call"
CALL_END=$(date +%s.%N)
"$UPGRADER" --root "$P" call end >/dev/null
wait_until 20 "the download completed after the call, and the reboot followed" rebooted "$P"
# nginx logs a request once it ends: one request for the whole bundle (status 200; the 206s
# before it are the install reading the head to see whether it can go the delta way), ended
# after the call.
line=$(grep 'GET /slow/big' "$NGINX_ACCESS_LOG" | awk '$5 == 200')
assert_eq "nginx logged one whole request for the bundle" "$(printf '%s\n' "$line" | wc -l)" 1
assert_eq "it sent the whole bundle with 200" "$(awk '{print $5, $6}' <<<"$line")" "200 $(stat -c %s "$FW/big/1.5.0.bundle")"
awk -v t="$(sed -n 's/.* t=\([0-9.]*\)$/\1/p' <<<"$line")" -v e="$CALL_END" 'BEGIN { exit !(t > e) }' ||
    fail "nginx ended the request before the call ended: $line"
ok "nginx ended that request after the call ended"
daemon_stop

# ---- SIGTERM during a download: the device stays bootable, and the next start finishes.
S=$WORK/sigterm
profile sigterm.xml "$H/crawl/bundles/1.5.0.bundle"
device "$S" Profile_Rule "$H/sigterm.xml" Resync_Random_Delay 0 Resync_Periodic 3600
daemon_start "$S"
wait_until 15 "the download is under way" bytes_above "$S" 200000
daemon_stop
assert_eq "the daemon ended with 0" "$DAEMON_RC" 0
assert_eq "the pass recorded the cancel" "$(ustate "$S")" cancelled
jq -e '.jobs[] | select(.kind == "upgrade")' "$S/jobs.json" >/dev/null || fail "the upgrade job was not kept: $(cat "$S/jobs.json")"
ok "the upgrade job is kept for the next start"
cp "$S/bootenv" "$WORK/bootenv.copy"
assert_eq "the bootloader still picks A" "$("$BOOTCTL" --env "$WORK/bootenv.copy" boot)" A
daemon_start "$S"
wait_until 20 "the next start finished the work" rebooted "$S"
assert_eq "slot B holds the verified release" "$(jqr .pending.version "$S/upgrade.json")" 1.5.0
daemon_stop
finish
