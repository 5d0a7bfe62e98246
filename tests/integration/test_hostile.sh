#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What a hostile server or a careless operator does to a device, against the real nginx: a
# trickling server and one slower than the download deadline, a signed catalog naming a
# local bundle, credentials given on the command line; each ends in a clear refusal with
# the device as it was.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"

"$TOP/images/make-keys.sh" "$WORK/keys" test >/dev/null
K=$WORK/keys
FW=$WORK/fw
mkdir -p "$FW/bundles"
head -c 3500000 /dev/urandom >"$WORK/big.img"
"$UPGRADER" pack --product UG-PHONE-1 --version 2.0.0 --hw 1.0 --image "$WORK/big.img" \
    --key "$K/signer.key" --cert "$K/signer.pem" --compress none -o "$FW/bundles/big.bundle" >/dev/null ||
    fail "pack"
pki_make "$WORK/pki" >/dev/null
nginx_start "$FW" || fail "nginx did not start"
H=http://127.0.0.1:$NGINX_HTTP_PORT

new_device() { # DIR
    "$UPGRADER" --root "$1" init --slot-size 4M --keyring "$K/ca.pem" >/dev/null || fail "init $1"
}
param() { "$UPGRADER" --root "$1" param set "$2" "$3" >/dev/null || fail "param set $2"; }
bootenv_sum() { sha256sum <"$1/bootenv"; }

# ---- A server that trickles (2 bytes/s) is given up after Upgrade_Min_Rate_Window below
# Upgrade_Min_Rate; the pass does not hold its lock for ever.
D=$WORK/trickle
new_device "$D"
param "$D" Upgrade_Min_Rate 1000
param "$D" Upgrade_Min_Rate_Window 2
before=$(bootenv_sum "$D")
start=$(date +%s)
expect_exit 3 "a trickling bundle is given up" timeout 30 "$UPGRADER" --root "$D" upgrade "$H/trickle/bundles/big.bundle"
assert_contains "it says why" "$ERR" "timed out"
[ $(($(date +%s) - start)) -lt 15 ] || fail "the trickle held the pass $(($(date +%s) - start)) s"
ok "given up within seconds"
assert_eq "the boot state is as it was" "$(bootenv_sum "$D")" "$before"

# ---- A download slower than Upgrade_Download_Deadline (3.5 MB at 256 kB/s, 14 s) stops there.
param "$D" Upgrade_Min_Rate 0
param "$D" Upgrade_Download_Deadline 2
start=$(date +%s)
expect_exit 3 "a download past the deadline is given up" timeout 30 "$UPGRADER" --root "$D" upgrade "$H/crawl/bundles/big.bundle"
[ $(($(date +%s) - start)) -lt 10 ] || fail "the deadline did not hold: $(($(date +%s) - start)) s"
ok "stopped at the deadline"

# ---- A signed catalog from a server naming a local file://, or a domain outside
# Restricted_Access_Domains, is refused whole before anything is read or contacted.
sign_catalog() { # NAME BUNDLE-URL
    printf '{"product": "UG-PHONE-1", "releases": [{"version": "2.0.0", "bundle": "%s", "size": %s, "sha256": "%s", "min_from": "1.0.0", "hardware": ["1.0"]}]}\n' \
        "$2" "$(stat -c %s "$FW/bundles/big.bundle")" "$(sha256sum <"$FW/bundles/big.bundle" | cut -d' ' -f1)" >"$FW/$1"
    openssl cms -sign -binary -outform DER -in "$FW/$1" -signer "$K/signer.pem" -inkey "$K/signer.key" \
        -out "$FW/$1.sig" || fail "sign $1"
}
sign_catalog local.json "file://$FW/bundles/big.bundle"
sign_catalog elsewhere.json "http://localhost:$NGINX_HTTP_PORT/bundles/big.bundle"
D=$WORK/catalog
new_device "$D"
before=$(bootenv_sum "$D")
expect_exit 5 "a remote catalog naming file:// is refused" "$UPGRADER" --root "$D" upgrade "$H/local.json"
assert_contains "it says which bundle and why" "$ERR" "release 2.0.0: bundle refused"
param "$D" Restricted_Access_Domains 127.0.0.1
expect_exit 5 "a catalog naming a restricted domain is refused" "$UPGRADER" --root "$D" upgrade "$H/elsewhere.json"
assert_contains "it names the domain rule" "$ERR" "Restricted_Access_Domains"
assert_eq "no bundle was requested" "$(grep -c 'GET /bundles/big.bundle' "$NGINX_ACCESS_LOG")" 0
assert_eq "the boot state is as it was" "$(bootenv_sum "$D")" "$before"

