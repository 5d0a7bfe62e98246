#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every error class of a resync against real servers: the exit code, the LED pattern and
# $ERR recorded for status, and the parameter store left exactly as it was.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"

MAC=000e08abcdef
pki_make "$WORK/pki" CP-8841-3PCC 88012BA01234 $MAC
WWW=$WORK/www
mkdir -p "$WWW"
printf '<flat-profile><GPP_A>reached</GPP_A></flat-profile>\n' >"$WWW/good.xml"
printf 'this is not a profile\n' >"$WWW/garbage.xml"
openssl enc -e -aes-256-cbc -k right-key -in "$WWW/good.xml" -out "$WWW/good.cfg" 2>/dev/null
printf '<flat-profile><Resync_Periodic>not-a-delay</Resync_Periodic></flat-profile>\n' >"$WWW/badvalue.xml"
nginx_start "$WWW"
tftpd_start "$WWW"
stall_server_start
closed_port CLOSED
HTTP=http://127.0.0.1:$NGINX_HTTP_PORT

D=$WORK/phone
"$UPGRADER" --root "$D" init --mac $MAC --ca "$PKI/ca.pem" >/dev/null || fail init
D_CERT=$WORK/phone-with-cert
"$UPGRADER" --root "$D_CERT" init --mac $MAC --ca "$PKI/ca.pem" \
    --client-cert "$PKI/device.pem" --client-key "$PKI/device.key" >/dev/null || fail init
up() { "$UPGRADER" --root "$D" "$@"; }

# case CODE LED ERR DESCRIPTION RULE: one failing resync, checked from the outside.
case_() {
    local code=$1 led=$2 why=$3 what=$4 rule=$5
    local before; before=$(sha256sum <"$D/params")
    expect_exit "$code" "$what: exit $code" up resync --timeout 3 "$rule"
    [ -n "$ERR" ] || fail "$what: no message on stderr"
    local status; status=$(up status --json)
    assert_eq "$what: LED" "$(jqr .led <<<"$status")" "$led"
    assert_eq "$what: \$ERR" "$(jqr .provisioning.last_resync.err <<<"$status")" "$why"
    assert_eq "$what: result code" "$(jqr .provisioning.last_resync.result <<<"$status")" "$code"
    assert_eq "$what: store unchanged" "$(sha256sum <"$D/params")" "$before"
}

expect_exit 0 "a good resync first" up resync "$HTTP/good.xml"
assert_eq "after success the LED is off" "$(up status --json | jqr .led)" off
"$UPGRADER" --root "$D" param set GPP_A before >/dev/null

case_ 3 slow-blink "host not found" "unknown host" "http://no-such-host.invalid/good.xml"
case_ 3 slow-blink "connection refused" "closed port" "http://127.0.0.1:$CLOSED/good.xml"
case_ 3 slow-blink "timed out" "server that stalls" "http://127.0.0.1:$STALL_PORT/good.xml"
case_ 4 fast-blink "file not found" "404 over HTTP" "$HTTP/missing.xml"
case_ 4 fast-blink "file not found" "file not found over TFTP" "tftp://127.0.0.1:$TFTP_PORT/missing.xml"
case_ 4 fast-blink "http error 500" "HTTP 500" "$HTTP/error500"
case_ 4 fast-blink "file not found" "HTTP 410" "$HTTP/gone"
case_ 3 slow-blink "certificate verify failed" "HTTPS with an untrusted certificate" \
    "https://127.0.0.1:$NGINX_UNTRUSTED_PORT/good.xml"
case_ 3 slow-blink "certificate verify failed" "HTTPS with a wrong-name certificate" \
    "https://127.0.0.1:$NGINX_WRONGNAME_PORT/good.xml"
# nginx completes the handshake and answers 400 to a device without a certificate.
case_ 4 fast-blink "http error 400" "client-certificate server without the device certificate" \
    "https://127.0.0.1:$NGINX_MTLS_PORT/good.xml"
case_ 4 fast-blink "bad profile" "a file that is no profile" "$HTTP/garbage.xml"
case_ 4 fast-blink "encrypted profile without --key" "an encrypted profile without --key" "$HTTP/good.cfg"
case_ 4 fast-blink "decrypt failed" "an encrypted profile with the wrong key" "[--key wrong-key] $HTTP/good.cfg"
case_ 2 fast-blink "bad rule" "a malformed rule" "( \$A eq )? $HTTP/good.xml"
case_ 2 fast-blink "bad rule" "a URL with a scheme that is not tftp/http/https" "ftp://127.0.0.1/good.xml"
# An invalid value costs that value, not the file: the resync succeeds and says so.
expect_exit 0 "a profile with an invalid value is applied without it" up resync --timeout 3 "$HTTP/badvalue.xml"
assert_contains "the ignored value is named with its line" "$OUT" \
    "badvalue.xml line 1: Resync_Periodic: 'not-a-delay' is not a delay list"
assert_eq "status keeps the count" "$(up status --json | jqr .provisioning.last_resync.applied.ignored)" 1
case_ 2 fast-blink "bad rule" "--post over TFTP" "[--post a] tftp://127.0.0.1:$TFTP_PORT/good.xml"

"$UPGRADER" --root "$D" param set Restricted_Access_Domains example.com >/dev/null
lines=$(wc -l <"$NGINX_ACCESS_LOG")
case_ 2 fast-blink "restricted domain" "a domain outside Restricted_Access_Domains" "$HTTP/good.xml"
assert_eq "the refused server got no request" "$(wc -l <"$NGINX_ACCESS_LOG")" "$lines"
assert_contains "the message names the refused URL" "$ERR" "127.0.0.1"
"$UPGRADER" --root "$D" param set Restricted_Access_Domains "" >/dev/null

expect_exit 0 "the client-certificate server accepts the device certificate" \
    "$UPGRADER" --root "$D_CERT" resync "https://127.0.0.1:$NGINX_MTLS_PORT/good.xml"
assert_contains "the server saw the device subject" "$(tail -n 1 "$NGINX_ACCESS_LOG")" \
    "CN=$MAC,L=88012BA01234,OU=CP-8841-3PCC"
assert_eq "with the certificate the profile is applied" \
    "$("$UPGRADER" --root "$D_CERT" param get GPP_A)" reached

expect_exit 0 "recovery: a good resync again" up resync "$HTTP/good.xml"
assert_eq "the LED is off again" "$(up status --json | jqr .led)" off
# The file has not changed since the first good resync: 304, and the local value stays.
assert_contains "the unchanged file answers 304" "$OUT" "not modified"
assert_eq "304 re-applies nothing" "$(up param get GPP_A)" before
expect_exit 2 "resync with two rules is a usage error" up resync a b
expect_exit 2 "resync --timeout 0 is a usage error" up resync --timeout 0 "$HTTP/good.xml"
expect_exit 1 "resync of a folder that is no device" "$UPGRADER" --root "$WORK/nothing" resync

finish
