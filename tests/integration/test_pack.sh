#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# upgrader pack and sign as a release engineer runs them: a real ext4 image made by mke2fs -d,
# packed with keys made here by openssl; the result checked with tar, openssl, gzip and zstd.
. "$(dirname "$0")/lib.sh"

"$TOP/images/make-keys.sh" "$WORK/keys" test >/dev/null
K=$WORK/keys
mkdir -p "$WORK/root/etc"
printf 'NAME="UG demo"\nVERSION_ID=2.0.0\n' > "$WORK/root/etc/os-release"
head -c 300000 /dev/urandom > "$WORK/root/blob"
mke2fs -q -F -t ext4 -d "$WORK/root" "$WORK/image.ext4" 4M >/dev/null 2>&1 || fail "mke2fs -d failed"
ok "made an ext4 image"

expect_exit 0 "pack gzip" "$UPGRADER" pack --product UG-PHONE-1 --version 2.0.0 --hw 1.0,2.0 \
    --image "$WORK/image.ext4" --key "$K/signer.key" --cert "$K/signer.pem" --chunk-size 1M -o "$WORK/b.bundle"
assert_eq "members in order" "$(tar tf "$WORK/b.bundle" | paste -sd,)" \
    "manifest.json,manifest.json.sig,rootfs.img.gz,rootfs.img.gz.index"
mkdir "$WORK/x" && tar xf "$WORK/b.bundle" -C "$WORK/x"
# The block index: signed size and digest, the image's own block size (mke2fs picks 1 KiB
# for a 4 MiB file system), flush frames of 4 KiB (a block, at least 4 KiB); a version 2
# index: gzip of 40 + 4 * 1024 frame sizes (as byte planes) + 6 * 4096 block keys.
assert_eq "index block size is the file system's" "$(jqr '.payloads[0].index.block_size' "$WORK/x/manifest.json")" 1024
assert_eq "index frame size" "$(jqr '.payloads[0].index.frame_size' "$WORK/x/manifest.json")" 4096
assert_eq "flush frames" "$(jqr '.payloads[0].index.frames' "$WORK/x/manifest.json")" flush
assert_eq "index size" "$(stat -c %s "$WORK/x/rootfs.img.gz.index")" "$(jqr '.payloads[0].index.size' "$WORK/x/manifest.json")"
gzip -dc <"$WORK/x/rootfs.img.gz.index" >"$WORK/x/index.raw" || fail "the index is not gzip"
assert_eq "index inflated size" "$(stat -c %s "$WORK/x/index.raw")" $((40 + 4 * 1024 + 6 * 4096))
assert_eq "version 2" "$(head -c 8 "$WORK/x/index.raw" | tr -d '\n')" UGBIDX2
assert_eq "index digest" "$(sha256sum < "$WORK/x/rootfs.img.gz.index" | cut -d' ' -f1)" \
    "$(jqr '.payloads[0].index.sha256' "$WORK/x/manifest.json")"
assert_eq "block 0 key is its SHA-256 prefix" "$(od -An -tx1 -j $((40 + 4 * 1024)) -N 6 "$WORK/x/index.raw" | tr -d ' \n')" \
    "$(head -c 1024 "$WORK/image.ext4" | sha256sum | cut -c1-12)"
# --frames members: the first delta layout, 16 KiB frames each a gzip member, version 1.
expect_exit 0 "pack --frames members" "$UPGRADER" pack --product UG-PHONE-1 --version 2.0.0 --hw 1.0 --frames members \
    --image "$WORK/image.ext4" --key "$K/signer.key" --cert "$K/signer.pem" --chunk-size 1M -o "$WORK/m.bundle"
mkdir "$WORK/m" && tar xf "$WORK/m.bundle" -C "$WORK/m"
assert_eq "members: 16 KiB frames, no frames key" "$(jqr '.payloads[0].index | "\(.frame_size) \(has("frames"))"' "$WORK/m/manifest.json")" "16384 false"
gzip -dc <"$WORK/m/rootfs.img.gz.index" >"$WORK/m/index.raw" || fail "the index is not gzip"
assert_eq "members: a version 1 index" "$(stat -c %s "$WORK/m/index.raw")/$(head -c 8 "$WORK/m/index.raw" | tr -d '\n')" \
    "$((40 + 4 * 256 + 8 * 4096))/UGBIDX1"
expect_exit 2 "flush frames need gzip" "$UPGRADER" pack --product P --version 1.0 --hw 1 --frames flush --compress zstd \
    --image "$WORK/image.ext4" --key "$K/signer.key" --cert "$K/signer.pem" -o "$WORK/bad.bundle"
expect_exit 0 "pack --no-index" "$UPGRADER" pack --product UG-PHONE-1 --version 2.0.0 --hw 1.0 --no-index \
    --image "$WORK/image.ext4" --key "$K/signer.key" --cert "$K/signer.pem" --chunk-size 1M -o "$WORK/n.bundle"
assert_eq "--no-index: the old layout" "$(tar tf "$WORK/n.bundle" | paste -sd,)" "manifest.json,manifest.json.sig,rootfs.img.gz"
expect_exit 2 "frames must divide chunks" "$UPGRADER" pack --product P --version 1.0 --hw 1 --frame-size 48K \
    --image "$WORK/image.ext4" --key "$K/signer.key" --cert "$K/signer.pem" -o "$WORK/bad.bundle"
openssl cms -verify -binary -inform DER -in "$WORK/x/manifest.json.sig" -content "$WORK/x/manifest.json" \
    -CAfile "$K/ca.pem" -purpose any -out /dev/null 2>/dev/null || fail "openssl does not verify the manifest"
