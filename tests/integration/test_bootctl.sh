#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Drives the real bootctl through an upgrade that is rolled back, a good upgrade, bad usage,
# and damaged stores (one copy, both copies, a torn file), as a bootloader and an operator would.
. "$(dirname "$0")/lib.sh"

ENV=$WORK/bootenv
bc() { "$BOOTCTL" --env "$ENV" "$@"; }
json() { bc status --json | jqr "$1"; }

# A device made by `upgrader init` carries a boot state: A runs the version given.
expect_exit 0 "upgrader init makes a device" "$UPGRADER" --root "$WORK/dev" init --version 1.2.3
expect_exit 0 "its bootenv is readable" "$BOOTCTL" --env "$WORK/dev/bootenv" status --json
assert_eq "slot A holds the init version" "$(jqr .slots.A.version <<<"$OUT")" "1.2.3"
assert_eq "slot A booted" "$(jqr .booted <<<"$OUT")" "A"
assert_eq "slot B not bootable" "$(jqr .slots.B.bootable <<<"$OUT")" "false"
expect_exit 2 "init refuses a version too long to record" \
    "$UPGRADER" --root "$WORK/dev2" init --version "$(printf '1.%.0s' {1..40})"
assert_contains "and says why" "$ERR" "cannot be recorded"

# --- upgrade and rollback: B gets 2 tries, never reports good, the third boot is A ---
cp "$WORK/dev/bootenv" "$ENV"
expect_exit 0 "set-active B with 2 tries" bc set-active B --tries 2
assert_eq "B on trial" "$(json '.slots.B | "\(.priority) \(.tries) \(.successful)"')" "15 2 false"
assert_eq "A kept, at lower priority" "$(json '.slots.A | "\(.priority) \(.successful)"')" "14 true"
expect_exit 0 "first boot" bc boot
assert_eq "first boot takes B" "$OUT" "B"
assert_eq "one try used, stored" "$(json .slots.B.tries)" "1"
expect_exit 0 "current after the first boot" bc current
assert_eq "current is B" "$OUT" "B"
expect_exit 0 "second boot" bc boot
assert_eq "second boot takes B" "$OUT" "B"
assert_eq "no tries left" "$(json .slots.B.tries)" "0"
assert_eq "no fallback yet" "$(json .fallback)" "false"
expect_exit 0 "third boot" bc boot
assert_eq "third boot falls back to A" "$OUT" "A"
expect_exit 0 "status --json after the rollback" bc status --json
assert_eq "booted A" "$(jqr .booted <<<"$OUT")" "A"
assert_eq "fallback reported" "$(jqr .fallback <<<"$OUT")" "true"
assert_eq "B unbootable" "$(jqr .slots.B.bootable <<<"$OUT")" "false"
assert_eq "A still 1.2.3" "$(jqr .slots.A.version <<<"$OUT")" "1.2.3"
expect_exit 0 "plain status" bc status
assert_contains "plain status says fallback" "$OUT" "last boot: fallback"
expect_exit 0 "a fourth boot" bc boot
assert_eq "stays on A" "$OUT" "A"
assert_eq "still reported as a fallback until the agent acts" "$(json .fallback)" "true"
expect_exit 0 "mark-bad B" bc mark-bad B
expect_exit 0 "boot after mark-bad" bc boot
assert_eq "A, normally" "$(json '"\(.booted) \(.fallback)"')" "A false"

# --- a good upgrade: B marked good keeps booting without using tries ---
expect_exit 0 "set-active b (lower case), default tries" bc set-active b
assert_eq "default of 3 tries" "$(json .slots.B.tries)" "3"
expect_exit 0 "boot into B" bc boot
assert_eq "B" "$OUT" "B"
expect_exit 0 "mark-good" bc mark-good
gen_before=$(json '[.store.copies[].generation] | max')
for i in 1 2 3; do expect_exit 0 "boot $i of a good B" bc boot; assert_eq "B again" "$OUT" "B"; done
assert_eq "B successful" "$(json .slots.B.successful)" "true"
assert_eq "booting a good slot writes nothing" "$(json '[.store.copies[].generation] | max')" "$gen_before"

