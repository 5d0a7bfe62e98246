#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `upgrader resync` as a provisioned phone runs it, against real servers on 127.0.0.1:
# the SEC-PRV-1 -> SEC-PRV-2 story, TFTP (with and without block-size negotiation), the
# DHCP default server through the udhcpc hook, Basic and Digest, --post, multiple rules,
# 304 on repeat, Resync_Fails_On_FNF, Provision_Enable, Custom_CA_Rule and syslog.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"

MAC=000e08abcdef
pki_make "$WORK/pki" CP-8841-3PCC 88012BA01234 $MAC
WWW=$WORK/www
mkdir -p "$WWW"
nginx_start "$WWW"
HTTP=http://127.0.0.1:$NGINX_HTTP_PORT
HTTPS=https://127.0.0.1:$NGINX_HTTPS_PORT
tftpd_start "$WWW"
TFTP=$TFTP_PORT
tftpd_start "$WWW" --refuse blksize
TFTP_NOOPT=$TFTP_PORT
digest_server_start "$WWW" digestuser digest-secret-42

# profile FILE NAME=VALUE...: an XML flat-profile in the server's folder.
profile() {
    local f=$WWW/$1 kv
    shift
    mkdir -p "$(dirname "$f")"
    { echo "<flat-profile>"
      for kv in "$@"; do printf '  <%s>%s</%s>\n' "${kv%%=*}" "${kv#*=}" "${kv%%=*}"; done
      echo "</flat-profile>"; } >"$f"
}
# device NAME [init options]: a fresh simulated phone trusting the test CA; sets D.
device() {
    D=$WORK/$1
    shift
    "$UPGRADER" --root "$D" init --mac $MAC --serial 88012BA01234 --product CP-8841-3PCC \
        --ca "$PKI/ca.pem" "$@" >/dev/null || fail "init $D"
}
up() { "$UPGRADER" --root "$D" "$@"; }
get() { "$UPGRADER" --root "$D" param get "$1" --show-secrets; }
set_param() { "$UPGRADER" --root "$D" param set "$1" "$2" >/dev/null || fail "param set $1"; }
state() { jqr .state "$D/resync.json"; }
last() { jqr ".last.$1" "$D/resync.json"; }

# --- SEC-PRV-1 -> SEC-PRV-2 (docs/provisioning.md 7.1) -----------------------------------------
device story
assert_eq "a new device is MFG-RESET" "$(up status --json | jqr .provisioning.state)" MFG-RESET
KEY=$(openssl rand -hex 32)
DIRB=$(openssl rand -hex 8)
# The per-MAC profile is plaintext; it installs the key, the random folder and the rule.
profile "init/$MAC.xml" "GPP_A=$KEY" "GPP_B=$DIRB" \
    "Profile_Rule=[--key \$A] $HTTPS/secure/\$B/\$MA.cfg"
profile plain-secure.xml GPP_C=secure-steady-state Resync_Periodic=86400
mkdir -p "$WWW/secure/$DIRB"
openssl enc -e -aes-256-cbc -k "$KEY" -in "$WWW/plain-secure.xml" \
    -out "$WWW/secure/$DIRB/$MAC.cfg" 2>/dev/null || fail "openssl enc"
set_param Profile_Rule "$HTTPS/init/\$MA.xml"
expect_exit 0 "first resync fetches the per-MAC profile" up resync
assert_eq "the key is installed" "$(get GPP_A)" "$KEY"
assert_eq "the random folder is installed" "$(get GPP_B)" "$DIRB"
assert_eq "the armed --key rule makes the state SEC-PRV-1" "$(state)" SEC-PRV-1
assert_eq "last resync URL is the expanded per-MAC URL" "$(last url)" \
    "https://127.0.0.1:$NGINX_HTTPS_PORT/init/$MAC.xml"
expect_exit 0 "second resync fetches the encrypted profile" up resync
assert_contains "it was decrypted" "$OUT" decrypted
assert_eq "the encrypted profile's value is applied" "$(get GPP_C)" secure-steady-state
assert_eq "state SEC-PRV-2" "$(up status --json | jqr .provisioning.state)" SEC-PRV-2
assert_contains "the server saw the random folder and the MAC" "$(tail -n 1 "$NGINX_ACCESS_LOG")" \
    "GET /secure/$DIRB/$MAC.cfg"
