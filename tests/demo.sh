#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make demo: the whole story on one simulated phone, narrated step by step: provisioning
# over HTTPS to SEC-PRV-2, a multistage upgrade through stepping stones with a call in the
# middle, and a broken release that rolls back by itself; then a second phone that runs the
# agent daemon: it resyncs by itself, and an upgrade's reboot waits for a real SIP call
# (baresip answering, sipp calling) to end. Real programs, real servers.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
UPGRADER="$top/$BUILD/upgrader"
BOOTCTL="$top/$BUILD/bootctl"
# The test helpers make a scratch folder and start servers on 127.0.0.1 high ports; they
# stop every server (by PID) and remove the folder when the demo ends, however it ends.
export UPGRADER BOOTCTL
. "$top/tests/integration/lib.sh"
. "$top/tests/integration/servers.sh"
. "$top/tests/integration/sip.sh"
demo=$WORK
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
phone="$demo/phone"
power_on() {
    run "$BOOTCTL" --env "$phone/bootenv" boot
    run "$UPGRADER" --root "$phone" boot
}

step "The provider's servers: a test CA, real firmware (ext4 images, signed bundles, a signed catalog), nginx over HTTPS"
pki_make "$demo/pki" >/dev/null
www="$demo/www"
mkdir -p "$www/init"
run "$top/images/build.sh" "$www/fw" "$UPGRADER"
nginx_start "$www"
https="https://127.0.0.1:$NGINX_HTTPS_PORT"
echo "serving $https/"

step "A factory-fresh phone running 1.0.0 from slot A; it trusts the TLS CA and the firmware signer"
run "$UPGRADER" --root "$phone" init --mac 00:0e:08:ab:cd:ef --version 1.0.0 \
    --ca "$demo/pki/ca.pem" --keyring "$www/fw/keys/ca.pem"
power_on
run "$UPGRADER" --root "$phone" status

step "Provisioning: a per-MAC profile installs a 256-bit key, a random folder and a --key rule"
key=$(openssl rand -hex 32)
folder=$(openssl rand -hex 8)
printf '<flat-profile>\n  <GPP_A>%s</GPP_A>\n  <GPP_B>%s</GPP_B>\n  <Profile_Rule>%s</Profile_Rule>\n</flat-profile>\n' \
    "$key" "$folder" "[--key \$A] $https/secure/\$B/\$MA.cfg" >"$www/init/000e08abcdef.xml"
mkdir -p "$www/secure/$folder"
printf '<flat-profile>\n  <GPP_D>Reception</GPP_D>\n  <Upgrade_Rule>%s</Upgrade_Rule>\n</flat-profile>\n' \
    "$https/fw/catalog.json" |
    openssl enc -e -aes-256-cbc -k "$key" -out "$www/secure/$folder/000e08abcdef.cfg" 2>/dev/null
run "$UPGRADER" --root "$phone" resync "$https/init/\$MA.xml"
run "$UPGRADER" --root "$phone" status
echo "(SEC-PRV-1: the key rule is armed; the next resync fetches the encrypted profile, which sets Upgrade_Rule)"
run "$UPGRADER" --root "$phone" resync
echo "(and again: the server answers 304, nothing is re-applied)"
run "$UPGRADER" --root "$phone" resync
run "$UPGRADER" --root "$phone" param get Upgrade_Rule
echo "(a rule naming a file the server does not have: exit 4, LED fast-blink, store unchanged)"
run "$UPGRADER" --root "$phone" resync "$https/missing.xml" || echo "(exit $?)"

step "The upgrade path: the newest release can only be reached through stepping stones"
run "$UPGRADER" --root "$phone" plan --catalog "$https/fw/catalog.json"

step "A call is active: the first hop is streamed into slot B and verified, but the switch waits (exit 6)"
run "$UPGRADER" --root "$phone" call start
run "$UPGRADER" --root "$phone" upgrade || echo "(exit $?)"
run jq .status "$phone/upgrade.json"

step "The call ends: the next pass only switches (nothing downloaded again) and reboots"
run "$UPGRADER" --root "$phone" call end
run "$UPGRADER" --root "$phone" upgrade
echo "(the simulated reboot command only left $phone/reboot-requested)"

step "Each power-on confirms the new slot and takes the next hop by itself"
while [ -f "$phone/reboot-requested" ]; do
    rm -f "$phone/reboot-requested"
    power_on
done
run "$BOOTCTL" --env "$phone/bootenv" status
run jq .status "$phone/upgrade.json"

step "The rule was acted on: another pass does nothing"
run "$UPGRADER" --root "$phone" upgrade

