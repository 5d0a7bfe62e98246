#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make bench: the streaming install (install_tool -> install_bundle()) of real ext4 images
# (256 MiB and 1 GiB, gzip and zstd, over nginx HTTP and tftpd-hpa TFTP on loopback),
# durably into a slot file, beside baselines measured in the same run: gzip -dc, zlib and
# igzip alone, zstd -dc, the shell pipeline curl|gzip -dc|tee >(sha256sum)|dd conv=fsync,
# and curl alone over TFTP with the same block size. Prints MB/s of image, ratios, peak RSS.
# Environment: BENCH_SIZES="small large" (small: the 256 MiB image only);
# BENCH_CASES="gzip-http zstd-http gzip-tftp zstd-tftp" (any subset, for profiling one path);
# BENCH_CACHE=DIR keeps keys, images and bundles in DIR and reuses them on the next run;
# TFTP_ROUNDS=N alternating install/curl runs per TFTP case (default 3).
set -u
. "$TOP/tests/integration/lib.sh"
. "$TOP/tests/integration/servers.sh"

INSTALL=$TOOLS/install_tool
CODEC=$TOOLS/codec_tool
BLKSIZE=1468 # a TFTP block that fits an Ethernet frame
ROOT_SMALL_MB=205 LARGE_MB=860
SIZES=${BENCH_SIZES:-small large} # BENCH_SIZES=small: the 256 MiB image only
CASES=${BENCH_CASES:-gzip-http zstd-http gzip-tftp zstd-tftp}
CASES=${CASES//,/ } # commas or spaces
want() { [[ " $CASES " == *" $1 "* ]]; } # want CASE: the case is to be run

now() { date +%s.%N; }
rate() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.0f", b / s / 1e6 }'; }     # BYTES SECS
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b / a }'; }          # SECS_US SECS_BASE
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }                   # KB
# timed COMMAND...: runs it, sets SECS to its wall time (best of two).
timed() {
    local best="" t0 t1 s i
    for i in 1 2; do
        t0=$(now)
        "$@" >/dev/null 2>&1 || { echo "bench: failed: $*" >&2; return 1; }
        t1=$(now)
        s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
        if [ -z "$best" ] || awk -v a="$s" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$s; fi
    done
    SECS=$best
}
# install_run RUNS URL [OPTIONS]: SECS (install_bundle's own time, best), RSS (kB, peak).
install_run() {
    local runs=$1 url=$2 out s r i best="" peak=0
    shift 2
    for i in $(seq 1 "$runs"); do
        out=$(/usr/bin/time -f "time_maxrss=%M" "$INSTALL" --keyring "$WORK/keys/ca.pem" --product BENCH \
            --hw 1.0 --resume-file "$WORK/resume.json" "$@" "$url" "$WORK/slot" 2>&1) ||
            { echo "bench: install of $url failed: $out" >&2; return 1; }
        s=$(sed -n 's/^seconds=//p' <<<"$out")
        r=$(sed -n 's/^time_maxrss=//p' <<<"$out")
        if [ -z "$best" ] || awk -v a="$s" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$s; fi
        [ "$r" -gt "$peak" ] && peak=$r
    done
    SECS=$best RSS=$peak
}

# fill_root DIR MB: real files (32 KiB to 8 MiB) from /usr/lib and /usr/share, in a fixed
# pseudo-random order so binaries and text mix as on a root file system.
fill_root() {
    mkdir -p "$1"
    find /usr/lib /usr/share -xdev -type f -size +32k -size -8M -printf '%s\t%p\n' 2>/dev/null |
        sort -t$'\t' -k2 | shuf --random-source=<(yes) |
        awk -F'\t' -v budget=$(($2 * 1048576)) '$1 + used <= budget { used += $1; print substr($2, 2) }' \
            >"$1.list"
    tar -C / -cf - -T "$1.list" 2>/dev/null | tar -C "$1" -xf -
}

# make_image NAME MB_OF_FILES IMAGE_SIZE: an ext4 image and its gzip and zstd bundles.
make_image() {
    fill_root "$WORK/root-$1" "$2"
    mke2fs -q -F -t ext4 -d "$WORK/root-$1" "$WORK/$1.img" "$3" >/dev/null
    rm -rf "$WORK/root-$1" "$WORK/root-$1.list"
    for c in gzip zstd; do
        "$UPGRADER" pack --product BENCH --version 2.0.0 --hw 1.0 --image "$WORK/$1.img" --compress "$c" \
            --key "$WORK/keys/signer.key" --cert "$WORK/keys/signer.pem" -o "$WORK/www/$1-$c.bundle" >/dev/null
    done
    # The payload members alone, for the baselines that decode "the same compressed data".
    tar -C "$WORK/www" -xf "$WORK/www/$1-gzip.bundle" rootfs.img.gz && mv "$WORK/www/rootfs.img.gz" "$WORK/www/$1.img.gz"
    tar -C "$WORK/www" -xf "$WORK/www/$1-zstd.bundle" rootfs.img.zst && mv "$WORK/www/rootfs.img.zst" "$WORK/www/$1.img.zst"
}

