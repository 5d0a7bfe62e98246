#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# upgrader plan as an operator runs it: a catalog signed by the real `openssl cms -sign`,
# checked against the device keyring; the hops printed; refusals with exit 5 and 7.
. "$(dirname "$0")/lib.sh"

"$TOP/images/make-keys.sh" "$WORK/keys" test >/dev/null
"$TOP/images/make-keys.sh" "$WORK/other" other >/dev/null
K=$WORK/keys
DEV=$WORK/dev
expect_exit 0 "init a device with the keyring" \
    "$UPGRADER" --root "$DEV" init --product UG-PHONE-1 --hwver 1.0 --keyring "$K/ca.pem"

CAT=$WORK/fw/catalog.json
mkdir -p "$WORK/fw"
cp "$TOP/manifests/demo-catalog.json" "$CAT"
sign_with() { # KEY CERT: openssl's own detached DER signature
    openssl cms -sign -binary -outform DER -in "$CAT" -signer "$2" -inkey "$1" -out "$CAT.sig"
}
sign_with "$K/signer.key" "$K/signer.pem"

expect_exit 0 "plan to latest through two stepping stones" \
    "$UPGRADER" --root "$DEV" plan --catalog "$CAT" --from 1.0.0 --to latest
assert_eq "three hops" "$(printf '%s\n' "$OUT" | wc -l)" 3
assert_eq "first hop" "$(printf '%s\n' "$OUT" | sed -n 1p)" "1.0.0 -> 1.5.0  $WORK/fw/bundles/ug-phone-1.5.0.bundle  1150000"
assert_contains "second hop" "$OUT" "1.5.0 -> 2.0.0  "
assert_contains "last hop" "$OUT" "2.0.0 -> 3.0.0  "

expect_exit 0 "plan --json" "$UPGRADER" --root "$DEV" plan --catalog "$CAT" --from 1.0.0 --to 3.0.0 --json
assert_eq "json hop count" "$(jqr '.hops | length' <<<"$OUT")" 3
assert_eq "json total" "$(jqr '.total_size' <<<"$OUT")" $((1150000 + 1300000 + 1400000))
assert_eq "json target" "$(jqr '.to' <<<"$OUT")" 3.0.0

expect_exit 0 "hardware 2.0 reaches 3.1.0" \
    "$UPGRADER" --root "$DEV" plan --catalog "$CAT" --from 2.0.0 --to latest --hw 2.0
assert_eq "two hops on rev 2.0" "$(printf '%s\n' "$OUT" | awk '{print $3}' | paste -sd,)" "3.0.0,3.1.0"

expect_exit 0 "already at the target" "$UPGRADER" --root "$DEV" plan --catalog "$CAT" --from 3.0.0 --to latest
assert_eq "no hops" "$OUT" ""

# No path: exit 7 with the reason.
expect_exit 7 "withdrawn target" "$UPGRADER" --root "$DEV" plan --catalog "$CAT" --from 2.0.0 --to 2.1.0
assert_contains "says withdrawn" "$ERR" "withdrawn"
expect_exit 7 "unknown target" "$UPGRADER" --root "$DEV" plan --catalog "$CAT" --from 2.0.0 --to 9.9.9
assert_contains "says unknown" "$ERR" "not in the catalog"
expect_exit 7 "wrong hardware" "$UPGRADER" --root "$DEV" plan --catalog "$CAT" --from 3.0.0 --to 3.1.0
assert_contains "says hardware" "$ERR" "hardware 1.0"
expect_exit 7 "nothing installs over 0.0.1" "$UPGRADER" --root "$DEV" plan --catalog "$CAT" --from 0.0.1 --to 3.0.0
assert_contains "says why" "$ERR" "no path from 0.0.1"

# Downgrades only within Downgrade_Rev_Limit (exit 5 otherwise).
expect_exit 5 "downgrade below the limit" \
    "$UPGRADER" --root "$DEV" plan --catalog "$CAT" --from 3.0.0 --to 1.5.0 --downgrade-limit 2.0.0
assert_contains "says downgrade" "$ERR" "Downgrade_Rev_Limit"
expect_exit 0 "downgrade within the limit" \
    "$UPGRADER" --root "$DEV" plan --catalog "$CAT" --from 3.0.0 --to 1.5.0 --downgrade-limit 1.0.0

# Signatures: tampered, unsigned, wrong signer, TLS-only certificate: exit 5, nothing used.
cp "$CAT" "$WORK/orig.json"
sed -i 's/"min_from": "1.5.0"/"min_from": "1.0.0"/' "$CAT"
expect_exit 5 "tampered catalog" "$UPGRADER" --root "$DEV" plan --catalog "$CAT" --from 1.0.0 --to latest
assert_eq "nothing printed" "$OUT" ""
cp "$WORK/orig.json" "$CAT"
mv "$CAT.sig" "$WORK/sig"
expect_exit 5 "unsigned catalog" "$UPGRADER" --root "$DEV" plan --catalog "$CAT" --from 1.0.0 --to latest
assert_contains "says not signed" "$ERR" "not signed"
sign_with "$WORK/other/signer.key" "$WORK/other/signer.pem"
expect_exit 5 "signed by another CA" "$UPGRADER" --root "$DEV" plan --catalog "$CAT" --from 1.0.0 --to latest
sign_with "$K/tls.key" "$K/tls.pem"
expect_exit 5 "signed with a TLS server certificate" "$UPGRADER" --root "$DEV" plan --catalog "$CAT" --from 1.0.0 --to latest
head -c 100 "$WORK/sig" > "$CAT.sig"
expect_exit 5 "garbage signature" "$UPGRADER" --root "$DEV" plan --catalog "$CAT" --from 1.0.0 --to latest

