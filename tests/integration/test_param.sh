#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# upgrader param: get/set/list/export, the user's access levels, secrets never printed,
# export re-applied cleanly, docs/parameters.md in step with the table, and kill -9
# during store writes leaving the old set or the new one.
. "$(dirname "$0")/lib.sh"

DEV=$WORK/dev
U() { "$UPGRADER" --root "$DEV" "$@"; }
expect_exit 0 "init a device" U init
expect_exit 0 "factory default" U param get Profile_Rule
assert_eq "Profile_Rule default" "$OUT" '/$PSN.xml'
expect_exit 0 "alias name" U param get Resync_At
assert_eq "Resync_At is Resync_At__HHmm_" "$OUT" ""

# ---- admin set, validation ----
expect_exit 0 "admin sets a boolean by synonym" U param set Upgrade_Enable disable
expect_exit 0 "read it" U param get Upgrade_Enable
assert_eq "stored as No" "$OUT" "No"
cp "$DEV/params" "$WORK/before"
expect_exit 2 "invalid value" U param set Resync_Periodic "every hour"
assert_contains "message names the parameter" "$ERR" "Resync_Periodic: 'every hour' is not a delay list"
expect_exit 2 "malformed rule" U param set Upgrade_Rule "[--uid u] http://h/a.loads | /b.loads"
assert_contains "message has the column" "$ERR" "column 1: alternative 1 has no condition"
expect_exit 2 "unknown parameter" U param set No_Such_Param x
assert_contains "message" "$ERR" "No_Such_Param: no such parameter"
expect_exit 2 "unknown parameter get" U param get No_Such_Param
expect_exit 2 "missing value" U param set GPP_A
expect_exit 2 "bad --as" U param list --as root
expect_exit 2 "unknown subcommand" U param frob
assert_same_file "refused sets change nothing" "$WORK/before" "$DEV/params"

# ---- the user's access levels ----
expect_exit 1 "user set refused on ro" U param set Enable_Web_Server No --as user
assert_contains "says why" "$ERR" "Enable_Web_Server: the user may not change it (access ro)"
expect_exit 1 "user set refused on na" U param set Provision_Enable No --as user
assert_contains "says why" "$ERR" "Provision_Enable: the user may not change it (access na)"
expect_exit 1 "user get refused on na" U param get Provision_Enable --as user
expect_exit 0 "user get allowed on ro" U param get Enable_Web_Server --as user
assert_eq "value" "$OUT" "Yes"
assert_same_file "refused user sets change nothing" "$WORK/before" "$DEV/params"
expect_exit 0 "user sets an rw parameter" U param set User_Password "pa55word" --as user
printf '<flat-profile><Station_Name>x</Station_Name><GPP_F ua="rw">f</GPP_F><Enable_Web_Server ua="na"/></flat-profile>' >"$WORK/ua.xml"
expect_exit 0 "profile changes access levels" U apply "$WORK/ua.xml"
expect_exit 0 "user may now set GPP_F" U param set GPP_F "by user" --as user
expect_exit 1 "and no longer read Enable_Web_Server" U param get Enable_Web_Server --as user
expect_exit 0 "user list" U param list --as user
assert_contains "user list shows GPP_F" "$OUT" "GPP_F	rw	by user"
assert_not_contains "user list hides na parameters" "$OUT" "Provision_Enable"
assert_not_contains "user list hides the now-na parameter" "$OUT" "Enable_Web_Server"

# ---- secrets ----
expect_exit 0 "set secret GPP_SA" U param set GPP_SA "TopSecretKey42"
expect_exit 0 "set admin password" U param set Admin_Passwd "AdminPass99"
for cmd in "param list" "param list --as user" "param export" "param export --as user" "param get GPP_SA" \
           "param get Admin_Passwd" "param get User_Password --as user"; do
    # shellcheck disable=SC2086
    "$UPGRADER" --root "$DEV" $cmd >"$WORK/out" 2>&1 || true
    out=$(cat "$WORK/out")
    assert_not_contains "'$cmd' hides GPP_SA" "$out" "TopSecretKey42"
    assert_not_contains "'$cmd' hides Admin_Passwd" "$out" "AdminPass99"
    assert_not_contains "'$cmd' hides User_Password" "$out" "pa55word"
done
expect_exit 0 "list masks a set secret" U param list
assert_contains "masked" "$OUT" "GPP_SA	na	********"
expect_exit 0 "admin asks for a secret explicitly" U param get GPP_SA --show-secrets
assert_eq "secret value" "$OUT" "TopSecretKey42"
expect_exit 2 "the user may not ask for secrets" U param export --as user --show-secrets
expect_exit 0 "export with secrets for the admin" U param export --show-secrets
assert_contains "secret in the explicit export" "$OUT" "<GPP_SA ua=\"na\">TopSecretKey42</GPP_SA>"
# A profile cannot hand the user the admin password or a secret GPP, whatever its ua says.
printf '<flat-profile>\n<Admin_Passwd ua="rw"/>\n<GPP_SB ua="RO"/>\n<Admin_Password ua="rw"/>\n</flat-profile>\n' >"$WORK/grab.xml"
expect_exit 0 "a profile asks to open the secrets to the user" U apply "$WORK/grab.xml"
assert_contains "refusal said" "$OUT" "grab.xml line 2: Admin_Passwd: ua=\"rw\" refused: the user never gets more than na on a secret"
assert_contains "for GPP_SB too" "$OUT" "grab.xml line 3: GPP_SB: ua=\"ro\" refused"
expect_exit 1 "the user still cannot set the admin password" U param set Admin_Passwd "user-chosen" --as user
expect_exit 1 "nor read it" U param get Admin_Passwd --as user
expect_exit 1 "nor read GPP_SB" U param get GPP_SB --as user
expect_exit 0 "admin password unchanged" U param get Admin_Passwd --show-secrets
assert_eq "value" "$OUT" "AdminPass99"

