#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# upgrader upgrade and upgrader boot on simulated devices against the real nginx and tftpd-hpa:
# a three-hop upgrade through simulated reboots, rollback, deferral during a call, refusals
# that leave the running slot untouched, Upgrade_Enable=No, the acted-on memory of a rule,
# the progress line on a terminal, the boot state's lock, one TLS handshake a pass.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"

"$TOP/images/make-keys.sh" "$WORK/keys" test >/dev/null
K=$WORK/keys
FW=$WORK/fw
mkdir -p "$FW/bundles" "$WORK/img"

# Small images (2.25 MiB), different in every release; packed into signed bundles.
make_release() { # VERSION [HW]
    local v=$1 hw=${2:-1.0,2.0}
    { head -c 1048576 /dev/urandom; yes "release $v" | head -c 1310720; } > "$WORK/img/$v.img"
    "$UPGRADER" pack --product UG-PHONE-1 --version "$v" --hw "$hw" --image "$WORK/img/$v.img" \
        --key "$K/signer.key" --cert "$K/signer.pem" --chunk-size 512K -o "$FW/bundles/$v.bundle" >/dev/null ||
        fail "pack $v"
}
for v in 1.5.0 2.0.0 3.0.0; do make_release $v; done
ok "made three releases"

# The catalog: 3.0.0 is reached from 1.0.0 only through 1.5.0 and 2.0.0.
entry() { # VERSION MIN_FROM
    printf '{"version": "%s", "bundle": "bundles/%s.bundle", "size": %s, "sha256": "%s", "min_from": "%s", "hardware": ["1.0", "2.0"]}' \
        "$1" "$1" "$(stat -c %s "$FW/bundles/$1.bundle")" "$(sha256sum < "$FW/bundles/$1.bundle" | cut -d' ' -f1)" "$2"
}
printf '{"product": "UG-PHONE-1", "releases": [%s, %s, %s]}\n' "$(entry 1.5.0 1.0.0)" "$(entry 2.0.0 1.5.0)" \
    "$(entry 3.0.0 2.0.0)" > "$FW/catalog.json"
openssl cms -sign -binary -outform DER -in "$FW/catalog.json" -signer "$K/signer.pem" -inkey "$K/signer.key" \
    -out "$FW/catalog.json.sig" || fail "sign the catalog"

pki_make "$WORK/pki" >/dev/null
nginx_start "$FW" || fail "nginx did not start"
tftpd_start "$FW" || fail "tftpd did not start"
H=http://127.0.0.1:$NGINX_HTTP_PORT
T=tftp://127.0.0.1:$TFTP_PORT

new_device() { # DIR [VERSION]
    "$UPGRADER" --root "$1" init --version "${2:-1.0.0}" --slot-size 4M --keyring "$K/ca.pem" >/dev/null ||
        fail "init $1"
    # Something recognisable in the running slot, so "untouched" can be checked byte for byte.
    yes "factory image of $1" | head -c 3000000 | dd of="$1/slot-a.img" conv=notrunc status=none
    cp "$1/slot-a.img" "$1/slot-a.orig"
}
param() { "$UPGRADER" --root "$1" param set "$2" "$3" >/dev/null || fail "param set $2"; }
# power_on DIR: what the simulated device does at power-on: the bootloader, then the agent.
power_on() {
    rm -f "$1/reboot-requested"
    "$BOOTCTL" --env "$1/bootenv" boot >/dev/null || fail "bootctl boot of $1"
    "$UPGRADER" --root "$1" boot
}
booted() { "$BOOTCTL" --env "$1/bootenv" status --json | jqr .booted; }
slot_json() { "$BOOTCTL" --env "$1/bootenv" status --json | jqr ".slots.$2.$3"; }
status_of() { jqr ".status.$2" "$1/upgrade.json"; }
slot_holds() { # DIR LETTER VERSION: the slot starts with the image of VERSION, byte for byte
    local f; f=$1/slot-$(tr AB ab <<<"$2").img
    cmp -s -n "$(stat -c %s "$WORK/img/$3.img")" "$f" "$WORK/img/$3.img"
}
requests() { grep -c "$1" "$NGINX_ACCESS_LOG" || true; }

