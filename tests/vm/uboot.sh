#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The U-Boot half of make vm-test: Debian's U-Boot (u-boot-qemu, qemu_arm64) boots with the
# environment our uboot backend wrote and chooses from it with images/uboot/boot.cmd; what
# it writes back our backend reads. The environment is a file uboot.env on a FAT partition
# (this U-Boot build cannot save to its flash under QEMU, docs/porting.md): bootctl writes
# it through libubootenv on the host, mtools carries it in and out of the disk image.
#   set-active B --tries 2 -> U-Boot boots B (2 -> 1), B (1 -> 0), then A: the fallback;
#   our backend reads each step, and after mark-bad B U-Boot stays on A.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
BOOTCTL=$BUILD/bootctl
work=$BUILD/vm-uboot
logs=$BUILD/vm-logs
rm -rf "$work"
mkdir -p "$work" "$logs"
t0=$EPOCHREALTIME
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
note() { echo "vm-test: u-boot: $*"; }
fail() {
    echo "vm-test: u-boot: FAIL: $*" >&2
    [ -n "${log:-}" ] && [ -f "$log" ] && { echo "--- last console lines ($log) ---" >&2; tail -n 30 "$log" >&2; }
    exit 1
}
uboot_bin=/usr/lib/u-boot/qemu_arm64/u-boot.bin
[ -r "$uboot_bin" ] || fail "$uboot_bin missing (make deps installs u-boot-qemu)"

# The disk: an MS-DOS label (this U-Boot build finds no partitions in a GPT made by sgdisk)
# with one bootable FAT partition from 1 MiB, written byte by byte: no loop device, no root.
disk=$work/disk.img
truncate -s 33M "$disk"
le32() { printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $((($1 >> 8) & 255)) $((($1 >> 16) & 255)) $((($1 >> 24) & 255)); }
entry="\\x80\\xfe\\xff\\xff\\x0c\\xfe\\xff\\xff$(le32 2048)$(le32 $((32 * 2048)))"
printf "$entry" | dd of="$disk" bs=1 seek=446 conv=notrunc status=none
printf '\x55\xaa' | dd of="$disk" bs=1 seek=510 conv=notrunc status=none
mkfs.vfat --offset 2048 "$disk" $((32 * 1024)) >/dev/null
mkimage -A arm64 -T script -C none -d "$top/images/uboot/boot.cmd" "$work/boot.scr" >/dev/null
mcopy -i "$disk@@1M" "$work/boot.scr" ::/boot.scr

# The environment, as the agent's uboot backend writes it (single copy in this file: the
# U-Boot side imports it with `env import -c`).
env_file=$work/uboot.env
config=$work/fw_env.config
printf '%s 0x0000 0x4000\n' "$env_file" >"$config"
truncate -s 16K "$env_file"
export UPGRADER_PROC_CMDLINE=quiet # the booted slot is what U-Boot recorded
bc() { "$BOOTCTL" --backend uboot --env "$config" "$@"; }
bc boot >/dev/null 2>&1 || fail "bootctl could not create the environment"
bc set-active B --tries 2 || fail "set-active B"
fw_setenv -c "$config" upgrader_after_choice poweroff || fail "fw_setenv"
env_in() { mcopy -o -i "$disk@@1M" "$env_file" ::/uboot.env; }
env_out() { mcopy -o -i "$disk@@1M" ::/uboot.env "$env_file"; }
env_in

nboot=0
boot() { # EXPECTED_SLOT
    nboot=$((nboot + 1))
    log=$logs/uboot-$nboot.log
    local start=$EPOCHREALTIME rc
    set +e
    timeout 120 qemu-system-aarch64 -M virt -cpu cortex-a57 -m 256 -bios "$uboot_bin" \
        -display none -monitor none -serial stdio -nic none -no-reboot \
        -drive "if=virtio,file=$disk,format=raw" </dev/null >"$log" 2>&1
    rc=$?
    set -e
    [ "$rc" = 0 ] || fail "boot $nboot: qemu exited with $rc"
    local line
    line=$(grep -a -m1 'upgrader: booting slot' "$log" | tr -d '\r') || fail "boot $nboot: U-Boot chose no slot"
    [[ "$line" == *"booting slot $1 "* ]] || fail "boot $nboot: $line; expected slot $1"
    note "boot $nboot in $(since "$start") s: ${line#upgrader: }"
    env_out
}
status() { bc status --json | jq -r "$1"; }

boot B
[ "$(status '"\(.booted) \(.slots.B.tries)"')" = "B 1" ] || fail "after boot 1: $(bc status)"
note "  ok: our backend reads U-Boot's write: B booted, 1 boot left"
boot B
[ "$(status '"\(.booted) \(.slots.B.tries) \(.slots.B.bootable)"')" = "B 0 false" ] || fail "after boot 2: $(bc status)"
note "  ok: B booted, no boot left"
boot A
[ "$(status '"\(.booted) \(.fallback)"')" = "A true" ] || fail "after boot 3: $(bc status)"
note "  ok: U-Boot fell back to A by itself; our backend reports the fallback"
bc mark-bad B && bc mark-good || fail "mark-bad B, mark-good"
env_in
boot A
[ "$(status '"\(.booted) \(.fallback) \(.slots.A.successful)"')" = "A false false" ] || fail "after boot 4: $(bc status)"
note "  ok: after mark-bad B, A boots (one boot used: it needs its mark-good again)"
note "4 boots in $(since "$t0") s"
echo "vm-test: u-boot: 1 passed, 0 failed"
