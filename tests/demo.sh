#!/usr/bin/env bash
# make demo: the whole story on a simulated device, narrated step by step. It grows with the
# project; each step runs the real programs of $BUILD against a device folder in /tmp.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
UPGRADER="$top/$BUILD/upgrader"
BOOTCTL="$top/$BUILD/bootctl"
demo=$(mktemp -d /tmp/upgrader-demo.XXXXXX)
trap 'rm -rf "$demo"' EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "A simulated phone: identity, two file-backed slots"
run "$UPGRADER" --root "$demo/phone" init --mac 00:0e:08:12:34:56 --version 1.0.0
run ls "$demo/phone"

env="$demo/phone/bootenv"
step "Power-on: the bootloader picks a slot (bootctl boot), slot A runs 1.0.0"
run "$BOOTCTL" --env "$env" boot
run "$BOOTCTL" --env "$env" status

step "A new image in slot B gets 2 tries; it never reports a good boot"
run "$BOOTCTL" --env "$env" set-active B --tries 2
run "$BOOTCTL" --env "$env" boot
run "$BOOTCTL" --env "$env" boot
echo "(no mark-good: the new slot is broken)"
run "$BOOTCTL" --env "$env" boot
run "$BOOTCTL" --env "$env" status --json

step "The SIP stack reports calls; reboots wait until none is active"
run "$UPGRADER" --root "$demo/phone" call start
run "$UPGRADER" --root "$demo/phone" call end
step "Resync from a provisioning server (nginx on 127.0.0.1, test CA made with openssl)"
# The test helpers start the servers and stop them (by PID) when the demo ends.
export UPGRADER BOOTCTL
. "$top/tests/integration/lib.sh"
. "$top/tests/integration/servers.sh"
at_exit "rm -rf '$demo'"
pki_make "$demo/pki" >/dev/null
www="$demo/www"
mkdir -p "$www/init"
nginx_start "$www"
https="https://127.0.0.1:$NGINX_HTTPS_PORT"
phone="$demo/provisioned"
run "$UPGRADER" --root "$phone" init --mac 00:0e:08:ab:cd:ef --ca "$demo/pki/ca.pem"
key=$(openssl rand -hex 32)
folder=$(openssl rand -hex 8)
printf '<flat-profile>\n  <GPP_A>%s</GPP_A>\n  <GPP_B>%s</GPP_B>\n  <Profile_Rule>%s</Profile_Rule>\n</flat-profile>\n' \
    "$key" "$folder" "[--key \$A] $https/secure/\$B/\$MA.cfg" >"$www/init/000e08abcdef.xml"
mkdir -p "$www/secure/$folder"
printf '<flat-profile><GPP_D>Reception</GPP_D><GPP_C>steady</GPP_C></flat-profile>\n' |
    openssl enc -e -aes-256-cbc -k "$key" -out "$www/secure/$folder/000e08abcdef.cfg" 2>/dev/null
echo "(the per-MAC profile installs a 256-bit key, a random folder and a --key rule)"
run "$UPGRADER" --root "$phone" param set Profile_Rule "$https/init/\$MA.xml"
run "$UPGRADER" --root "$phone" resync
run "$UPGRADER" --root "$phone" status
echo "(SEC-PRV-1: the key rule is armed; the next resync fetches the encrypted profile)"
run "$UPGRADER" --root "$phone" resync
echo "(and again: the server answers 304, nothing is re-applied)"
run "$UPGRADER" --root "$phone" resync
echo "(a rule naming a file the server does not have: exit 4, LED fast-blink, store unchanged)"
run "$UPGRADER" --root "$phone" resync "$https/missing.xml" || echo "exit $?"
run "$UPGRADER" --root "$phone" status --json

echo
echo "demo finished"
