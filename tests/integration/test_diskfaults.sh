#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Disk faults: the slot and the state folder on a full file system (a small tmpfs this test
# mounts), read-only, and a slot that fails its writes (EIO from the kernel at the first
# write, midway and at the fsync, injected by strace on the slot's path; and a device-mapper
# `error` target when the kernel has device-mapper). Each must fail cleanly: a non-zero exit with one line, no
# switch (A booted and untouched, B unbootable), the parameter store and the boot state as
# they were, and the device working again once the disk is. Skips (with a message) where
# it may not mount.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"

MNT=$WORK/mnt
mkdir -p "$MNT"
if ! mount -t tmpfs -o size=4m tmpfs "$MNT" 2>/dev/null; then
    echo "SKIP: cannot mount a tmpfs here (not root, or no mount namespace rights)"
    finish
fi
umount "$MNT"

"$TOP/images/make-keys.sh" "$WORK/keys" test >/dev/null
K=$WORK/keys FW=$WORK/fw
mkdir -p "$FW/bundles"
IMG=$WORK/2.0.0.img
head -c $((3 << 20)) /dev/urandom >"$IMG" # incompressible: 3 MiB reach the slot
"$UPGRADER" pack --product UG-PHONE-1 --version 2.0.0 --hw 1.0 --image "$IMG" --key "$K/signer.key" \
    --cert "$K/signer.pem" --chunk-size 256K -o "$FW/bundles/2.0.0.bundle" >/dev/null || fail "pack"
printf '{"product": "UG-PHONE-1", "releases": [{"version": "2.0.0", "bundle": "bundles/2.0.0.bundle", "size": %s, "sha256": "%s", "min_from": "1.0.0"}]}\n' \
    "$(stat -c %s "$FW/bundles/2.0.0.bundle")" "$(sha256sum <"$FW/bundles/2.0.0.bundle" | cut -d' ' -f1)" >"$FW/catalog.json"
"$UPGRADER" sign --key "$K/signer.key" --cert "$K/signer.pem" "$FW/catalog.json" >/dev/null || fail "sign"
printf '<flat-profile><GPP_A>from-profile</GPP_A><GPP_B>%s</GPP_B></flat-profile>\n' "$(head -c 3000 /dev/zero | tr '\0' x)" >"$FW/profile.xml"
pki_make "$WORK/pki" >/dev/null
nginx_start "$FW" || fail "nginx did not start"
H=http://127.0.0.1:$NGINX_HTTP_PORT

# mount_small SIZE: a fresh tmpfs of SIZE at $MNT, unmounted at exit.
mount_small() {
    mount -t tmpfs -o "size=$1" tmpfs "$MNT" || fail "mount a tmpfs of $1"
    at_exit "umount '$MNT' 2>/dev/null"
}
# device DIR: a device whose state folder is DIR (made there, then filled in).
device() {
    "$UPGRADER" --root "$1" init --version 1.0.0 --slot-size 4M --keyring "$K/ca.pem" >/dev/null || fail "init $1"
    yes "factory image" | head -c 1500000 | dd of="$1/slot-a.img" conv=notrunc status=none
    cp "$1/slot-a.img" "$WORK/slot-a.orig"
    for kv in "Upgrade_Rule=$H/catalog.json" "Upgrade_Error_Retry_Delay=0" "Profile_Rule=$H/profile.xml"; do
        "$UPGRADER" --root "$1" param set "${kv%%=*}" "${kv#*=}" >/dev/null || fail "param set ${kv%%=*}"
    done
}
# snapshot DIR / intact DIR WHAT: the store and the boot state as they were; A runs, untouched.
snapshot() {
    STORE=$(sha256sum <"$1/params")
    BOOT=$("$BOOTCTL" --env "$(bootenv_of "$1")" status --json | jq -c '{slots, booted, fallback}')
}
bootenv_of() { grep -q '^bootstate_location=/' "$1/device.conf" && sed -n 's/^bootstate_location=//p' "$1/device.conf" || echo "$1/bootenv"; }
slot_of() { sed -n "s/^slot_$2=//p" "$1/device.conf" | grep '^/' || echo "$1/slot-$2.img"; }
intact() {
    local st
    [ "$(sha256sum <"$1/params")" = "$STORE" ] || fail "$2: the parameter store changed"
    st=$("$BOOTCTL" --env "$(bootenv_of "$1")" status --json | jq -c '{slots, booted, fallback}') ||
        fail "$2: the boot state does not load"
    [ "$st" = "$BOOT" ] || fail "$2: the boot state changed: $st"
    [ "$(jqr .slots.B.bootable <<<"$st")" = false ] || fail "$2: B was switched to"
    cmp -s "$(slot_of "$1" a)" "$WORK/slot-a.orig" || fail "$2: slot A changed"
    "$UPGRADER" --root "$1" status >/dev/null || fail "$2: status fails afterwards"
    ok "$2: store, boot state and slot A intact, no switch"
}
cell() { echo "cell: $1 | exit $2 | $(tail -n 1 "$WORK/.err")"; }

