#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make images: real demo firmware for every release of manifests/demo-catalog.json: a small
# ext4 filesystem (mke2fs -d) carrying its version in /etc/os-release, packed into a signed
# bundle, then the catalog with the real sizes and digests, signed. Demo keys are made once.
# usage: images/build.sh OUT_DIR UPGRADER [CATALOG]
set -eu
out=${1:?usage: build.sh OUT_DIR UPGRADER [CATALOG]}
upgrader=${2:?usage: build.sh OUT_DIR UPGRADER [CATALOG]}
here=$(cd "$(dirname "$0")" && pwd)
catalog=${3:-$here/../manifests/demo-catalog.json}
mkdir -p "$out/bundles" "$out/images"
[ -f "$out/keys/signer.pem" ] || "$here/make-keys.sh" "$out/keys" "upgrader demo"
product=$(jq -r .product "$catalog")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

jq -c '.releases[]' "$catalog" | while read -r rel; do
    version=$(jq -r .version <<<"$rel")
    hw=$(jq -r '(.hardware // ["any"]) | join(",")' <<<"$rel")
    bundle=$(jq -r .bundle <<<"$rel")
    root=$tmp/root-$version
    mkdir -p "$root/etc" "$root/usr/lib/upgrader-demo"
    cat > "$root/etc/os-release" <<OS
NAME="UG demo phone"
ID=ug-demo
VERSION_ID=$version
PRETTY_NAME="UG demo phone $version"
OS
    echo "$product $version" > "$root/etc/issue"
    # Some realistic, partly compressible content, different in every release.
    for i in 1 2 3 4; do
        { seq 1 20000 | sed "s/^/$version line /"; head -c 65536 /dev/urandom | base64; } \
            > "$root/usr/lib/upgrader-demo/data$i.txt"
    done
    image=$out/images/ug-phone-$version.ext4
    rm -f "$image"
    mke2fs -q -F -t ext4 -L "ug-$version" -d "$root" "$image" 8M >/dev/null
    "$upgrader" pack --product "$product" --version "$version" --hw "$hw" --image "$image" \
        --key "$out/keys/signer.key" --cert "$out/keys/signer.pem" -o "$out/$bundle" >/dev/null
    echo "images: $version -> $out/$bundle"
done

# The catalog that goes with these bundles: the demo graph with real sizes and digests.
cp "$catalog" "$tmp/catalog.json"
for v in $(jq -r '.releases[].version' "$catalog"); do
    b=$out/$(jq -r --arg v "$v" '.releases[] | select(.version == $v) | .bundle' "$catalog")
    size=$(stat -c %s "$b")
    sha=$(sha256sum "$b" | cut -d' ' -f1)
    jq --arg v "$v" --argjson size "$size" --arg sha "$sha" \
        '(.releases[] | select(.version == $v)) |= (.size = $size | .sha256 = $sha)' \
        "$tmp/catalog.json" > "$tmp/next.json"
    mv "$tmp/next.json" "$tmp/catalog.json"
done
cp "$tmp/catalog.json" "$out/catalog.json"
"$upgrader" sign --key "$out/keys/signer.key" --cert "$out/keys/signer.pem" "$out/catalog.json" >/dev/null
echo "images: signed catalog $out/catalog.json (keyring: $out/keys/ca.pem)"