step "A new slot that never reports a good boot: 2 tries, then the bootloader falls back by itself"
other=$(jq -r '.booted' <("$BOOTCTL" --env "$phone/bootenv" status --json))
[ "$other" = A ] && other=B || other=A
run "$BOOTCTL" --env "$phone/bootenv" set-active "$other" --tries 2
run "$BOOTCTL" --env "$phone/bootenv" boot
run "$BOOTCTL" --env "$phone/bootenv" boot
echo "(no mark-good: the new slot is broken)"
run "$BOOTCTL" --env "$phone/bootenv" boot
run "$BOOTCTL" --env "$phone/bootenv" status

step "The phone as it really runs: the agent daemon. Its SIP user agent (baresip, answering by itself) comes up first"
baresip_start
echo "baresip listens for SIP on 127.0.0.1:$SIP_PORT, its control port (ctrl_tcp) on 127.0.0.1:$CTRL_PORT"
desk="$demo/desk"
run "$UPGRADER" --root "$desk" init --mac 00:0e:08:12:34:56 --version 1.0.0 \
    --ca "$demo/pki/ca.pem" --keyring "$www/fw/keys/ca.pem" >/dev/null
mkdir -p "$www/desk"
printf '<flat-profile>\n  <GPP_D>Front desk</GPP_D>\n</flat-profile>\n' >"$www/desk/000e08123456.xml"
for kv in "Profile_Rule $https/desk/\$MA.xml" "Resync_Random_Delay 0" "Resync_Periodic 4" \
    "Forced_Resync_Delay 2" "Download_Rate_During_Call 4000000" \
    "SIP_UA_Control_Enable Yes" "SIP_UA_Control_Address 127.0.0.1:$CTRL_PORT"; do
    # shellcheck disable=SC2086
    run "$UPGRADER" --root "$desk" param set $kv >/dev/null
done
echo "(a resync every 4 s stands for the provider's hour; a resync due during a call waits 2 s at most;"
echo " during a call downloads are held to 4 MB/s instead of paused; call state comes from baresip)"
dlog="$demo/desk-daemon.log"
"$UPGRADER" --root "$desk" daemon >"$dlog" 2>&1 &
dpid=$!
at_exit "stop_pid $dpid"
tail -n +1 -f "$dlog" --pid "$dpid" | sed -u 's/^upgrader: /  daemon | /' &
at_exit "stop_pid $!"
# wait_log SECONDS PATTERN: until the daemon's log shows PATTERN.
wait_log() {
    local end=$(($(date +%s) + $1))
    until grep -q -- "$2" "$dlog"; do
        [ "$(date +%s)" -lt "$end" ] || fail "the daemon did not log '$2' within $1 s"
        sleep 0.1
    done
}
wait_log 20 "resync (periodic): resync ok"
sleep 0.3

step "Nobody typed a command: it resynced at start and every 4 s since; status through its control socket"
run "$UPGRADER" --root "$desk" status | sed -n '/^daemon:/,$p'

step "A call comes in (sipp calls the phone; baresip answers; the caller hangs up after 15 s)"
call_start 15
wait_log 10 "SIP user agent: CALL_ESTABLISHED"
wait_log 10 "call up:"
step "Meanwhile the provider publishes a new release: the profile now names its bundle"
printf '<flat-profile>\n  <GPP_D>Front desk</GPP_D>\n  <Upgrade_Rule>%s</Upgrade_Rule>\n</flat-profile>\n' \
    "$https/fw/bundles/ug-phone-1.2.0.bundle" >"$www/desk/000e08123456.xml"
wait_log 25 "the switch to the verified slot waits for idle"
sleep 0.3
run "$UPGRADER" --root "$desk" status | sed -n '/^daemon:/,$p'
echo "(the release is written and verified in slot B; the switch and the reboot wait for the call)"
wait "$SIPP_PID" && echo "(sipp: the caller hung up, BYE sent; call completed)"
wait_log 15 "reboot requested"
sleep 0.3
[ -f "$desk/reboot-requested" ] && echo "(the simulated reboot command ran, after the call's end: $desk/reboot-requested)"
echo "Why it waited, in the daemon's own words:"
grep -E "CALL_|call up|idle:|deferred|waits for idle|switch|reboot" "$dlog" | sed 's/^upgrader: /  | /'

step "Power on: the bootloader picks B, the daemon confirms the new slot at its start"
kill -TERM "$dpid"; wait "$dpid" || true
rm -f "$desk/reboot-requested"
run "$BOOTCTL" --env "$desk/bootenv" boot
"$UPGRADER" --root "$desk" daemon >>"$dlog" 2>&1 &
dpid=$!
at_exit "stop_pid $dpid"
wait_log 20 "boot (start): "
grep "boot (start): " "$dlog" | sed 's/^upgrader: /  | /'
kill -TERM "$dpid"; wait "$dpid" || true
run "$BOOTCTL" --env "$desk/bootenv" status

