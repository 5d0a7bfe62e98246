#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The corpus of real-world-shaped profiles (tests/data/profiles/, its README says what each
# stands for): every file applied to a simulated device of its model, its known values read
# back, and what a device cannot use ignored or defaulted with a note, never the file refused.
. "$(dirname "$0")/lib.sh"

P=$TOP/tests/data/profiles
# dev PRODUCT: a fresh device of that model with the corpus' line parameters; sets D.
n=0
dev() {
    n=$((n + 1))
    D=$WORK/dev$n
    "$UPGRADER" --root "$D" init --product "$1" >/dev/null || fail "init $1"
    cp "$P/schema.conf" "$D/schema.conf"
}
U() { "$UPGRADER" --root "$D" "$@"; }
val() { # NAME EXPECTED
    local got
    got=$(U param get "$1" --show-secrets) || fail "param get $1"
    assert_eq "$F: $1" "$got" "$2"
}
access() { # NAME EXPECTED: the user's access as param list shows it (absent: na)
    local got
    got=$(U param list --as user | awk -F'\t' -v n="$1" '$1 == n { print $2 }')
    assert_eq "$F: user access of $1" "${got:-na}" "$2"
}
apply() { # FILE [options]: must apply (exit 0)
    F=$1
    shift
    expect_exit 0 "$F applies" U apply "$P/$F" "$@"
}

# ---- FusionPBX ----
dev SPA504G
U param set Upgrade_Enable No >/dev/null
apply fusionpbx-spa504g.xml
assert_contains "$F: empty Upgrade_Enable restores the default" "$OUT" \
    "line 29: Upgrade_Enable: empty: the default 'Yes' restored"
assert_contains "$F: summary" "$OUT" "1 defaulted, 2 unknown ignored: Phone-UI-user-mode Extension_1_"
val Upgrade_Enable Yes
val Upgrade_Rule ""
val Admin_Passwd Sp4AdminPw
val Profile_Rule '[--uid prov --pwd Pr0vPw]http://pbx.example.net/app/provision/?mac=$MA'
val Log_Request_Msg '$PN $MAC -- Requesting resync $SCHEME://$SERVIP:$PORT$PATH'
val Resync_Error_Retry_Delay 300
val User_ID_1_ 1001
val Register_Expires_1_ 120
val Station_Name "Front desk"
assert_not_contains "$F: no secret in the output" "$OUT" "Sp4AdminPw"

dev SPA514G
apply fusionpbx-spa514g.xml
assert_contains "$F: summary" "$OUT" "3 defaulted, 1 ignored"
assert_contains "$F: the out-of-range integer" "$OUT" \
    "line 14: Register_Expires_1_: '70000000' is not an integer in 0..86400; ignored, the old value stays"
val Resync_On_Reset Yes
val Resync_Random_Delay 2
val HTTP_Report_Method POST
val Register_Expires_1_ 3600
val Upgrade_Rule '( $SWVER ne 7.6.2e )? http://pbx.example.net/fw/spa51x-7-6-2e.bin'

dev SPA112
apply fusionpbx-spa112.xml
assert_contains "$F: the router section is ignored whole" "$OUT" \
    "line 21: <router-configuration>: a section of 7 elements this device does not know; ignored"
val Time_Zone GMT-05:00
val User_ID_1_ 2001
val Line_Enable_2_ No
val Dial_Plan_1_ '(*xx|[3469]11|0|00|[2-9]xxxxxx|1xxx[2-9]xxxxxxS0|xxxxxxxxxxxx.)'

dev SPA122
apply fusionpbx-spa122.xml
assert_contains "$F: empty integer" "$OUT" "Register_Expires_2_: empty: the default '3600' restored"
val Protect_Factory_Reset Yes
val User_ID_2_ 2102
expect_exit 1 "$F: Protect_IVR_FactoryReset protects the device" U factory-reset

dev CP-8841-3PCC
apply fusionpbx-cp8841.xml
val Admin_Passwd Mpp8841Admin
val User_Password userpw99
val HTTP_User_Agent_Name '$VERSION ($MA)'
val Resync_At__HHmm_ ""
val Display_Name_1_ "Sales 1"
access Display_Name_1_ na
assert_eq "$F: init derived \$PSN" "$(U status --json | jqr .identity.psn)" 8841-3PCC
assert_not_contains "$F: no note" "$OUT" " line "

dev CP-8851-3PCC
apply fusionpbx-cp8851.xml
val Admin_Passwd Mpp8851Admin
val Report_to_Server "On Local Change"
val periodic_upload_to_server 7200
val HTTP_Report_Method PUT
val Speed_Dial_2 5551212
access Speed_Dial_2 rw

