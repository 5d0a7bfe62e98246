#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every unit test binary of $BUILD and every integration script against the programs
# of $BUILD; prints one closing line "N passed, N failed" and exits non-zero on any failure.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
export UPGRADER="$top/$BUILD/upgrader" BOOTCTL="$top/$BUILD/bootctl" TOP="$top"
# Sanitizer reports must fail the test that caused them, not scroll past.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
passed=0 failed=0 failures=() cases=0
only=${TESTS:-}
# The sanitizer build skips the scripts listed in tests/integration/plain-only: long matrices
# of kills, faults and real peers whose code paths the other scripts already take under the
# sanitizers; they run in the plain build (make test), which keeps make check within CI's time.
plain_only=()
if [ "$BUILD" != build ] && [ -z "$only" ]; then
    mapfile -t plain_only < <(sed -n 's/^\(test_[a-z_0-9]*\).*/\1/p' "$top/tests/integration/plain-only")
fi
skipped=0

run_one() { # name command...
    local name=$1; shift
    if [ -n "$only" ] && [[ "$name" != *$only* ]]; then return; fi
    local p
    for p in "${plain_only[@]}"; do
        if [[ "$name" == "integration/$p "* ]]; then
            skipped=$((skipped + 1)); echo "SKIP $name (run by the plain build: tests/integration/plain-only)"
            return
        fi
    done
    local log start=$SECONDS; log=$(mktemp)
    if "$@" >"$log" 2>&1; then
        passed=$((passed + 1)); echo "PASS $name ($((SECONDS - start)) s)"
        # CMocka's "[  PASSED  ] N test(s)." or lib.sh's "ok: N checks passed".
        local n
        n=$(sed -n -e 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' -e 's/^ok: \([0-9]*\) checks passed.*/\1/p' "$log" | tail -n 1)
        cases=$((cases + ${n:-0}))
        grep -E '^\[  (PASSED|FAILED)|^ok |tests? passed' "$log" | tail -n 3 | sed 's/^/     /'
    else
        failed=$((failed + 1)); failures+=("$name"); echo "FAIL $name ($((SECONDS - start)) s)"
        sed 's/^/     | /' "$log" | tail -n 60
    fi
    rm -f "$log"
}

for t in "$top/$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    run_one "unit/$(basename "$t") [$BUILD]" "$t"
done
for t in "$top"/tests/integration/test_*.sh; do
    [ -f "$t" ] || continue
    run_one "integration/$(basename "$t" .sh) [$BUILD]" bash "$t"
done
[ ${#failures[@]} -eq 0 ] || printf 'failed: %s\n' "${failures[@]}"
echo "($cases test cases and checks inside the passing programs)"
echo "$passed passed, $failed failed$([ "$skipped" -eq 0 ] || echo ", $skipped run by the plain build only")"
[ "$failed" -eq 0 ]