# ---- the slot on a full file system: 1 MiB of room for a 3 MiB image ----
D=$WORK/slotfull
device "$D"
mount_small 1m
truncate -s 4M "$MNT/slot-b.img"
sed -i "s|^slot_b=.*|slot_b=$MNT/slot-b.img|" "$D/device.conf"
snapshot "$D"
expect_exit 1 "slot on a full file system: the pass fails" "$UPGRADER" --root "$D" upgrade --no-reboot
cell "slot on a full file system (ENOSPC)" 1
assert_contains "it says the disk is full" "$ERR" "No space left on device"
intact "$D" "slot on a full file system"
# ---- the same slot read-only ----
mount -o remount,ro "$MNT" || fail "remount ro"
expect_exit 1 "slot on a read-only file system: the pass fails" "$UPGRADER" --root "$D" upgrade --no-reboot --force
cell "slot on a read-only file system (EROFS)" 1
intact "$D" "slot on a read-only file system"
# ---- room again: the next pass completes ----
umount "$MNT"
mount_small 8m
truncate -s 4M "$MNT/slot-b.img"
expect_exit 0 "with room again, the next pass completes" "$UPGRADER" --root "$D" upgrade --no-reboot --force
cmp -s -n "$(stat -c %s "$IMG")" "$MNT/slot-b.img" "$IMG" || fail "slot B is not 2.0.0 in full"
umount "$MNT"

# ---- the state folder on a full file system ----
mount_small 2m
D=$MNT/dev
device "$D"
# The slots live elsewhere: the state folder alone is full.
mv "$D/slot-a.img" "$WORK/sa.img"; mv "$D/slot-b.img" "$WORK/sb.img"
sed -i "s|^slot_a=.*|slot_a=$WORK/sa.img|; s|^slot_b=.*|slot_b=$WORK/sb.img|" "$D/device.conf"
snapshot "$D"
dd if=/dev/zero of="$MNT/filler" bs=4k status=none 2>/dev/null || true # until ENOSPC
expect_exit 1 "state folder full: param set fails" "$UPGRADER" --root "$D" param set GPP_C "$(head -c 4000 /dev/zero | tr '\0' y)"
cell "state folder full: param set" 1
intact "$D" "state folder full, param set"
rc=0
"$UPGRADER" --root "$D" resync >"$WORK/.out" 2>"$WORK/.err" || rc=$?
[ "$rc" != 0 ] || fail "state folder full: a resync that changes the store succeeded"
cell "state folder full: resync" "$rc"
intact "$D" "state folder full, resync"
rc=0
"$UPGRADER" --root "$D" upgrade --no-reboot >"$WORK/.out" 2>"$WORK/.err" || rc=$?
[ "$rc" != 0 ] || fail "state folder full: a pass that cannot record its state succeeded"
cell "state folder full: upgrade" "$rc"
intact "$D" "state folder full, upgrade"
expect_exit 0 "state folder full: bootctl boot still chooses (the store is rewritten in place)" "$BOOTCTL" --env "$D/bootenv" boot
assert_eq "it boots A" "$OUT" A
rm -f "$MNT/filler"
expect_exit 0 "room again: param set works" "$UPGRADER" --root "$D" param set GPP_C ok
expect_exit 0 "room again: the upgrade completes" "$UPGRADER" --root "$D" upgrade --no-reboot
# ---- the state folder read-only ----
snapshot "$D"
mount -o remount,ro "$MNT" || fail "remount ro"
expect_exit 1 "state folder read-only: param set fails" "$UPGRADER" --root "$D" param set GPP_C no
cell "state folder read-only: param set" 1
rc=0
"$UPGRADER" --root "$D" resync >"$WORK/.out" 2>"$WORK/.err" || rc=$?
[ "$rc" != 0 ] || fail "state folder read-only: a resync succeeded"
cell "state folder read-only: resync" "$rc"
expect_exit 0 "state folder read-only: status still reads" "$UPGRADER" --root "$D" status
[ "$(sha256sum <"$D/params")" = "$STORE" ] || fail "state folder read-only: the store changed"
mount -o remount,rw "$MNT"
umount "$MNT"

