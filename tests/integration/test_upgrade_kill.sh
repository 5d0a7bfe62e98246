#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# kill -9 of `upgrader upgrade` at moments spread across the whole pass (catalog, download,
# write, verify, switch), then at each of its fsyncs and renames (strace): after each,
# `bootctl boot` must pick the old slot untouched or the new slot fully verified, never
# anything else; and the next pass must finish the job.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"

# 12 moments by default (make check's time; test_powercut cuts at random instants too);
# KILLS=N for more.
KILLS=${KILLS:-12}
"$TOP/images/make-keys.sh" "$WORK/keys" test >/dev/null
K=$WORK/keys
FW=$WORK/fw
mkdir -p "$FW/bundles"
IMG=$WORK/2.0.0.img
{ head -c 3145728 /dev/urandom; yes "release 2.0.0" | head -c 3145728; } > "$IMG"
"$UPGRADER" pack --product UG-PHONE-1 --version 2.0.0 --hw 1.0 --image "$IMG" --key "$K/signer.key" \
    --cert "$K/signer.pem" --chunk-size 256K -o "$FW/bundles/2.0.0.bundle" >/dev/null || fail "pack"
printf '{"product": "UG-PHONE-1", "releases": [{"version": "2.0.0", "bundle": "bundles/2.0.0.bundle", "size": %s, "sha256": "%s", "min_from": "1.0.0"}]}\n' \
    "$(stat -c %s "$FW/bundles/2.0.0.bundle")" "$(sha256sum < "$FW/bundles/2.0.0.bundle" | cut -d' ' -f1)" > "$FW/catalog.json"
"$UPGRADER" sign --key "$K/signer.key" --cert "$K/signer.pem" "$FW/catalog.json" >/dev/null || fail "sign"
pki_make "$WORK/pki" >/dev/null
nginx_start "$FW" || fail "nginx did not start"

TEMPLATE=$WORK/template
"$UPGRADER" --root "$TEMPLATE" init --version 1.0.0 --slot-size 8M --keyring "$K/ca.pem" >/dev/null || fail "init"
yes "factory image" | head -c 3000000 | dd of="$TEMPLATE/slot-a.img" conv=notrunc status=none
# From /paced/ (4 MB/s, 40 requests a second: a delta install asks for many ranges, and
# nginx sends each range's first second of bytes at once): the download then lasts most of
# a second and the moments below land inside the pass, whatever the machine's speed.
"$UPGRADER" --root "$TEMPLATE" param set Upgrade_Rule "http://127.0.0.1:$NGINX_HTTP_PORT/paced/catalog.json" >/dev/null
"$UPGRADER" --root "$TEMPLATE" param set Upgrade_Error_Retry_Delay 0 >/dev/null
cp "$TEMPLATE/slot-a.img" "$WORK/slot-a.orig"

now_ms() { date +%s%3N; }
fresh() { rm -rf "$1"; cp -a --sparse=always "$TEMPLATE" "$1"; }

# How long one whole pass takes here, in this build (the shorter of two), so that the kills
# cover all of it.
pass_ms=
for t in 1 2; do
    fresh "$WORK/timing"
    t0=$(now_ms)
    "$UPGRADER" --root "$WORK/timing" upgrade --no-reboot >/dev/null || fail "a whole pass failed"
    ms=$(( $(now_ms) - t0 ))
    [ -z "$pass_ms" ] || [ "$ms" -lt "$pass_ms" ] && pass_ms=$ms
done
ok "one whole pass takes ${pass_ms} ms"

# check_boot DIR WHAT: the bootloader picks A (untouched) or B (2.0.0, every byte).
check_boot() {
    local d=$1 what=$2 slot
    slot=$("$BOOTCTL" --env "$d/bootenv" boot) || fail "$what: no bootable slot"
    case $slot in
    A) cmp -s "$d/slot-a.img" "$WORK/slot-a.orig" || fail "$what: slot A changed" ;;
    B) cmp -s -n "$(stat -c %s "$IMG")" "$d/slot-b.img" "$IMG" || fail "$what: booted B, which is not fully verified"
       [ "$("$BOOTCTL" --env "$d/bootenv" status --json | jqr .slots.B.version)" = 2.0.0 ] ||
           fail "$what: booted B without its version" ;;
    *) fail "$what: bootctl boot said '$slot'" ;;
    esac
    BOOTED=$slot
}

