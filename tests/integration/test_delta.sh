#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Delta installs against the real nginx: ext4 images made by mke2fs -d (4 KiB blocks, fixed
# UUID and hash seed), point releases of each other. Blocks copied from the running and from
# the inactive slot, a corrupted local block and a stale block table caught, a server without
# ranges, a cut install resumed, a tampered frame or index refused (exit 5), and three hops of
# `upgrader upgrade` fetching a fraction of three bundles.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"

INSTALL=$TOOLS/install_tool
"$TOP/images/make-keys.sh" "$WORK/keys" delta-test >/dev/null
K=$WORK/keys
pki_make "$WORK/pki" >/dev/null
mkdir -p "$WORK/www/bundles" "$WORK/img"

# Release 1: the sources of this tree under many names (text) and some random blobs; each
# next release rewrites two files, adds a 200 KB package and removes one file.
mkdir -p "$WORK/tree/1.0.0"
n=0
for f in "$TOP"/upgrader/*/*.c "$TOP"/common/*.c; do n=$((n + 1)); cp "$f" "$WORK/tree/1.0.0/f$n.c"; done
for i in 1 2 3 4 5 6; do head -c 250000 /dev/urandom >"$WORK/tree/1.0.0/blob$i"; done
prev=1.0.0
for v in 2.0.0 3.0.0 4.0.0; do
    cp -a "$WORK/tree/$prev" "$WORK/tree/$v"
    for f in $(ls "$WORK/tree/$v" | shuf -n 2 --random-source=<(yes "$v")); do echo "changed in $v" >>"$WORK/tree/$v/$f"; done
    head -c 200000 /dev/urandom >"$WORK/tree/$v/package-$v"
    rm -f "$WORK/tree/$v/$(ls "$WORK/tree/$v" | head -n 1)"
    prev=$v
done
mkdir -p "$WORK/tree/other" && head -c 3000000 /dev/urandom >"$WORK/tree/other/noise"
for v in 1.0.0 2.0.0 3.0.0 4.0.0 other; do
    mke2fs -q -F -t ext4 -b 4096 -U 6b1d0c2e-4f55-4c1e-9d1a-0d5e2f7b9a10 \
        -E hash_seed=0b6c1f3e-2d4a-4e8b-9c7d-5a3f1e2d4c6b -d "$WORK/tree/$v" "$WORK/img/$v.img" 12M \
        >/dev/null 2>&1 || fail "mke2fs $v"
    "$UPGRADER" pack --product UG-PHONE-1 --version "${v/other/9.0.0}" --hw 1.0 --image "$WORK/img/$v.img" \
        --key "$K/signer.key" --cert "$K/signer.pem" --chunk-size 1M -o "$WORK/www/bundles/$v.bundle" >/dev/null ||
        fail "pack $v"
done
for layout in "members --frames members" "zstd --compress zstd"; do # the first delta layout; zstd
    "$UPGRADER" pack --product UG-PHONE-1 --version 2.0.0 --hw 1.0 --image "$WORK/img/2.0.0.img" \
        --key "$K/signer.key" --cert "$K/signer.pem" --chunk-size 1M ${layout#* } \
        -o "$WORK/www/bundles/2.0.0-${layout%% *}.bundle" >/dev/null || fail "pack $layout"
done
ok "four point releases and an unrelated image, packed with block indexes"
nginx_start "$WORK/www" || fail "nginx did not start"
H=http://127.0.0.1:$NGINX_HTTP_PORT
SIZE=$(stat -c %s "$WORK/img/2.0.0.img")
FULL=$(stat -c %s "$WORK/www/bundles/2.0.0.bundle")

A=$WORK/slot-a B=$WORK/slot-b
put() { cp "$1" "$2" && truncate -s 16M "$2"; } # IMAGE SLOT
zero() { rm -f "$1" && truncate -s 16M "$1"; }
install() { # URL: release 2.0.0 into slot B, copying from A and B
    "$INSTALL" --keyring "$K/ca.pem" --product UG-PHONE-1 --hw 1.0 --checkpoint 1048576 \
        --reuse "$A,1.0.0,$WORK/a.idx" --reuse "$B,,$WORK/b.idx" "$@" "$B"
}
val() { sed -n "s/^$1=//p" <<<"$OUT"; }
holds() { cmp -s -n "$SIZE" "$B" "$WORK/img/2.0.0.img" || fail "$1: slot B is not the 2.0.0 image"; ok "$1: slot B holds 2.0.0"; }
wire() { # bytes the server sent for a path since the log was emptied (bodies)
    grep "$1" "$NGINX_ACCESS_LOG" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^20[06]$/) { s += $(i + 1); break } } END { print s + 0 }'
}

# ---- Blocks from the running slot: A holds 1.0.0, B nothing.
put "$WORK/img/1.0.0.img" "$A"; zero "$B"
: >"$NGINX_ACCESS_LOG"
expect_exit 0 "delta install from the running slot" install "$H/bundles/2.0.0.bundle"
holds "from A"
assert_eq "a delta" "$(val delta)" 1
assert_eq "both slots indexed" "$(val index_builds)" 2
FETCHED=$(val bytes_fetched)
[ "$(val bytes_reused)" -gt $((SIZE / 2)) ] || fail "reused only $(val bytes_reused) of $SIZE bytes"
ok "most of the image reused ($(val bytes_reused) of $SIZE bytes)"
[ "$FETCHED" -lt $((FULL / 2)) ] || fail "fetched $FETCHED of $FULL bytes"
ok "fetched $FETCHED of $FULL bundle bytes"
assert_eq "the server sent what was fetched (ranges only)" "$(wire 2.0.0.bundle)" "$FETCHED"
assert_eq "no whole-file answer" "$(grep -c '" 200 ' "$NGINX_ACCESS_LOG")" 0
multi=$(grep -c '"bytes=[0-9]*-[0-9]*,' "$NGINX_ACCESS_LOG")
[ "$multi" -gt 0 ] || fail "no request asked for several ranges"
ok "$multi requests asked for several ranges (answered multipart/byteranges, read part by part)"
[ -f "$WORK/a.idx" ] && [ ! -f "$WORK/b.idx" ] || fail "the written slot's table must be gone, the running one's kept"
ok "the written slot's block table dropped before its first write"

# ---- The first delta layout (16 KiB members, a version 1 index, as `pack --frames members`
# writes it and the first delta agents read it) and zstd members: deltas too.
for layout in members zstd; do
    tar xOf "$WORK/www/bundles/2.0.0-$layout.bundle" manifest.json | jq -e '.payloads[0].index | has("frames") | not' >/dev/null ||
        fail "$layout: the manifest names a frame layout"
    put "$WORK/img/1.0.0.img" "$A"; zero "$B"
    expect_exit 0 "delta install of the $layout layout" install "$H/bundles/2.0.0-$layout.bundle"
    holds "$layout layout"
    assert_eq "$layout: a delta" "$(val delta)" 1
    [ "$(val bytes_fetched)" -lt $((FULL / 2)) ] || fail "$layout: fetched $(val bytes_fetched) of $FULL bytes"
    ok "$layout: fetched $(val bytes_fetched) bytes"
done

# ---- Blocks from the inactive slot: it already holds 2.0.0 (a cut install, say); A holds
# an unrelated image, so nothing but the head and the index need fetching.
put "$WORK/img/other.img" "$A"; put "$WORK/img/2.0.0.img" "$B"
expect_exit 0 "delta install from the inactive slot" install "$H/bundles/2.0.0.bundle"
holds "from B"
assert_eq "all of it reused" "$(val bytes_reused)" "$SIZE"
[ "$(val bytes_fetched)" -lt $((FULL / 20)) ] || fail "fetched $(val bytes_fetched) bytes"
ok "fetched only the head and the index ($(val bytes_fetched) bytes)"

# ---- A corrupted block in the running slot after it was indexed (its time kept, so the
# table still looks current): re-hashed as read, found out, its frame fetched instead.
put "$WORK/img/1.0.0.img" "$A"; zero "$B"; rm -f "$WORK/a.idx"
expect_exit 0 "index A" install "$H/bundles/2.0.0.bundle"
blk=$(python3 -c "
import sys
a = open('$WORK/img/1.0.0.img', 'rb').read(); b = open('$WORK/img/2.0.0.img', 'rb').read()
print(next(i for i in range(len(a) // 4096 - 1, 0, -1)
           if a[i*4096:(i+1)*4096] == b[i*4096:(i+1)*4096] and any(a[i*4096:(i+1)*4096])))")
touch -r "$A" "$WORK/a.time"
printf '\xff' | dd of="$A" bs=1 seek=$((blk * 4096 + 100)) conv=notrunc status=none
touch -r "$WORK/a.time" "$A"
zero "$B"
expect_exit 0 "delta install over a corrupted running block" install "$H/bundles/2.0.0.bundle"
holds "corrupted local block"
assert_eq "A's table taken from the cache (B's rebuilt)" "$(val index_builds)" 1
[ "$(val bytes_fetched)" -gt "$FETCHED" ] || fail "the corrupted block's frame was not fetched"
ok "the corrupted block's frame fetched ($(val bytes_fetched) > $FETCHED bytes)"

# ---- A stale table: A now holds another release (its time changed): rebuilt, not trusted.
put "$WORK/img/3.0.0.img" "$A"; zero "$B"
expect_exit 0 "delta install with a stale table" install "$H/bundles/2.0.0.bundle"
holds "stale table"
assert_eq "A's table rebuilt" "$(val index_builds)" 2

# ---- A server without ranges: the whole stream, from the first answer, correct.
put "$WORK/img/1.0.0.img" "$A"; zero "$B"
: >"$NGINX_ACCESS_LOG"
expect_exit 0 "install from a server without ranges" install "$H/norange/bundles/2.0.0.bundle"
holds "no ranges"
assert_eq "not a delta" "$(val delta)" 0
assert_eq "one request, answered whole" "$(grep -c '2.0.0.bundle' "$NGINX_ACCESS_LOG")/$(grep -c '" 200 ' "$NGINX_ACCESS_LOG")" 1/1

# ---- A server that answers at most two ranges a request (nginx max_ranges 2): a request
# for more gets the whole file, which is cut, and the rest is asked one range at a time.
put "$WORK/img/1.0.0.img" "$A"; zero "$B"
: >"$NGINX_ACCESS_LOG"
expect_exit 0 "install from a server allowing two ranges a request" install "$H/tworanges/bundles/2.0.0.bundle"
holds "two ranges a request"
assert_eq "a delta" "$(val delta)" 1
assert_eq "one whole-file answer (cut)" "$(grep -c '" 200 ' "$NGINX_ACCESS_LOG")" 1
after=$(sed -n '/" 200 /,$p' "$NGINX_ACCESS_LOG" | tail -n +2 | grep -c '"bytes=[0-9]*-[0-9]*,')
assert_eq "one range a request after it" "$after" 0
[ "$(val bytes_fetched)" -lt $((FULL / 2)) ] || fail "fetched $(val bytes_fetched) of $FULL bytes"
ok "still a fraction of the bundle ($(val bytes_fetched) of $FULL bytes)"

# ---- Servers that answer several ranges otherwise: joined into one range, or the first
# alone (no multipart); and a multipart body that lies about a part's length.
ranges_server_start "$WORK/www" join || fail "ranges server (join)"
put "$WORK/img/1.0.0.img" "$A"; zero "$B"
expect_exit 0 "install from a server joining the ranges" install "http://127.0.0.1:$RANGES_PORT/bundles/2.0.0.bundle"
holds "joined ranges"
assert_eq "a delta" "$(val delta)" 1
[ "$(grep -c 'bytes=[0-9]*-[0-9]*,' "$RANGES_LOG")" -gt 0 ] || fail "joined ranges: no request for several ranges"
ok "joined ranges: requests for several ranges were made"
ranges_server_start "$WORK/www" first || fail "ranges server (first)"
put "$WORK/img/1.0.0.img" "$A"; zero "$B"
expect_exit 0 "install from a server sending the first range alone" install "http://127.0.0.1:$RANGES_PORT/bundles/2.0.0.bundle"
holds "first range alone"
assert_eq "a delta" "$(val delta)" 1
[ "$(grep -c 'bytes=[0-9]*-[0-9]*,' "$RANGES_LOG")" -gt 0 ] || fail "first range alone: no request for several ranges"
ok "first range alone: requests for several ranges were made"
ranges_server_start "$WORK/www" malformed || fail "ranges server (malformed)"
MALFORMED=http://127.0.0.1:$RANGES_PORT
put "$WORK/img/1.0.0.img" "$A"; zero "$B"; cp "$A" "$WORK/a.orig"
expect_exit 4 "a malformed multipart answer" install "$MALFORMED/bundles/2.0.0.bundle"
assert_contains "says so" "$ERR" "malformed multipart/byteranges answer"
assert_same_file "running slot untouched" "$A" "$WORK/a.orig"

# ---- A delta install killed mid-way, then resumed at its last checkpoint.
put "$WORK/img/1.0.0.img" "$A"; zero "$B"
RES=$WORK/resume.json
expect_exit 137 "killed after 6 MiB" install --resume-file "$RES" --die-after 6291456 "$H/bundles/2.0.0.bundle"
done_chunks=$(jqr .chunks_done "$RES")
[ "$done_chunks" -gt 0 ] || fail "nothing recorded before the kill"
ok "the cut install recorded $done_chunks chunks"
expect_exit 0 "resumed" install --resume-file "$RES" "$H/bundles/2.0.0.bundle"
holds "resumed"
assert_eq "resumed at the record" "$(val resumed)/$(val resume_offset)" "1/$((done_chunks * 1048576))"
[ ! -f "$RES" ] || fail "resume file left after success"
ok "resume file removed"

# ---- Tampering: a byte of a frame that must be fetched; a byte of the block index.
: >"$NGINX_ACCESS_LOG"
put "$WORK/img/1.0.0.img" "$A"; zero "$B"
expect_exit 0 "one more clean install, to see which frames are fetched" install "$H/bundles/2.0.0.bundle"
range=$(grep -o 'bytes=[0-9]*-[0-9]*' "$NGINX_ACCESS_LOG" | sed -n 4p)
from=${range#bytes=}; from=${from%-*}
cp "$WORK/www/bundles/2.0.0.bundle" "$WORK/www/bundles/frame.bundle"
printf '\x00' | dd of="$WORK/www/bundles/frame.bundle" bs=1 seek=$((from + 100)) conv=notrunc status=none
cp "$WORK/img/1.0.0.img" "$WORK/a.orig"; truncate -s 16M "$WORK/a.orig"
zero "$B"
expect_exit 5 "a tampered frame" install "$H/bundles/frame.bundle"
assert_contains "says so" "$ERR" "does not match its signed digest"
assert_same_file "running slot untouched" "$A" "$WORK/a.orig"
tar tvf "$WORK/www/bundles/2.0.0.bundle" >/dev/null
index_at=$(( $(stat -c %s "$WORK/www/bundles/2.0.0.bundle") - 10240 ))
python3 - "$WORK/www/bundles/2.0.0.bundle" "$WORK/www/bundles/index.bundle" <<'PY'
import sys, tarfile
src, dst = sys.argv[1], sys.argv[2]
data = bytearray(open(src, 'rb').read())
with tarfile.open(src) as t:
    m = [x for x in t.getmembers() if x.name.endswith('.index')][0]
data[m.offset_data + 60] ^= 0xff
open(dst, 'wb').write(data)
PY
cp "$B" "$WORK/b.before"
expect_exit 5 "a tampered block index" install "$H/bundles/index.bundle"
assert_contains "says so" "$ERR" "block index"
assert_same_file "refused before any byte of slot B was written" "$B" "$WORK/b.before"

# ---- Three hops of `upgrader upgrade`, each a delta from what the device holds then.
entry() { # VERSION MIN_FROM [BUNDLE]
    local b=${3:-$1.bundle}
    printf '{"version": "%s", "bundle": "bundles/%s", "size": %s, "sha256": "%s", "min_from": "%s"}' \
        "$1" "$b" "$(stat -c %s "$WORK/www/bundles/$b")" "$(sha256sum <"$WORK/www/bundles/$b" | cut -d' ' -f1)" "$2"
}
catalog() { # NAME ENTRIES...
    local name=$1; shift
    printf '{"product": "UG-PHONE-1", "releases": [%s]}\n' "$(IFS=,; echo "$*")" >"$WORK/www/$name"
    "$UPGRADER" sign --key "$K/signer.key" --cert "$K/signer.pem" "$WORK/www/$name" >/dev/null || fail "sign $name"
}
catalog three.json "$(entry 2.0.0 1.0.0)" "$(entry 3.0.0 2.0.0)" "$(entry 4.0.0 3.0.0)"
catalog tampered.json "$(entry 2.0.0 1.0.0 frame.bundle)"
new_device() { # DIR CATALOG [SERVER]
    "$UPGRADER" --root "$1" init --version 1.0.0 --slot-size 16M --keyring "$K/ca.pem" >/dev/null || fail "init $1"
    dd if="$WORK/img/1.0.0.img" of="$1/slot-a.img" conv=notrunc status=none
    cp "$1/slot-a.img" "$1/slot-a.orig"
    "$UPGRADER" --root "$1" param set Upgrade_Rule "${3:-$H}/$2" >/dev/null || fail "Upgrade_Rule"
}
power_on() {
    "$BOOTCTL" --env "$1/bootenv" boot >/dev/null || fail "bootctl boot of $1"
    "$UPGRADER" --root "$1" boot
}
slot_json() { "$BOOTCTL" --env "$1/bootenv" status --json | jqr ".slots.$2.$3"; }
D=$WORK/device
new_device "$D" three.json
: >"$NGINX_ACCESS_LOG"
expect_exit 0 "hop 1" "$UPGRADER" --root "$D" upgrade
assert_contains "status shows the saving" "$("$UPGRADER" --root "$D" status)" "reused from the slots"
for hop in 1 2 3; do expect_exit 0 "power-on $hop" power_on "$D"; done
assert_eq "running 4.0.0 on B" "$("$BOOTCTL" --env "$D/bootenv" status --json | jqr .booted)/$(slot_json "$D" B version)" B/4.0.0
cmp -s -n "$SIZE" "$D/slot-b.img" "$WORK/img/4.0.0.img" || fail "slot B is not the 4.0.0 image"
ok "slot B byte-identical to 4.0.0"
cmp -s -n "$SIZE" "$D/slot-a.img" "$WORK/img/3.0.0.img" || fail "slot A is not the 3.0.0 image"
ok "slot A byte-identical to 3.0.0"
sent=$(wire /bundles/)
whole=$(( $(stat -c %s "$WORK/www/bundles/2.0.0.bundle") + $(stat -c %s "$WORK/www/bundles/3.0.0.bundle") + $(stat -c %s "$WORK/www/bundles/4.0.0.bundle") ))
[ "$sent" -lt $((whole / 3)) ] || fail "three hops took $sent of $whole bytes"
ok "three hops took $sent bytes on the wire, $((sent * 100 / whole)) % of three whole bundles ($whole)"

# ---- A tampered frame in a pass: exit 5, the written slot unbootable, the running untouched.
D=$WORK/device2
new_device "$D" tampered.json
expect_exit 5 "a pass with a tampered bundle" "$UPGRADER" --root "$D" upgrade
assert_eq "slot B unbootable" "$(slot_json "$D" B bootable)" false
assert_same_file "running slot A untouched" "$D/slot-a.img" "$D/slot-a.orig"
assert_eq "still booting A" "$("$BOOTCTL" --env "$D/bootenv" boot)" A

# ---- A malformed multipart answer in a pass: exit 4, the same outcome.
D=$WORK/device3
new_device "$D" three.json "$MALFORMED"
expect_exit 4 "a pass against a server sending malformed multipart answers" "$UPGRADER" --root "$D" upgrade
assert_contains "says so" "$ERR" "malformed multipart/byteranges answer"
assert_eq "slot B unbootable" "$(slot_json "$D" B bootable)" false
assert_same_file "running slot A untouched" "$D/slot-a.img" "$D/slot-a.orig"
assert_eq "still booting A" "$("$BOOTCTL" --env "$D/bootenv" boot)" A
finish