# ---- Wazo ----
dev SPA504G
apply wazo-spa-base.xml
val Profile_Rule_C '[--key WazoKey123] http://10.0.0.2:8667/$MA.xml.encrypted'
val Admin_Passwd wazo-admin
val Syslog_Server 10.0.0.2:514
val Auth_ID_1_ wazo1001
assert_contains "$F: nested section" "$OUT" "<router-configuration>: a section of 2 elements"

dev SPA122
apply wazo-spa-ata.xml
val Line_Enable_1_ Yes
val Line_Enable_2_ No
val Resync_Periodic 0
val Resync_Random_Delay 1
val User_ID_1_ ""
assert_contains "$F: unknown names counted" "$OUT" "unknown ignored: SPCP_Auto-detect Primary_DNS"

dev CP-7841-3PCC
apply wazo-cp7841.xml
val Upgrade_Rule http://10.0.0.2:8667/firmware/sip78xx.12-0-1MPP.loads
val Admin_Passwd wazo-mpp
val Resync_Periodic 14400
val Display_Name_1_ Bob

# ---- Elastix ----
dev SPA504G
apply elastix-spa-linksys.xml
assert_contains "$F: ua=\"ua\" keeps the access" "$OUT" \
    "line 8: Display_Name_1_: ua=\"ua\" not understood (ua is na, ro or rw; preserve-value y or n): the user's access stays as it was"
val Display_Name_1_ "Elastix 400"
access Display_Name_1_ rw
val Password_1_ elastix-secret
val Profile_Rule 'tftp://192.168.1.10/spa$MA.cfg'
val Resync_Periodic 2

dev SPA525G2
apply elastix-spa525g.xml
assert_contains "$F: both attributes named" "$OUT" "ua=\"ua\" preserve-value=\"maybe\" not understood"
access Station_Name rw
access User_ID_1_ na
access Speed_Dial_3 ro
expect_exit 0 "$F: ua=\"RW\" lets the user change Station_Name" U param set Station_Name mine --as user
expect_exit 1 "$F: ua=\"rO\" lets the user read only" U param set Speed_Dial_3 x --as user
val Display_Name_1_ "Conference room"

# ---- community zero-touch repositories ----
dev SPA303
apply community-ztp-spa303.txt
val Resync_Periodic 3600
val Resync_Random_Delay 2
val Profile_Rule_B '# https://old-prov.example.org/spa/$MA.xml'
val Upgrade_Rule '( $SWVER != 7.6.2 ) ? tftp://tftp.prov.example.org/spa50x-30x-762f.bin'
val User_ID_1_ 4001
access User_ID_1_ rw
access Password_1_ na
access Station_Name ro
access GPP_A rw
assert_not_contains "$F: nothing ignored" "$OUT" "ignored,"

dev SPA112
apply community-ztp-spa112.txt
assert_contains "$F: summary" "$OUT" "2 ignored"
assert_contains "$F: Resync_At 3:00" "$OUT" \
    "line 3: Resync_At__HHmm_: '3:00' is not a time HHmm from 0000 to 2400; ignored, the old value stays"
assert_contains "$F: a Yes/No that is neither" "$OUT" "line 10: Line_Enable_2_: 'maybe' is not Yes or No"
val Resync_At__HHmm_ ""
val Resync_Error_Retry_Delay 900
val Register_Expires_1_ 3600
val Protect_Factory_Reset Yes
val Line_Enable_2_ Yes

dev CP-8845-3PCC
apply community-ztp-cp8845.xml
val Profile_Rule '($PRVTMR ge 600)? [--post a] https://ztp.example.org/hello | https://ztp.example.org/cfg/$MA.xml'
val Profile_Rule_B '#https://legacy.example.org/cfg/$MA.xml'
val Profile_Rule_C 'gds://activate.example.org/$MA'
val Upgrade_Rule '($SWVER lt sip8845_65.12-0-1MPP-200)? /fw/sip8845_65.12-0-1MPP-200.loads'
val Resync_Trigger_1 '$UPGTMR gt 300 and $PRVTMR ge 600'
val GPP_A 'model=$PN&mac=$MA&ver=$SWVER'
assert_not_contains "$F: nothing ignored" "$OUT" "ignored,"
# The comment rule is skipped and the gds:// rule fails only when it is run.
expect_exit 0 "$F: a '#' rule is skipped" U resync '#https://legacy.example.org/cfg/$MA.xml'
assert_contains "$F: said so" "$OUT" "resync RULE: a comment, skipped"
expect_exit 2 "$F: gds:// fails when run" U resync 'gds://activate.example.org/$MA'
assert_contains "$F: says why" "$ERR" "unknown scheme 'gds' (tftp, http or https)"

