# SPDX-License-Identifier: MIT
# Call state through the real program: overlapping `call start` from many processes are
# all counted, extra ends never go negative, and a device is needed.
. "$(dirname "$0")/lib.sh"
dev=$WORK/dev
expect_exit 0 "init a device" "$UPGRADER" --root "$dev" init
expect_exit 0 "idle at first" "$UPGRADER" --root "$dev" call status
assert_eq "no call active" "$OUT" "0 calls active"

pids=()
for i in $(seq 1 20); do "$UPGRADER" --root "$dev" call start >/dev/null & pids+=($!); done
for p in "${pids[@]}"; do wait "$p" || fail "a concurrent call start failed"; done
expect_exit 0 "status after 20 concurrent starts" "$UPGRADER" --root "$dev" call status
assert_eq "all 20 overlapping calls counted" "$OUT" "20 calls active"

for i in $(seq 1 25); do "$UPGRADER" --root "$dev" call end >/dev/null || fail "call end failed"; done
expect_exit 0 "status after more ends than starts" "$UPGRADER" --root "$dev" call status
assert_eq "count never goes below zero" "$OUT" "0 calls active"

expect_exit 2 "unknown action is bad usage" "$UPGRADER" --root "$dev" call hold
assert_contains "message names the action" "$ERR" "unknown call action 'hold'"
expect_exit 1 "no device folder" "$UPGRADER" --root "$WORK/none" call start
assert_contains "message says it is no device" "$ERR" "is not a device state folder"
expect_exit 2 "an empty --root is bad usage" "$UPGRADER" --root "" call status
assert_contains "message says what --root needs" "$ERR" "--root needs a folder"
finish