echo "SHA-256 on this machine (256 KiB blocks; $(grep -qw sha_ni /proc/cpuinfo && echo "CPU has SHA-NI" || echo "no SHA-NI")):"
# (An empty OPENSSL_ia32cap would mask every CPU feature: the default run has none set.)
for v in "OpenSSL EVP (what the install uses)|" "OpenSSL EVP, SHA-NI masked|:~0x20000000"; do
    name=${v%%|*} cap=${v#*|}
    r=$(env -u OPENSSL_ia32cap ${cap:+OPENSSL_ia32cap=$cap} openssl speed -evp sha256 -bytes 262144 -seconds 2 \
        2>/dev/null | awk '/^sha256/ { print $2 }')
    printf '  %-34s %6.0f MB/s\n' "$name" "$(awk -v k="${r%k}" 'BEGIN { print k * 1000 / 1e6 }')"
done

started=$(now)
pki_make "$WORK/pki" >/dev/null
if [ -n "${BENCH_CACHE:-}" ]; then
    mkdir -p "$BENCH_CACHE/www"
    ln -s "$(cd "$BENCH_CACHE" && pwd)/www" "$WORK/www"
    [ -d "$BENCH_CACHE/keys" ] || "$TOP/images/make-keys.sh" "$BENCH_CACHE/keys" bench >/dev/null
    cp -r "$BENCH_CACHE/keys" "$WORK/keys"
    [ -f "$BENCH_CACHE/small.img" ] || { make_image small "$ROOT_SMALL_MB" 256M && mv "$WORK/small.img" "$BENCH_CACHE/"; }
    ln -f "$BENCH_CACHE/small.img" "$WORK/small.img" 2>/dev/null || cp "$BENCH_CACHE/small.img" "$WORK/"
else
    "$TOP/images/make-keys.sh" "$WORK/keys" bench >/dev/null
    mkdir -p "$WORK/www"
    make_image small "$ROOT_SMALL_MB" 256M
fi
size=$(stat -c %s "$WORK/small.img")
sha256sum_secs=$( { t0=$(now); sha256sum "$WORK/small.img" >/dev/null; t1=$(now); awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'; } )
printf '  %-34s %6s MB/s\n' "coreutils sha256sum" "$(rate "$size" "$sha256sum_secs")"
if [[ "$SIZES" == *large* ]]; then
    if [ -n "${BENCH_CACHE:-}" ]; then
        [ -f "$BENCH_CACHE/large.img" ] || { make_image large "$LARGE_MB" 1G && mv "$WORK/large.img" "$BENCH_CACHE/"; }
        ln -f "$BENCH_CACHE/large.img" "$WORK/large.img" 2>/dev/null || cp "$BENCH_CACHE/large.img" "$WORK/"
    else
        make_image large "$LARGE_MB" 1G
    fi
fi
# Whatever the image building left dirty is written back now, not during the first install.
sync
echo "images and bundles built in $(awk -v a="$started" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }') s:"
for n in $SIZES; do
    s=$(stat -c %s "$WORK/$n.img")
    printf '  %-5s ext4 %5d MiB: gzip -6 chunks %3.0f %%, zstd -3 chunks %3.0f %%\n' "$n" $((s >> 20)) \
        "$(awk -v a="$(stat -c %s "$WORK/www/$n.img.gz")" -v b="$s" 'BEGIN { print 100 * a / b }')" \
        "$(awk -v a="$(stat -c %s "$WORK/www/$n.img.zst")" -v b="$s" 'BEGIN { print 100 * a / b }')"
done

nginx_start "$WORK/www"
tftpd_start "$WORK/www"
HTTP=http://127.0.0.1:$NGINX_HTTP_PORT TFTP=tftp://127.0.0.1:$TFTP_PORT
truncate -s 1100M "$WORK/slot" "$WORK/slot2"

# tftp_case: the TFTP install of $n-$c against curl alone (uses n, c, size, label). The
# loopback lock-step rate drifts by +-20 % over seconds on this VM, so the two alternate,
# TFTP_ROUNDS times each, and the medians are compared (the best of each shown beside).
TFTP_ROUNDS=${TFTP_ROUNDS:-3}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
tftp_case() {
    local us=() them=() rss=0 bsize i t0 t1 u c_med u_med
    bsize=$(stat -c %s "$WORK/www/$n-$c.bundle")
    for i in $(seq 1 "$TFTP_ROUNDS"); do
        install_run 1 "$TFTP/$n-$c.bundle" --blksize "$BLKSIZE" || return 1
        us+=("$SECS")
        [ "$RSS" -gt "$rss" ] && rss=$RSS
        t0=$(now)
        curl -s --tftp-blksize "$BLKSIZE" -o /dev/null "$TFTP/$n-$c.bundle" || { echo "bench: curl over TFTP failed" >&2; return 1; }
        t1=$(now)
        them+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")
    done
    u_med=$(printf '%s\n' "${us[@]}" | median) c_med=$(printf '%s\n' "${them[@]}" | median)
    printf '  %-4s %-8s TFTP  install %5s MB/s  peak RSS %s MiB  (bundle %s MB/s; curl alone %s MB/s: install x%s,' \
        "$c" "$label" "$(rate "$size" "$u_med")" "$(mib "$rss")" "$(rate "$bsize" "$u_med")" \
        "$(rate "$bsize" "$c_med")" "$(ratio "$u_med" "$c_med")"
    printf ' best of %d x%s)\n' "$TFTP_ROUNDS" \
        "$(ratio "$(printf '%s\n' "${us[@]}" | sort -g | head -1)" "$(printf '%s\n' "${them[@]}" | sort -g | head -1)")"
}

echo
echo "install (durable, into a slot file) vs baselines on the same data, same run; MB/s of image:"
for n in $SIZES; do
    img=$WORK/$n.img
    size=$(stat -c %s "$img")
    runs=2 # best of two, for the large image too: one run can meet the VM's worst moment
    label="$((size >> 20)) MiB"
    for c in gzip zstd; do
        ext=gz
        [ "$c" = zstd ] && ext=zst
        want "$c-http" || { want "$c-tftp" && tftp_case; continue; }
        install_run "$runs" "$HTTP/$n-$c.bundle"
        us=$SECS us_rss=$RSS
        cmp -s -n "$size" "$img" "$WORK/slot" || { echo "bench: slot differs from $img" >&2; exit 1; }
        printf '  %-4s %-8s HTTP  install %5s MB/s  peak RSS %s MiB\n' "$c" "$label" "$(rate "$size" "$us")" "$(mib "$us_rss")"
        if [ "$c" = gzip ]; then
            timed gzip -dc "$WORK/www/$n.img.gz"
            printf '         %-44s %5s MB/s  install x%s\n' "gzip -dc >/dev/null" "$(rate "$size" "$SECS")" "$(ratio "$us" "$SECS")"
            for b in zlib isal; do
                timed "$CODEC" gzip "$b" "$WORK/www/$n.img.gz" || continue
                printf '         %-44s %5s MB/s  install x%s\n' "$b inflate alone" "$(rate "$size" "$SECS")" "$(ratio "$us" "$SECS")"
            done
            dec="gzip -dc"
        else
            timed zstd -dcq "$WORK/www/$n.img.zst"
            printf '         %-44s %5s MB/s  install x%s\n' "zstd -dc >/dev/null" "$(rate "$size" "$SECS")" "$(ratio "$us" "$SECS")"
            timed "$CODEC" zstd zstd "$WORK/www/$n.img.zst"
            printf '         %-44s %5s MB/s  install x%s\n' "libzstd decode alone" "$(rate "$size" "$SECS")" "$(ratio "$us" "$SECS")"
            dec="zstd -dcq"
        fi
        timed bash -c "curl -s '$HTTP/$n.img.$ext' | $dec | tee >(sha256sum >/dev/null) |
            dd of='$WORK/slot2' bs=1M conv=fsync,notrunc status=none"
        printf '         %-44s %5s MB/s  install x%s\n' "curl | ${dec%q} | tee >(sha256sum) | dd conv=fsync" \
            "$(rate "$size" "$SECS")" "$(ratio "$us" "$SECS")"
        want "$c-tftp" && tftp_case
    done
done
echo "(x: the install's rate over the baseline's; > 1 means the install is faster. TFTP: medians of"
echo " $TFTP_ROUNDS alternating runs each, block $BLKSIZE.)"
echo "bench took $(awk -v a="$started" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }') s"
