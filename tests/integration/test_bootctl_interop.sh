#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The grub and uboot boot-state backends against the real tools: our grubenv read and changed
# by grub-editenv and the other way round, our U-Boot environment (redundant copy included)
# read and changed by fw_printenv/fw_setenv and the other way round, RAUC-made environments
# (hex counters) read right, and RAUC's custom-backend verbs.
. "$(dirname "$0")/lib.sh"

command -v grub-editenv >/dev/null || fail "grub-editenv missing (make deps installs grub-common)"
command -v fw_printenv >/dev/null || fail "fw_printenv missing (make deps installs libubootenv-tool)"
# This host's own kernel command line names no slot; each step says which one booted.
export UPGRADER_PROC_CMDLINE="quiet"

# --- grub ---
G=$WORK/grubenv
g() { "$BOOTCTL" --backend grub --env "$G" "$@"; }
gjson() { g status --json | jqr "$1"; }
genv() { grub-editenv "$G" list | sed -n "s/^$1=//p"; }

expect_exit 0 "grub: a fresh state (bootctl boot on no store)" g boot
assert_eq "grub: A boots" "$OUT" "A"
assert_eq "grub-editenv reads our copy 0: ORDER" "$(genv ORDER)" "A B"
assert_eq "grub-editenv reads A_OK" "$(genv A_OK)" "1"
assert_eq "grub-editenv reads copy 1 too" "$(grub-editenv "$G.1" list | sed -n 's/^B_OK=//p')" "0"
expect_exit 0 "grub: set-active B" g set-active B
assert_eq "ORDER puts B first" "$(genv ORDER)" "B A"
assert_eq "B_OK=1 B_TRY=0" "$(genv B_OK)$(genv B_TRY)" "10"
# GRUB's boot of B, as save_env would leave it: grub-editenv changes B_TRY in place.
expect_exit 0 "grub-editenv sets B_TRY=1 and the booted slot" \
    grub-editenv "$G" set B_TRY=1 UPGRADER_BOOTED=B
assert_eq "bootctl sees B booted" "$(gjson .booted)" "B"
assert_eq "B out of its try, not yet good" "$(gjson '.slots.B | "\(.bootable) \(.successful)"')" "false false"
assert_eq "the copy grub-editenv changed still serves" "$(gjson .store.serving)" "0"
expect_exit 0 "the kernel command line wins over the record" \
    env UPGRADER_PROC_CMDLINE="root=/dev/sda2 rauc.slot=A" "$BOOTCTL" --backend grub --env "$G" current
assert_eq "rauc.slot=A" "$OUT" "A"
expect_exit 0 "grub: mark-good (B booted)" g mark-good
assert_eq "B_TRY back to 0" "$(genv B_TRY)" "0"
assert_eq "a variable grub-editenv added is kept" "$(grub-editenv "$G" set saved_entry=x && g mark-bad A >/dev/null && genv saved_entry)" "x"
assert_eq "A marked bad: A_OK=0" "$(genv A_OK)" "0"
assert_eq "both copies sealed alike" "$(grub-editenv "$G.1" list | grep UPGRADER_SEAL)" "$(grub-editenv "$G" list | grep UPGRADER_SEAL)"

# An environment RAUC set up (grub-editenv only, no seal, no copy 1): B failed its try.
R=$WORK/rauc-grubenv
grub-editenv "$R" create
grub-editenv "$R" set ORDER="B A" A_OK=1 A_TRY=0 B_OK=1 B_TRY=1
r() { UPGRADER_PROC_CMDLINE="rauc.slot=A" "$BOOTCTL" --backend grub --env "$R" "$@"; }
expect_exit 0 "RAUC's grubenv reads" r status --json
assert_eq "A booted after B's failed try: a fallback" "$(jqr .fallback <<<"$OUT")" "true"
assert_eq "copy 1 missing" "$(jqr '.store.copies[1].status' <<<"$OUT")" "missing"
expect_exit 0 "RAUC verbs: get-primary" r get-primary
assert_eq "A is primary (B used its try)" "$OUT" "A"
expect_exit 0 "get-state B" r get-state B
assert_eq "B is bad" "$OUT" "bad"
expect_exit 0 "set-state B bad" r set-state B bad
expect_exit 0 "set-primary A" r set-primary A
assert_eq "RAUC's variables after our write" "$(grub-editenv "$R" list | grep -E '^(ORDER|A_OK|A_TRY|B_OK|B_TRY)=' | tr '\n' ' ')" \
    "ORDER=A B A_OK=1 A_TRY=0 B_OK=0 B_TRY=0 "
assert_eq "copy 1 now written" "$(r status --json | jqr '.store.copies[1].status')" "valid"
expect_exit 0 "get-current" r get-current
assert_eq "get-current says A" "$OUT" "A"
expect_exit 2 "set-state needs good or bad" r set-state A fine