# --- no bootable slot: exit 1 and a message, state untouched ---
expect_exit 0 "mark-bad A" bc mark-bad A
expect_exit 0 "mark-bad B" bc mark-bad B
cp "$ENV" "$WORK/before"
expect_exit 1 "boot with no bootable slot" bc boot
assert_contains "says so" "$ERR" "no bootable slot"
assert_eq "prints no slot" "$OUT" ""
assert_same_file "store untouched" "$ENV" "$WORK/before"
expect_exit 1 "mark-good of a slot marked bad" bc mark-good
assert_contains "says why" "$ERR" "marked bad"

# --- bad usage: exit 2, one line, store untouched ---
expect_exit 0 "set-active A again" bc set-active A
cp "$ENV" "$WORK/before"
for args in "" "frobnicate" "set-active" "set-active C" "set-active B --tries 0" \
            "set-active B --tries 8" "set-active B --tries x" "set-active B --tries" \
            "set-active A B" "mark-bad" "mark-bad Z" "mark-bad A B" "status --yaml" \
            "current now" "boot twice" "mark-good A"; do
    # shellcheck disable=SC2086
    expect_exit 2 "bad usage: '$args'" bc $args
    [ "$(printf '%s' "$ERR" | grep -c .)" -ge 1 ] || fail "no message for '$args'"
done
expect_exit 2 "unknown option" "$BOOTCTL" --frob status
assert_contains "names it" "$ERR" "--frob"
expect_exit 2 "--env without a path" "$BOOTCTL" --env
assert_same_file "bad usage left the store as it was" "$ENV" "$WORK/before"
expect_exit 0 "--help" "$BOOTCTL" --help
assert_contains "--help lists set-active" "$OUT" "set-active A|B [--tries N]"
assert_contains "--help names --backend and the backends built in" "$OUT" "this build has: file"
expect_exit 0 "a command's --help" "$BOOTCTL" --env "$ENV" set-active --help
assert_contains "is the help" "$OUT" "set-active A|B [--tries N]"
assert_same_file "and changes nothing" "$ENV" "$WORK/before"

# --- the backend is chosen by name: file is the default, others are refused in one line ---
expect_exit 0 "--backend file" "$BOOTCTL" --backend file --env "$ENV" status --json
assert_eq "status names the backend" "$(jqr .backend <<<"$OUT")" "file"
assert_eq "and serves the same state" "$(jqr .slots.A.priority <<<"$OUT")" "$(json .slots.A.priority)"
expect_exit 0 "--backend=file after --env" "$BOOTCTL" --env "$ENV" --backend=file set-active B --tries 2
assert_eq "the change went to the file store" "$(json .slots.B.tries)" "2"
expect_exit 0 "plain status names the backend too" bc status
assert_contains "beside the store's path" "$OUT" "store $ENV (file): copy 0"
cp "$ENV" "$WORK/before"
for args in "--backend barebox status" "--backend efi set-active B" "--backend=custom boot" \
            "--backend File status" "--backend"; do
    # shellcheck disable=SC2086
    expect_exit 2 "unknown backend: '$args'" "$BOOTCTL" --env "$ENV" $args
    assert_eq "one line for '$args'" "$(printf '%s\n' "$ERR" | grep -c .)" 1
    assert_contains "naming the known backends" "$ERR" "(known: file, grub, uboot)"
done
assert_contains "and the one asked for" "$(bc --backend efi status 2>&1)" "unknown boot-state backend 'efi'"
expect_exit 2 "--backend= (empty)" "$BOOTCTL" --backend= --env "$ENV" status
assert_contains "says a name is needed" "$ERR" "--backend needs a name"
assert_same_file "a refused backend left the store as it was" "$ENV" "$WORK/before"
expect_exit 2 "after the command, --backend is no global option" bc status --backend file
expect_exit 0 "--tries=N form" bc set-active B --tries=7
assert_eq "7 tries" "$(json .slots.B.tries)" "7"

