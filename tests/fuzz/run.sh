#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make fuzz: builds each harness tests/fuzz/fuzz_NAME.c with clang's libFuzzer, ASan and
# UBSan against every module, and runs it for FUZZ_SECONDS (default 60) on its seed corpus
# tests/fuzz/corpus/NAME/ (new finds go to build-fuzz/corpus/NAME, the seeds stay clean).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
out=build-fuzz
export TOP="$top"
seconds=${FUZZ_SECONDS:-60}
mkdir -p "$out/obj"
flags="-std=c11 -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -I. -Iupgrader"
[ -n "$(pkg-config --exists libisal && echo y)" ] && flags="$flags -DHAVE_ISAL=1"
pkgs="libcurl openssl zlib libarchive expat json-c libmicrohttpd libzstd"
pkg-config --exists libisal && pkgs="$pkgs libisal"
cflags="$flags $(pkg-config --cflags $pkgs)"
objs=()
shopt -s nullglob
for src in $(find common bootctl upgrader -name '*.c' | sort); do
    case "$src" in */main.c) continue ;; esac
    obj="$out/obj/$(echo "$src" | tr / _).o"
    if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ]; then clang $cflags -c "$src" -o "$obj"; fi
    objs+=("$obj")
done
for harness in tests/fuzz/fuzz_*.c; do
    name=$(basename "$harness" .c); name=${name#fuzz_}
    clang $cflags -fsanitize=fuzzer "$harness" "${objs[@]}" $(pkg-config --libs $pkgs) -o "$out/fuzz_$name"
    mkdir -p "$out/corpus/$name"
    echo "== fuzz_$name for ${seconds}s"
    log="$out/fuzz_$name.log"
    status=0
    "$out/fuzz_$name" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$out/$name-" \
        "$out/corpus/$name" "tests/fuzz/corpus/$name" >"$log" 2>&1 || status=$?
    grep -E 'stat::number_of_executed_units|ERROR|SUMMARY|runtime error|Done' "$log" || true
    [ "$status" -eq 0 ] || { echo "fuzz_$name found a crash: $log, input in $out/$name-*"; exit 1; }
done
