#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The fault matrix over the real servers: tests/tools/faultproxy.py in front of nginx (HTTP,
# and raw in front of HTTPS) and of tftpd-hpa breaks transfers as a bad network or a bad
# server does: reset, truncation, a flipped byte, a body longer than announced, 500, 503, a
# redirect loop, TLS garbage, resets and flipped bytes inside TLS, TFTP datagrams lost and
# duplicated, a TFTP server that stops mid-file. Each cell prints one line: the exit code,
# the LED, the upgrade's last_result; and checks that nothing was applied or switched (slot
# A booted and untouched, B unbootable, the store unchanged), then that the next pass without
# the fault completes, fetching (from nginx's access log) only what the cut one had not.
# FAULTS_SLOW=1 adds the cells that wait for timeouts (a stall and a 2 B/s trickle, given up
# by the minimum rate after 60 s; a TFTP server gone silent; a bundle over TFTP losing 1% of
# its datagrams).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"
[ -n "${FAULTS_DEBUG:-}" ] && at_exit "cat \"\$NGINX_ACCESS_LOG\" \"\$WORK\"/HP.log; ls -la \"\$D\"; cat \"\$D\"/upgrade.resume"

PROXY=$TOP/tests/tools/faultproxy.py
"$TOP/images/make-keys.sh" "$WORK/keys" test >/dev/null
K=$WORK/keys FW=$WORK/fw
mkdir -p "$FW/bundles"
# The install checkpoints every 32 MiB of image (docs/install.md): a 36 MiB image whose first
# 34 MiB compress to almost nothing and whose last 2 MiB are random puts the middle of the
# bundle's bytes past the first checkpoint, so a cut there is resumed from it.
IMG=$WORK/2.0.0.img
{ yes "release 2.0.0" | head -c $((34 << 20)); head -c $((2 << 20)) /dev/urandom; } >"$IMG"
# --no-index: the matrix measures the whole-stream install and its resume; the delta path's
# faults (a server without ranges, a tampered frame, a cut pass) are test_delta's.
"$UPGRADER" pack --product UG-PHONE-1 --version 2.0.0 --hw 1.0 --image "$IMG" --key "$K/signer.key" \
    --cert "$K/signer.pem" --compress gzip --chunk-size 1M --no-index -o "$FW/bundles/2.0.0.bundle" >/dev/null || fail "pack"
SIZE=$(stat -c %s "$FW/bundles/2.0.0.bundle")
printf '{"product": "UG-PHONE-1", "releases": [{"version": "2.0.0", "bundle": "bundles/2.0.0.bundle", "size": %s, "sha256": "%s", "min_from": "1.0.0"}]}\n' \
    "$SIZE" "$(sha256sum <"$FW/bundles/2.0.0.bundle" | cut -d' ' -f1)" >"$FW/catalog.json"
"$UPGRADER" sign --key "$K/signer.key" --cert "$K/signer.pem" "$FW/catalog.json" >/dev/null || fail "sign"
printf '<flat-profile>\n%s</flat-profile>\n' "$(for p in A B C D E F G H; do echo "<GPP_$p>from-profile-$p</GPP_$p>"; done)" >"$FW/profile.xml"
pki_make "$WORK/pki" >/dev/null
nginx_start "$FW" || fail "nginx did not start"
tftpd_start "$FW" || fail "tftpd did not start"

# proxy_start KIND UPSTREAM VAR: a faultproxy, its port in VAR; its control file and log are
# $WORK/VAR.ctl and $WORK/VAR.log.
proxy_start() {
    : >"$WORK/$3.ctl"
    : >"$WORK/$3.log"
    local pid port
    local proto=t
    [ "$1" = udp ] && proto=u
    _spawn port pid "$WORK/$3.out" "$proto" python3 "$PROXY" "$1" @PORT@ "$2" "$WORK/$3.ctl" "$WORK/$3.log" ||
        fail "faultproxy $1 did not start"
    printf -v "$3" %s "$port"
}
proxy_start http "$NGINX_HTTP_PORT" HP
proxy_start tls "$NGINX_HTTPS_PORT" SP
proxy_start udp "$TFTP_PORT" UP

TEMPLATE=$WORK/template
"$UPGRADER" --root "$TEMPLATE" init --version 1.0.0 --slot-size 40M --keyring "$K/ca.pem" --ca "$PKI/ca.pem" >/dev/null ||
    fail "init"