expect_exit 0 "a third resync of the unchanged encrypted profile" up resync
assert_contains "304: not re-applied" "$OUT" "not modified"
assert_eq "state stays SEC-PRV-2" "$(state)" SEC-PRV-2
assert_contains "the repeat sent If-None-Match and got 304" "$(tail -n 1 "$NGINX_ACCESS_LOG")" '" 304 '
assert_not_contains "the key never reaches resync.json" "$(cat "$D/resync.json")" "$KEY"
assert_not_contains "the key never reaches status" "$(up status --json; up status)" "$KEY"

# --- 304 on repeat: nothing re-applied ---------------------------------------------------
device cond
profile cond.xml GPP_E=from-server
set_param Profile_Rule "$HTTP/cond.xml"
expect_exit 0 "plain HTTP resync" up resync
assert_eq "SP-CUST after a plain profile" "$(state)" SP-CUST
etag=$(jqr ".validators[\"$HTTP/cond.xml\"].etag" "$D/resync.json")
[ -n "$etag" ] && [ "$etag" != null ] || fail "no ETag kept: $(cat "$D/resync.json")"
ok "the answer's ETag is kept for the URL"
set_param GPP_E changed-locally
expect_exit 0 "repeat resync of the same URL" up resync
assert_contains "304 counts as success" "$OUT" "not modified"
assert_eq "304: the profile is not re-applied" "$(get GPP_E)" changed-locally
assert_eq "304: \$ERR" "$(last err)" "not modified"
assert_contains "the request carried If-None-Match" "$(tail -n 1 "$NGINX_ACCESS_LOG")" "${etag//\"/}"
profile cond.xml GPP_E=server-changed
touch -d '+2 seconds' "$WWW/cond.xml"
expect_exit 0 "after the file changes on the server" up resync
assert_eq "the new profile is applied" "$(get GPP_E)" server-changed

# --- TFTP: no scheme, DHCP default server, block sizes -----------------------------------
device tftp
profile tftp.xml GPP_F=over-tftp
expect_exit 0 "a rule without a scheme goes over TFTP" up resync "127.0.0.1:$TFTP/tftp.xml"
assert_eq "TFTP profile applied" "$(get GPP_F)" over-tftp
assert_eq "recorded as tftp://" "$(last url)" "tftp://127.0.0.1:$TFTP/tftp.xml"
assert_eq "an explicit rule is \$PRVST -1" "$(last prvst)" -1
profile tftp2.xml GPP_F=over-tftp-512
expect_exit 0 "TFTP server refusing blksize: fallback to 512-byte blocks" \
    up resync "tftp://127.0.0.1:$TFTP_NOOPT/tftp2.xml"
assert_eq "fallback profile applied" "$(get GPP_F)" over-tftp-512
# A large profile over TFTP needs many blocks either way.
{ echo "<flat-profile>"; for i in $(seq 1 3000); do echo "<!-- padding line $i -->"; done
  echo "<GPP_G>big-over-tftp</GPP_G></flat-profile>"; } >"$WWW/big.xml"
expect_exit 0 "multi-block profile with block-size negotiation" up resync "127.0.0.1:$TFTP/big.xml"
assert_eq "multi-block profile applied" "$(get GPP_G)" big-over-tftp
expect_exit 0 "multi-block profile at 512-byte blocks" up resync "127.0.0.1:$TFTP_NOOPT/big.xml"

# The udhcpc hook records option 66 (with a port here: the test tftpd is not on 69) and 150.
HOOK=$TOP/upgrader/resync/hooks/udhcpc-hook.sh
expect_exit 2 "a rule without a host and no DHCP server" up resync "/tftp.xml"
assert_contains "says no default server is known" "$ERR" "no default (DHCP) server"
expect_exit 0 "udhcpc hook on bound" env -i PATH="$PATH" UPGRADER="$UPGRADER" UPGRADER_ROOT="$D" \
    interface=eth0 ip=127.0.0.5 siaddr=0.0.0.0 boot_file=ignored.cfg tftp="127.0.0.1:$TFTP" \
    opt150=0a0000010a000002 opt160="$(printf 'http://prov.example.com/x' | od -An -tx1 | tr -d ' \n')" \
    sh "$HOOK" bound