# ---- Three hops through simulated reboots.
D=$WORK/multi
new_device "$D"
param "$D" Upgrade_Rule "$H/catalog.json"
# Each hop is logged to Syslog_Server, and each boot resyncs before the next hop
# (Resync_After_Upgrade_Attempt, default Yes): the profile served here sets GPP_C.
SYSLOG=$WORK/syslog.log
_spawn SYSLOG_PORT SYSLOG_PID "$SYSLOG" u "$TOOLS/syslog_sink" @PORT@
param "$D" Syslog_Server "127.0.0.1:$SYSLOG_PORT"
printf '<flat-profile><GPP_C>resynced-between-hops</GPP_C></flat-profile>\n' >"$FW/between.xml"
param "$D" Profile_Rule "$H/between.xml"
expect_exit 0 "first pass installs hop 1" "$UPGRADER" --root "$D" upgrade
assert_contains "summary names the hop" "$OUT" "hop 1 of 3"
[ -f "$D/reboot-requested" ] || fail "no reboot requested"
ok "the simulated reboot command ran"
assert_eq "B boots next" "$(slot_json "$D" B priority)" 15
assert_eq "B holds 1.5.0" "$(slot_json "$D" B version)" 1.5.0
assert_eq "status switched" "$(status_of "$D" state)" switched-awaiting-boot
assert_eq "status hop/hops" "$(status_of "$D" hop)/$(status_of "$D" hops)" 1/3
assert_eq "status bytes" "$(status_of "$D" bytes_done)" "$(stat -c %s "$WORK/img/1.5.0.img")"
slot_holds "$D" B 1.5.0 || fail "slot B is not the 1.5.0 image"
ok "slot B is byte-identical to 1.5.0"
assert_same_file "running slot A untouched by hop 1" "$D/slot-a.img" "$D/slot-a.orig"
expected=(1.5.0 2.0.0 3.0.0)
for hop in 1 2 3; do
    expect_exit 0 "power-on $hop" power_on "$D"
    letter=$([ $((hop % 2)) = 1 ] && echo B || echo A)
    assert_eq "booted $letter after hop $hop" "$(booted "$D")" "$letter"
    assert_eq "slot $letter marked good" "$(slot_json "$D" "$letter" successful)" true
    slot_holds "$D" "$letter" "${expected[$((hop - 1))]}" || fail "slot $letter is not ${expected[$((hop - 1))]}"
    ok "hop $hop: slot $letter byte-identical to ${expected[$((hop - 1))]}"
    if [ $hop -lt 3 ]; then
        [ -f "$D/reboot-requested" ] || fail "boot did not continue with hop $((hop + 1))"
        assert_eq "status hop $((hop + 1))" "$(status_of "$D" hop)" $((hop + 1))
    fi
done
[ ! -f "$D/reboot-requested" ] || fail "a reboot requested after the last hop"
assert_eq "the boot resynced before the next hop" "$("$UPGRADER" --root "$D" param get GPP_C)" resynced-between-hops
for i in $(seq 1 50); do grep -q "Successful upgrade" "$SYSLOG" && break; sleep 0.1; done
assert_contains "upgrade request sent to syslog" "$(cat "$SYSLOG")" "Requesting upgrade HTTP://127.0.0.1:$NGINX_HTTP_PORT/"
assert_contains "upgrade success sent to syslog" "$(cat "$SYSLOG")" "Successful upgrade"
assert_eq "plan done" "$(status_of "$D" state)" done
assert_eq "running 3.0.0" "$(booted "$D")/$(slot_json "$D" B version)" B/3.0.0
assert_eq "no error left" "$(status_of "$D" last_error)" ""

# The unconditional rule was acted on: not attempted again until it changes.
before=$(requests "GET /catalog.json ")
expect_exit 0 "the same rule again" "$UPGRADER" --root "$D" upgrade
assert_contains "says acted on" "$OUT" "acted on"
assert_eq "no request for it" "$(requests "GET /catalog.json ")" "$before"
param "$D" Upgrade_Rule "$H/catalog.json#3.0.0"
expect_exit 0 "a changed rule is evaluated" "$UPGRADER" --root "$D" upgrade
assert_contains "already at the target" "$OUT" "already at 3.0.0"
assert_eq "fetched the catalog again" "$(requests "GET /catalog.json ")" $((before + 1))
expect_exit 0 "power-on with nothing pending" power_on "$D"
assert_eq "still slot B" "$(booted "$D")" B