yes "factory image" | head -c 1500000 | dd of="$TEMPLATE/slot-a.img" conv=notrunc status=none
for kv in "Upgrade_Error_Retry_Delay=0" "Resync_Error_Retry_Delay=0" "Resync_Periodic=0"; do
    "$UPGRADER" --root "$TEMPLATE" param set "${kv%%=*}" "${kv#*=}" >/dev/null || fail "param set $kv"
done
cp "$TEMPLATE/slot-a.img" "$WORK/slot-a.orig"
STORE=$(sha256sum <"$TEMPLATE/params" | cut -c1-16)
D=$WORK/dev

# untouched WHAT: nothing applied or switched: A runs, untouched; B never made bootable; the
# store as it was.
untouched() {
    local st
    st=$("$BOOTCTL" --env "$D/bootenv" status --json) || fail "$1: boot state unreadable"
    [ "$(jqr .booted <<<"$st")" = A ] && [ "$(jqr .slots.A.successful <<<"$st")" = true ] ||
        fail "$1: slot A no longer runs good: $st"
    [ "$(jqr .slots.B.bootable <<<"$st")" = false ] || fail "$1: B was made bootable: $st"
    cmp -s "$D/slot-a.img" "$WORK/slot-a.orig" || fail "$1: slot A changed"
    [ "$(sha256sum <"$D/params" | cut -c1-16)" = "$STORE" ] || fail "$1: the parameter store changed"
}

# bundle_requests: nginx's lines for the bundle since the cell began: "RANGE BYTES" each.
# (RANGE is "-" for a request without one.)
bundle_requests() {
    tail -n +"$((LOG_AT + 1))" "$NGINX_ACCESS_LOG" | grep '2.0.0.bundle' |
        sed -E 's/^[^"]*"[^"]*" ([0-9]+) ([0-9]+) "[^"]*" "[^"]*" "([^"]*)".*/\3 \2/'
}

# upgrade_cell NAME PROXYVAR URL CONTROL EXPECTED-EXIT [TIMEOUT]: one cell of an upgrade pass.
upgrade_cell() {
    local name=$1 ctl=$WORK/$2.ctl url=$3 mode=$4 want=$5 limit=${6:-60} rc=0 led result
    rm -rf "$D"
    cp -a --sparse=always "$TEMPLATE" "$D"
    LOG_AT=$(wc -l <"$NGINX_ACCESS_LOG")
    echo "$mode" >"$ctl"
    timeout "$limit" "$UPGRADER" --root "$D" upgrade --no-reboot "$url" >"$WORK/cell.out" 2>&1 || rc=$?
    echo pass >"$ctl"
    led=$("$UPGRADER" --root "$D" status --json | jqr .led)
    result=$(jqr '.status.last_result // "none"' "$D/upgrade.json" 2>/dev/null || echo none)
    [ "$rc" = "$want" ] || fail "$name: exit $rc, expected $want: $(tail -n 3 "$WORK/cell.out")"
    untouched "$name"
    echo "cell: $name | exit $rc | LED $led | last_result $result | $(tail -n 1 "$WORK/cell.out")"
    ok "$name: exit $rc, nothing applied or switched"
}