assert_contains "the hook reports the chosen server" "$OUT" "127.0.0.1:$TFTP (DHCP option 66)"
assert_eq "dhcp.json: option 66" "$(jqr .option66 "$D/dhcp.json")" "127.0.0.1:$TFTP"
assert_eq "dhcp.json: option 150 decoded from hex, first address" "$(jqr .option150 "$D/dhcp.json")" 10.0.0.1
assert_eq "dhcp.json: option 160 decoded, the URL kept whole" "$(jqr .option160 "$D/dhcp.json")" http://prov.example.com/x
# init derived $PSN from the product: CP-8841-3PCC is 8841-3PCC.
profile 8841-3PCC.xml GPP_H=from-dhcp-server
set_param Profile_Rule '/$PSN.xml'
expect_exit 0 "the factory Profile_Rule /\$PSN.xml goes to the DHCP TFTP server" up resync
assert_eq "DHCP-served profile applied" "$(get GPP_H)" from-dhcp-server
assert_eq "recorded URL names the DHCP server" "$(last url)" "tftp://127.0.0.1:$TFTP/8841-3PCC.xml"
assert_eq "status shows the DHCP server" "$(up status --json | jqr .provisioning.dhcp.server)" "127.0.0.1:$TFTP"
set_param DHCP_Option_To_Use "160,150,66"
assert_eq "DHCP_Option_To_Use picks option 160 first" \
    "$(up status --json | jqr .provisioning.dhcp.option)" 160
expect_exit 0 "udhcpc hook: a lease with only siaddr" env -i PATH="$PATH" UPGRADER="$UPGRADER" \
    UPGRADER_ROOT="$D" siaddr=10.9.8.7 sh "$HOOK" renew
assert_eq "siaddr stands in for option 66" "$(jqr .option66 "$D/dhcp.json")" 10.9.8.7
assert_eq "options the new lease lacks are forgotten" "$(jqr '.option150 // "none"' "$D/dhcp.json")" none
expect_exit 0 "udhcpc hook ignores deconfig" env -i PATH="$PATH" UPGRADER="$UPGRADER" \
    UPGRADER_ROOT="$D" sh "$HOOK" deconfig
assert_eq "deconfig keeps the last server" "$(jqr .option66 "$D/dhcp.json")" 10.9.8.7
expect_exit 2 "upgrader dhcp refuses a value that names no server" up dhcp --option66 'bad!server'
expect_exit 0 "dhclient exit hook (sourced as dhclient-script does)" env -i PATH="$PATH" \
    UPGRADER="$UPGRADER" UPGRADER_ROOT="$D" reason=BOUND new_tftp_server_name=tftp.example.net \
    new_upgrader_tftp_servers="10.1.1.1 10.1.1.2" \
    sh -c ". '$TOP/upgrader/resync/hooks/dhclient-exit-hook.sh'"
assert_eq "dhclient: option 66" "$(jqr .option66 "$D/dhcp.json")" tftp.example.net
assert_eq "dhclient: option 150, first address" "$(jqr .option150 "$D/dhcp.json")" 10.1.1.1

# --- credentials and --post ----------------------------------------------------------------
device creds
profile basic.xml GPP_I=behind-basic
set_param GPP_SA "$BASIC_PASS"
expect_exit 0 "Basic credentials, the password from secret GPP_SA" \
    up resync "[--uid $BASIC_USER --pwd \$SA] $HTTP/private/basic.xml"
assert_eq "Basic-protected profile applied" "$(get GPP_I)" behind-basic
expect_exit 4 "a wrong password" up resync "[--uid $BASIC_USER --pwd wrong] $HTTP/private/basic.xml"
assert_eq "wrong password: \$ERR" "$(last err)" "access denied (http 401)"
profile digest.xml GPP_J=behind-digest
expect_exit 0 "Digest credentials" up resync "[--uid digestuser --pwd digest-secret-42] http://127.0.0.1:$DIGEST_PORT/digest.xml"
assert_eq "Digest-protected profile applied" "$(get GPP_J)" behind-digest
assert_contains "the server checked a Digest answer" "$(cat "$DIGEST_LOG")" "GET /digest.xml auth=digest result=ok"
set_param GPP_D 'mac=$MA&sn=$SN'
profile post.xml GPP_K=posted
expect_exit 0 "--post with Digest credentials" \
    up resync "[--post d --uid digestuser --pwd digest-secret-42] http://127.0.0.1:$DIGEST_PORT/post.xml"
