#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make bench: runs every benchmark program (tests/bench/bench_*.c, built into
# $BUILD/bench/) and every benchmark script (tests/bench/*.sh), each printing its figures.
# BENCH_ONLY=NAME runs only the benchmarks whose name contains NAME (e.g. fleet, daemon).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
export UPGRADER="$top/$BUILD/upgrader" BOOTCTL="$top/$BUILD/bootctl" TOP="$top"
for b in "$top/$BUILD"/bench/bench_*; do
    [ -x "$b" ] || continue
    [[ "$(basename "$b")" == *"${BENCH_ONLY:-}"* ]] || continue
    echo "== $(basename "$b")"
    "$b"
done
for s in "$top"/tests/bench/*.sh; do
    [ -f "$s" ] || continue
    [[ "$(basename "$s" .sh)" == *"${BENCH_ONLY:-}"* ]] || continue
    echo "== $(basename "$s" .sh)"
    bash "$s"
done