# ---- A point release as a delta: the phone runs 3.0.0 from B; 3.0.1 changes one file.
step "A point release downloads only what the phone lacks: blocks come from its slots, the rest by HTTP ranges"
img301="$demo/ug-phone-3.0.1.ext4"
cp "$www/fw/images/ug-phone-3.0.0.ext4" "$img301"
printf 'NAME="UG demo phone"\nID=ug-demo\nVERSION_ID=3.0.1\nPRETTY_NAME="UG demo phone 3.0.1"\n' >"$demo/os-release"
debugfs -w -R "rm /etc/os-release" "$img301" >/dev/null 2>&1 &&
    debugfs -w -R "write $demo/os-release /etc/os-release" "$img301" >/dev/null 2>&1 ||
    fail "debugfs could not change the 3.0.1 image"
run "$UPGRADER" pack --product UG-PHONE-1 --version 3.0.1 --hw 1.0,2.0 --image "$img301" \
    --key "$www/fw/keys/signer.key" --cert "$www/fw/keys/signer.pem" -o "$www/fw/bundles/ug-phone-3.0.1.bundle"
run "$UPGRADER" --root "$phone" upgrade "$https/fw/bundles/ug-phone-3.0.1.bundle"
run jq -c '.status | {version, bytes_full, bytes_fetched, bytes_reused}' "$phone/upgrade.json"
echo "(nginx sent $(grep 'ug-phone-3.0.1.bundle' "$NGINX_ACCESS_LOG" | sed -n 's/.* w=\([0-9]*\) .*/\1/p' | awk '{ n += $1 } END { print n + 0 }') bytes of the $(stat -c %s "$www/fw/bundles/ug-phone-3.0.1.bundle")-byte bundle, in $(grep -c 'ug-phone-3.0.1.bundle' "$NGINX_ACCESS_LOG") requests)"
rm -f "$phone/reboot-requested"

# ---- The web server (a step of its own, easy to carry over a change of the story above).
step "The web server: a desk phone's daemon takes an upgrade through /admin/upgrade? with the admin password"
webdesk="$demo/webdesk"
shots="$top/$BUILD/demo-screenshots"
rm -rf "$shots" && mkdir -p "$shots"
run "$UPGRADER" --root "$webdesk" init --mac 00:0e:08:ab:cd:f1 --version 1.0.0 --keyring "$www/fw/keys/ca.pem"
for nv in "Resync_On_Reset No" "Resync_Periodic 0" "Admin_Passwd demo-admin-pw"; do
    set -- $nv
    run "$UPGRADER" --root "$webdesk" param set "$1" "$2" >/dev/null
done
"$UPGRADER" --root "$webdesk" daemon --listen 127.0.0.1:0 >"$demo/webdesk-daemon.log" 2>&1 &
web_pid=$!
at_exit "stop_pid $web_pid"
# until_ok SECONDS WHAT COMMAND...: until COMMAND succeeds, or the demo stops saying what.
until_ok() {
    local end=$(($(date +%s) + $1)) what=$2
    shift 2
    until "$@"; do
        [ "$(date +%s)" -lt "$end" ] || fail "the desk phone's daemon: $what"
        sleep 0.1
    done
}
web_url() { web=$("$UPGRADER" --root "$webdesk" status --json 2>/dev/null | jq -er '.daemon.web // empty'); }
until_ok 20 "its web server did not come up" web_url
echo "the desk phone's pages: $web"
shot() { node "$top/tests/browser/shot.mjs" "$web/" admin demo-admin-pw "$shots/$1.png" && echo "screenshot: $shots/$1.png"; }
shot status-before
first=$(jq -r '.releases[1].bundle' "$www/fw/catalog.json")
run curl -s --digest -u admin:demo-admin-pw "$web/admin/upgrade?http://127.0.0.1:$NGINX_HTTP_PORT/crawl/fw/$first"
echo
upgrading() {
    curl -s --digest -u admin:demo-admin-pw "$web/progress.json" | jq -e .active >/dev/null ||
        [ -f "$webdesk/reboot-requested" ]
}
until_ok 30 "the upgrade did not start" upgrading
shot status-during
until_ok 120 "the upgrade did not finish" test -f "$webdesk/reboot-requested"
shot status-after
stop_pid "$web_pid"
echo "the status page before, during and after the upgrade: $shots/"
echo
echo "demo finished"