# A block whose records GRUB reads unlike lines: a comment's escaped newline swallows the
# next line (ORDER=B A), and a line without '=' runs into the next (B_OK=0 is "stray\nB_OK").
# grub-editenv (GRUB's own reader) and bootctl must agree: A first, B still bootable.
Q=$WORK/odd-grubenv
printf '# GRUB Environment Block\nORDER=A B\n# a note that goes on \\\nORDER=B A\nA_OK=1\nA_TRY=0\nB_OK=1\nB_TRY=0\nstray\nB_OK=0\n' >"$Q"
head -c $((1024 - $(stat -c %s "$Q"))) /dev/zero | tr '\0' '#' >>"$Q"
assert_eq "grub-editenv: the comment swallowed ORDER=B A" "$(grub-editenv "$Q" list | grep -c '^ORDER=')" 1
assert_eq "grub-editenv: ORDER is A B" "$(grub-editenv "$Q" list | sed -n 's/^ORDER=//p')" "A B"
expect_exit 0 "bootctl reads the odd block" env UPGRADER_PROC_CMDLINE=rauc.slot=A "$BOOTCTL" --backend grub --env "$Q" status --json
assert_eq "bootctl agrees: A first (priority 15)" "$(jqr .slots.A.priority <<<"$OUT")" 15
assert_eq "bootctl agrees: B bootable (B_OK=0 belongs to another name)" "$(jqr .slots.B.bootable <<<"$OUT")" true

# --- uboot: a redundant environment in a file ---
U=$WORK/uboot.env
C=$WORK/fw_env.config
dd if=/dev/zero of="$U" bs=1k count=32 status=none
printf '%s 0x0000 0x4000\n%s 0x4000 0x4000\n' "$U" "$U" >"$C"
u() { "$BOOTCTL" --backend uboot --env "$C" "$@"; }
ujson() { u status --json | jqr "$1"; }
uenv() { fw_printenv -c "$C" -n "$1" 2>/dev/null; }
expect_exit 1 "uboot: no valid environment yet" u status
expect_exit 0 "uboot: a fresh state" u boot
assert_eq "uboot: A boots" "$OUT" "A"
assert_eq "fw_printenv reads BOOT_ORDER" "$(uenv BOOT_ORDER)" "A"
assert_eq "fw_printenv reads BOOT_A_LEFT" "$(uenv BOOT_A_LEFT)" "3"
expect_exit 0 "uboot: set-active B --tries 5" u set-active B --tries 5
assert_eq "BOOT_ORDER B A" "$(uenv BOOT_ORDER)" "B A"
assert_eq "BOOT_B_LEFT 5" "$(uenv BOOT_B_LEFT)" "5"
assert_eq "both copies valid" "$(ujson '[.store.copies[].status] | join(" ")')" "valid valid"
first=$(ujson .store.serving)
# U-Boot's boots of B, as its script leaves them: the counter in hex, written by fw_setenv.
expect_exit 0 "fw_setenv counts B down and records the boot" \
    fw_setenv -c "$C" BOOT_B_LEFT 4 UPGRADER_BOOTED B
assert_eq "fw_setenv wrote the other copy" "$(ujson .store.serving)" "$((1 - first))"
assert_eq "bootctl reads B booted, 4 left" "$(ujson '"\(.booted) \(.slots.B.tries)"')" "B 4"
expect_exit 0 "uboot: mark-good" u mark-good
assert_eq "mark-good gives the attempts back" "$(uenv BOOT_B_LEFT)" "3"
assert_eq "and clears the trial" "$(uenv UPGRADER_B_TRIAL)" "0"
# A RAUC-made environment: counters in hex above 9.
expect_exit 0 "fw_setenv writes RAUC's words" fw_setenv -c "$C" BOOT_ORDER "A B" BOOT_A_LEFT a BOOT_B_LEFT 0 UPGRADER_BOOTED A UPGRADER_A_TRIAL 1 UPGRADER_B_TRIAL
assert_eq "hex a = 10 boots left, shown as at most 7" "$(ujson .slots.A.tries)" "7"
assert_eq "B out of boots" "$(ujson .slots.B.bootable)" "false"
expect_exit 0 "uboot RAUC verbs: get-state A" u get-state A
assert_eq "A is good" "$OUT" "good"
# A cut copy: the other one serves, and the next store repairs it.
serving=$(ujson .store.serving)
printf 'XXXX' | dd of="$U" bs=1 seek=$((serving * 16384 + 8)) conv=notrunc status=none
assert_eq "the damaged copy is seen" "$(ujson ".store.copies[$serving].status")" "bad-crc"
assert_eq "fw_printenv falls back to the other copy too" "$(uenv BOOT_A_LEFT)" "3"
expect_exit 0 "uboot: set-primary B" u set-primary B
assert_eq "repaired: both valid" "$(ujson '[.store.copies[].status] | join(" ")')" "valid valid"
assert_eq "fw_printenv sees it" "$(uenv BOOT_ORDER)" "B A"

finish
