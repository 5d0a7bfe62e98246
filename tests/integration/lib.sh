# SPDX-License-Identifier: MIT
# Shared helpers for the integration tests: a scratch folder removed on exit, assertions
# that say what they expected, and (in servers.sh) real servers on 127.0.0.1.
# Each test script: `. "$(dirname "$0")/lib.sh"`, then checks, then `finish`.
set -u
: "${UPGRADER:?run through tests/run.sh or make check}"
: "${BOOTCTL:?run through tests/run.sh or make check}"
TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/upgrader-test.XXXXXX")
CHECKS=0
CLEANUPS=()

on_exit() {
    local i
    for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${CLEANUPS[$i]}" || true; done
    rm -rf "$WORK"
}
trap on_exit EXIT

# Registers a shell command to run when the test exits (servers are stopped by PID).
at_exit() { CLEANUPS+=("$1"); }

fail() { echo "not ok - $*" >&2; exit 1; }
ok() { CHECKS=$((CHECKS + 1)); echo "ok $CHECKS - $*"; }

# expect_exit CODE DESCRIPTION command...: runs it, stdout in $OUT, stderr in $ERR.
expect_exit() {
    local want=$1 what=$2; shift 2
    local got=0
    "$@" >"$WORK/.out" 2>"$WORK/.err" || got=$?
    OUT=$(cat "$WORK/.out"); ERR=$(cat "$WORK/.err")
    [ "$got" = "$want" ] || fail "$what: exit $got, expected $want (stderr: $ERR) (stdout: $OUT)"
    ok "$what"
}
assert_eq() { [ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"; ok "$1"; }
assert_contains() { [[ "$2" == *"$3"* ]] || fail "$1: '$2' does not contain '$3'"; ok "$1"; }
assert_not_contains() { [[ "$2" != *"$3"* ]] || fail "$1: '$2' contains '$3'"; ok "$1"; }
assert_same_file() { cmp -s "$2" "$3" || fail "$1: $2 and $3 differ"; ok "$1"; }

# jqr FILTER [FILE]: one raw value out of JSON (jq is installed by make deps).
jqr() { jq -r "$@"; }

# hold_lock FILE SECONDS: an flock on FILE held for SECONDS by a background process (its PID
# in HOLDER); returns once the lock is really held, however slow the machine.
hold_lock() {
    flock -o "$1" sleep "$2" &
    HOLDER=$!
    local i
    for i in $(seq 1 500); do
        flock -n "$1" true 2>/dev/null || return 0
        sleep 0.01
    done
    fail "$1 was not locked within 5 s"
}

finish() { echo "ok: $CHECKS checks passed"; exit 0; }