# resumes NAME URL: the next pass without the fault completes; when the cut pass kept a
# checkpoint, it reads the bundle's head again (manifest and signature are checked anew, the
# transfer closed after them) and then asks for the rest only, with a range from the
# checkpoint: nginx's log must show that request, and its byte count must be the rest
# exactly. Sets RESUMED_FROM (0: it started over).
resumes() {
    local name=$1 url=$2 out ranged range bytes start=0 head_bytes
    LOG_AT=$(wc -l <"$NGINX_ACCESS_LOG")
    out=$("$UPGRADER" --root "$D" upgrade --no-reboot "$url" 2>&1) || fail "$name: the next pass failed: $out"
    [ "$("$BOOTCTL" --env "$D/bootenv" status --json | jqr .slots.B.version)" = 2.0.0 ] ||
        fail "$name: the next pass did not write 2.0.0"
    cmp -s -n "$(stat -c %s "$IMG")" "$D/slot-b.img" "$IMG" || fail "$name: slot B is not 2.0.0 in full"
    # A resume asks for the rest (bytes=N-); the bounded ranges (bytes=N-M) are the install
    # reading the bundle's head to see whether it can go the delta way.
    ranged=$(bundle_requests | grep -E '^bytes=[0-9]+- ' | tail -n 1)
    head_bytes=$(bundle_requests | awk '$1 == "-" { n += $2 } END { print n + 0 }')
    if [ -n "$ranged" ]; then
        read -r range bytes _ <<<"$ranged"
        start=${range#bytes=}
        start=${start%-*}
        [ "$bytes" = "$((SIZE - start))" ] || fail "$name: the ranged request from $start got $bytes bytes, not the $((SIZE - start)) missing"
        echo "cell: $name | next pass: $range, $bytes bytes (the missing part of $SIZE, after the head was read again for its checks)"
        ok "$name: the next pass resumes from byte $start and fetches the $bytes missing bytes"
    else
        echo "cell: $name | next pass: from the start, nginx sent $head_bytes of $SIZE bytes"
        ok "$name: the next pass completes from the start"
    fi
    RESUMED_FROM=$start
}

HB=http://127.0.0.1:$HP/catalog.json
SB=https://127.0.0.1:$SP/catalog.json
MID=$((SIZE / 2))

# ---- HTTP faults on the bundle. The checkpoint lies before MID; the proxy waits a second
# before the reset or close, so that the install (which records a checkpoint on a thread of
# its own, behind the download) has recorded it: the next pass must resume from it. ----
upgrade_cell "http reset mid-bundle" HP "$HB" "reset match=bundle after=$MID wait=1" 3
resumes "http reset mid-bundle" "$HB"
[ "$RESUMED_FROM" -gt 0 ] || fail "after a reset mid-bundle the next pass started over"
upgrade_cell "http truncated bundle (FIN)" HP "$HB" "close match=bundle after=$MID wait=1" 3
resumes "http truncated bundle (FIN)" "$HB"
[ "$RESUMED_FROM" -gt 0 ] || fail "after a truncation the next pass started over"
upgrade_cell "http flipped byte in the bundle" HP "$HB" "flip match=bundle after=$MID" 5
resumes "http flipped byte in the bundle" "$HB"
upgrade_cell "http body longer than announced" HP "$HB" "longer match=bundle extra=4096" 4
resumes "http body longer than announced" "$HB"
# (Cells that fail before any byte of the bundle is written have nothing to resume.)
upgrade_cell "http 500 for the bundle" HP "$HB" "status match=bundle code=500" 4
upgrade_cell "http 503 for the bundle" HP "$HB" "status match=bundle code=503" 4
upgrade_cell "http redirect loop for the bundle" HP "$HB" "loop match=bundle" 4
# ---- HTTP faults on the catalog and its signature ----
upgrade_cell "http flipped byte in the catalog" HP "$HB" "flip match=catalog.json$ after=40" 5
upgrade_cell "http truncated signature" HP "$HB" "close match=catalog.json.sig after=100" 3
upgrade_cell "http 503 for the catalog" HP "$HB" "status match=catalog.json$ code=503" 4

# ---- TLS: the proxy relays raw bytes in front of nginx's HTTPS port ----
upgrade_cell "tls garbage handshake" SP "$SB" "garbage" 3
upgrade_cell "tls reset mid-transfer" SP "$SB" "reset after=$MID" 3
resumes "tls reset mid-transfer" "$SB"
upgrade_cell "tls flipped byte (bad record MAC)" SP "$SB" "flip after=$MID" 3

# ---- resync: the profile through the same faults; nothing applied, the LED says so ----
resync_cell() { # NAME CONTROL EXPECTED-EXIT
    local rc=0 led state
    rm -rf "$D"
    cp -a --sparse=always "$TEMPLATE" "$D"
    echo "$2" >"$WORK/HP.ctl"
    "$UPGRADER" --root "$D" resync "http://127.0.0.1:$HP/profile.xml" >"$WORK/cell.out" 2>&1 || rc=$?
    echo pass >"$WORK/HP.ctl"
    led=$("$UPGRADER" --root "$D" status --json | jqr .led)
    state=$(jqr .state "$D/resync.json" 2>/dev/null)
    [ "$rc" = "$3" ] || fail "$1: exit $rc, expected $3: $(tail -n 3 "$WORK/cell.out")"
    untouched "$1"
    echo "cell: $1 | exit $rc | LED $led | state $state | $(tail -n 1 "$WORK/cell.out")"
    ok "$1: exit $rc, LED $led, nothing applied"
}
resync_cell "resync: reset mid-profile" "reset match=profile after=60" 3
resync_cell "resync: truncated profile" "close match=profile after=60" 3
resync_cell "resync: 500" "status match=profile code=500" 4
resync_cell "resync: 503" "status match=profile code=503" 4
resync_cell "resync: redirect loop" "loop match=profile" 4

# ---- TFTP through the UDP relay: loss and duplication (each way), a server gone silent ----
TB=tftp://127.0.0.1:$UP/bundles/2.0.0.bundle
rm -rf "$D"
cp -a --sparse=always "$TEMPLATE" "$D"
echo "lossy dup=30" >"$WORK/UP.ctl"
out=$("$UPGRADER" --root "$D" upgrade --no-reboot "$TB" 2>&1) || fail "tftp with 30% duplicated datagrams: $out"
cmp -s -n "$(stat -c %s "$IMG")" "$D/slot-b.img" "$IMG" || fail "tftp with duplicates: slot B not 2.0.0 in full"
echo "cell: tftp 30% datagrams duplicated | exit 0 | $(grep -c . "$WORK/UP.log") log lines"
ok "tftp with 30% of the datagrams duplicated: the bundle installs, verified"
echo pass >"$WORK/UP.ctl"
resync_tftp() {
    rm -rf "$D"
    cp -a --sparse=always "$TEMPLATE" "$D"
    echo "lossy drop=20 dup=20" >"$WORK/UP.ctl"
    out=$("$UPGRADER" --root "$D" resync "tftp://127.0.0.1:$UP/profile.xml" 2>&1) || fail "tftp resync with 20% loss: $out"
    [ "$("$UPGRADER" --root "$D" param get GPP_H)" = from-profile-H ] || fail "tftp resync with loss: not applied"
    echo pass >"$WORK/UP.ctl"
    echo "cell: tftp resync, 20% lost and 20% duplicated | exit 0 | applied"
    ok "a resync over tftp with 20% of the datagrams lost and 20% duplicated applies the profile"
}
resync_tftp

if [ -n "${FAULTS_SLOW:-}" ]; then
    # Each lost datagram costs TFTP a retransmission timeout: slow over a whole bundle.
    rm -rf "$D"
    cp -a --sparse=always "$TEMPLATE" "$D"
    : >"$WORK/UP.log"
    echo "lossy drop=1 dup=5" >"$WORK/UP.ctl"
    t0=$(date +%s)
    out=$("$UPGRADER" --root "$D" upgrade --no-reboot "$TB" 2>&1) || fail "tftp with 1% lost datagrams: $out"
    cmp -s -n "$(stat -c %s "$IMG")" "$D/slot-b.img" "$IMG" || fail "tftp with loss: slot B not 2.0.0 in full"
    echo "cell: tftp 1% lost, 5% duplicated | exit 0 | $(grep -c drop "$WORK/UP.log") datagrams dropped, $(($(date +%s) - t0)) s"
    ok "tftp with 1% of the datagrams lost and 5% duplicated: the bundle installs, verified"
    upgrade_cell "http stall mid-bundle (Upgrade_Min_Rate: 1024 B/s over 60 s)" HP "$HB" "stall match=bundle after=$MID" 3 120
    resumes "http stall mid-bundle" "$HB"
    upgrade_cell "tftp server silent mid-file" UP "$TB" "stop after=200" 3 180
    # A trickle of 2 bytes a second stays above the 1 B/s stall check; the minimum rate
    # (Upgrade_Min_Rate, 1024 B/s by default, over Upgrade_Min_Rate_Window, 60 s) gives it up.
    rm -rf "$D"
    cp -a --sparse=always "$TEMPLATE" "$D"
    echo "trickle match=bundle after=$MID rate=2" >"$WORK/HP.ctl"
    rc=0 t0=$(date +%s)
    timeout 150 "$UPGRADER" --root "$D" upgrade --no-reboot "$HB" >"$WORK/cell.out" 2>&1 || rc=$?
    echo pass >"$WORK/HP.ctl"
    assert_eq "http trickle at 2 B/s: given up with exit 3 (not still running at 150 s)" "$rc" 3
    assert_contains "http trickle: it says it timed out" "$(cat "$WORK/cell.out")" "timed out"
    untouched "http trickle at 2 B/s"
    echo "cell: http trickle at 2 B/s | exit $rc after $(($(date +%s) - t0)) s | $(tail -n 1 "$WORK/cell.out")"
fi
finish