# --- one copy damaged: the other serves, the next write repairs ---
bc set-active A >/dev/null
serving=$(json .store.serving)
other=$((1 - serving))
printf '\x00\x01' | dd of="$ENV" bs=1 seek=$((serving * 4096 + 40)) conv=notrunc status=none
expect_exit 0 "status with the newest copy corrupt" bc status --json
assert_eq "the other copy serves" "$(jqr .store.serving <<<"$OUT")" "$other"
assert_eq "the corrupt copy is named" "$(jqr ".store.copies[$serving].status" <<<"$OUT")" "bad-crc"
assert_eq "older state: B still the top slot" "$(jqr .slots.B.priority <<<"$OUT")" "15"
expect_exit 0 "boot repairs the store" bc boot
assert_eq "both copies valid again" "$(json '[.store.copies[].valid] | all')" "true"

# --- a torn file (cut inside copy 1) still boots from copy 0 ---
bc set-active B --tries 3 >/dev/null
truncate -s 4200 "$ENV"
expect_exit 0 "status of a torn file" bc status --json
assert_eq "copy 1 missing" "$(jqr '.store.copies[1].status' <<<"$OUT")" "missing"
assert_eq "copy 0 serves" "$(jqr .store.serving <<<"$OUT")" "0"

# --- both copies bad: status says so, boot starts over on A with a warning ---
printf 'garbage!' | dd of="$ENV" bs=1 seek=0 conv=notrunc status=none
printf 'garbage!' | dd of="$ENV" bs=1 seek=4096 conv=notrunc status=none
expect_exit 1 "status with no valid copy" bc status
assert_contains "says so plainly" "$OUT" "NONE VALID"
assert_contains "one line on stderr" "$ERR" "no valid boot state"
expect_exit 1 "status --json with no valid copy" bc status --json
assert_eq "valid false" "$(jqr .valid <<<"$OUT")" "false"
assert_eq "copy 0 bad magic" "$(jqr '.store.copies[0].status' <<<"$OUT")" "bad-magic"
expect_exit 1 "current with no valid copy" bc current
expect_exit 1 "set-active refuses to guess" bc set-active B
expect_exit 0 "boot starts over" bc boot
assert_eq "on A" "$OUT" "A"
assert_contains "with a warning" "$ERR" "starting over from a fresh state that boots slot A"
assert_eq "the store is whole again" "$(json '[.store.copies[].valid] | all')" "true"
assert_eq "A successful" "$(json .slots.A.successful)" "true"

# --- missing store ---
expect_exit 1 "status of a missing store" "$BOOTCTL" --env "$WORK/none/bootenv" status
assert_contains "names the file" "$ERR" "$WORK/none/bootenv"
expect_exit 1 "boot cannot create in a missing folder" "$BOOTCTL" --env "$WORK/none/bootenv" boot
assert_contains "and says why" "$ERR" "No such file"

# --- changes wait for the store's lock; readers do not ---
# Shown by order, not by wall time (a loaded sanitizer build may take seconds to start a
# command): the readers return while the holder still holds the lock; a change made meanwhile
# has not reached the store while the lock is held, and is made once it is released.
hold_lock "$ENV.lock" 60 # released below by killing the holder
expect_exit 0 "status while another process holds the lock" bc status
expect_exit 0 "current too" bc current
kill -0 "$HOLDER" 2>/dev/null || fail "the holder ended before the readers returned"
ok "readers do not wait for the lock"
bc set-active B >"$WORK/setactive.out" 2>&1 &
SETTER=$!
sleep 1
kill -0 "$SETTER" 2>/dev/null || fail "set-active did not wait for the lock: $(cat "$WORK/setactive.out")"
[ "$(json .slots.B.priority)" != 15 ] || fail "set-active changed the store under the lock"
ok "set-active waits while the lock is held, the store unchanged"
pkill -P "$HOLDER" 2>/dev/null
kill "$HOLDER" 2>/dev/null
wait "$HOLDER" 2>/dev/null
wait "$SETTER" || fail "set-active failed once the lock was free: $(cat "$WORK/setactive.out")"
ok "set-active made its change once the lock was released"
assert_eq "and then made its change" "$(json .slots.B.priority)" 15
expect_exit 2 "bad usage is told before any lock is taken" "$BOOTCTL" --env "$WORK/none/bootenv" set-active C

finish
