#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Power cuts: RUNS times (default 12; `make powercut RUNS=1000` for the long run), a device
# loses power (SIGKILL of the command's whole process group, by tests/tools/killat) in the
# middle of one of: a resync applying a profile, `apply`, `param set`, an upgrade pass
# (download, write, verify, switch), `upgrader boot` confirming a new slot, or a `bootctl`
# change (the file backend's two-copy record). The cut lands at a random instant of the command's measured run, or (one run in
# three) as it enters its k-th fsync or rename (strace). SEED picks every choice, so a run
# is reproduced by its seed (printed first); the instants themselves depend on the machine.
# After each cut the device powers on (`bootctl boot`, then `upgrader boot`) and must hold:
#   - a bootable slot, and the slot booted is the old one untouched or the new one verified;
#   - a parameter store that loads and equals the one before the command or after it;
#   - a boot state equal to the one before the bootctl change or after it;
#   - an interrupted upgrade completes on the next pass: after the power-on and at most one
#     more pass (and power-on) the device runs 2.0.0 from slot B, marked good.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"

# make test runs the same 12 cuts each time (a fixed seed); make powercut draws a new seed.
RUNS=${RUNS:-12}
SEED=${SEED:-20240601}
echo "powercut: RUNS=$RUNS SEED=$SEED (rerun: make powercut RUNS=$RUNS SEED=$SEED)"
KILLAT=$TOOLS/killat
[ -x "$KILLAT" ] || fail "$KILLAT missing (make test builds it)"

# The seeded generator (a 31-bit LCG; bash's RANDOM is also drawn on by the server helpers).
rng=$SEED
rand() { # N: sets R to 0..N-1
    rng=$(((rng * 1103515245 + 12345) % 2147483648))
    R=$(((rng >> 8) % $1))
}

# ---- the firmware, the servers and the device as it leaves the factory ----
"$TOP/images/make-keys.sh" "$WORK/keys" test >/dev/null
K=$WORK/keys FW=$WORK/fw
mkdir -p "$FW/bundles"
IMG=$WORK/2.0.0.img
{ head -c 786432 /dev/urandom; yes "release 2.0.0" | head -c 786432; } >"$IMG"
"$UPGRADER" pack --product UG-PHONE-1 --version 2.0.0 --hw 1.0 --image "$IMG" --key "$K/signer.key" \
    --cert "$K/signer.pem" --chunk-size 128K -o "$FW/bundles/2.0.0.bundle" >/dev/null || fail "pack"
printf '{"product": "UG-PHONE-1", "releases": [{"version": "2.0.0", "bundle": "bundles/2.0.0.bundle", "size": %s, "sha256": "%s", "min_from": "1.0.0"}]}\n' \
    "$(stat -c %s "$FW/bundles/2.0.0.bundle")" "$(sha256sum <"$FW/bundles/2.0.0.bundle" | cut -d' ' -f1)" >"$FW/catalog.json"
"$UPGRADER" sign --key "$K/signer.key" --cert "$K/signer.pem" "$FW/catalog.json" >/dev/null || fail "sign"
# A profile that changes 40 parameters at once: a cut store holds all 40 or none.
{
    echo '<flat-profile>'
    for p in A B C D E F G H I J K L M N O P; do echo "  <GPP_$p>profile-$p-$(printf 'v%.0s' $(seq 1 40))</GPP_$p>"; done
    for n in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24; do
        echo "  <Display_Name_${n}_>line $n</Display_Name_${n}_>"
    done
    echo '</flat-profile>'
} >"$FW/profile.xml"
pki_make "$WORK/pki" >/dev/null
nginx_start "$FW" || fail "nginx did not start"
H=http://127.0.0.1:$NGINX_HTTP_PORT

FACTORY=$WORK/factory
"$UPGRADER" --root "$FACTORY" init --version 1.0.0 --slot-size 2M --keyring "$K/ca.pem" >/dev/null || fail "init"
yes "factory image" | head -c 1500000 | dd of="$FACTORY/slot-a.img" conv=notrunc status=none
cp "$FACTORY/slot-a.img" "$WORK/slot-a.orig"
for kv in "Upgrade_Rule=$H/catalog.json" "Upgrade_Error_Retry_Delay=0" "Profile_Rule=$H/profile.xml" \
    "Resync_Periodic=0" "GPP_A=factory-$(printf 'a%.0s' $(seq 1 300))"; do
    "$UPGRADER" --root "$FACTORY" param set "${kv%%=*}" "${kv#*=}" >/dev/null || fail "param set ${kv%%=*}"
