#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# upgrader apply: XML and text profiles, gzip, `openssl enc` encryption with both digests
# (gzip before encryption), and every kind of unusable file refused with exit 4 and the
# store left byte for byte as it was.
. "$(dirname "$0")/lib.sh"

DEV=$WORK/dev
expect_exit 0 "init a device" "$UPGRADER" --root "$DEV" init
store() { cat "$DEV/params"; }

cat >"$WORK/p.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<flat-profile>
  <GPP_A ua="ro">key-&amp;-value</GPP_A>
  <Resync_Periodic>3600+600</Resync_Periodic>
  <Resync_On_Reset>no</Resync_On_Reset>
  <Profile_Rule>[--key $A] tftp.callme.com/profile/$B/spa962.cfg</Profile_Rule>
  <Station_Name>unknown here</Station_Name>
</flat-profile>
XML

expect_exit 0 "plain XML profile applies" "$UPGRADER" --root "$DEV" apply "$WORK/p.xml"
assert_contains "apply names the unknown parameter" "$OUT" "1 unknown ignored: Station_Name"
expect_exit 0 "get GPP_A" "$UPGRADER" --root "$DEV" param get GPP_A
assert_eq "entity decoded" "$OUT" "key-&-value"
expect_exit 0 "get Resync_On_Reset" "$UPGRADER" --root "$DEV" param get Resync_On_Reset
assert_eq "boolean synonym stored as No" "$OUT" "No"

n=0
for md in md5 sha256; do
    for gz in plain gzip; do
        n=$((n + 1))
        # A fresh value each round proves the file was really read.
        sed "s/3600+600/$((100 * n)),7200/" "$WORK/p.xml" >"$WORK/in-$n.xml"
        src="$WORK/in-$n.xml"
        if [ $gz = gzip ]; then gzip -9 -c "$src" >"$src.gz"; src="$src.gz"; fi
        openssl enc -e -aes-256-cbc -md $md -k "SecretPhrase1234" -in "$src" -out "$WORK/p-$n.cfg" 2>/dev/null \
            || fail "openssl enc -md $md"
        expect_exit 0 "$gz profile encrypted with -md $md applies" \
            "$UPGRADER" --root "$DEV" apply "$WORK/p-$n.cfg" --key SecretPhrase1234
        expect_exit 0 "read back" "$UPGRADER" --root "$DEV" param get Resync_Periodic
        assert_eq "value from the -md $md $gz profile" "$OUT" "$((100 * n)),7200"
    done
done
# The exact documented form (no -md: the tool's default digest) and a gzip'd plain profile.
openssl enc -e -aes-256-cbc -k MyOwnSecret -in "$WORK/p.xml" -out "$WORK/basic.cfg" 2>/dev/null
expect_exit 0 "default-digest openssl enc profile" "$UPGRADER" --root "$DEV" apply "$WORK/basic.cfg" --key MyOwnSecret
gzip -c "$WORK/p.xml" >"$WORK/p.xml.gz"
expect_exit 0 "gzip profile without encryption" "$UPGRADER" --root "$DEV" apply "$WORK/p.xml.gz"

# A text-form profile with indices and access marks.
cat >"$WORK/t.txt" <<'TXT'
# SPA style
GPP_B ! "d1r3ct0ry" ;
GPP_C ? "read-only for the user";
Upgrade_Rule ( $SWVER != 7.6.2 ) ? tftp://10.0.0.1/spa50x-30x-762f.bin;
Line_Enable[1] ! "Yes";
TXT
expect_exit 0 "text profile applies" "$UPGRADER" --root "$DEV" apply "$WORK/t.txt"
assert_contains "bracket index named as _1_" "$OUT" "Line_Enable_1_"
expect_exit 0 "user reads the ! parameter" "$UPGRADER" --root "$DEV" param get GPP_B --as user
assert_eq "GPP_B" "$OUT" "d1r3ct0ry"
expect_exit 0 "rule stored" "$UPGRADER" --root "$DEV" param get Upgrade_Rule
assert_eq "Upgrade_Rule" "$OUT" "( \$SWVER != 7.6.2 ) ? tftp://10.0.0.1/spa50x-30x-762f.bin"