# ---- A release that never reaches mark-good rolls back, is reported, and waits.
D=$WORK/rollback
new_device "$D"
sed -i 's/^health_check=.*/health_check=false/' "$D/device.conf"
param "$D" Upgrade_Rule "$H/bundles/1.5.0.bundle"
param "$D" Upgrade_Error_Retry_Delay 3600
expect_exit 0 "install the doomed release" "$UPGRADER" --root "$D" upgrade
for try in 1 2 3; do
    expect_exit 1 "try $try: health check fails" power_on "$D"
    assert_eq "try $try booted B" "$(booted "$D")" B
    assert_contains "says not marked good" "$ERR" "not marked good"
done
expect_exit 0 "power-on after the last try" power_on "$D"
assert_eq "fell back to A" "$(booted "$D")" A
assert_contains "reports the rollback" "$OUT" "rollback"
assert_eq "status failed" "$(status_of "$D" state)" failed
assert_eq "result rolled-back" "$(status_of "$D" last_result)" rolled-back
assert_eq "UPGST 2" "$(status_of "$D" upgst)" 2
assert_contains "UPGERR names the version" "$(status_of "$D" last_error)" "1.5.0"
assert_eq "B marked bad" "$(slot_json "$D" B bootable)/$(slot_json "$D" B priority)" false/0
assert_same_file "slot A untouched" "$D/slot-a.img" "$D/slot-a.orig"
before=$(requests "GET /bundles/1.5.0.bundle ")
expect_exit 0 "upgrade before the retry delay" "$UPGRADER" --root "$D" upgrade
assert_contains "says not retried" "$OUT" "not retried before"
assert_eq "nothing downloaded" "$(requests "GET /bundles/1.5.0.bundle ")" "$before"
expect_exit 0 "boot again: no loop" power_on "$D"
assert_eq "A again" "$(booted "$D")" A
[ ! -f "$D/reboot-requested" ] || fail "boot after a rollback asked for a reboot"
ok "no reboot loop"
# Once the delay has passed (moved back here), the release is tried again.
jq '.failures[0].retry_after = 0' "$D/upgrade.json" > "$WORK/u.json" && mv "$WORK/u.json" "$D/upgrade.json"
sed -i 's/^health_check=.*/health_check=true/' "$D/device.conf"
expect_exit 0 "retried after the delay" "$UPGRADER" --root "$D" upgrade
# (A delta install: the head and the block index by range, and whatever slot B lacks.)
[ "$(requests "GET /bundles/1.5.0.bundle ")" -gt "$before" ] || fail "not downloaded again"
ok "downloaded again"
expect_exit 0 "this time it boots" power_on "$D"
assert_eq "running B" "$(booted "$D")/$(slot_json "$D" B successful)" B/true
assert_eq "done" "$(status_of "$D" state)" done

# ---- A call active at the switch defers it; the next pass switches without downloading (TFTP).
D=$WORK/call
new_device "$D"
param "$D" Upgrade_Rule "$T/bundles/2.0.0.bundle"
"$UPGRADER" --root "$D" call start >/dev/null
expect_exit 6 "deferred by the call" "$UPGRADER" --root "$D" upgrade
assert_contains "says a call is active" "$ERR" "call"
assert_eq "status deferred" "$(status_of "$D" state)" deferred-call-active
assert_eq "B verified but not bootable" "$(slot_json "$D" B version)/$(slot_json "$D" B bootable)" 2.0.0/false
[ ! -f "$D/reboot-requested" ] || fail "rebooted during a call"
slot_holds "$D" B 2.0.0 || fail "slot B is not 2.0.0"
ok "slot B holds 2.0.0 over TFTP"
"$BOOTCTL" --env "$D/bootenv" boot >/dev/null
assert_eq "a power cut now boots A" "$(booted "$D")" A
expect_exit 0 "boot keeps the pending slot" "$UPGRADER" --root "$D" boot
assert_contains "says it waits" "$OUT" "switches to it"
# The server copy goes away: the verified slot must not need it.
mv "$FW/bundles/2.0.0.bundle" "$FW/bundles/2.0.0.bundle.keep"
expect_exit 6 "still deferred" "$UPGRADER" --root "$D" upgrade
"$UPGRADER" --root "$D" call end >/dev/null
expect_exit 0 "after the call: switch only" "$UPGRADER" --root "$D" upgrade
mv "$FW/bundles/2.0.0.bundle.keep" "$FW/bundles/2.0.0.bundle"
assert_eq "B boots next" "$(slot_json "$D" B priority)" 15
[ -f "$D/reboot-requested" ] || fail "no reboot after the call"
expect_exit 0 "power-on into 2.0.0" power_on "$D"
assert_eq "running B 2.0.0" "$(booted "$D")/$(slot_json "$D" B version)" B/2.0.0

