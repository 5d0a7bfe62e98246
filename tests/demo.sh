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
echo
echo "demo finished"