# ---- export re-applies cleanly ----
U param export >"$WORK/export.xml" || fail "export"
xmllint_ok=1; command -v xmllint >/dev/null || xmllint_ok=0
[ $xmllint_ok = 0 ] || xmllint --noout "$WORK/export.xml" || fail "export is not well-formed XML"
cp "$DEV/params" "$WORK/before"
expect_exit 0 "export applies to the same device" U apply "$WORK/export.xml"
assert_contains "nothing changes" "$OUT" "0 changed"
assert_same_file "store identical after re-applying the export" "$WORK/before" "$DEV/params"
expect_exit 0 "secret kept" U param get GPP_SA --show-secrets
assert_eq "secret survives a masked export" "$OUT" "TopSecretKey42"
DEV2=$WORK/dev2
expect_exit 0 "a second device" "$UPGRADER" --root "$DEV2" init
U param export --show-secrets >"$WORK/full.xml"
expect_exit 0 "full export applies to another device" "$UPGRADER" --root "$DEV2" apply "$WORK/full.xml"
assert_same_file "the second device's store equals the first" "$DEV/params" "$DEV2/params"

# ---- docs/parameters.md is the table ----
"$UPGRADER" param doc >"$WORK/generated.md" || fail "param doc"
sed -n '/^<!-- BEGIN GENERATED/,/^<!-- END GENERATED/{/^<!--/!p}' "$TOP/docs/parameters.md" >"$WORK/documented.md"
assert_same_file "docs/parameters.md matches 'upgrader param doc'" "$WORK/generated.md" "$WORK/documented.md"

# ---- schema: the phone's programs ----
cat >"$DEV/schema.conf" <<'SCHEMA'
# the SIP stack's lines and speed dials
Line_Enable_{1..2}_  "Yes"  rw  bool
Speed_Dial_{2..3}_   ""     rw  text
SIP_Password_1_      ""     na  secret
SCHEMA
printf 'Line_Enable[2] ! "no";\nSpeed_Dial[3] ! "5551212";\nSIP_Password[1] "sip-secret";\n' >"$WORK/lines.txt"
expect_exit 0 "a profile configures the schema's parameters" U apply "$WORK/lines.txt"
expect_exit 0 "the SIP stack reads its value" U param get Line_Enable_2_
assert_eq "Line_Enable_2_" "$OUT" "No"
expect_exit 0 "list" U param list
assert_not_contains "schema secret hidden" "$OUT" "sip-secret"
echo 'Bad_Line "" rw float' >>"$DEV/schema.conf"
expect_exit 2 "a broken schema is refused with its line" U param list
assert_contains "names file and line" "$ERR" "schema.conf line 5: unknown type 'float'"
rm "$DEV/schema.conf"

# ---- kill -9 during store writes: the old set or the new set, never a third ----
{
    echo "Big_{1..3000}_ \"\" rw text"
} >"$DEV/schema.conf"
for v in a b; do
    { echo "<flat-profile>"; for i in $(seq 1 3000); do echo "<Big_${i}_>value-$v-$i</Big_${i}_>"; done
      echo "<GPP_A>$v</GPP_A></flat-profile>"; } >"$WORK/big-$v.xml"
done
expect_exit 0 "big profile a" U apply "$WORK/big-a.xml"
U param export --show-secrets >"$WORK/state-a.xml"
expect_exit 0 "big profile b" U apply "$WORK/big-b.xml"
U param export --show-secrets >"$WORK/state-b.xml"
cmp -s "$WORK/state-a.xml" "$WORK/state-b.xml" && fail "the two states must differ"
kills=0
for round in $(seq 1 30); do
    v=$([ $((round % 2)) = 0 ] && echo a || echo b)
    "$UPGRADER" --root "$DEV" apply "$WORK/big-$v.xml" >/dev/null 2>&1 &
    pid=$!
    # A random moment inside the apply (parse, validate, write, fsync, rename).
    sleep "0.0$((RANDOM % 3))$((RANDOM % 10))"
    kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
    wait "$pid" 2>/dev/null
    U param export --show-secrets >"$WORK/now.xml" 2>"$WORK/now.err" || fail "round $round: store unreadable: $(cat "$WORK/now.err")"
    if ! cmp -s "$WORK/now.xml" "$WORK/state-a.xml" && ! cmp -s "$WORK/now.xml" "$WORK/state-b.xml"; then
        fail "round $round: the store is neither the old nor the new set"
    fi
done
ok "30 kill -9 rounds ($kills applies killed before they ended): the store was always set a or set b"
expect_exit 0 "a write after the kills works" U param set GPP_B after-kills
leftover=$(find "$DEV" -name 'params.tmp.*' | wc -l)
assert_eq "stale temp files removed by the next write" "$leftover" "0"
finish
