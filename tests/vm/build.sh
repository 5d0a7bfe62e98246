#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the A/B device that tests/vm/run.sh boots under QEMU, from Debian's packages only and
# without loop devices or root tricks: a GPT disk image (sgdisk) holding an EFI system
# partition (mtools) with a standalone GRUB (grub-mkstandalone, images/grub/upgrader-ab.cfg)
# and the grubenv pair, two ext4 root slots (mkfs.ext4 -d) with Debian's kernel, a busybox
# initramfs, a busybox userland and the agent with its libraries, and an ext4 state
# partition; then the releases as signed bundles and two signed catalogs for nginx.
# usage: tests/vm/build.sh OUT_DIR BUILD_DIR
set -eu -o pipefail
out=${1:?usage: build.sh OUT_DIR BUILD_DIR}
build=$(cd "${2:?usage: build.sh OUT_DIR BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)

# Debian's kernel and its modules: an installed linux-image if there is one, else the
# package of linux-image-amd64's kernel fetched with apt-get download and unpacked with
# dpkg -x (no install: its initramfs hook alone takes minutes on a small machine).
# VM_KERNEL=package skips the installed one.
find_kernel() { # sets kernel and moddir; 1 when none
    local v root roots=("" "$out/kernel")
    [ "${VM_KERNEL:-}" = package ] && roots=("$out/kernel")
    for root in "${roots[@]}"; do
        for v in $(ls "$root/boot" 2>/dev/null | sed -n 's/^vmlinuz-//p' | sort -V -r); do
            if [ -r "$root/boot/vmlinuz-$v" ] && [ -f "$root/lib/modules/$v/modules.dep" ]; then
                kernel=$root/boot/vmlinuz-$v
                moddir=$root/lib/modules/$v
                return 0
            fi
        done
    done
    return 1
}
if ! find_kernel; then
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | grep -v unsigned | head -n 1)
    [ -n "$pkg" ] || { echo "vm build: no kernel package known (apt-get update?)" >&2; exit 1; }
    rm -rf "$out/kernel" && mkdir -p "$out/kernel"
    # One retry: a registry hiccup must not fail the test.
    for _ in 1 2; do
        (cd "$out/kernel" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >/dev/null) && break
    done
    (cd "$out/kernel" && dpkg -x ./*.deb . && rm -f ./*.deb)
    [ -f "$out/kernel/lib/modules/"*/modules.dep ] || depmod -b "$out/kernel" "$(ls "$out/kernel/lib/modules")"
    find_kernel || { echo "vm build: $pkg holds no kernel" >&2; exit 1; }
fi
tmp=$out/tmp
rm -rf "$tmp" "$out/www"
mkdir -p "$tmp" "$out/www"
PRODUCT=UG-VM-1
PORT=${VM_HTTP_PORT:-8080}
MiB=$((1024 * 1024))