assert_contains "the request was a POST" "$(cat "$DIGEST_LOG")" "POST /post.xml auth=digest result=ok"
assert_eq "the POST's answer is applied" "$(get GPP_K)" posted
# nginx's /post logs the body it received (and answers "ok", which is not a profile).
expect_exit 4 "--post body to nginx" up resync "[--post d] $HTTP/post"
assert_contains "POST body is the expanded GPP_D" "$(cat "$NGINX_POST_LOG")" \
    "POST /post application/x-www-form-urlencoded mac=$MAC&sn=88012BA01234"
assert_eq "an answer that is no profile: \$ERR" "$(last err)" "bad profile"
for secret in "$BASIC_PASS" digest-secret-42; do
    assert_not_contains "no password in resync.json" "$(cat "$D/resync.json")" "$secret"
    assert_not_contains "no password in status" "$(up status --json; up status)" "$secret"
done

# --- several rules ---------------------------------------------------------------------------
device multi
profile a.xml GPP_E=from-a GPP_F=only-a
profile b.xml GPP_E=from-b
profile c.xml GPP_G=c-ran
set_param Profile_Rule "$HTTP/a.xml"
set_param Profile_Rule_B "$HTTP/b.xml"
expect_exit 0 "Profile_Rule then Profile_Rule_B" up resync
assert_eq "Profile_Rule_B overrides Profile_Rule" "$(get GPP_E)" from-b
assert_eq "values only Profile_Rule sets stay" "$(get GPP_F)" only-a
set_param Profile_Rule_B ""
set_param Profile_Rule_C "$HTTP/c.xml"
expect_exit 0 "an empty Profile_Rule_B is skipped" up resync
assert_eq "Profile_Rule_C ran after the empty _B" "$(get GPP_G)" c-ran
set_param GPP_G before
set_param Profile_Rule_B "( \"\$A\" eq \"never\" )? $HTTP/b.xml"
expect_exit 0 "a Profile_Rule_B whose condition is false is skipped" up resync
assert_contains "reported as skipped" "$OUT" "Profile_Rule_B: no alternative applies, skipped"
set_param GPP_G before
set_param Profile_Rule_B "$HTTP/missing-b.xml"
lines=$(wc -l <"$NGINX_ACCESS_LOG")
expect_exit 4 "a failing Profile_Rule_B" up resync
assert_eq "Profile_Rule_C did not run" "$(get GPP_G)" before
assert_not_contains "nothing asked for c.xml" "$(tail -n +$((lines + 1)) "$NGINX_ACCESS_LOG")" c.xml
assert_eq "the failing rule is recorded" "$(last rule)" Profile_Rule_B
assert_eq "the failure is \$PRVST 1 (periodic)" "$(last prvst)" 1
expect_exit 4 "the next resync after a failure" up resync
assert_eq "is \$PRVST 2 (retry)" "$(last prvst)" 2
set_param Profile_Rule_B '( a = "assigned"; )!'
expect_exit 0 "a rule of assignments only" up resync
assert_eq "assignment applied" "$(get GPP_A)" assigned

# --- Resync_Fails_On_FNF, Provision_Enable -------------------------------------------------
device fnf
expect_exit 4 "a missing file fails by default" up resync "$HTTP/absent.xml"
set_param Resync_Fails_On_FNF No
expect_exit 0 "Resync_Fails_On_FNF=No: a missing file is a success" up resync "$HTTP/absent.xml"
assert_contains "says it was ignored" "$OUT" "ignored (Resync_Fails_On_FNF=No)"
assert_eq "FNF ignored: result" "$(last result_name)" ok
expect_exit 0 "Resync_Fails_On_FNF=No over TFTP" up resync "127.0.0.1:$TFTP/absent.xml"
expect_exit 4 "Resync_Fails_On_FNF=No does not hide a 500" up resync "$HTTP/error500"
set_param Provision_Enable No
before=$(cat "$D/resync.json")
expect_exit 1 "Provision_Enable=No refuses" up resync "$HTTP/cond.xml"
assert_contains "and says why" "$ERR" "Provision_Enable is No"
expect_exit 1 "Provision_Enable=No refuses the stored rules too" up resync
assert_eq "a refused resync is not recorded" "$(cat "$D/resync.json")" "$before"

