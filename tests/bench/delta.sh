#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make bench, delta installs: reproducible ext4 image pairs (mke2fs -d, 4 KiB blocks, fixed
# UUID, hash seed and time): a point release (1 % of the files rewritten, a 2 MB package
# added, 3 files removed), a bigger one (a kernel added, 10 % rewritten) and an unrelated
# image. For each: bytes on the wire (nginx's $bytes_sent) of a whole-stream install, of a
# delta install from the old image, and the floor (gzip -6 of the new image's blocks the old
# one lacks); wall time, CPU time and peak RSS of both installs; the frame layout measured:
# flush frames of 4 KiB (the default) and 8 KiB, and the first delta layout (16 KiB members).
# Environment: BENCH_CACHE=DIR keeps the trees, images and bundles between runs;
# BENCH_DELTA_LARGE=1 adds a 1 GiB point release (memory at 1 GiB).
set -u
. "$TOP/tests/integration/lib.sh"
. "$TOP/tests/integration/servers.sh"

INSTALL=$TOOLS/install_tool
MUTATE="python3 $TOP/tests/bench/mutate.py"
UUID=3f0d2a71-5c4e-4b8a-9e61-2d7c8b1a0f55
export E2FSPROGS_FAKE_TIME=1700000000
now() { date +%s.%N; }
started=$(now)
C=${BENCH_CACHE:-$WORK/cache}
mkdir -p "$C/www"
[ -d "$C/keys" ] || "$TOP/images/make-keys.sh" "$C/keys" bench >/dev/null

