#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The web server's API driven with `curl --digest` against a running daemon and the real
# nginx (and tftpd): every URL command and what it queued and did, wrong and missing
# passwords, the user account refused admin parameters and URL commands, a malformed rule
# (400, nothing queued), inline xuser/xpassword, the factory reset's guard, the lockout.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"
. "$(dirname "$0")/daemon.sh"

"$TOP/images/make-keys.sh" "$WORK/keys" test >/dev/null
K=$WORK/keys
FW=$WORK/fw
mkdir -p "$FW/bundles" "$WORK/img" "$WORK/tftp"
# About 1 MB on the wire: 4 s through /crawl/ (256 kB/s), time to ask for it twice.
{ head -c 1048576 /dev/urandom; yes "release 1.5.0" | head -c 500000; } >"$WORK/img/1.5.0.img"
"$UPGRADER" pack --product UG-PHONE-1 --version 1.5.0 --hw 1.0 --image "$WORK/img/1.5.0.img" \
    --key "$K/signer.key" --cert "$K/signer.pem" --chunk-size 256K -o "$FW/bundles/1.5.0.bundle" >/dev/null ||
    fail "pack"
printf '<flat-profile><GPP_A>from the stored rule</GPP_A></flat-profile>\n' >"$FW/stored.xml"
printf '<flat-profile><GPP_B>from the URL command</GPP_B></flat-profile>\n' >"$FW/once.xml"
printf '<flat-profile><GPP_C>over TFTP</GPP_C></flat-profile>\n' >"$WORK/tftp/bare.xml"
pki_make "$WORK/pki" >/dev/null
nginx_start "$FW" || fail "nginx did not start"
tftpd_start "$WORK/tftp" || fail "tftpd did not start"
H=http://127.0.0.1:$NGINX_HTTP_PORT
ADMIN=admin-pw-$RANDOM
USERPW=user-pw-$RANDOM