# upgrader sign makes what openssl verifies, and plan accepts.
expect_exit 0 "upgrader sign" "$UPGRADER" sign --key "$K/signer.key" --cert "$K/signer.pem" "$CAT"
openssl cms -verify -binary -inform DER -in "$CAT.sig" -content "$CAT" -CAfile "$K/ca.pem" -purpose any \
    -out /dev/null 2>/dev/null || fail "openssl does not verify upgrader sign's signature"
ok "openssl verifies upgrader sign"
expect_exit 0 "plan after upgrader sign" "$UPGRADER" --root "$DEV" plan --catalog "$CAT" --from 1.0.0 --to 2.0.0

# Broken catalogs, properly signed: bad input (exit 2) with the field named.
for f in "$TOP"/manifests/broken/*.json; do
    cp "$f" "$CAT"
    "$UPGRADER" sign --key "$K/signer.key" --cert "$K/signer.pem" "$CAT" >/dev/null
    case $(basename "$f") in
    cycles.json)
        expect_exit 0 "cycles: plan 1.0.0 -> 2.0.0" "$UPGRADER" --root "$DEV" plan --catalog "$CAT" --from 1.0.0 --to 2.0.0 --hw 1.0
        expect_exit 7 "cycles: self-pointing 4.0.0 unreachable" "$UPGRADER" --root "$DEV" plan --catalog "$CAT" --from 1.0.0 --to 4.0.0
        ;;
    *)
        expect_exit 2 "broken $(basename "$f")" "$UPGRADER" --root "$DEV" plan --catalog "$CAT" --from 1.0.0 --to latest
        ;;
    esac
done
cp "$TOP/manifests/broken/missing-min-from.json" "$CAT"
"$UPGRADER" sign --key "$K/signer.key" --cert "$K/signer.pem" "$CAT" >/dev/null
expect_exit 2 "field named in the message" "$UPGRADER" --root "$DEV" plan --catalog "$CAT" --from 1.0.0 --to latest
assert_contains "names release and field" "$ERR" "release 1 (2.0.0): 'min_from' is missing"

# Usage.
expect_exit 2 "no --catalog" "$UPGRADER" --root "$DEV" plan --to latest
expect_exit 2 "no device and no --hw" "$UPGRADER" --root "$WORK/nodev" plan --catalog "$CAT" --from 1.0.0 --to latest
expect_exit 2 "no device and no --from" "$UPGRADER" --root "$WORK/nodev" plan --catalog "$CAT" --hw 1.0 --to latest

# The device supplies what is not given: --from its running version, --hw its hardware,
# --to latest, and the stored Downgrade_Rev_Limit.
cp "$WORK/orig.json" "$CAT"
sign_with "$K/signer.key" "$K/signer.pem"
expect_exit 0 "plan with the device's defaults" "$UPGRADER" --root "$DEV" plan --catalog "$CAT"
assert_eq "from the running 1.0.0 to 3.0.0 in three hops" "$(awk '{print $1 ">" $3}' <<<"$OUT" | paste -sd,)" \
    "1.0.0>1.5.0,1.5.0>2.0.0,2.0.0>3.0.0"
expect_exit 0 "Downgrade_Rev_Limit stored" "$UPGRADER" --root "$DEV" param set Downgrade_Rev_Limit 2.0.0
expect_exit 5 "stored limit refuses the downgrade" "$UPGRADER" --root "$DEV" plan --catalog "$CAT" --from 3.0.0 --to 1.5.0
expect_exit 0 "an explicit limit overrides it" \
    "$UPGRADER" --root "$DEV" plan --catalog "$CAT" --from 3.0.0 --to 1.5.0 --downgrade-limit 1.0.0
"$UPGRADER" --root "$DEV" param set Downgrade_Rev_Limit "" >/dev/null

# A catalog URL is fetched with its .sig through the transport.
. "$TOP/tests/integration/servers.sh"
pki_make "$WORK/pki" >/dev/null
nginx_start "$WORK/fw" || fail "nginx did not start"
U=http://127.0.0.1:$NGINX_HTTP_PORT
expect_exit 0 "plan from a catalog URL" "$UPGRADER" --root "$DEV" plan --catalog "$U/catalog.json" --json
assert_eq "three hops from the URL" "$(jqr '.hops | length' <<<"$OUT")" 3
assert_eq "bundle resolved against the URL" "$(jqr '.hops[0].bundle' <<<"$OUT")" "$U/bundles/ug-phone-1.5.0.bundle"
expect_exit 0 "a #fragment is not sent" "$UPGRADER" --root "$DEV" plan --catalog "$U/catalog.json#2.0.0" --to 2.0.0
expect_exit 4 "404 catalog" "$UPGRADER" --root "$DEV" plan --catalog "$U/missing.json"
mv "$CAT.sig" "$WORK/sig.keep"
expect_exit 5 "catalog URL without .sig" "$UPGRADER" --root "$DEV" plan --catalog "$U/catalog.json"
assert_contains "says not signed" "$ERR" "not signed"
mv "$WORK/sig.keep" "$CAT.sig"
closed_port P
expect_exit 3 "unreachable catalog server" "$UPGRADER" --root "$DEV" plan --catalog "http://127.0.0.1:$P/catalog.json"
finish