dev ATA191-MPP
apply community-ata191.xml
val Admin_Passwd Ata191Admin
val Resync_On_Reset Yes
val Line_Enable_2_ Yes
assert_eq "$F: \$PSN of an ATA191" "$(U status --json | jqr .identity.psn)" 191
val Profile_Rule 'http://prov.example.org/ata/ata$PSN.cfg'

dev ATA192-MPP
apply community-ata192.xml
assert_contains "$F: the admin password stays closed" "$OUT" \
    "line 3: Admin_Passwd: ua=\"rw\" refused: the user never gets more than na on a secret"
assert_contains "$F: GPP_SA too" "$OUT" "line 4: GPP_SA: ua=\"ro\" refused"
val Admin_Passwd Ata192Admin
expect_exit 1 "$F: the user cannot read GPP_SA" U param get GPP_SA --as user
expect_exit 1 "$F: nor set the admin password" U param set Admin_Passwd mine1234 --as user
assert_not_contains "$F: no secret in the output" "$OUT" "ata-provisioning-key"

# ---- Cisco's guides ----
dev CP-8841-3PCC
apply cisco-mpp-guide-basic.xml
val GPP_A 12345678
val Resync_On_Reset Yes
val Profile_Rule_B ""
val Dial_Plan_1_ '(S0 <:18005551212>)'
access Dial_Plan_1_ ro
val Station_Name ""
access Station_Name rw
val Resync_Random_Delay 2
val Syslog_Identifier '$MAC'
assert_contains "$F: empty integer" "$OUT" "Resync_Random_Delay: empty: the default '2' restored"

dev CP-7841-3PCC
apply cisco-mpp-guide-rules.xml
val Profile_Rule '("$A" ne "Provisioned")? (Line_Enable_1_ = "No";)! https://p.tel.example.com/init-prov | https://p.tel.example.com/configs'
val Resync_Trigger_2 '$REGTMR1 gt 300'
val Custom_CA_Rule http://ca.example.com/custom-ca.pem
val Upgrade_Rule '($SWVER ge sip78xx.11-0-0MPP-7)? http://S.example.com/sip78xx.11-2-1MES-3.loads | http://S.example.com/sip78xx.11-0-0MPP-7.loads'

dev SPA504G
apply cisco-spa-guide-text.txt
val Line_Enable_1_ Yes
access Line_Enable_1_ rw
val Speed_Dial_2 5551212
access Speed_Dial_2 ro
access Proxy_1_ na
access GPP_A rw
val GPP_B 'with "quotes" and # hash'
val Profile_Rule 'tftp.callme.example.com/profile/$MA/spa962.cfg'

dev SPA504G
U param set GPP_A "/customer-account/SIP-number = /flat-profile/User_ID_1_ ;
/customer-account/SIP-password = /flat-profile/Password_1_ ;
/customer-account/display/label = /flat-profile/Display_Name_1_ ;" >/dev/null
expect_exit 4 "a foreign document without --alias is no profile" U apply "$P/cisco-spa-guide-alias.xml"
apply cisco-spa-guide-alias.xml --alias a
val User_ID_1_ 4085551234
val Password_1_ acct-secret
val Display_Name_1_ "Desk 7"

dev SPA504G
expect_exit 4 "the encrypted profile without its key" U apply "$P/cisco-spa-guide-secure.cfg"
apply cisco-spa-guide-secure.cfg --key SecretPhrase1234
val GPP_B 4f1c9a
val GPP_SA SecretPhrase1234
val Profile_Rule '[--key $SA] https://prov.example.com/secure/$B/$MA.cfg'
printf '<flat-profile><GPP_C>x</GPP_C></flat-profile>\n' >"$WORK/p.xml"
openssl enc -e -aes-256-cbc -pbkdf2 -k k -in "$WORK/p.xml" -out "$WORK/pbkdf2.cfg" 2>/dev/null ||
    fail "openssl -pbkdf2"
expect_exit 4 "a -pbkdf2 file" U apply "$WORK/pbkdf2.cfg" --key k
assert_contains "says what is supported" "$ERR" "files made with -pbkdf2 or -iter are not supported"
openssl enc -e -aes-256-cbc -nosalt -k k -in "$WORK/p.xml" -out "$WORK/nosalt.cfg" 2>/dev/null ||
    fail "openssl -nosalt"
expect_exit 4 "a -nosalt file" U apply "$WORK/nosalt.cfg" --key k
assert_contains "says what is supported" "$ERR" "a -nosalt file cannot be read"

count=$(ls "$P" | grep -vc -e README.md -e schema.conf)
[ "$count" -ge 20 ] || fail "the corpus has $count profiles, fewer than 20"
ok "the corpus has $count profiles"
finish