# fill_root DIR MB SEED: files (32 KiB-8 MiB) of /usr/lib and /usr/share in a fixed order.
fill_root() {
    mkdir -p "$1"
    find /usr/lib /usr/share -xdev -type f -size +32k -size -8M -printf '%s\t%p\n' 2>/dev/null |
        sort -t$'\t' -k2 | shuf --random-source=<(yes "$3") |
        awk -F'\t' -v budget=$(($2 * 1048576)) '$1 + used <= budget { used += $1; print substr($2, 2) }' >"$1.list"
    tar -C / -cf - -T "$1.list" 2>/dev/null | tar -C "$1" -xf -
}
image() { # TREE IMAGE SIZE
    [ -f "$2" ] || mke2fs -q -F -t ext4 -b 4096 -U "$UUID" -E hash_seed="$UUID" -d "$1" "$2" "$3" >/dev/null
}
pack() { # IMAGE BUNDLE VERSION [OPTIONS]
    local img=$1 out=$2 v=$3
    shift 3
    [ -f "$out" ] || "$UPGRADER" pack --product BENCH --version "$v" --hw 1.0 --image "$img" \
        --key "$C/keys/signer.key" --cert "$C/keys/signer.pem" "$@" -o "$out" >/dev/null
}
build() { # NAME MB IMAGE_SIZE: base, point, big, other trees, images and bundles
    local n=$1 mb=$2 sz=$3
    [ -d "$C/$n-base" ] || fill_root "$C/$n-base" "$mb" base
    [ -f "$C/pkg" ] || cat $(ls /usr/bin/* | sort) 2>/dev/null | head -c 2000000 >"$C/pkg"
    [ -d "$C/$n-point" ] || $MUTATE mutate "$C/$n-base" "$C/$n-point" 0.01 point "pkg.bin=$C/pkg" -3
    kernel=$(ls /boot/vmlinuz-* 2>/dev/null | sort | tail -n 1)
    [ -n "$kernel" ] || { head -c 8000000 "$C/pkg" >"$C/kernel"; kernel=$C/kernel; }
    [ -d "$C/$n-big" ] || $MUTATE mutate "$C/$n-base" "$C/$n-big" 0.10 big "vmlinuz=$kernel" "pkg.bin=$C/pkg" -20
    [ -d "$C/$n-other" ] || fill_root "$C/$n-other" "$mb" other
    for t in base point big other; do image "$C/$n-$t" "$C/$n-$t.img" "$sz"; done
    pack "$C/$n-base.img" "$C/www/$n-base.bundle" 1.0.0
    for t in point big other; do pack "$C/$n-$t.img" "$C/www/$n-$t.bundle" 2.0.0; done
}
build small 160 256M
[ "${BENCH_DELTA_LARGE:-0}" = 1 ] && build large 700 1G
pack "$C/small-point.img" "$C/www/small-point-f8.bundle" 2.0.0 --frame-size 8K
pack "$C/small-point.img" "$C/www/small-point-m16.bundle" 2.0.0 --frames members
sync
echo "images and bundles ready in $(awk -v a="$started" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }') s (cache $C)"

pki_make "$WORK/pki" >/dev/null
nginx_start "$C/www" >/dev/null || { echo "bench: nginx did not start" >&2; exit 1; }
H=http://127.0.0.1:$NGINX_HTTP_PORT
wire() { awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^w=/) s += substr($i, 3) } END { print s + 0 }' "$NGINX_ACCESS_LOG"; }
val() { sed -n "s/^$1=//p" <<<"$OUT"; }
mb() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1e6 }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", 100 * a / b }'; }
# run NAME OLD_IMAGE BUNDLE [--reuse]: one install into a fresh slot B, slot A holding OLD.
# Sets WIRE (bytes nginx sent), SECS (install_bundle's time), RSS (peak, KiB).
run() {
    local n=$1 old=$2 bundle=$3 mode=${4:-}
    local cap=$(( $(stat -c %s "$old") + (16 << 20) )) # slots a little larger than the images
    cp "$old" "$WORK/slot-a"; truncate -s "$cap" "$WORK/slot-a"
    rm -f "$WORK/slot-b" "$WORK/b.idx"; truncate -s "$cap" "$WORK/slot-b"
    [ "$mode" = --reuse-warm ] || rm -f "$WORK/a.idx" # warm: the running slot's table kept
    sync
    : >"$NGINX_ACCESS_LOG"
    local reuse=()
    [ -n "$mode" ] && reuse=(--reuse "$WORK/slot-a,1.0.0,$WORK/a.idx" --reuse "$WORK/slot-b,,$WORK/b.idx")
    OUT=$(/usr/bin/time -f "time_maxrss=%M
time_cpu=%U %S" "$INSTALL" --keyring "$C/keys/ca.pem" --product BENCH --hw 1.0 \
        --resume-file "$WORK/resume.json" "${reuse[@]}" "$H/$bundle" "$WORK/slot-b" 2>&1) ||
        { echo "bench: $n: install failed: $OUT" >&2; exit 1; }
    WIRE=$(wire) SECS=$(val seconds) RSS=$(val time_maxrss)
    CPU=$(val time_cpu | awk '{ printf "%.2f", $1 + $2 }')
}
printf '%-22s %8s %8s %8s %8s %8s  %-22s  %-16s  %s\n' "case" "full MB" "delta MB" "floor MB" "dlt/flr" "dlt/full" \
    "wall s full/dlt/warm" "CPU s full/dlt" "RSS MiB full/dlt"
for n in small ${BENCH_DELTA_LARGE:+large}; do
    [ "$n" = large ] && [ "${BENCH_DELTA_LARGE:-0}" != 1 ] && continue
    for t in point big other; do
        img=$C/$n-$t.img
        run "$n-$t full" "$C/$n-base.img" "$n-$t.bundle"
        full=$WIRE fsecs=$SECS frss=$RSS fcpu=$CPU
        run "$n-$t delta" "$C/$n-base.img" "$n-$t.bundle" --reuse
        cmp -s -n "$(stat -c %s "$img")" "$img" "$WORK/slot-b" || { echo "bench: $n-$t: slot differs" >&2; exit 1; }
        dwire=$WIRE dsecs=$SECS drss=$RSS dcpu=$CPU dout=$OUT
        run "$n-$t warm" "$C/$n-base.img" "$n-$t.bundle" --reuse-warm
        floor=$($MUTATE floor "$C/$n-base.img" "$img")
        printf '%-22s %8s %8s %8s %7sx %7s%%  %-22s  %-16s  %s\n' "$n-$t ($(($(stat -c %s "$img") >> 20)) MiB)" \
            "$(mb "$full")" "$(mb "$dwire")" "$(mb "$floor")" "$(awk -v a="$dwire" -v b="$floor" 'BEGIN { printf "%.2f", a / b }')" \
            "$(pct "$dwire" "$full")" "$fsecs/$dsecs/$SECS" "$fcpu/$dcpu" \
            "$(awk -v a="$frss" -v b="$drss" 'BEGIN { printf "%.1f/%.1f", a / 1024, b / 1024 }')"
        OUT=$dout
        [ "$t" = point ] && echo "    reused $(mb "$(val bytes_reused)") MB of image; index $(mb "$(tar tvf "$C/www/$n-$t.bundle" | awk '/\.index$/ { print $3 }')") MB; $(grep -c ' 206 ' "$NGINX_ACCESS_LOG") range requests ($(grep -c '"bytes=[0-9]*-[0-9]*,' "$NGINX_ACCESS_LOG") of several ranges); index builds: $(val index_builds)"
    done
done
echo "frame layout, small point release: delta bytes on the wire and whole-bundle size"
for f in "" f8 m16; do
    b=small-point${f:+-$f}.bundle
    run "frames $f" "$C/small-base.img" "$b" --reuse
    case $f in "") name="flush 4K" ;; f8) name="flush 8K" ;; *) name="members 16K" ;; esac
    printf '  %-12s delta %7s MB  bundle %7s MB  (%s range requests)\n' "$name" "$(mb "$WIRE")" \
        "$(mb "$(stat -c %s "$C/www/$b")")" "$(grep -c ' 206 ' "$NGINX_ACCESS_LOG")"
done
echo "(full: a whole-stream install; delta: from slot A holding the base image, slot B empty, block"
echo " tables built in the run; floor: gzip -6 of the new image's 4 KiB blocks the base lacks; w = \$bytes_sent)"
echo "bench took $(awk -v a="$started" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }') s"