done
# As switched: the pass ran (B on trial, reboot due) and the bootloader has just chosen B.
SWITCHED=$WORK/switched
cp -a --sparse=always "$FACTORY" "$SWITCHED"
"$UPGRADER" --root "$SWITCHED" upgrade --no-reboot >/dev/null || fail "the pass that makes the switched device"
rm -f "$SWITCHED/reboot-requested"
[ "$("$BOOTCTL" --env "$SWITCHED/bootenv" boot)" = B ] || fail "the switched device does not boot B"

fresh() { rm -rf "$2"; cp -a --sparse=always "$1" "$2"; }
store_of() { sha256sum <"$1/params" | cut -c1-16; }
# The boot state as the selection logic sees it (not the copies' health, which a rewrite changes).
bootstate_of() { "$BOOTCTL" --env "$1/bootenv" status --json | jq -c '{slots, booted, fallback}'; }

# ---- the scenarios: each is a device to start from and a command ----
SCENARIOS=(resync apply param-set upgrade boot bootctl-set-active bootctl-mark-good bootctl-boot)
# How often each is drawn: the upgrade pass, which has the most steps, most often.
DRAW=(resync resync apply param-set upgrade upgrade upgrade upgrade boot boot bootctl-set-active
    bootctl-mark-good bootctl-boot)
declare -A FROM=([resync]=$FACTORY [apply]=$FACTORY [param-set]=$FACTORY [upgrade]=$FACTORY
    [boot]=$SWITCHED [bootctl-set-active]=$SWITCHED [bootctl-mark-good]=$SWITCHED
    [bootctl-boot]=$SWITCHED)
NEWVAL=$(printf 'n%.0s' $(seq 1 2000))
command_of() { # SCENARIO DIR: sets CMD
    case $1 in
    resync) CMD=("$UPGRADER" --root "$2" resync) ;;
    apply) CMD=("$UPGRADER" --root "$2" apply "$FW/profile.xml") ;;
    param-set) CMD=("$UPGRADER" --root "$2" param set GPP_A "$NEWVAL") ;;
    upgrade) CMD=("$UPGRADER" --root "$2" upgrade --no-reboot) ;;
    boot) CMD=("$UPGRADER" --root "$2" boot --no-reboot) ;;
    bootctl-set-active) CMD=("$BOOTCTL" --env "$2/bootenv" set-active A --tries 2) ;;
    bootctl-mark-good) CMD=("$BOOTCTL" --env "$2/bootenv" mark-good) ;;
    bootctl-boot) CMD=("$BOOTCTL" --env "$2/bootenv" boot) ;;
    esac
}

# What each command leaves when it runs through, its time (the shortest of three runs, in
# microseconds) and how many fsyncs and renames it makes.
declare -A US STORE_BEFORE STORE_AFTER BOOT_BEFORE BOOT_AFTER CALLS_fsync CALLS_rename
now_us() { echo $(($(date +%s%N) / 1000)); }
for s in "${SCENARIOS[@]}"; do
    best=
    for t in 1 2 3; do
        fresh "${FROM[$s]}" "$WORK/m"
        command_of "$s" "$WORK/m"
        t0=$(now_us)
        "${CMD[@]}" >/dev/null 2>&1 || fail "$s runs through: $("${CMD[@]}" 2>&1)"
        us=$(($(now_us) - t0))
        [ -z "$best" ] || [ "$us" -lt "$best" ] && best=$us
    done
    US[$s]=$best
    STORE_BEFORE[$s]=$(store_of "${FROM[$s]}") STORE_AFTER[$s]=$(store_of "$WORK/m")
    BOOT_BEFORE[$s]=$(bootstate_of "${FROM[$s]}") BOOT_AFTER[$s]=$(bootstate_of "$WORK/m")
    fresh "${FROM[$s]}" "$WORK/m"
    command_of "$s" "$WORK/m"
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq -o "$WORK/m.trace" \
        -e trace=fsync,rename "${CMD[@]}" >/dev/null 2>&1 || fail "$s under strace"
    CALLS_fsync[$s]=$(grep -c ' fsync(' "$WORK/m.trace")
    CALLS_rename[$s]=$(grep -c ' rename(' "$WORK/m.trace")
    echo "measured $s: $((US[$s] / 1000)) ms, ${CALLS_fsync[$s]} fsyncs, ${CALLS_rename[$s]} renames"