# ---- Refusals: each its exit code, the running slot bootable and untouched.
make_release 9.0.0 7.7
cp "$FW/bundles/1.5.0.bundle" "$FW/bundles/corrupt.bundle"
size=$(stat -c %s "$FW/bundles/corrupt.bundle")
printf '\xff\x00\xff' | dd of="$FW/bundles/corrupt.bundle" bs=1 seek=$((size - 40000)) conv=notrunc status=none
cp "$FW/bundles/1.5.0.bundle" "$FW/bundles/tampered.bundle"
# The signed manifest (the first tar member) claims another version: same length, same place.
off=$(grep -abo -m1 '1\.5\.0' "$FW/bundles/tampered.bundle" | head -n1 | cut -d: -f1)
[ -n "$off" ] && [ "$off" -lt 4096 ] || fail "no version in the manifest"
printf '1.6.0' | dd of="$FW/bundles/tampered.bundle" bs=1 seek="$off" conv=notrunc status=none
closed_port P
refuse() { # CODE WHAT RULE [DEVICE-VERSION [LIMIT]]
    local d=$WORK/refuse-$RANDOM
    new_device "$d" "${4:-1.0.0}"
    [ -n "${5:-}" ] && param "$d" Downgrade_Rev_Limit "$5"
    param "$d" Upgrade_Rule "$3"
    cp "$d/bootenv" "$d/bootenv.orig"
    expect_exit "$1" "$2" "$UPGRADER" --root "$d" upgrade
    assert_eq "$2: state failed" "$(status_of "$d" state)" failed
    assert_eq "$2: A still good" "$(slot_json "$d" A bootable)/$(slot_json "$d" A successful)/$(slot_json "$d" A priority)" true/true/15
    assert_eq "$2: B not bootable" "$(slot_json "$d" B bootable)" false
    assert_same_file "$2: slot A untouched" "$d/slot-a.img" "$d/slot-a.orig"
    "$BOOTCTL" --env "$d/bootenv" boot >/dev/null
    assert_eq "$2: A boots" "$(booted "$d")" A
    [ ! -f "$d/reboot-requested" ] || fail "$2: reboot requested"
}
refuse 5 "corrupt bundle" "$H/bundles/corrupt.bundle"
refuse 5 "tampered bundle" "$H/bundles/tampered.bundle"
refuse 5 "wrong hardware" "$H/bundles/9.0.0.bundle"
refuse 5 "refused downgrade" "$H/bundles/1.5.0.bundle" 2.0.0 2.0.0
refuse 5 "refused downgrade via the catalog" "$H/catalog.json#1.5.0" 2.0.0 2.0.0
refuse 4 "404" "$H/bundles/missing.bundle"
refuse 4 "404 over TFTP" "$T/bundles/missing.bundle"
refuse 3 "unreachable server" "http://127.0.0.1:$P/bundles/1.5.0.bundle"
refuse 7 "no path to the target" "$H/catalog.json#3.0.0" 0.5.0

# ---- Upgrade_Enable=No: nothing happens, and status says why.
D=$WORK/disabled
new_device "$D"
param "$D" Upgrade_Rule "$H/bundles/1.5.0.bundle"
param "$D" Upgrade_Enable No
before=$(requests "GET /bundles/1.5.0.bundle ")
expect_exit 0 "disabled" "$UPGRADER" --root "$D" upgrade
assert_eq "state disabled" "$(status_of "$D" state)" disabled
assert_contains "reason" "$(status_of "$D" reason)" "Upgrade_Enable is No"
assert_eq "nothing fetched" "$(requests "GET /bundles/1.5.0.bundle ")" "$before"
assert_same_file "slot A untouched" "$D/slot-a.img" "$D/slot-a.orig"

