#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `upgrader status [--json]` and `upgrader factory-reset`: what an operator's script reads
# (identity, provisioning state, last resync, slots, calls, the upgrade object), that no
# secret appears in it, and the reset with and without Protect_Factory_Reset.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"

pki_make "$WORK/pki"
WWW=$WORK/www
mkdir -p "$WWW"
nginx_start "$WWW"
HTTP=http://127.0.0.1:$NGINX_HTTP_PORT
D=$WORK/phone
up() { "$UPGRADER" --root "$D" "$@"; }
"$UPGRADER" --root "$D" init --mac 00:0e:08:12:34:56 --serial SN123 --product CP-7832-3PCC \
    --hwver 2.1 --version 11.3.1 --ca "$PKI/ca.pem" >/dev/null || fail init

expect_exit 0 "status of a new device" up status --json
S=$OUT
assert_eq "identity: MAC" "$(jqr .identity.mac <<<"$S")" 000e08123456
assert_eq "identity: serial" "$(jqr .identity.serial <<<"$S")" SN123
assert_eq "identity: product" "$(jqr .identity.product <<<"$S")" CP-7832-3PCC
assert_eq "identity: client certificate" "$(jqr .identity.client_certificate <<<"$S")" "not installed"
assert_eq "state MFG-RESET" "$(jqr .provisioning.state <<<"$S")" MFG-RESET
assert_eq "no resync yet" "$(jqr .provisioning.last_resync <<<"$S")" null
assert_eq "running slot" "$(jqr .running.slot <<<"$S")" A
assert_eq "running version" "$(jqr .running.version <<<"$S")" 11.3.1
assert_eq "slot A bootable" "$(jqr .slots.A.bootable <<<"$S")" true
assert_eq "slot A successful" "$(jqr .slots.A.successful <<<"$S")" true
assert_eq "slot B empty and not bootable" "$(jqr '.slots.B | "\(.version)|\(.bootable)"' <<<"$S")" "|false"
assert_eq "no fallback" "$(jqr .fallback <<<"$S")" false
assert_eq "no calls" "$(jqr .calls_active <<<"$S")" 0
assert_eq "no upgrade yet" "$(jqr .upgrade <<<"$S")" null

# The slot and boot-try fields follow the boot state; calls follow `call start`.
"$BOOTCTL" --env "$D/bootenv" set-active B --tries 2 >/dev/null || fail "set-active"
up call start >/dev/null
S=$(up status --json)
assert_eq "slot B tries from the boot state" "$(jqr .slots.B.tries <<<"$S")" 2
assert_eq "slot B bootable once set active" "$(jqr .slots.B.bootable <<<"$S")" true
assert_eq "one call active" "$(jqr .calls_active <<<"$S")" 1
up call end >/dev/null

# The upgrade engine's status object is shown verbatim.
cat >"$D/upgrade.json" <<'EOF'
{ "status": { "state": "downloading", "target": "12.0.0", "hop": 1, "hops": 2,
  "bytes_done": 1048576, "bytes_total": 4194304, "last_result": "ok", "last_error": "",
  "last_url": "https://fw.example.com/catalog.json", "extra": {"kept": [1, 2]} },
  "private": "not shown" }
EOF
S=$(up status --json)
assert_eq "upgrade object copied verbatim" "$(jq -S -c .upgrade <<<"$S")" \
    "$(jq -S -c .status "$D/upgrade.json")"
assert_not_contains "only the status object of upgrade.json" "$S" "not shown"
T=$(up status)
assert_contains "text: upgrade state, target, hop" "$T" "downloading, target 12.0.0, hop 1/2"
assert_contains "text: upgrade bytes" "$T" "1048576/4194304 bytes"

# A provisioned device with secrets in its store.
cat >"$WWW/p.xml" <<EOF
<flat-profile>
  <GPP_A>plain-value</GPP_A>
  <GPP_SA>secret-sa-value</GPP_SA>
  <Admin_Passwd>admin-pass-99</Admin_Passwd>
  <User_Password>user-pass-77</User_Password>
  <Profile_Rule>[--uid u --pwd \$SA] $HTTP/p.xml</Profile_Rule>