# ---- refusals: exit 4, store unchanged ----
store >"$WORK/before"
refused() { # description expected-message-part command...
    local what=$1 msg=$2; shift 2
    expect_exit 4 "$what" "$@"
    assert_contains "$what: message" "$ERR" "$msg"
    store >"$WORK/after"
    assert_same_file "$what: store unchanged" "$WORK/before" "$WORK/after"
}
refused "wrong key (md5 file)" "wrong key?" "$UPGRADER" --root "$DEV" apply "$WORK/p-2.cfg" --key WrongPhrase
refused "wrong key (sha256 file)" "wrong key?" "$UPGRADER" --root "$DEV" apply "$WORK/p-4.cfg" --key secretphrase1234
refused "encrypted but no key" "give its key (--key)" "$UPGRADER" --root "$DEV" apply "$WORK/p-1.cfg"
size=$(stat -c %s "$WORK/p-3.cfg")
head -c $((size - 7)) "$WORK/p-3.cfg" >"$WORK/trunc.cfg"
refused "truncated encrypted file" "truncated" "$UPGRADER" --root "$DEV" apply "$WORK/trunc.cfg" --key SecretPhrase1234
head -c $((size - 16)) "$WORK/p-3.cfg" >"$WORK/trunc16.cfg"
refused "encrypted file cut at a block boundary" "$WORK/trunc16.cfg" \
    "$UPGRADER" --root "$DEV" apply "$WORK/trunc16.cfg" --key SecretPhrase1234
gzip -c "$WORK/p.xml" | head -c 60 >"$WORK/trunc.gz"
refused "truncated gzip" "gzip data is truncated" "$UPGRADER" --root "$DEV" apply "$WORK/trunc.gz"
head -c 150 "$WORK/p.xml" >"$WORK/trunc.xml"
refused "truncated XML" "not well-formed XML" "$UPGRADER" --root "$DEV" apply "$WORK/trunc.xml"
cp "$UPGRADER" "$WORK/binary"
refused "a program is not a profile" "binary data, not a profile" "$UPGRADER" --root "$DEV" apply "$WORK/binary"
printf '<html><body><h1>404 Not Found</h1></body></html>\n' >"$WORK/404.html"
refused "an HTML page is not a profile" "without a <flat-profile>" "$UPGRADER" --root "$DEV" apply "$WORK/404.html"
head -c 4096 /dev/urandom >"$WORK/random.bin"
openssl enc -e -aes-256-cbc -k SecretPhrase1234 -in "$WORK/random.bin" -out "$WORK/random.cfg" 2>/dev/null
refused "encrypted non-profile with the right key" "cannot decrypt" \
    "$UPGRADER" --root "$DEV" apply "$WORK/random.cfg" --key SecretPhrase1234
refused "missing file" "cannot open" "$UPGRADER" --root "$DEV" apply "$WORK/nope.xml"

# ---- a value the device cannot use costs that value, never the file ----
cat >"$WORK/bad.xml" <<'XML'
<flat-profile>
  <GPP_D>does change</GPP_D>
  <Resync_Random_Delay>70000</Resync_Random_Delay>
  <GPP_E>changes too</GPP_E>
</flat-profile>
XML
gzip -c "$WORK/bad.xml" >"$WORK/bad.xml.gz"
openssl enc -e -aes-256-cbc -md md5 -k k1 -in "$WORK/bad.xml.gz" -out "$WORK/bad.cfg" 2>/dev/null
expect_exit 0 "one invalid value, encrypted and gzip'd: the rest applies" \
    "$UPGRADER" --root "$DEV" apply "$WORK/bad.cfg" --key k1
assert_contains "summary" "$OUT" "applied $WORK/bad.cfg: 2 parameters, 2 changed, 1 ignored"
assert_contains "the ignored value, its line and why" "$OUT" \
    "$WORK/bad.cfg line 3: Resync_Random_Delay: '70000' is not an integer in 0..65535; ignored, the old value stays"
expect_exit 0 "get GPP_E" "$UPGRADER" --root "$DEV" param get GPP_E
assert_eq "GPP_E applied" "$OUT" "changes too"
expect_exit 0 "get Resync_Random_Delay" "$UPGRADER" --root "$DEV" param get Resync_Random_Delay
assert_eq "the old value stays" "$OUT" "2"
printf 'Profile_Rule "( 1 eq 1 )? /a | /b | /c";\nGPP_F "f";\n' >"$WORK/badrule.txt"
expect_exit 0 "malformed rule value ignored" "$UPGRADER" --root "$DEV" apply "$WORK/badrule.txt"
assert_contains "says why, with the line" "$OUT" "badrule.txt line 1: Profile_Rule: '( 1 eq 1 )? /a | /b | /c' is not a valid rule: column 18: alternative 2 has no condition"
printf '<flat-profile>\n<GPP_A ua="admin">x</GPP_A></flat-profile>\n' >"$WORK/badua.xml"
expect_exit 0 "unknown ua: the value applies, the access stays" "$UPGRADER" --root "$DEV" apply "$WORK/badua.xml"
assert_contains "note" "$OUT" "badua.xml line 2: GPP_A: ua=\"admin\" not understood"
store >"$WORK/before"

expect_exit 2 "apply without a file" "$UPGRADER" --root "$DEV" apply
expect_exit 2 "apply with an unknown option" "$UPGRADER" --root "$DEV" apply "$WORK/p.xml" --bogus
expect_exit 1 "apply to a folder that is no device" "$UPGRADER" --root "$WORK/none" apply "$WORK/p.xml"
finish