done
rm -rf "$WORK/m" "$WORK/m.trace"

# check_boot DIR WHAT: the bootloader picks a slot, and it holds what it must.
check_boot() {
    local d=$1 what=$2 slot
    slot=$("$BOOTCTL" --env "$d/bootenv" boot 2>&1) || fail "$what: UNBOOTABLE: $slot"
    case $slot in
    A) cmp -s "$d/slot-a.img" "$WORK/slot-a.orig" || fail "$what: booted A, which changed" ;;
    B) cmp -s -n "$(stat -c %s "$IMG")" "$d/slot-b.img" "$IMG" || fail "$what: booted B, which is not 2.0.0 in full"
       [ "$("$BOOTCTL" --env "$d/bootenv" status --json | jqr .slots.B.version)" = 2.0.0 ] ||
           fail "$what: booted B without its version" ;;
    *) fail "$what: bootctl boot said '$slot'" ;;
    esac
    BOOTED=$slot
}

# power_on DIR WHAT: the bootloader, then the agent's boot step.
power_on() {
    local out
    rm -f "$1/reboot-requested"
    check_boot "$1" "$2"
    out=$("$UPGRADER" --root "$1" boot --no-reboot 2>&1) || fail "$2: upgrader boot failed: $out"
}

# complete DIR WHAT: the upgrade the device was given ends in 2.0.0 on B, marked good, after
# the power-on and at most one more pass; sets PASSES to how many it took.
complete() {
    local d=$1 what=$2 out i
    PASSES=0
    for i in 1 2; do
        if [ "$BOOTED" = B ] && [ "$("$BOOTCTL" --env "$d/bootenv" status --json | jqr .slots.B.successful)" = true ]; then
            return 0
        fi
        [ "$i" -lt 2 ] || break
        if [ ! -e "$d/reboot-requested" ]; then
            out=$("$UPGRADER" --root "$d" upgrade --no-reboot 2>&1) || fail "$what: pass $i after the cut failed: $out"
            PASSES=$((PASSES + 1))
        fi
        power_on "$d" "$what, power-on after pass $i"
    done
    fail "$what: the upgrade did not complete on the next pass (booted $BOOTED: $(bootstate_of "$d"))"
}

# one_run RUN SCENARIO: one cut and what follows; run in a subshell, so that a failed check
# ends this run only (its fail line names the kind) and the count goes on. Prints
# "cut RC PASSES" last.
one_run() {
    local run=$1 s=$2 d=$WORK/run call n k at how rc st bs what outcome
    fresh "${FROM[$s]}" "$d"
    command_of "$s" "$d"
    if [ "$MODE" = strace ]; then
        call=$CALL n=$(eval "echo \${CALLS_$call[$s]}") k=$K_AT
        how="entering $call $k of $n"
        rc=$(exec 2>/dev/null
             ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq -o /dev/null \
                 -e trace="$call" -e inject="$call:signal=KILL:when=$k" "${CMD[@]}" >/dev/null
             echo $?)
    else
        at=$AT
        how="at $((at / 1000)).$(printf '%03d' $((at % 1000))) ms"
        rc=0
        "$KILLAT" "$at" "${CMD[@]}" >/dev/null 2>&1 || rc=$?
    fi
    what="run $run ($s, cut $how)"
    [ "$rc" = 137 ] || [ "$rc" = 0 ] || fail "$what: the command ended with $rc, neither cut nor done"
    # The state as the cut left it, before anything runs again.
    st=$(store_of "$d")
    "$UPGRADER" --root "$d" param list >/dev/null 2>&1 || fail "$what: HALF-APPLIED store: it does not load"
    [ "$st" = "${STORE_BEFORE[$s]}" ] || [ "$st" = "${STORE_AFTER[$s]}" ] ||
        fail "$what: HALF-APPLIED store: neither the one before nor the one after"
    case $s in
    bootctl-*)
        bs=$(bootstate_of "$d")
        [ "$bs" = "${BOOT_BEFORE[$s]}" ] || [ "$bs" = "${BOOT_AFTER[$s]}" ] ||
            fail "$what: MIXED boot state, neither before nor after: $bs" ;;
    esac
    power_on "$d" "$what"
    outcome="booted $BOOTED"
    PASSES=0
    case $s in
    upgrade | boot)
        complete "$d" "$what"
        outcome="$outcome, 2.0.0 good after $PASSES more pass(es)" ;;
    esac
    echo "ok - $what: exit $rc, $outcome"
    echo "cut $rc $PASSES"
}