# carry_on DIR WHAT: after check_boot, the device carries on: a boot, then (if it came up
# on A) a pass that finishes the job; B must end up booted and marked good.
carry_on() {
    local d=$1 what=$2 out
    "$UPGRADER" --root "$d" boot >/dev/null || fail "$what: upgrader boot failed"
    if [ "$BOOTED" = A ]; then
        out=$("$UPGRADER" --root "$d" upgrade --no-reboot 2>&1) || fail "$what: the next pass failed: $out"
        check_boot "$d" "$what, next pass"
        [ "$BOOTED" = B ] || fail "$what: the next pass did not switch to B"
        "$UPGRADER" --root "$d" boot >/dev/null || fail "$what: upgrader boot after the next pass"
    fi
    [ "$("$BOOTCTL" --env "$d/bootenv" status --json | jqr .slots.B.successful)" = true ] ||
        fail "$what: B not marked good at the end"
}

mid=0 states=()
for i in $(seq 1 "$KILLS"); do
    d=$WORK/kill-$i
    fresh "$d"
    # All but the last two moments spread evenly over 0..0.95 x the pass, with some jitter;
    # the last two come after its end (1.05 and 1.2 x), when it may just have finished.
    inside=$((KILLS - 2))
    if [ "$i" -le "$inside" ]; then
        delay_ms=$(( (pass_ms * 95 * (i - 1)) / (100 * inside) + RANDOM % 5 ))
    else
        delay_ms=$(( pass_ms * (105 + 15 * (i - inside - 1)) / 100 ))
    fi
    "$UPGRADER" --root "$d" upgrade --no-reboot >/dev/null 2>&1 &
    pid=$!
    sleep "$((delay_ms / 1000)).$(printf '%03d' $((delay_ms % 1000)))"
    if kill -9 "$pid" 2>/dev/null; then mid=$((mid + 1)); fi
    wait "$pid" 2>/dev/null
    # Where the pass was, as its own state file says (none yet: killed before the plan).
    at=$(jqr '.status.state // "started"' "$d/upgrade.json" 2>/dev/null || echo started)
    states+=("$at")
    check_boot "$d" "kill $i at ${delay_ms} ms"
    carry_on "$d" "kill $i"
    ok "kill $i at ${delay_ms} ms: boots a verified slot, then completes"
    rm -rf "$d"
done
# Most moments must land inside the pass for the test to mean something; how many exactly
# depends on how much faster later passes run than the measured one on a machine whose load
# changes (17 of 24 seen on a loaded one), so half is the line. The kills at each fsync and
# rename below do not depend on timing.
[ "$mid" -ge $((KILLS / 2)) ] || fail "only $mid of $KILLS kills landed while the pass ran"
ok "$mid of $KILLS kills landed while the pass ran"
ok "where they found it: $(printf '%s\n' "${states[@]}" | sort | uniq -c | awk '{ printf "%s%s x%s", n++ ? ", " : "", $2, $1 }')"

# ---- Every durability point, not only moments in time: strace kills the pass as it enters
# its k-th fsync (the same for rename, which makes a state file's new content current), for
# k = 1, 2, ... until a pass runs through. strace counts per thread, so with k past what the
# flusher thread does, the main thread's k-th call is the one. (LeakSanitizer cannot run
# under ptrace: a pass that runs through here is not leak-checked; the other tests are.)
RULE=$("$UPGRADER" --root "$TEMPLATE" param get Upgrade_Rule)
"$UPGRADER" --root "$TEMPLATE" param set Upgrade_Rule "${RULE/\/slow\//\/}" >/dev/null # full speed
for call in fsync rename; do
    killed=0
    for k in $(seq 1 80); do
        d=$WORK/inject-$call-$k
        fresh "$d"
        # (The subshell's own stderr is closed so that bash's "Killed" notice stays out of the log.)
        rc=$(exec 2>/dev/null
             ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -o /dev/null -e trace="$call" \
                 -e inject="$call:signal=KILL:when=$k" "$UPGRADER" --root "$d" upgrade --no-reboot >/dev/null
             echo $?)
        if [ "$rc" = 0 ]; then
            rm -rf "$d"
            break
        fi
        [ "$rc" = 137 ] || fail "$call $k: the pass ended with $rc, not killed"
        killed=$((killed + 1))
        at=$(jqr '.status.state // "started"' "$d/upgrade.json" 2>/dev/null || echo started)
        check_boot "$d" "killed entering $call $k ($at)"
        carry_on "$d" "killed entering $call $k"
        ok "killed entering $call $k ($at): boots a verified slot, then completes"
        rm -rf "$d"
    done
    [ "$k" -lt 80 ] || fail "a pass under strace never ran through"
    [ "$killed" -ge 3 ] || fail "only $killed ${call}s in a whole pass: the durability points are not being hit"
    ok "$killed kills, one at each $call of a pass"
done
finish