# ---- Damaged state files (a bad disk, a cut-short copy): factory-reset always works, each
# file is set aside (NAME.damaged-TIME) and rebuilt by its owner, and status says so.
D=$WORK/damaged
new_device "$D"
param "$D" GPP_A kept-before-the-damage
head -c 300 "$D/params" >"$D/params.cut" && mv "$D/params.cut" "$D/params"
expect_exit 0 "factory-reset works on a cut-short params" "$UPGRADER" --root "$D" factory-reset
assert_contains "it says the store was rebuilt" "$ERR" "set aside as $D/params.damaged-"
expect_exit 0 "the store works again" "$UPGRADER" --root "$D" param get GPP_A
assert_eq "at its default" "$OUT" ""
printf '{"status": {"state": "down' >"$D/upgrade.json"
expect_exit 0 "status reads a cut-short upgrade.json" "$UPGRADER" --root "$D" status
assert_contains "status says it is damaged" "$OUT" "damaged:       $D/upgrade.json: not a JSON object"
assert_contains "status names the copy set aside" "$OUT" "params.damaged-"
"$BOOTCTL" --env "$D/bootenv" boot >/dev/null || fail "bootctl boot"
expect_exit 0 "boot sets it aside and goes on" "$UPGRADER" --root "$D" boot --no-reboot
assert_contains "boot says so" "$ERR" "the upgrade state starts afresh"
ls "$D"/upgrade.json.damaged-* >/dev/null 2>&1 || fail "no damaged copy of upgrade.json kept"
ok "the damaged upgrade.json is kept aside"
expect_exit 0 "upgrade runs again" "$UPGRADER" --root "$D" upgrade

# ---- A symbolic link in place of a state file is never followed out of the folder: bootctl
# refuses it, the agent sets it aside like a damaged file and rebuilds its own.
D=$WORK/links
new_device "$D"
mv "$D/bootenv" "$WORK/outside-bootenv"
cp "$WORK/outside-bootenv" "$WORK/outside-bootenv.orig"
ln -s "$WORK/outside-bootenv" "$D/bootenv"
expect_exit 1 "bootctl refuses a symlinked store" "$BOOTCTL" --env "$D/bootenv" set-active B
assert_same_file "the file outside is untouched" "$WORK/outside-bootenv" "$WORK/outside-bootenv.orig"
cp "$D/params" "$WORK/outside-params"
cp "$WORK/outside-params" "$WORK/outside-params.orig"
rm "$D/params" && ln -s "$WORK/outside-params" "$D/params"
expect_exit 0 "param set with a symlinked store" "$UPGRADER" --root "$D" param set GPP_A x
assert_same_file "the file outside is untouched" "$WORK/outside-params" "$WORK/outside-params.orig"
[ -f "$D/params" ] && [ ! -L "$D/params" ] || fail "params is not a file of its own"
ok "params is a file of its own again"

# ---- init refuses what it cannot keep as given: an identity field with a line break (it
# would add a line of its own, overriding --mac), trust anchors that are no certificate or
# hold a private key; nothing is created.
D=$WORK/init
expect_exit 2 "a serial with a line break is refused" "$UPGRADER" --root "$D" init --serial $'S1\nmac=aabbccddeeff'
assert_contains "it says why" "$ERR" "the serial holds a control character"
[ ! -e "$D/identity" ] || fail "an identity was written"
echo "not a certificate" >"$WORK/garbage.pem"
for bad in /dev/null "$WORK/garbage.pem" "$K/signer.key"; do
    expect_exit 2 "--keyring $(basename "$bad") is refused" "$UPGRADER" --root "$D" init --keyring "$bad"
done
assert_contains "a private key is named as such" "$ERR" "holds a private key"
expect_exit 2 "--ca with a private key is refused" "$UPGRADER" --root "$D" init --ca "$K/signer.key"
[ ! -e "$D/keyring.pem" ] && [ ! -e "$D/ca.pem" ] && [ ! -e "$D/identity" ] || fail "init left files"
ok "nothing was created"
expect_exit 0 "a certificate is taken" "$UPGRADER" --root "$D" init --keyring "$K/ca.pem" --serial S1

# ---- Terminal injection: what a server said (resync.json) or a store written before values
# were checked holds escape sequences; status and param get/list show them as text.
D=$WORK/terminal
new_device "$D"
ESC=$'\e'
sed -i "s/^GPP_A\tna\t\$/GPP_A\tna\tx${ESC}[31mred${ESC}]0;owned\a/" "$D/params"
grep -q "owned" "$D/params" || fail "could not plant the value"
printf '{"state": "provisioned", "last": {"time_text": "now", "result_name": "failed", "err": "x\u001b[2Jwiped", "rule": "Profile_Rule", "url": "http://h/p.xml", "led": "off"}}\n' >"$D/resync.json"
no_escape() { # WHAT COMMAND...: the command's stdout and stderr hold no ESC or BEL byte
    local what=$1; shift
    "$@" >"$WORK/.tty" 2>&1 || true
    if LC_ALL=C grep -q $'[\x1b\x07]' "$WORK/.tty"; then fail "$what printed a control character"; fi
    ok "$what shows control characters as text"
}
no_escape "param get" "$UPGRADER" --root "$D" param get GPP_A
assert_contains "param get escapes" "$(cat "$WORK/.tty")" 'x\x1b[31mred\x1b]0;owned\x07'
no_escape "param list" "$UPGRADER" --root "$D" param list
no_escape "status" "$UPGRADER" --root "$D" status
assert_contains "status escapes" "$(cat "$WORK/.tty")" 'x\x1b[2Jwiped'

# ---- apply of what is no file: a FIFO (which would block for ever) and a folder are exit 4.
D=$WORK/apply
new_device "$D"
mkfifo "$WORK/fifo"
mkdir "$WORK/folder"
expect_exit 4 "apply of a FIFO is refused at once" timeout 10 "$UPGRADER" --root "$D" apply "$WORK/fifo"
assert_contains "it says why" "$ERR" "not a regular file"
expect_exit 4 "apply of a folder is a file unusable" "$UPGRADER" --root "$D" apply "$WORK/folder"

finish