device() { # DIR [NAME VALUE]...
    local d=$1
    shift
    "$UPGRADER" --root "$d" init --slot-size 4M --keyring "$K/ca.pem" >/dev/null || fail "init $d"
    set -- Resync_On_Reset No Resync_Periodic 0 "$@"
    while [ $# -ge 2 ]; do
        "$UPGRADER" --root "$d" param set "$1" "$2" >/dev/null || fail "param set $1 $2"
        shift 2
    done
}
# http [CURL-ARGS...] URL: the status code; the body in $WORK/body, headers in $WORK/headers.
http() { curl -s -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' "$@"; }
as_admin() { http --digest -u "admin:$ADMIN" "$@"; }
as_user() { http --digest -u "user:$USERPW" "$@"; }
body() { cat "$WORK/body"; }
njobs() { dstatus "$D" '.jobs | length'; }
param() { "$UPGRADER" --root "$D" param get "$1" 2>/dev/null; }
param_is() { [ "$(param "$1")" = "$2" ]; }
rebooted() { [ -f "$D/reboot-requested" ]; }
ustate() { jqr .status.state "$D/upgrade.json" 2>/dev/null; }

D=$WORK/phone
device "$D" Profile_Rule "$H/stored.xml" Admin_Passwd "$ADMIN" User_Password "$USERPW"
daemon_start "$D" --listen 127.0.0.1:0
U=$(dstatus "$D" .web)
assert_contains "status names the web server's address (port chosen by the kernel)" "$U" "http://127.0.0.1:"
assert_contains "the daemon logs where it listens" "$(cat "$DAEMON_LOG")" "web server listening on $U"

# ---- who may ask
assert_eq "no credentials: 401" "$(http "$U/admin/status")" 401
assert_contains "a SHA-256 challenge" "$(cat "$WORK/headers")" 'algorithm=SHA-256'
assert_contains "and an MD5 one for older clients" "$(cat "$WORK/headers")" 'algorithm=MD5'
assert_eq "the wrong admin password: 401" "$(http --digest -u admin:wrong "$U/admin/status")" 401
assert_eq "an unknown user: 401" "$(http --digest -u root:"$ADMIN" "$U/admin/status")" 401
assert_eq "the admin password: 200" "$(as_admin "$U/admin/status")" 200
assert_eq "/admin/status is the status --json document" "$(body | jq -r .identity.mac)" \
    "$("$UPGRADER" --root "$D" status --json | jq -r .identity.mac)"
assert_eq "... with the daemon's part" "$(body | jq -r .daemon.web)" "$U"
assert_eq "the user's password opens the status page" "$(as_user "$U/")" 200
assert_contains "... which shows the running version" "$(body)" '<td id="running-version">1.0.0 (slot A)</td>'
assert_not_contains "no warning: the admin password is set" "$(body)" 'warn-admin'
assert_eq "the user is refused /admin/status" "$(as_user "$U/admin/status")" 403
assert_eq "the user is refused a URL command" "$(as_user "$U/admin/upgrade?$H/bundles/1.5.0.bundle")" 403
assert_eq "... and nothing was queued" "$(njobs)" 0

# ---- the user's configuration: only what ua allows
assert_eq "the user's configuration page" "$(as_user "$U/config")" 200
assert_contains "it shows a parameter the user may change" "$(body)" 'name="p:User_Password"'
assert_not_contains "but not an admin parameter" "$(body)" 'Profile_Rule'
assert_not_contains "and never a password's value" "$(body)" "$USERPW"
token=$(body | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -n 1)
[ -n "$token" ] || fail "no anti-CSRF token in the form"
assert_eq "the user may not set an admin parameter" \
    "$(as_user --data-urlencode "csrf=$token" --data-urlencode "p:Profile_Rule=$H/evil.xml" "$U/config")" 403
assert_contains "... and is told which field" "$(body)" 'Profile_Rule: the user account may not change it'
assert_eq "... which is unchanged" "$(param Profile_Rule)" "$H/stored.xml"
assert_eq "a form without the anti-CSRF token is refused" \
    "$(as_user --data-urlencode "p:User_Password=newpass1" "$U/config")" 403
assert_eq "a form from another site is refused" \
    "$(as_user -H "Origin: http://evil.example" --data-urlencode "csrf=$token" --data-urlencode "p:User_Password=newpass1" "$U/config")" 403
assert_eq "a form body over the bound is refused" \
    "$(as_user --data-binary "@$WORK/img/1.5.0.img" -H 'Content-Type: application/x-www-form-urlencoded' "$U/config")" 413

# ---- URL commands
assert_eq "a malformed rule: 400" "$(as_admin "$U/admin/upgrade?%5B--key%20http://x")" 400
assert_contains "... saying what is wrong" "$(body | jq -r .error)" "malformed rule"
assert_eq "a resync with a malformed rule: 400" "$(as_admin "$U/admin/resync?http://a%20b%20c")" 400
assert_eq "an upgrade without a rule: 400" "$(as_admin "$U/admin/upgrade")" 400
assert_eq "nothing was queued" "$(njobs)" 0
assert_eq "nginx was not asked for anything" "$(requests GET)" 0

assert_eq "/admin/resync?RULE: 202" "$(as_admin "$U/admin/resync?$H/once.xml")" 202
job=$(body | jq -r .job)
assert_eq "... with the job's id and kind" "$(body | jq -r .kind)" resync
wait_until 10 "that rule alone was fetched and applied" param_is GPP_B "from the URL command"
assert_eq "the stored rule was not fetched" "$(requests /stored.xml)" 0
wait_until 10 "the job $job ended" log_has "resync (web): "
assert_eq "/admin/resync (stored rules): 202" "$(as_admin "$U/admin/resync")" 202
wait_until 10 "the stored rule was applied" param_is GPP_A "from the stored rule"
assert_eq "/admin/resync?HOST/FILE means TFTP: 202" \
    "$(as_admin "$U/admin/resync?127.0.0.1:$TFTP_PORT/bare.xml")" 202
wait_until 10 "the profile came over TFTP" param_is GPP_C "over TFTP"
assert_eq "inline credentials (xuser, xpassword): 202" \
    "$(http "$U/admin/resync?$H/once.xml&xuser=admin&xpassword=$ADMIN")" 202
wait_until 10 "the inline-credentials resync ran" log_count_at_least "resync (web): " 4
assert_eq "a wrong xpassword: 401" "$(http "$U/admin/resync?$H/once.xml&xuser=admin&xpassword=nope")" 401
assert_eq "xuser=user is refused" "$(http "$U/admin/resync?$H/once.xml&xuser=user&xpassword=$USERPW")" 401
assert_eq "a GET factory reset: 405" "$(as_admin "$U/admin/factory-reset")" 405
"$UPGRADER" --root "$D" param set Protect_Factory_Reset Yes >/dev/null
assert_eq "a factory reset while Protect_Factory_Reset is Yes: 403" "$(as_admin -X POST "$U/admin/factory-reset")" 403
assert_eq "... nothing queued" "$(njobs)" 0

assert_eq "/admin/upgrade?BUNDLE: 202" "$(as_admin "$U/admin/upgrade?$H/crawl/bundles/1.5.0.bundle")" 202
up=$(body | jq -r .job)
assert_eq "the same upgrade again while it runs: 409" \
    "$(as_admin "$U/admin/upgrade?$H/crawl/bundles/1.5.0.bundle")" 409
assert_eq "... naming the running job" "$(body | jq -r .job)" "$up"
assert_eq "the progress document says an upgrade runs" "$(as_user "$U/progress.json"; body | jq -r .active)" "200true"
wait_until 30 "the upgrade wrote, switched and rebooted" rebooted
assert_eq "slot B holds 1.5.0 and boots next" "$(ustate)" switched-awaiting-boot
assert_eq "while rebooting, a URL command is refused (503)" "$(as_admin "$U/admin/reboot")" 503
assert_eq "the log page lists the upgrade" "$(as_user "$U/log")" 200
assert_contains "... with its outcome" "$(body)" "<td>upgrade</td><td>web</td><td>ok</td>"
daemon_stop

# ---- a factory-fresh phone: no admin password, the pages are open and warn; the reboot
# and the factory reset; then the lockout (it would refuse this client for a minute).
F=$WORK/fresh
device "$F" User_Password "$USERPW"
D=$F
daemon_start "$F" --listen 127.0.0.1:0
U=$(dstatus "$F" .web)
assert_eq "no admin password: /admin/status is open" "$(http "$U/admin/status")" 200
assert_contains "the page warns" "$(http "$U/" >/dev/null; body)" 'id="warn-admin"'
assert_eq "status --json says the admin password is not set" \
    "$("$UPGRADER" --root "$F" status --json | jq -r .admin_password_set)" false
assert_contains "and warns" "$("$UPGRADER" --root "$F" status)" "warning:       the admin password is empty"
assert_eq "a factory reset (POST): 202" "$(http -X POST "$U/admin/factory-reset")" 202
wait_until 10 "the factory reset ran" log_has "factory-reset (web)"
"$UPGRADER" --root "$F" param set Admin_Passwd "$ADMIN" >/dev/null
assert_eq "/admin/reboot: 202" "$(as_admin "$U/admin/reboot")" 202
wait_until 10 "the reboot command ran" rebooted
for i in 1 2 3 4; do
    assert_eq "wrong password $i: 401" "$(http --digest -u admin:wrong "$U/admin/status")" 401
done
assert_eq "the fifth wrong password locks this client out: 429" \
    "$(http --digest -u admin:wrong "$U/admin/status")" 429
assert_contains "... for a while it names" "$(cat "$WORK/headers")" "Retry-After: 60"
assert_eq "even the right password is refused now" "$(as_admin "$U/admin/status")" 429
assert_contains "the daemon logged the lockout" "$(cat "$DAEMON_LOG")" "127.0.0.1 locked out for 60 s"
daemon_stop
finish
