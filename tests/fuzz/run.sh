#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds each harness tests/fuzz/fuzz_NAME.c with clang's libFuzzer, ASan and UBSan against
# every module, then runs it on its seed corpus tests/fuzz/corpus/NAME/, in one of two modes:
#   run.sh      make fuzz: random, to look for new defects. Each harness runs FUZZ_SECONDS
#               (default 60) from a random seed, or FUZZ_RUNS executions when that is set
#               (the long runs of docs/reliability.md: FUZZ_RUNS=10000000); FUZZ_ONLY="cond
#               macro" limits the run to those harnesses. New finds go to
#               build-fuzz/corpus/NAME, the seeds stay clean.
#   run.sh ci   make fuzz-ci, what CI runs: deterministic, so a failure is a defect, never bad
#               luck. Replays every seed input once, then runs each harness for a fixed number
#               of executions (ci_runs below) from -seed=1, starting from the seeds alone.
# Same tree, same run: the ci build leaves out the stack-depth coverage feature (it varies
# with where ASLR puts the stack), and the run turns off what depends on the clock or on
# addresses (-reload, comparison operands: -use_cmp, -use_memmem). fuzz_bundle runs the
# payload decoder's two threads in lockstep in both modes (see the harness).
# A harness may name link-time wraps in tests/fuzz/fuzz_NAME.wrap (one symbol a line).
# A failing input is saved as build-fuzz[/ci]/NAME-crash-* (-leak-, -timeout-, ...): add it to
# tests/fuzz/corpus/NAME/ with its fix, so every later replay checks it.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
mode=${1:-random}
export TOP="$top"

# Executions of the fixed-seed run, per harness: 3 to 12 s each on this 2-CPU machine even
# when others load it, so the harnesses take about two minutes with the replays
# (building them from scratch adds about one more); bundle is the slow one.
declare -A ci_runs=([bundle]=5000 [blockindex]=100000 [catalog]=150000 [manifest]=400000 [profile]=400000
    [rule]=250000 [version]=1500000 [bootstate]=200000 [cond]=250000 [delay]=400000
    [dhcp]=200000 [macro]=60000 [web]=20000 [control]=20000 [multipart]=300000)

case "$mode" in
random) out=build-fuzz coverage= ;;
ci) out=build-fuzz/ci coverage=-fno-sanitize-coverage=stack-depth ;;
*) echo "usage: run.sh [ci]" >&2; exit 2 ;;
esac

build() { # compiles every module once (kept in $out/obj), then links each harness
    local flags cflags pkgs objs=() src obj harness name wraps
    # 4 KiB payload ring slots (payload.c says why).
    flags="-std=c11 -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer-no-link,address,undefined $coverage -fno-sanitize-recover=all -I. -Iupgrader -DPAYLOAD_RING_BUFFER=4096"
    # The packages come from the Makefile (PKGS), so a new library is named once.
    pkgs="${PKGS:?run through make fuzz or make fuzz-ci}"
    case " $pkgs " in *" libisal "*) flags="$flags -DHAVE_ISAL=1" ;; esac
    cflags="$flags $(pkg-config --cflags $pkgs)"
    mkdir -p "$out/obj"
    # An object is rebuilt when its source or any header is newer (headers are shared widely).
    local newest_h
    newest_h=$(find common bootctl upgrader -name '*.h' -printf '%T@\n' | sort -n | tail -n 1)
    for src in $(find common bootctl upgrader -name '*.c' | sort); do
        case "$src" in */main.c) continue ;; esac
        obj="$out/obj/$(echo "$src" | tr / _).o"
        if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] ||
            awk -v h="$newest_h" -v o="$(stat -c %.9Y "$obj")" 'BEGIN { exit !(h > o) }'; then
            clang $cflags -c "$src" -o "$obj"
        fi
        objs+=("$obj")
    done
    for harness in tests/fuzz/fuzz_*.c; do
        name=$(basename "$harness" .c)
        wraps=
        [ -f "tests/fuzz/$name.wrap" ] && wraps=$(sed 's/^/-Wl,--wrap=/' "tests/fuzz/$name.wrap")
        clang $cflags -fsanitize=fuzzer "$harness" "${objs[@]}" $wraps $(pkg-config --libs $pkgs) \
            -o "$out/$name"
    done
}

# run NAME LABEL LOG libFuzzer-arguments...: one libFuzzer run, its figures, and on failure
# where the input went.
run() {
    local name=$1 label=$2 log=$3 status=0
    shift 3
    echo "== fuzz_$name: $label"
    "$out/fuzz_$name" -print_final_stats=1 -artifact_prefix="$out/$name-" "$@" >"$log" 2>&1 || status=$?
    grep -E '^#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::new_units_added|ERROR|SUMMARY|runtime error' "$log" || true
    [ "$status" -eq 0 ] || { echo "fuzz_$name failed ($label): $log, input in $out/$name-*"; exit 1; }
}

build
for harness in tests/fuzz/fuzz_*.c; do
    name=$(basename "$harness" .c); name=${name#fuzz_}
    seeds=tests/fuzz/corpus/$name
    if [ "$mode" = random ]; then
        case " ${FUZZ_ONLY:-$name} " in *" $name "*) ;; *) continue ;; esac
        mkdir -p "$out/corpus/$name"
        if [ -n "${FUZZ_RUNS:-}" ]; then
            # No time cap: the run ends after FUZZ_RUNS executions (or at a find).
            run "$name" "random, $FUZZ_RUNS executions" "$out/fuzz_$name.log" \
                -runs="$FUZZ_RUNS" -max_total_time=0 "$out/corpus/$name" "$seeds"
        else
            run "$name" "random, ${FUZZ_SECONDS:-60}s" "$out/fuzz_$name.log" \
                -max_total_time="${FUZZ_SECONDS:-60}" "$out/corpus/$name" "$seeds"
        fi
        continue
    fi
    # -runs=0: each seed input once (in an order -seed fixes), then stop; the seed folder
    # is only read.
    run "$name" "replay of the seed inputs ($(ls "$seeds" | wc -l))" "$out/fuzz_$name-replay.log" \
        -seed=1 -runs=0 "$seeds"
    # The scratch corpus starts empty each time (left-overs would change the run) and comes
    # first on the command line, so new units go there, not into the seeds.
    runs=${ci_runs[$name]:?no ci_runs line for fuzz_$name}
    rm -rf "$out/corpus/$name"
    mkdir -p "$out/corpus/$name"
    run "$name" "-seed=1 -runs=$runs" "$out/fuzz_$name.log" -seed=1 -runs="$runs" -reload=0 \
        -use_cmp=0 -use_memmem=0 "$out/corpus/$name" "$seeds"
done