# ---- a slot whose disk fails: the kernel's answer EIO, injected by strace on the slot's path
# alone (-P: every other file works), where device-mapper is missing. Three moments: the first
# write, the middle one (the slot half-written) and the fsync that ends the image (a
# write-back error reported late, as a failing flash does). Then the disk is good again. ----
D=$WORK/eiofile
device "$D"
SLOT_B=$(slot_of "$D" b)
# How many writes the slot takes in a pass that runs through (on a copy): the middle one is
# where the second cell fails.
cp -a --sparse=always "$D" "$WORK/eiocount"
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq -o "$WORK/eio.trace" -P "$(slot_of "$WORK/eiocount" b)" \
    -e trace=write "$UPGRADER" --root "$WORK/eiocount" upgrade --no-reboot >/dev/null 2>&1 || fail "the counting pass failed"
WRITES=$(grep -c ' write(' "$WORK/eio.trace")
[ "$WRITES" -ge 2 ] || fail "the slot took $WRITES writes: too few to fail one midway"
for fault in "write:error=EIO:when=1+|first write" "write:error=EIO:when=$((WRITES / 2 + 1))+|write $((WRITES / 2 + 1)) of $WRITES, the slot half-written" \
    "fsync:error=EIO|the slot's fsync"; do
    inject=${fault%%|*} what="slot failing with EIO at ${fault#*|}"
    snapshot "$D"
    rc=0
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq -o "$WORK/eio.trace" -P "$SLOT_B" \
        -e trace=write,fsync -e inject="$inject" "$UPGRADER" --root "$D" upgrade --no-reboot --force \
        >"$WORK/.out" 2>"$WORK/.err" || rc=$?
    grep -q INJECTED "$WORK/eio.trace" || fail "$what: no fault was injected (the slot is not written by write/fsync?)"
    assert_eq "$what: the pass fails with exit 1" "$rc" 1
    assert_contains "$what: it says so" "$(tail -n 1 "$WORK/.err")" "Input/output error"
    cell "$what (strace -e inject)" "$rc"
    intact "$D" "$what"
done
expect_exit 0 "the disk good again: the next pass completes" "$UPGRADER" --root "$D" upgrade --no-reboot --force
cmp -s -n "$(stat -c %s "$IMG")" "$SLOT_B" "$IMG" || fail "after the EIO cells: slot B is not 2.0.0 in full"

# ---- a slot that fails its writes: device-mapper's error target (every I/O gets EIO) ----
if ! dmsetup targets 2>/dev/null | grep -q '^error'; then
    echo "SKIP: a slot that fails its writes: no device-mapper in this kernel (dmsetup targets failed)"
else
    D=$WORK/eio
    device "$D"
    DM=upgrader-test-eio-$$
    dmsetup create "$DM" --table "0 8192 error" || fail "dmsetup create"
    at_exit "dmsetup remove '$DM'"
    sed -i "s|^slot_backend=.*|slot_backend=block|; s|^slot_b=.*|slot_b=/dev/mapper/$DM|; s|^slot_a=.*|slot_a=$D/slot-a.img|" "$D/device.conf"
    snapshot "$D"
    rc=0
    "$UPGRADER" --root "$D" upgrade --no-reboot >"$WORK/.out" 2>"$WORK/.err" || rc=$?
    [ "$rc" != 0 ] || fail "a slot failing every write: the pass succeeded"
    cell "slot failing every I/O (dm error target)" "$rc"
    intact "$D" "slot failing every I/O"
fi
finish
