#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The running daemon's schedules against the real nginx, with intervals shortened through
# the parameters: resync at start (with and without the random delay), periodic resyncs that
# cost a 304 when nothing changed, a new Resync_Periodic taking effect without a restart,
# Resync_At replacing the periodic one, retries by Resync_Error_Retry_Delay after an
# unreachable server and after a 404, a 503's Retry-After honoured; one daemon per folder,
# commands through its control socket, SIGTERM.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"
. "$(dirname "$0")/daemon.sh"

FW=$WORK/fw
mkdir -p "$FW"
printf '<flat-profile><GPP_A>from-the-server</GPP_A></flat-profile>\n' >"$FW/p.xml"
printf '<flat-profile><GPP_B>second</GPP_B></flat-profile>\n' >"$FW/q.xml"
pki_make "$WORK/pki" >/dev/null
nginx_start "$FW" || fail "nginx did not start"
H=http://127.0.0.1:$NGINX_HTTP_PORT
closed_port CLOSED

device() { # DIR PROFILE_RULE [NAME VALUE]...
    local d=$1 rule=$2
    shift 2
    "$UPGRADER" --root "$d" init >/dev/null || fail "init $d"
    "$UPGRADER" --root "$d" param set Profile_Rule "$rule" >/dev/null || fail "Profile_Rule"
    while [ $# -ge 2 ]; do
        "$UPGRADER" --root "$d" param set "$1" "$2" >/dev/null || fail "param set $1 $2"
        shift 2
    done
}

# ---- The random delay at start: Resync_Random_Delay=1 is up to 20 s. This device runs in
# the background while the others are tested, and is looked at last.
R=$WORK/random
device "$R" "$H/random.xml" Resync_Random_Delay 1 Resync_Periodic 3600
cp "$FW/p.xml" "$FW/random.xml"
R_START=$(date +%s.%N)
daemon_start "$R"
R_PID=$DAEMON_PID R_LOG=$DAEMON_LOG
delay=$(sed -n 's/.*next resync (start) in \([0-9]*\) s/\1/p' "$R_LOG" | head -n 1)
[ -n "$delay" ] && [ "$delay" -ge 0 ] && [ "$delay" -le 20 ] ||
    fail "the first resync is not drawn within 0..20 s: $(cat "$R_LOG")"
ok "the first resync is drawn within Resync_Random_Delay (20 s): in $delay s"

# ---- At start without a random delay, then every Resync_Periodic seconds; a profile that
# did not change costs a 304.
D=$WORK/periodic
device "$D" "$H/p.xml" Resync_Random_Delay 0 Resync_Periodic 2
daemon_start "$D"
wait_until 10 "the resync at start ran" log_has "resync (start): resync ok"
assert_eq "the profile was applied" "$("$UPGRADER" --root "$D" param get GPP_A)" from-the-server
wait_until 15 "three periodic resyncs after it" requests_at_least "GET /p.xml" 4
gap_between 2 1.95 3.5 "GET /p.xml"
gap_between 3 1.95 3.5 "GET /p.xml"
assert_eq "the first fetch got the file" "$(grep 'GET /p.xml' "$NGINX_ACCESS_LOG" | head -n 1 | awk '{print $5}')" 200
assert_eq "an unchanged profile costs a 304" "$(grep 'GET /p.xml' "$NGINX_ACCESS_LOG" | sed -n 3p | awk '{print $5}')" 304
assert_eq "status shows one scheduled resync" "$(dstatus "$D" '.jobs | map(select(.kind == "resync")) | length')" 1

# A new Resync_Periodic takes effect at once, without a restart (the daemon sees the change
# of DIR/params).
"$UPGRADER" --root "$D" param set Resync_Periodic 3600 >/dev/null
wait_until 5 "the schedule was re-planned" log_has "resync schedule changed (parameters changed)"
wait_until 5 "the next resync is an hour away" log_has "next resync (periodic) in 35[0-9][0-9] s\|next resync (periodic) in 3600 s"
# The same through SIGHUP after an edit the daemon cannot see happen (a schema's default).
"$UPGRADER" --root "$D" param set Resync_Periodic 2 >/dev/null
wait_until 5 "back to 2 s" log_has "next resync (periodic) in [0-2] s"
n=$(requests "GET /p.xml")
wait_until 10 "resyncs every 2 s again" requests_at_least "GET /p.xml" $((n + 2))
kill -HUP "$DAEMON_PID"
wait_until 5 "SIGHUP re-reads the parameters" daemon_answers "$D"

# One daemon per state folder: a second one stops at once.
expect_exit 1 "a second daemon of the folder is refused" "$UPGRADER" --root "$D" daemon
assert_contains "it says why" "$ERR" "another daemon of this state folder"

# Commands through the control socket: a resync RULE runs in the daemon, printed the same.
expect_exit 0 "resync RULE through the daemon" "$UPGRADER" --root "$D" resync "$H/q.xml"
assert_contains "its lines come back" "$OUT" "q.xml: 1 parameters, 1 changed"
assert_contains "and its last line" "$OUT" "resync ok (ok)"
assert_eq "applied" "$("$UPGRADER" --root "$D" param get GPP_B)" second
grep -q "resync (control)" "$DAEMON_LOG" || fail "the daemon did not run it"
ok "the daemon ran it"
expect_exit 4 "a failing RULE through the daemon keeps its exit code" "$UPGRADER" --root "$D" resync "$H/none.xml"
assert_contains "and its message" "$ERR" "file not found"
expect_exit 0 "status through the daemon" "$UPGRADER" --root "$D" status
assert_contains "status shows the daemon" "$OUT" "daemon:        pid $DAEMON_PID"
assert_contains "and its queued resync" "$OUT" "resync (periodic)"
[ "$(stat -c %a "$D/control.sock")" = 600 ] || fail "control.sock is not 0600"
ok "the control socket is 0600"
jq -e '.jobs[] | select(.kind == "resync")' "$D/jobs.json" >/dev/null || fail "jobs.json does not hold the queue: $(cat "$D/jobs.json")"
ok "the queue is kept in jobs.json"

daemon_stop
assert_eq "SIGTERM ends an idle daemon with 0" "$DAEMON_RC" 0
[ ! -S "$D/control.sock" ] || fail "control.sock left behind"
ok "the socket is gone"
expect_exit 0 "without a daemon, resync acts directly" "$UPGRADER" --root "$D" resync "$H/q.xml"
assert_contains "status says no daemon" "$("$UPGRADER" --root "$D" status)" "daemon:        not running"

# ---- Report_Rule: after a resync the configuration is uploaded: only what differs from the
# defaults with --delta, by PUT or POST (HTTP_Report_Method), encrypted with --key; never a
# secret.
E=$WORK/report
device "$E" "$H/p.xml" Resync_Random_Delay 0 Resync_Periodic 3600 HTTP_Report_Method PUT \
    Admin_Passwd s3cret-pw Report_Rule "[--delta] $H/upload/\$MA-delta.xml"
daemon_start "$E"
wait_until 10 "the report follows the resync" log_has "report (resync): report sent"
delta=$(cat "$NGINX_UPLOAD_DIR/000e08aabbcc-delta.xml")
assert_contains "the delta holds what the profile set" "$delta" ">from-the-server</GPP_A>"
assert_not_contains "and no value left at its default" "$delta" "<Upgrade_Enable"
assert_not_contains "and no password" "$delta" "s3cret-pw"
"$UPGRADER" --root "$E" param set HTTP_Report_Method POST >/dev/null
"$UPGRADER" --root "$E" param set Report_Rule "$H/post" >/dev/null
expect_exit 0 "a resync through the daemon" "$UPGRADER" --root "$E" resync
wait_until 10 "the POST reached the server" grep -q "^POST /post application/xml <?xml" "$NGINX_POST_LOG"
assert_contains "the whole configuration" "$(cat "$NGINX_POST_LOG")" "<Upgrade_Enable"
assert_not_contains "no password in it either" "$(cat "$NGINX_POST_LOG")" "s3cret-pw"
"$UPGRADER" --root "$E" param set HTTP_Report_Method PUT >/dev/null
"$UPGRADER" --root "$E" param set Report_Rule "[--key Rep0rtKey] $H/upload/enc.bin" >/dev/null
expect_exit 0 "another resync" "$UPGRADER" --root "$E" resync
wait_until 10 "the encrypted report was stored" test -s "$NGINX_UPLOAD_DIR/enc.bin"
plain=$(openssl enc -d -aes-256-cbc -md sha256 -k Rep0rtKey -in "$NGINX_UPLOAD_DIR/enc.bin" 2>&1)
assert_contains "--key: openssl decrypts it to the profile" "$plain" ">from-the-server</GPP_A>"
assert_not_contains "the upload itself is not plain text" "$(tr -d '\0' <"$NGINX_UPLOAD_DIR/enc.bin")" "flat-profile"
daemon_stop

# ---- Resync_Trigger_1: a scheduled resync that comes due runs only while a trigger holds.
T=$WORK/trigger
cp "$FW/p.xml" "$FW/t.xml"
device "$T" "$H/t.xml" Resync_Random_Delay 0 Resync_Periodic 1
daemon_start "$T"
wait_until 10 "the resync at start" log_has "resync (start): resync ok"
"$UPGRADER" --root "$T" param set Resync_Trigger_1 '$PRVTMR ge 0' >/dev/null
n=$(requests "GET /t.xml")
wait_until 10 "a trigger that holds lets the periodic resyncs run" requests_at_least "GET /t.xml" $((n + 2))
"$UPGRADER" --root "$T" param set Resync_Trigger_1 '$PRVTMR ge 86400' >/dev/null
wait_until 10 "a trigger that does not hold holds the due resync back" log_has "no Resync_Trigger holds"
n=$(requests "GET /t.xml")
sleep 2 # Resync_Periodic=1 would have resynced twice by now
assert_eq "no request while no trigger holds" "$(requests "GET /t.xml")" "$n"
assert_contains "status says when it is looked at again" "$(dstatus "$T" '.jobs[] | select(.kind == "resync") | .why')" "due at"
daemon_stop

# ---- Resync_At: a valid time replaces the periodic resync. The window after it is at least
# 600 s (Cisco's minimum), so the test reads the time the daemon chose rather than waiting.
A=$WORK/at
at=$(date -u -d '+2 min' +%H%M)
device "$A" "$H/p.xml" Resync_Random_Delay 0 Resync_Periodic 1 Resync_At__HHmm_ "$at"
daemon_start "$A" --pidfile "$WORK/at.pid"
assert_eq "the pidfile holds the daemon's PID" "$(cat "$WORK/at.pid")" "$DAEMON_PID"
wait_until 10 "the resync at start ran" log_has "resync (start): resync ok"
due=$(dstatus "$A" '.jobs[] | select(.kind == "resync") | .due')
at_epoch=$(date -u -d "$(date -u +%F) ${at:0:2}:${at:2:2}" +%s)
[ "$at_epoch" -ge "$(date +%s)" ] || at_epoch=$((at_epoch + 86400))
[ "$due" -ge "$at_epoch" ] && [ "$due" -le $((at_epoch + 600)) ] ||
    fail "the daily resync is due at $due, not within [$at_epoch, $at_epoch + 600]"
ok "the next resync is in the window after Resync_At ($at UTC): due $due"
n=$(requests "GET /p.xml")
sleep 2.5 # Resync_Periodic=1 would have resynced twice by now; nothing must happen
assert_eq "Resync_Periodic is ignored while Resync_At is valid" "$(requests "GET /p.xml")" "$n"
daemon_stop
[ ! -e "$WORK/at.pid" ] || fail "the pidfile was left"
ok "the pidfile is removed at the end"

# ---- Unreachable server: retries after 1, 2, 3, 3 s (the last element repeats).
U=$WORK/unreachable
device "$U" "http://127.0.0.1:$CLOSED/p.xml" Resync_Random_Delay 0 Resync_Error_Retry_Delay 1,2,3
daemon_start "$U"
wait_until 20 "four failed resyncs" log_count_at_least "resync (retry): .*connection refused" 3
assert_eq "retried by the delay list" "$(sed -n 's/.*next resync (retry) in \([0-9]*\) s/\1/p' "$DAEMON_LOG" | head -n 4 | tr '\n' ' ')" "1 2 3 3 "
assert_eq "status counts the failures" "$(dstatus "$U" .resync_failures_in_a_row | awk '$1 >= 3 {print "yes"}')" yes
assert_eq "the LED says the server cannot be reached" "$(jqr .last.led "$U/resync.json")" slow-blink
daemon_stop

# ---- 404: the same list, measured at the server.
F=$WORK/missing
device "$F" "$H/missing.xml" Resync_Random_Delay 0 Resync_Error_Retry_Delay 1,2
daemon_start "$F"
wait_until 15 "four requests for the missing file" requests_at_least "GET /missing.xml" 4
gap_between 1 0.95 2.3 "GET /missing.xml"
gap_between 2 1.95 3.3 "GET /missing.xml"
gap_between 3 1.95 3.3 "GET /missing.xml"
daemon_stop

# ---- 503 with Retry-After: 3 is waited for, though the list says 1 s.
B=$WORK/busy
device "$B" "$H/busy/p.xml" Resync_Random_Delay 0 Resync_Error_Retry_Delay 1
daemon_start "$B"
wait_until 15 "three requests to the busy server" requests_at_least "GET /busy/p.xml" 3
gap_between 1 2.95 4.5 "GET /busy/p.xml"
gap_between 2 2.95 4.5 "GET /busy/p.xml"
daemon_stop

# ---- Back to the device with the random delay: its resync came when it said.
DAEMON_PID=$R_PID DAEMON_LOG=$R_LOG
wait_until 25 "the delayed first resync ran" requests_at_least "GET /random.xml" 1
t=$(request_times "GET /random.xml" | head -n 1)
awk -v t="$t" -v s="$R_START" -v d="$delay" 'BEGIN { exit !(t - s >= d - 1 && t - s <= d + 2) }' ||
    fail "the first resync came $(awk -v t="$t" -v s="$R_START" 'BEGIN { print t - s }') s after the start, $delay s was drawn"
ok "the first resync came after the drawn delay ($delay s)"
daemon_stop
finish