ok "openssl verifies the manifest signature"
assert_eq "manifest product" "$(jqr .product "$WORK/x/manifest.json")" UG-PHONE-1
assert_eq "manifest hardware" "$(jqr '.hardware | join(",")' "$WORK/x/manifest.json")" "1.0,2.0"
assert_eq "four 1 MiB chunks" "$(jqr '.payloads[0].chunks | length' "$WORK/x/manifest.json")" 4
assert_eq "payload digest" "$(jqr '.payloads[0].sha256' "$WORK/x/manifest.json")" \
    "$(sha256sum < "$WORK/image.ext4" | cut -d' ' -f1)"
gzip -dc "$WORK/x/rootfs.img.gz" > "$WORK/x/back.img" || fail "gzip cannot read the chunked payload"
assert_same_file "gzip -dc gives the image back" "$WORK/x/back.img" "$WORK/image.ext4"
stored=$(jqr '.payloads[0].chunks[1].stored_offset' "$WORK/x/manifest.json")
len=$(jqr '.payloads[0].chunks[1].stored_size' "$WORK/x/manifest.json")
assert_eq "chunk 1 digest" "$(tail -c +$((stored + 1)) "$WORK/x/rootfs.img.gz" | head -c "$len" | gzip -dc | sha256sum | cut -d' ' -f1)" \
    "$(jqr '.payloads[0].chunks[1].sha256' "$WORK/x/manifest.json")"

expect_exit 0 "pack zstd" "$UPGRADER" pack --product UG-PHONE-1 --version 2.0.0 --hw 1.0 --compress zstd \
    --image "$WORK/image.ext4" --key "$K/signer.key" --cert "$K/signer.pem" -o "$WORK/z.bundle"
mkdir "$WORK/z" && tar xf "$WORK/z.bundle" -C "$WORK/z"
zstd -q -d -c "$WORK/z/rootfs.img.zst" > "$WORK/z/back.img" || fail "zstd cannot read the payload"
assert_same_file "zstd -d gives the image back" "$WORK/z/back.img" "$WORK/image.ext4"

# Packing is deterministic except for the signature's time: same payload bytes.
"$UPGRADER" pack --product UG-PHONE-1 --version 2.0.0 --hw 1.0,2.0 --image "$WORK/image.ext4" \
    --key "$K/signer.key" --cert "$K/signer.pem" --chunk-size 1M -o "$WORK/b2.bundle" >/dev/null
mkdir "$WORK/y" && tar xf "$WORK/b2.bundle" -C "$WORK/y"
assert_same_file "same payload twice" "$WORK/x/rootfs.img.gz" "$WORK/y/rootfs.img.gz"

# Bad input: exit 2, no bundle left behind.
expect_exit 2 "no key" "$UPGRADER" pack --product P --version 1.0 --hw 1 --image "$WORK/image.ext4" \
    --key "$WORK/none.key" --cert "$K/signer.pem" -o "$WORK/bad.bundle"
expect_exit 2 "key and certificate do not match" "$UPGRADER" pack --product P --version 1.0 --hw 1 \
    --image "$WORK/image.ext4" --key "$K/tls.key" --cert "$K/signer.pem" -o "$WORK/bad.bundle"
assert_contains "says so" "$ERR" "does not belong"
: > "$WORK/empty.img"
expect_exit 2 "empty image" "$UPGRADER" pack --product P --version 1.0 --hw 1 --image "$WORK/empty.img" \
    --key "$K/signer.key" --cert "$K/signer.pem" -o "$WORK/bad.bundle"
expect_exit 2 "missing image" "$UPGRADER" pack --product P --version 1.0 --hw 1 --image "$WORK/nope" \
    --key "$K/signer.key" --cert "$K/signer.pem" -o "$WORK/bad.bundle"
expect_exit 2 "bad version" "$UPGRADER" pack --product P --version one --hw 1 --image "$WORK/image.ext4" \
    --key "$K/signer.key" --cert "$K/signer.pem" -o "$WORK/bad.bundle"
expect_exit 2 "a version longer than a device records (64 characters)" "$UPGRADER" pack --product P \
    --version "1.$(printf '0%.0s' $(seq 1 62))" --hw 1 --image "$WORK/image.ext4" --key "$K/signer.key" \
    --cert "$K/signer.pem" -o "$WORK/bad.bundle"
assert_contains "says why" "$ERR" "longer than the 63 characters a device records"
expect_exit 2 "bad codec" "$UPGRADER" pack --product P --version 1.0 --hw 1 --image "$WORK/image.ext4" \
    --compress xz --key "$K/signer.key" --cert "$K/signer.pem" -o "$WORK/bad.bundle"
expect_exit 2 "missing options" "$UPGRADER" pack --product P
[ ! -e "$WORK/bad.bundle" ] || fail "a failed pack left a bundle"
ok "no bundle left by failures"
[ -z "$(ls "$WORK" | grep -E '\.bundle\.')" ] || fail "scratch files left: $(ls "$WORK")"
ok "no scratch files left"

# sign: the same bytes `openssl cms -sign -binary -outform DER` makes, verifiable by openssl.
echo '{"product": "P", "releases": []}' > "$WORK/c.json"
expect_exit 0 "sign" "$UPGRADER" sign --key "$K/signer.key" --cert "$K/signer.pem" "$WORK/c.json"
openssl cms -verify -binary -inform DER -in "$WORK/c.json.sig" -content "$WORK/c.json" -CAfile "$K/ca.pem" \
    -purpose any -out /dev/null 2>/dev/null || fail "openssl does not verify"
ok "openssl verifies upgrader sign"
expect_exit 2 "sign without a file" "$UPGRADER" sign --key "$K/signer.key" --cert "$K/signer.pem"
expect_exit 2 "sign a missing file" "$UPGRADER" sign --key "$K/signer.key" --cert "$K/signer.pem" "$WORK/none.json"
finish
