#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The images recipe end to end: real ext4 images and signed bundles for every demo release,
# a signed catalog with their real sizes, planned over by a device trusting the demo CA.
. "$(dirname "$0")/lib.sh"

"$TOP/images/build.sh" "$WORK/out" "$UPGRADER" >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; fail "images/build.sh"; }
ok "images built"
expect_exit 0 "device trusting the demo CA" \
    "$UPGRADER" --root "$WORK/dev" init --hwver 1.0 --keyring "$WORK/out/keys/ca.pem"
expect_exit 0 "plan over the real catalog" \
    "$UPGRADER" --root "$WORK/dev" plan --catalog "$WORK/out/catalog.json" --from 1.0.0 --to latest --json
assert_eq "stepping stones" "$(jqr '[.hops[].to] | join(",")' <<<"$OUT")" "1.5.0,2.0.0,3.0.0"
b=$(jqr '.hops[1].bundle' <<<"$OUT")
assert_eq "size in the catalog is the bundle's" "$(jqr '.hops[1].size' <<<"$OUT")" "$(stat -c %s "$b")"
assert_eq "digest in the catalog is the bundle's" "$(jqr '.hops[1].sha256' <<<"$OUT")" "$(sha256sum < "$b" | cut -d' ' -f1)"
mkdir "$WORK/x" && tar xf "$b" -C "$WORK/x"
gzip -dc "$WORK/x/rootfs.img.gz" > "$WORK/x/rootfs.img"
assert_same_file "payload is the image" "$WORK/x/rootfs.img" "$WORK/out/images/ug-phone-2.0.0.ext4"
if command -v debugfs >/dev/null || [ -x /usr/sbin/debugfs ]; then
    rel=$(PATH=$PATH:/usr/sbin debugfs -R "cat /etc/os-release" "$WORK/x/rootfs.img" 2>/dev/null)
    assert_contains "the image says its version" "$rel" "VERSION_ID=2.0.0"
fi
finish