# --- the initramfs: busybox, the kernel modules for virtio disks and network, ext4 and vfat ---
initramfs() { # OUT_FILE
    local dir=$tmp/initramfs m
    rm -rf "$dir"
    mkdir -p "$dir/bin" "$dir/lib/modules" "$dir/proc" "$dir/sys" "$dir/dev" "$dir/newroot"
    cp /bin/busybox "$dir/bin/busybox"
    cp "$here/initramfs-init" "$dir/init"
    chmod 755 "$dir/init"
    # Modules in dependency order, from modules.dep: each one after what it needs.
    local want="virtio_pci virtio_blk virtio_net crc32c_generic ext4 vfat nls_cp437 nls_iso8859-1 nls_ascii"
    : >"$dir/modules.order"
    add() {
        local line path
        line=$(grep -E "(^|/)$1\.ko(\.[a-z]+)?:" "$moddir/modules.dep" | head -n 1)
        [ -n "$line" ] || { echo "vm build: module $1 not found" >&2; exit 1; }
        path=${line%%:*}
        for dep in ${line#*:}; do add "$(basename "${dep%%.ko*}")"; done
        grep -qx "$1" "$dir/modules.order" && return 0
        cp "$moddir/$path" "$dir/lib/modules/$1.ko"
        echo "$1" >>"$dir/modules.order"
    }
    for m in $want; do add "$m"; done
    (cd "$dir" && find . | sort | cpio -o -H newc --quiet -R 0:0) | gzip -1 >"$1"
}

# --- the root file system of one release ---
rootfs() { # DIR VERSION HEALTH(ok|fail)
    local root=$1 lib
    rm -rf "$root"
    mkdir -p "$root"/{bin,sbin,usr/bin,etc/upgrader,proc,sys,dev,run,tmp,boot/efi,var/lib/upgrader,lib64}
    cp /bin/busybox "$root/bin/busybox"
    for a in $(/bin/busybox --list); do
        [ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"
    done
    cp "$here/init" "$root/sbin/init"
    chmod 755 "$root/sbin/init"
    cp "$build/upgrader" "$build/bootctl" "$root/usr/bin/"
    for lib in $(ldd "$build/upgrader" "$build/bootctl" | awk '$3 ~ /^\// {print $3} $1 ~ /^\// && NF == 2 {print $1}' | sort -u); do
        mkdir -p "$root$(dirname "$lib")"
        cp -L "$lib" "$root$lib"
    done
    cp "$kernel" "$root/boot/vmlinuz"
    cp "$tmp/initramfs.img" "$root/boot/initrd.img"
    echo "$2" >"$root/etc/upgrader-release"
    if [ "$3" = ok ]; then
        printf '#!/bin/sh\n# The release works when its agent runs and reads its own state.\nexec upgrader status >/dev/null\n' >"$root/etc/upgrader/health-check"
    else
        printf '#!/bin/sh\necho "health check: this release is broken on purpose" >&2\nexit 1\n' >"$root/etc/upgrader/health-check"
    fi
    chmod 755 "$root/etc/upgrader/health-check"
}

initramfs "$tmp/initramfs.img"
rootfs "$tmp/root" 0 ok
# One size for every release's image: what the root needs, plus room.
root_kib=$(du -sk "$tmp/root" | cut -f1)
image_mib=$(( (root_kib * 12 / 10) / 1024 + 8 ))
slot_mib=$((image_mib + 4))
image() { # VERSION HEALTH OUT
    rootfs "$tmp/root" "$1" "$2"
    rm -f "$3"
    mkfs.ext4 -q -F -L "ug-$1" -O ^has_journal -d "$tmp/root" "$3" "${image_mib}M"
}

# --- keys, releases, bundles, catalogs ---
[ -f "$out/keys/signer.pem" ] || "$top/images/make-keys.sh" "$out/keys" "upgrader vm" >/dev/null
pack() { # VERSION HEALTH
    image "$1" "$2" "$tmp/release-$1.ext4"
    "$build/upgrader" pack --product "$PRODUCT" --version "$1" --hw 1.0 --image "$tmp/release-$1.ext4" \
        --compress zstd --key "$out/keys/signer.key" --cert "$out/keys/signer.pem" -o "$out/www/$1.bundle" >/dev/null
}
for v in 1.5.0 2.0.0; do pack "$v" ok; done
pack 3.0.0 fail
image 1.0.0 ok "$out/slot-a.ext4" # factory content of slot A
release() { # VERSION MIN_FROM
    local b=$out/www/$1.bundle
    printf '{"version":"%s","bundle":"%s.bundle","size":%s,"sha256":"%s","min_from":"%s","hardware":["1.0"]}' \
        "$1" "$1" "$(stat -c %s "$b")" "$(sha256sum "$b" | cut -d' ' -f1)" "$2"
}
catalog() { # NAME RELEASES...
    local name=$1; shift
    (IFS=,; printf '{"product":"%s","releases":[%s]}\n' "$PRODUCT" "$*") >"$out/www/$name"
    "$build/upgrader" sign --key "$out/keys/signer.key" --cert "$out/keys/signer.pem" "$out/www/$name" >/dev/null
}
# First published: 2.0.0 needs the stepping stone 1.5.0. Later: 3.0.0 (broken) follows 2.0.0.
catalog catalog-1.json "$(release 1.5.0 1.0.0)" "$(release 2.0.0 1.5.0)"
catalog catalog-2.json "$(release 1.5.0 1.0.0)" "$(release 2.0.0 1.5.0)" "$(release 3.0.0 2.0.0)"
# The provider's profiles: each names the catalog the device upgrades from.
for n in 1 2; do
    printf '<flat-profile>\n  <Upgrade_Rule>http://10.0.2.2:%s/catalog-%s.json</Upgrade_Rule>\n</flat-profile>\n' \
        "$PORT" "$n" >"$out/www/profile-$n.xml"
done

# --- the state partition: a device made by `upgrader init`, then its real device.conf ---
state=$tmp/state
rm -rf "$state"
"$build/upgrader" --root "$state" init --product "$PRODUCT" --hwver 1.0 --version 1.0.0 \
    --slot-size 4096 --keyring "$out/keys/ca.pem" >/dev/null
rm -f "$state/slot-a.img" "$state/slot-b.img" "$state/bootenv"
cat >"$state/device.conf" <<CONF
# The QEMU device of tests/vm (docs/porting.md walks through it).
reboot_command=echo "UGVM: reboot requested"; exec reboot -f
health_check=/etc/upgrader/health-check
bootstate_backend=grub
bootstate_location=/boot/efi/EFI/upgrader/grubenv
slot_backend=block
slot_a=PARTLABEL=slot-a
slot_b=PARTLABEL=slot-b
CONF
"$build/upgrader" --root "$state" param set Profile_Rule "http://10.0.2.2:$PORT/profile.xml" >/dev/null
"$build/upgrader" --root "$state" param set Upgrade_Error_Retry_Delay 86400 >/dev/null
mkfs.ext4 -q -F -L ug-state -d "$state" "$tmp/state.ext4" 16M

# --- the EFI system partition: GRUB and the boot state, as grub-editenv makes it ---
{
    echo "set upgrader_envdir=(hd0,gpt1)/EFI/upgrader"
    echo "set timeout=0"
    cat "$top/images/grub/upgrader-ab.cfg"
    cat "$here/grub-boot.cfg"
} >"$tmp/grub.cfg"
grub-mkstandalone -O x86_64-efi -o "$tmp/BOOTX64.EFI" --locales= --fonts= --themes= \
    --modules="part_gpt fat ext2 loadenv test echo linux normal search" \
    "boot/grub/grub.cfg=$tmp/grub.cfg"
env=$tmp/grubenv
grub-editenv "$env" create
# Variables in the order the agent writes them: the generation first, its seal last.
grub-editenv "$env" set UPGRADER_GEN=1 ORDER="A B" A_OK=1 A_TRY=0 UPGRADER_A_TRIAL=0 \
    UPGRADER_A_VERSION=1.0.0 B_OK=0 B_TRY=0 UPGRADER_B_TRIAL=0 UPGRADER_B_VERSION= \
    UPGRADER_BOOTED=A UPGRADER_SEAL=1
cp "$env" "$tmp/grubenv.1"
esp=$tmp/esp.img
rm -f "$esp"
mkfs.vfat -C -n ESP "$esp" $((16 * 1024)) >/dev/null
mmd -i "$esp" ::/EFI ::/EFI/BOOT ::/EFI/upgrader
mcopy -i "$esp" "$tmp/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$esp" "$env" "$tmp/grubenv.1" ::/EFI/upgrader/

# --- the disk: GPT, partitions written in place with dd ---
disk=$out/disk.img
rm -f "$disk"
truncate -s $(( (1 + 16 + 2 * slot_mib + 16 + 1) * MiB )) "$disk"
sgdisk -o \
    -n 1:1M:+16M -t 1:ef00 -c 1:esp \
    -n 2:0:+${slot_mib}M -t 2:8304 -c 2:slot-a \
    -n 3:0:+${slot_mib}M -t 3:8304 -c 3:slot-b \
    -n 4:0:+16M -t 4:8300 -c 4:state "$disk" >/dev/null
put() { # PARTITION IMAGE
    local start
    start=$(sgdisk -i "$1" "$disk" | sed -n 's/^First sector: \([0-9]*\).*/\1/p')
    dd if="$2" of="$disk" bs=512 seek="$start" conv=notrunc,sparse status=none
}
put 1 "$esp"
put 2 "$out/slot-a.ext4"
put 4 "$tmp/state.ext4"
echo "vm build: $disk ($(du -h --apparent-size "$disk" | cut -f1), slots of ${slot_mib} MiB, images of ${image_mib} MiB); bundles: $(cd "$out/www" && ls -s *.bundle | tr '\n' ' ')"
rm -rf "$tmp"