declare -A CUTS_IN_FLIGHT RAN_THROUGH
failed=0 unbootable=0 half_stores=0 incomplete=0 other=0 in_flight=0 extra_passes=0 strace_cuts=0
t_start=$(now_us)
for run in $(seq 1 "$RUNS"); do
    # Every choice is drawn here, in the parent, so the schedule depends on the seed alone.
    rand "${#DRAW[@]}"; s=${DRAW[$R]}
    rand 3
    if [ "$R" = 0 ]; then
        MODE=strace
        rand 2; CALL=$([ "$R" = 0 ] && echo fsync || echo rename)
        n=$(eval "echo \${CALLS_$CALL[$s]}")
        [ "$n" -gt 0 ] || { CALL=fsync; n=${CALLS_fsync[$s]}; }
        rand "$n"; K_AT=$((R + 1))
        strace_cuts=$((strace_cuts + 1))
    else
        # An instant within its shortest measured run (on a loaded machine the cut may still
        # come after its end: such a run counts as ran through, and is checked all the same).
        MODE=instant
        rand $((US[$s] + 1)); AT=$R
    fi
    out=$( (one_run "$run" "$s") 2>&1) && good=1 || good=0
    echo "$out" | grep -v '^cut '
    if [ "$good" = 0 ]; then
        failed=$((failed + 1))
        case $out in
        *UNBOOTABLE* | *"booted A, which changed"* | *"not 2.0.0 in full"* | *"without its version"*) unbootable=$((unbootable + 1)) ;;
        *HALF-APPLIED* | *MIXED*) half_stores=$((half_stores + 1)) ;;
        *"did not complete"* | *"after the cut failed"*) incomplete=$((incomplete + 1)) ;;
        *) other=$((other + 1)) ;;
        esac
        continue
    fi
    read -r _ rc passes <<<"$(echo "$out" | grep '^cut ' | tail -n 1)"
    extra_passes=$((extra_passes + passes))
    if [ "$rc" = 137 ]; then
        in_flight=$((in_flight + 1)); CUTS_IN_FLIGHT[$s]=$((${CUTS_IN_FLIGHT[$s]:-0} + 1))
    else
        RAN_THROUGH[$s]=$((${RAN_THROUGH[$s]:-0} + 1))
    fi
done
elapsed=$((($(now_us) - t_start) / 1000000))
CHECKS=$((CHECKS + RUNS))
summary=
for s in "${SCENARIOS[@]}"; do
    summary+=" $s ${CUTS_IN_FLIGHT[$s]:-0}/$((${CUTS_IN_FLIGHT[$s]:-0} + ${RAN_THROUGH[$s]:-0}));"
done
echo "powercut: SEED=$SEED RUNS=$RUNS in ${elapsed}s: $in_flight cut in flight ($strace_cuts of the runs at an fsync or rename), $((RUNS - failed - in_flight)) ran through first"
echo "powercut: failed runs $failed: unbootable or wrong slot $unbootable, half-applied stores or boot states $half_stores, upgrades not completed $incomplete, other $other; passes needed after a cut $extra_passes"
echo "powercut: cut in flight / runs, by scenario:$summary"
[ "$failed" = 0 ] || fail "$failed of $RUNS runs failed (above)"
# Most cuts must land while the command runs, or the test proves little.
[ "$in_flight" -ge $((RUNS / 3)) ] || fail "only $in_flight of $RUNS cuts landed while the command ran"
ok "$in_flight of $RUNS cuts landed while the command ran; every device booted, every store whole, every upgrade completed"
finish
