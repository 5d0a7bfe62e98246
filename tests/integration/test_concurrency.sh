#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What runs at the same time on one device, against a real nginx: no lock is held across the
# network, so a parameter set while a resync downloads returns at once and both changes are
# kept; exclusive jobs (a resync, a factory reset, an upgrade pass) refuse a second one at
# once instead of waiting; a lock held too long ends in a clear error, not a hang.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"

DOC=$WORK/doc
mkdir -p "$DOC"
# A profile of about 2 MB: over /crawl/ (256 kB/s) its download takes about 8 s, long enough
# for the checks below however slowly a loaded machine starts each command.
{
    printf '<flat-profile>\n<GPP_B>from-the-profile</GPP_B>\n<!-- '
    head -c 2000000 /dev/zero | tr '\0' 'x'
    printf ' -->\n</flat-profile>\n'
} >"$DOC/big.xml"
pki_make "$WORK/pki" >/dev/null
nginx_start "$DOC" || fail "nginx did not start"
H=http://127.0.0.1:$NGINX_HTTP_PORT

D=$WORK/dev
"$UPGRADER" --root "$D" init >/dev/null || fail "init"
"$UPGRADER" --root "$D" param set Profile_Rule "$H/crawl/big.xml" >/dev/null || fail "param set"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# ---- A parameter set during a slow resync: done at once, and kept by the resync's apply.
"$UPGRADER" --root "$D" resync >"$WORK/resync.out" 2>&1 &
RESYNC=$!
wait_transferring "$RESYNC" "$NGINX_HTTP_PORT" || fail "the resync's download did not start"
t0=$(now)
expect_exit 0 "param set while the resync downloads" "$UPGRADER" --root "$D" param set GPP_A set-meanwhile
t=$(elapsed "$t0")
# "At once" is measured against the 5 s store-lock bound and the resync's 8 s: a lock held
# across the download would make it wait that long or fail; process start-up under a loaded
# sanitizer build takes up to ~3 s, so the line is drawn at 4 s.
awk -v t="$t" 'BEGIN { exit !(t < 4.0) }' || fail "param set took ${t} s behind the resync"
ok "param set finished in ${t} s"
transferring_from "$RESYNC" "$NGINX_HTTP_PORT" || fail "the resync was no longer downloading"
ok "the resync was still downloading when it returned"

# ---- While it runs, a second resync and a factory reset are refused at once.
t0=$(now)
expect_exit 1 "a second resync meanwhile" "$UPGRADER" --root "$D" resync
assert_contains "says one runs" "$ERR" "another resync or factory reset is running"
expect_exit 1 "a factory reset meanwhile" "$UPGRADER" --root "$D" factory-reset
assert_contains "says a resync runs" "$ERR" "a resync or another factory reset is running"
t=$(elapsed "$t0")
awk -v t="$t" 'BEGIN { exit !(t < 4.0) }' || fail "the refusals waited ${t} s"
ok "both refused without waiting (${t} s)"

wait "$RESYNC" || fail "the resync failed: $(cat "$WORK/resync.out")"
ok "the resync finished"
assert_eq "the profile was applied" "$("$UPGRADER" --root "$D" param get GPP_B)" from-the-profile
assert_eq "the change made meanwhile is kept" "$("$UPGRADER" --root "$D" param get GPP_A)" set-meanwhile

# ---- A store lock held too long: a clear error after the bound, the store unchanged.
hold_lock "$D/params.lock" 60 # killed below, once the bound has been seen
t0=$(now)
expect_exit 1 "param set behind a held lock" "$UPGRADER" --root "$D" param set GPP_A late
t=$(elapsed "$t0")
assert_contains "names the lock and the bound" "$ERR" "params.lock: still locked after 5000 ms"
awk -v t="$t" 'BEGIN { exit !(t >= 4.9 && t < 10) }' || fail "gave up after ${t} s, not about 5"
ok "gave up after ${t} s"
pkill -P "$HOLDER" 2>/dev/null; kill "$HOLDER" 2>/dev/null; wait "$HOLDER" 2>/dev/null
assert_eq "the store unchanged" "$("$UPGRADER" --root "$D" param get GPP_A)" set-meanwhile
finish
