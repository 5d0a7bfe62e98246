#!/usr/bin/env bash
# kill -9 of `upgrader upgrade` at moments spread across the whole pass (catalog, download,
# write, verify, switch): after each, `bootctl boot` must pick the old slot untouched or the
# new slot fully verified, never anything else; and the next pass must finish the job.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"

KILLS=${KILLS:-24}
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
"$UPGRADER" --root "$TEMPLATE" param set Upgrade_Rule "http://127.0.0.1:$NGINX_HTTP_PORT/catalog.json" >/dev/null
"$UPGRADER" --root "$TEMPLATE" param set Upgrade_Error_Retry_Delay 0 >/dev/null
cp "$TEMPLATE/slot-a.img" "$WORK/slot-a.orig"

now_ms() { date +%s%3N; }
fresh() { rm -rf "$1"; cp -a --sparse=always "$TEMPLATE" "$1"; }

# How long one whole pass takes here, in this build, so that the kills cover all of it.
fresh "$WORK/timing"
t0=$(now_ms)
"$UPGRADER" --root "$WORK/timing" upgrade --no-reboot >/dev/null || fail "a whole pass failed"
pass_ms=$(( $(now_ms) - t0 ))
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

mid=0
for i in $(seq 1 "$KILLS"); do
    d=$WORK/kill-$i
    fresh "$d"
    # Moments spread evenly over 0..1.1 x the pass, with some jitter.
    delay_ms=$(( (pass_ms * 11 * (i - 1)) / (10 * KILLS) + RANDOM % 5 ))
    "$UPGRADER" --root "$d" upgrade --no-reboot >/dev/null 2>&1 &
    pid=$!
    sleep "$((delay_ms / 1000)).$(printf '%03d' $((delay_ms % 1000)))"
    if kill -9 "$pid" 2>/dev/null; then mid=$((mid + 1)); fi
    wait "$pid" 2>/dev/null
    check_boot "$d" "kill $i at ${delay_ms} ms"
    # The device carries on: a boot, then a pass that finishes the job.
    "$UPGRADER" --root "$d" boot >/dev/null || fail "kill $i: upgrader boot failed"
    if [ "$BOOTED" = A ]; then
        out=$("$UPGRADER" --root "$d" upgrade --no-reboot 2>&1) || fail "kill $i: the next pass failed: $out"
        check_boot "$d" "kill $i, next pass"
        [ "$BOOTED" = B ] || fail "kill $i: the next pass did not switch to B"
        "$UPGRADER" --root "$d" boot >/dev/null || fail "kill $i: upgrader boot after the next pass"
    fi
    [ "$("$BOOTCTL" --env "$d/bootenv" status --json | jqr .slots.B.successful)" = true ] ||
        fail "kill $i: B not marked good at the end"
    ok "kill $i at ${delay_ms} ms: boots a verified slot, then completes"
    rm -rf "$d"
done
ok "$mid of $KILLS kills landed while the pass ran"
finish
