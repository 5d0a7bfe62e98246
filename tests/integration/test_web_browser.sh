#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The web pages in headless Chromium, driven through the DevTools protocol by
# tests/browser/pages.mjs (puppeteer-core, installed into tests/browser/node_modules by
# make deps) against a running daemon and the real nginx. Screenshots of each page stay in
# $BUILD/web-screenshots/ (docs/web.md shows them).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"
. "$(dirname "$0")/daemon.sh"

[ -d "$TOP/tests/browser/node_modules/puppeteer-core" ] ||
    fail "puppeteer-core is not installed: run make deps"
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || fail "no Chromium at ${CHROMIUM:-/usr/bin/chromium}: run make deps"
SHOTS=$TOP/${BUILD:-build}/web-screenshots
rm -rf "$SHOTS"
mkdir -p "$SHOTS"

"$TOP/images/make-keys.sh" "$WORK/keys" test >/dev/null
K=$WORK/keys
FW=$WORK/fw
mkdir -p "$FW/bundles" "$WORK/img"
# About 1 MB on the wire: 4 s through /crawl/ (256 kB/s), so the bar moves several times.
{ head -c 1048576 /dev/urandom; yes "release 1.5.0" | head -c 500000; } >"$WORK/img/1.5.0.img"
"$UPGRADER" pack --product UG-PHONE-1 --version 1.5.0 --hw 1.0 --image "$WORK/img/1.5.0.img" \
    --key "$K/signer.key" --cert "$K/signer.pem" --chunk-size 256K -o "$FW/bundles/1.5.0.bundle" >/dev/null ||
    fail "pack"
pki_make "$WORK/pki" >/dev/null
nginx_start "$FW" || fail "nginx did not start"
H=http://127.0.0.1:$NGINX_HTTP_PORT

D=$WORK/phone
ADMIN=admin-pw-$RANDOM
USERPW=user-pw-$RANDOM
"$UPGRADER" --root "$D" init --slot-size 4M --keyring "$K/ca.pem" >/dev/null || fail "init"
# GPP_P made user-writable, as a provider's profile would (ua="rw").
printf '<flat-profile><GPP_P ua="rw">factory</GPP_P></flat-profile>\n' >"$WORK/ua.xml"
"$UPGRADER" --root "$D" apply "$WORK/ua.xml" >/dev/null || fail "apply ua.xml"
for nv in "Resync_On_Reset No" "Resync_Periodic 0" "Profile_Rule $H/none.xml" \
    "Admin_Passwd $ADMIN" "User_Password $USERPW"; do
    set -- $nv
    "$UPGRADER" --root "$D" param set "$1" "$2" >/dev/null || fail "param set $nv"
done
daemon_start "$D" --listen 127.0.0.1:0
U=$(dstatus "$D" .web)

WEB_URL=$U SHOTS=$SHOTS ADMIN_PW=$ADMIN USER_PW=$USERPW DEV=$D \
    BUNDLE_URL="$H/crawl/bundles/1.5.0.bundle" \
    timeout 90 node "$TOP/tests/browser/pages.mjs" >"$WORK/node.log" 2>&1 ||
    fail "the browser test failed: $(sed 's/^/  | /' "$WORK/node.log")"
sed -n 's/^ok [0-9]* - /browser: /p' "$WORK/node.log" | while read -r line; do echo "$line"; done
n=$(sed -n 's/^ok: \([0-9]*\) checks passed$/\1/p' "$WORK/node.log")
[ -n "$n" ] || fail "the browser test did not finish: $(cat "$WORK/node.log")"
CHECKS=$((CHECKS + n))
for shot in status-before config-user config-refused status-during status-after log; do
    [ -s "$SHOTS/$shot.png" ] || fail "no screenshot $shot.png"
    ok "screenshot $SHOTS/$shot.png"
done
daemon_stop
finish