# ---- Usage and on-demand URLs.
expect_exit 2 "bad rule" "$UPGRADER" --root "$WORK/multi" upgrade "/no-host.bundle"
expect_exit 2 "--key means nothing for a bundle" "$UPGRADER" --root "$WORK/multi" upgrade "[--key k] $H/bundles/1.5.0.bundle"
expect_exit 2 "unknown option" "$UPGRADER" --root "$WORK/multi" upgrade --bogus
D=$WORK/ondemand
new_device "$D"
hold_lock "$D/upgrade.lock" 1.5
expect_exit 1 "one pass at a time" "$UPGRADER" --root "$D" upgrade "$H/bundles/1.5.0.bundle"
assert_contains "says another pass runs" "$ERR" "another upgrade pass"
wait "$HOLDER"
expect_exit 0 "no rule: nothing to do" "$UPGRADER" --root "$D" upgrade
assert_contains "says so" "$OUT" "no Upgrade_Rule"
expect_exit 0 "on-demand URL, --no-reboot" "$UPGRADER" --root "$D" upgrade "$H/bundles/1.5.0.bundle" --no-reboot
[ ! -f "$D/reboot-requested" ] || fail "--no-reboot rebooted"
assert_eq "switched" "$(slot_json "$D" B priority)" 15
expect_exit 0 "power-on" power_on "$D"
assert_eq "running 1.5.0" "$(booted "$D")/$(slot_json "$D" B version)" B/1.5.0

# ---- The progress line: drawn on a terminal (script(1) gives the pass a pty), never in a pipe.
D=$WORK/progress
new_device "$D"
script -qec "'$UPGRADER' --root '$D' upgrade '$H/bundles/1.5.0.bundle' --no-reboot" /dev/null >"$WORK/tty.out" 2>&1 ||
    fail "upgrade on a terminal: exit $? ($(tr -d '\r' <"$WORK/tty.out"))"
tty_out=$(tr '\r\033' '|#' <"$WORK/tty.out")
assert_contains "a line redrawn in place" "$tty_out" "|#[Kupgrade: hop 1/1 "
assert_contains "while downloading, with the version its manifest names" "$tty_out" "1.5.0  downloading  "
assert_contains "it reaches the whole image" "$tty_out" "$(printf '%.1f/%.1f MiB  100%%' 2.25 2.25)"
assert_contains "and the verified release" "$tty_out" "1.5.0  verified-pending-switch"
assert_contains "then the summary on a line of its own" "$tty_out" "upgrade: hop 1 of 1"
D=$WORK/piped
new_device "$D"
expect_exit 0 "upgrade into a pipe" "$UPGRADER" --root "$D" upgrade "$H/bundles/1.5.0.bundle" --no-reboot
assert_not_contains "no progress line in a pipe" "$ERR$OUT" "MiB"

# ---- The pass changes the boot state under the store's lock: it waits for another holder
# (bootctl by hand, say) instead of interleaving with it.
D=$WORK/bootlock
new_device "$D"
hold_lock "$D/bootenv.lock" 1.5
t0=$(date +%s.%N)
expect_exit 0 "upgrade while the boot state is locked" "$UPGRADER" --root "$D" upgrade "$H/bundles/1.5.0.bundle" --no-reboot
t=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
awk -v t="$t" 'BEGIN { exit !(t >= 0.9) }' || fail "the pass did not wait for the lock (${t} s)"
ok "the pass waited for the holder (${t} s)"
wait "$HOLDER"
assert_eq "then switched" "$(slot_json "$D" B priority)/$(slot_json "$D" B version)" 15/1.5.0
# ---- One pass, one connection: the catalog, its signature and the bundle over HTTPS share
# the session's transport engine, so the pass makes one TLS handshake, not three.
D=$WORK/tls
"$UPGRADER" --root "$D" init --version 1.0.0 --slot-size 4M --keyring "$K/ca.pem" --ca "$PKI/ca.pem" \
    >/dev/null || fail "init $D"
: >"$NGINX_ACCESS_LOG"
expect_exit 0 "a catalog pass over HTTPS" "$UPGRADER" --root "$D" upgrade \
    "https://127.0.0.1:$NGINX_HTTPS_PORT/catalog.json" --no-reboot
assert_eq "catalog and signature whole" "$(grep -c '" 200 ' "$NGINX_ACCESS_LOG")" 2
[ "$(grep -c '" 206 ' "$NGINX_ACCESS_LOG")" -ge 2 ] || fail "the bundle was not read by ranges (delta)"
ok "the bundle by ranges: head, block index, missing frames"
assert_eq "over one connection (one TLS handshake)" \
    "$(grep -o 'c=[0-9]*' "$NGINX_ACCESS_LOG" | sort -u | wc -l)" 1
finish
