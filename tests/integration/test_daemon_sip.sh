#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A real call: baresip (answermode=auto, its ctrl_tcp port on 127.0.0.1) takes a call that
# sipp places; the daemon, the one client of that port, holds the switch and reboot of an
# upgrade until the call's BYE, and never during it. The same with the control connection
# taken away in the middle of the call (ctrl_tcp keeps one client: a new one drops ours).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"
. "$(dirname "$0")/daemon.sh"
. "$(dirname "$0")/sip.sh"

"$TOP/images/make-keys.sh" "$WORK/keys" test >/dev/null
K=$WORK/keys
FW=$WORK/fw
mkdir -p "$FW/bundles"
head -c 800000 /dev/urandom >"$WORK/1.5.0.img"
"$UPGRADER" pack --product UG-PHONE-1 --version 1.5.0 --hw 1.0 --image "$WORK/1.5.0.img" \
    --key "$K/signer.key" --cert "$K/signer.pem" -o "$FW/bundles/1.5.0.bundle" >/dev/null || fail "pack"
pki_make "$WORK/pki" >/dev/null
nginx_start "$FW" || fail "nginx did not start"
H=http://127.0.0.1:$NGINX_HTTP_PORT

busy() { [ "$(dstatus "$1" .busy)" = true ]; }
sip_connected() { [ "$(dstatus "$1" .calls.sip.state)" = connected ] && [ "$(dstatus "$1" .busy)" = false ]; }
rebooted() { [ -f "$1/reboot-requested" ]; }
# never_rebooted_while_calling DIR: watches until sipp has hung up; fails at any reboot before.
never_rebooted_while_calling() {
    while kill -0 "$SIPP_PID" 2>/dev/null; do
        rebooted "$1" && fail "rebooted while the call was up"
        sleep 0.05
    done
    BYE_AT=$(date +%s.%N)
    wait "$SIPP_PID" || fail "sipp's call failed: $(tail -n 20 "$WORK/sipp.log")"
    ok "no reboot while the call was up; sipp's call completed"
}

device() { # DIR
    "$UPGRADER" --root "$1" init --slot-size 4M --keyring "$K/ca.pem" >/dev/null || fail "init"
    local kv
    for kv in "SIP_UA_Control_Enable Yes" "SIP_UA_Control_Address 127.0.0.1:$CTRL_PORT" \
        "Download_Rate_During_Call 100000000" "Resync_On_Reset No" "Resync_Periodic 0"; do
        # shellcheck disable=SC2086
        "$UPGRADER" --root "$1" param set $kv >/dev/null || fail "param set $kv"
    done
}

baresip_start

# ---- The reboot waits for the BYE.
D=$WORK/phone
device "$D"
daemon_start "$D"
wait_until 10 "the daemon is the UA's control client, and idle" sip_connected "$D"
call_start 4
wait_until 10 "the call is seen: busy" busy "$D"
assert_eq "from the SIP user agent" "$(dstatus "$D" .calls.sip.calls)" 1
expect_exit 6 "an upgrade during the call is deferred after its download" \
    "$UPGRADER" --root "$D" upgrade "$H/bundles/1.5.0.bundle"
assert_contains "it says why" "$ERR" "call active"
assert_contains "status shows the switch waiting" "$("$UPGRADER" --root "$D" status)" \
    "switch (deferred), queued"
never_rebooted_while_calling "$D"
wait_until 10 "the reboot follows the BYE" rebooted "$D"
reboot_at=$(stat -c %.9Y "$D/reboot-requested")
awk -v r="$reboot_at" -v b="$BYE_AT" 'BEGIN { exit !(r >= b - 0.2) }' ||
    fail "the reboot ($reboot_at) came before the end of the call ($BYE_AT)"
ok "the reboot came after the call ended"
grep -q "SIP user agent: CALL_CLOSED" "$DAEMON_LOG" || fail "the daemon did not see CALL_CLOSED"
ok "the daemon saw the call close"
daemon_stop

# ---- The same with the control connection taken away during the call.
E=$WORK/phone2
device "$E"
daemon_start "$E"
wait_until 10 "connected to the UA again" sip_connected "$E"
call_start 6
wait_until 10 "the second call is seen" busy "$E"
expect_exit 6 "the upgrade is deferred" "$UPGRADER" --root "$E" upgrade "$H/bundles/1.5.0.bundle"
# Another client takes the port: baresip drops the daemon's connection.
exec 5<>"/dev/tcp/127.0.0.1/$CTRL_PORT"
wait_until 5 "the daemon noticed the lost connection" log_has "counted busy until it answers again"
assert_eq "busy while it does not know" "$(dstatus "$E" .busy)" true
exec 5>&-
wait_until 10 "it connected again" log_count_at_least "SIP user agent 127.0.0.1:$CTRL_PORT: connected" 2
never_rebooted_while_calling "$E"
wait_until 15 "the reboot follows the BYE" rebooted "$E"
daemon_stop
finish