</flat-profile>
EOF
expect_exit 0 "resync" up resync "$HTTP/p.xml"
S=$(up status --json)
assert_eq "state SP-CUST" "$(jqr .provisioning.state <<<"$S")" SP-CUST
assert_eq "last resync: result" "$(jqr .provisioning.last_resync.result_name <<<"$S")" ok
assert_eq "last resync: URL" "$(jqr .provisioning.last_resync.url <<<"$S")" "http://127.0.0.1:$NGINX_HTTP_PORT/p.xml"
assert_eq "last resync: \$ERR" "$(jqr .provisioning.last_resync.err <<<"$S")" ok
assert_eq "last resync: LED" "$(jqr .provisioning.last_resync.led <<<"$S")" off
[ "$(jqr .provisioning.last_resync.time <<<"$S")" -ge "$(($(date +%s) - 60))" ] || fail "resync time: $S"
ok "last resync: time is now"
T=$(up status)
assert_contains "text: state" "$T" "provisioning:  SP-CUST"
assert_contains "text: last resync" "$T" "ok (ok) resync RULE http://127.0.0.1:$NGINX_HTTP_PORT/p.xml, LED off"
# A rule with a literal password: the rule text is never recorded.
expect_exit 4 "resync with a literal --pwd" up resync "[--uid u --pwd url-pass-55] $HTTP/none.xml"
assert_not_contains "the password is not in the message" "$ERR" url-pass-55
for secret in secret-sa-value admin-pass-99 user-pass-77 url-pass-55; do
    assert_not_contains "status --json hides $secret" "$(up status --json)" "$secret"
    assert_not_contains "status hides $secret" "$(up status)" "$secret"
    assert_not_contains "resync.json hides $secret" "$(cat "$D/resync.json")" "$secret"
done

# --- factory-reset -----------------------------------------------------------------------------
up param set Protect_Factory_Reset Yes >/dev/null
expect_exit 1 "factory-reset refused when protected" up factory-reset
assert_contains "and says why" "$ERR" "Protect_Factory_Reset=Yes"
assert_eq "refused: parameters kept" "$(up param get GPP_A)" plain-value
assert_eq "refused: state kept" "$(up status --json | jqr .provisioning.state)" SP-CUST
up param set Protect_Factory_Reset No >/dev/null
# A command's --help is its usage and nothing more: the store is not reset.
expect_exit 0 "factory-reset --help" up factory-reset --help
assert_contains "prints the command's usage" "$OUT" "usage: upgrader factory-reset"
assert_not_contains "and no other command's" "$OUT" "param get"
assert_eq "--help reset nothing" "$(up param get GPP_A)" plain-value
expect_exit 0 "upgrader --help" "$UPGRADER" --help
assert_contains "lists every command" "$OUT" "factory-reset"
assert_contains "and says how to see one" "$OUT" "COMMAND --help"
expect_exit 0 "factory-reset" up factory-reset
assert_eq "state MFG-RESET" "$(up status --json | jqr .provisioning.state)" MFG-RESET
assert_eq "GPP_A back to its default" "$(up param get GPP_A)" ""
assert_eq "Profile_Rule back to its default" "$(up param get Profile_Rule)" '/$PSN.xml'
assert_eq "secrets cleared" "$(up param get GPP_SA --show-secrets)" ""
assert_eq "the last resync is forgotten" "$(up status --json | jqr .provisioning.last_resync)" null
assert_eq "the boot state is untouched" "$(up status --json | jqr .running.version)" 11.3.1
expect_exit 2 "factory-reset takes no arguments" up factory-reset now
expect_exit 1 "factory-reset of a folder that is no device" "$UPGRADER" --root "$WORK/none" factory-reset
expect_exit 2 "status with an unknown option" up status --yaml
expect_exit 1 "status of a folder that is no device" "$UPGRADER" --root "$WORK/none" status

finish