# --- Custom_CA_Rule ----------------------------------------------------------------------------
device customca --ca "$PKI/rogue-ca.pem"
cp "$PKI/ca.pem" "$WWW/provider-ca.pem"
profile https.xml GPP_L=over-custom-ca
expect_exit 3 "HTTPS against a CA the device does not trust" up resync "$HTTPS/https.xml"
set_param Custom_CA_Rule "$HTTP/provider-ca.pem"
expect_exit 0 "Custom_CA_Rule installs the provider's CA first" up resync "$HTTPS/https.xml"
assert_same_file "custom-ca.pem is the served CA" "$D/custom-ca.pem" "$PKI/ca.pem"
assert_eq "profile over HTTPS applied" "$(get GPP_L)" over-custom-ca
assert_eq "status shows the custom CA" "$(up status --json | jqr .provisioning.custom_ca.result)" ok
set_param Custom_CA_Rule "$HTTP/https.xml"
rm "$D/custom-ca.pem"
expect_exit 3 "a Custom_CA_Rule file that is no certificate installs nothing" up resync "$HTTPS/https.xml"
assert_eq "custom CA failure recorded" "$(up status --json | jqr .provisioning.custom_ca.err)" "not a certificate"
[ ! -e "$D/custom-ca.pem" ] || fail "a non-certificate was installed"
ok "no custom-ca.pem from a non-certificate"

# --- syslog -------------------------------------------------------------------------------------
device logs
SYSLOG=$WORK/syslog.log
_spawn SYSLOG_PORT SYSLOG_PID "$SYSLOG" u "$TOOLS/syslog_sink" @PORT@
set_param Syslog_Server "127.0.0.1:$SYSLOG_PORT"
set_param GPP_SB super-secret-sb
set_param Log_Failure_Msg '$PN $MAC -- Resync failed: $ERR [$SB]'
# wait_lines N: until the sink has printed N datagrams (UDP is asynchronous).
wait_lines() { local i; for i in $(seq 1 50); do [ "$(wc -l <"$SYSLOG")" -ge "$1" ] && return 0; sleep 0.1; done; return 1; }
profile logged.xml GPP_M=logged
expect_exit 0 "resync with Syslog_Server set" up resync "$HTTP/logged.xml"
wait_lines 2 || fail "no syslog messages: $(cat "$SYSLOG")"
assert_contains "request message, macros expanded" "$(sed -n 1p "$SYSLOG")" \
    "CP-8841-3PCC 00:0e:08:ab:cd:ef -- Requesting resync HTTP://127.0.0.1:$NGINX_HTTP_PORT/logged.xml"
assert_contains "RFC 3164 header" "$(sed -n 1p "$SYSLOG")" "<134>"
assert_contains "success message with \$ERR" "$(sed -n 2p "$SYSLOG")" \
    "Successful resync HTTP://127.0.0.1:$NGINX_HTTP_PORT/logged.xml -- ok"
expect_exit 4 "failed resync with Syslog_Server set" up resync "$HTTP/nope.xml"
wait_lines 4 || fail "no failure message: $(cat "$SYSLOG")"
assert_contains "failure message with \$ERR" "$(sed -n 4p "$SYSLOG")" "Resync failed: file not found"
assert_contains "failure is severity err" "$(sed -n 4p "$SYSLOG")" "<131>"
assert_not_contains "GPP_SB never reaches syslog" "$(cat "$SYSLOG")" super-secret-sb
set_param Log_Request_Msg ""
set_param Log_Success_Msg ""
set_param Syslog_Identifier '$MAU'
expect_exit 0 "resync with empty request and success templates" up resync "$HTTP/logged.xml"
set_param Log_Failure_Msg '$ERR'
expect_exit 4 "then a failure" up resync "$HTTP/nope.xml"
wait_lines 5 || fail "no message after empty templates: $(cat "$SYSLOG")"
assert_eq "empty templates send nothing: only the failure arrived" "$(wc -l <"$SYSLOG")" 5
assert_contains "Syslog_Identifier \$MAU is the host field" "$(sed -n 5p "$SYSLOG")" " 000E08ABCDEF upgrader: "

finish
