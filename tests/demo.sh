#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make demo: the whole story on one simulated phone, narrated step by step: provisioning
# over HTTPS to SEC-PRV-2, a multistage upgrade through stepping stones with a call in the
# middle, and a broken release that rolls back by itself. Real programs, real servers.
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

# ---- The web server (a step of its own, easy to carry over a change of the story above).
step "The web server: a desk phone's daemon takes an upgrade through /admin/upgrade? with the admin password"
desk="$demo/desk"
shots="$top/$BUILD/demo-screenshots"
rm -rf "$shots" && mkdir -p "$shots"
run "$UPGRADER" --root "$desk" init --mac 00:0e:08:ab:cd:f0 --version 1.0.0 --keyring "$www/fw/keys/ca.pem"
for nv in "Resync_On_Reset No" "Resync_Periodic 0" "Admin_Passwd demo-admin-pw"; do
    set -- $nv
    run "$UPGRADER" --root "$desk" param set "$1" "$2" >/dev/null
done
"$UPGRADER" --root "$desk" daemon --listen 127.0.0.1:0 >"$demo/desk-daemon.log" 2>&1 &
desk_pid=$!
at_exit "stop_pid $desk_pid"
until web=$("$UPGRADER" --root "$desk" status --json 2>/dev/null | jq -er '.daemon.web // empty'); do sleep 0.1; done
echo "the desk phone's pages: $web"
shot() { node "$top/tests/browser/shot.mjs" "$web/" admin demo-admin-pw "$shots/$1.png" && echo "screenshot: $shots/$1.png"; }
shot status-before
first=$(jq -r '.releases[1].bundle' "$www/fw/catalog.json")
run curl -s --digest -u admin:demo-admin-pw "$web/admin/upgrade?http://127.0.0.1:$NGINX_HTTP_PORT/crawl/fw/$first"
echo
until curl -s --digest -u admin:demo-admin-pw "$web/progress.json" | jq -e .active >/dev/null ||
    [ -f "$desk/reboot-requested" ]; do sleep 0.05; done
shot status-during
until [ -f "$desk/reboot-requested" ]; do sleep 0.1; done
shot status-after
kill "$desk_pid"
echo "the status page before, during and after the upgrade: $shots/"

echo
echo "demo finished"
