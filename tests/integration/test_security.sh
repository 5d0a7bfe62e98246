#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Rows of the security matrix (docs/reliability.md) that no other test proves end to end:
# bundles a pass must refuse (foreign-signed, wrong product, wrong hardware, downgraded),
# an expired server certificate, a gzip bomb as a profile, and a password that must not
# leave the 0600 store during a resync (messages, status, world-readable files, the
# process list).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"

"$TOP/images/make-keys.sh" "$WORK/keys" test >/dev/null
"$TOP/images/make-keys.sh" "$WORK/other" test >/dev/null
K=$WORK/keys FW=$WORK/fw
mkdir -p "$FW/bundles"
head -c 300000 /dev/urandom >"$WORK/img"
pack() { # NAME KEYS PRODUCT VERSION HW
    "$UPGRADER" pack --product "$3" --version "$4" --hw "$5" --image "$WORK/img" --key "$2/signer.key" \
        --cert "$2/signer.pem" -o "$FW/bundles/$1.bundle" >/dev/null || fail "pack $1"
}
pack foreign "$WORK/other" UG-PHONE-1 2.0.0 1.0
pack product "$K" UG-PHONE-9 2.0.0 1.0
pack hardware "$K" UG-PHONE-1 2.0.0 7.0
pack downgrade "$K" UG-PHONE-1 0.9.0 1.0
pki_make "$WORK/pki" >/dev/null
nginx_start "$FW" || fail "nginx did not start"
H=http://127.0.0.1:$NGINX_HTTP_PORT

D=$WORK/dev
"$UPGRADER" --root "$D" init --version 1.0.0 --slot-size 1M --keyring "$K/ca.pem" --ca "$PKI/ca.pem" >/dev/null || fail "init"
"$UPGRADER" --root "$D" param set Downgrade_Rev_Limit 1.0.0 >/dev/null
BOOT=$("$BOOTCTL" --env "$D/bootenv" status --json | jq -c '{slots, booted}')
for b in foreign product hardware downgrade; do
    expect_exit 5 "a $b bundle is refused" "$UPGRADER" --root "$D" upgrade --no-reboot --force "$H/bundles/$b.bundle"
    echo "row: $b bundle | exit 5 | $ERR"
    [ "$("$BOOTCTL" --env "$D/bootenv" status --json | jq -c '{slots, booted}')" = "$BOOT" ] ||
        fail "$b bundle: the boot state changed"
    ok "$b bundle: nothing switched"
done

# ---- an expired server certificate, from the trusted CA ----
X=$WORK/expired
mkdir -p "$X"
: >"$X/index.txt"
echo 01 >"$X/serial"
printf '[ca]\ndefault_ca=d\n[d]\ndatabase=%s/index.txt\nnew_certs_dir=%s\nserial=%s/serial\ndefault_md=sha256\npolicy=p\ncopy_extensions=copy\n[p]\ncommonName=supplied\n' \
    "$X" "$X" "$X" >"$X/ca.cnf"
if openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$X/server.key" \
    -out "$X/server.csr" -subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null &&
    openssl ca -batch -config "$X/ca.cnf" -cert "$PKI/ca.pem" -keyfile "$PKI/ca.key" -in "$X/server.csr" \
        -out "$X/server.pem" -startdate 20200101000000Z -enddate 20200102000000Z >/dev/null 2>&1; then
    free_port XPORT
    cat >"$X/nginx.conf" <<EOF
daemon off;
$([ "$(id -u)" = 0 ] && echo "user root;")
pid $X/nginx.pid;
error_log $X/error.log;
events { worker_connections 8; }
http { access_log off; server { listen 127.0.0.1:$XPORT ssl; ssl_certificate $X/server.pem;
    ssl_certificate_key $X/server.key; root $FW; } }
EOF
    nginx -c "$X/nginx.conf" -p "$X" -e "$X/error.log" >"$X/out.log" 2>&1 &
    XPID=$!
    at_exit "stop_pid $XPID"
    wait_listening t "$XPID" "$XPORT" || fail "nginx with the expired certificate did not start: $(cat "$X/error.log")"
    expect_exit 3 "an expired certificate is refused" "$UPGRADER" --root "$D" resync "https://127.0.0.1:$XPORT/p.xml"
    assert_contains "it says the certificate failed" "$ERR" "certificate"
    echo "row: expired TLS certificate | exit 3 | $ERR"
else
    echo "SKIP: openssl ca could not make an expired certificate"
fi

# ---- a gzip bomb as a profile: 200 MiB of zeros in ~200 KiB ----
head -c $((200 << 20)) /dev/zero | gzip -1 >"$WORK/bomb.xml.gz"
rc=0
/usr/bin/time -f %M -o "$WORK/rss" "$UPGRADER" --root "$D" apply "$WORK/bomb.xml.gz" >"$WORK/.out" 2>"$WORK/.err" || rc=$?
[ "$rc" != 0 ] || fail "a gzip bomb was applied"
rss=$(tail -n 1 "$WORK/rss")
# Inflating all of it would take more than 200 MiB; ASan keeps freed buffers in quarantine,
# about doubling what the 64 MiB cap and the buffer's growth leave behind.
limit=200000
[[ "$UPGRADER" == *build-asan* ]] && limit=400000
[ "$rss" -lt "$limit" ] || fail "the gzip bomb took ${rss} KiB of memory (limit $limit)"
echo "row: gzip bomb profile | exit $rc | peak RSS ${rss} KiB | $(tail -n 1 "$WORK/.err")"
ok "a gzip bomb profile is refused (exit $rc) within ${rss} KiB"

# ---- a password in a resync rule stays in the store ----
PW=pw-$RANDOM-never-shown
"$UPGRADER" --root "$D" param set Profile_Rule "[--uid $BASIC_USER --pwd $PW] $H/private/none.xml" >/dev/null
"$UPGRADER" --root "$D" resync >"$WORK/r.out" 2>"$WORK/r.err" &
pid=$!
cmdline=$(tr '\0' ' ' </proc/$pid/cmdline 2>/dev/null || true)
wait $pid || true
assert_not_contains "not in the process list" "$cmdline" "$PW"
assert_not_contains "not in the messages" "$(cat "$WORK/r.out" "$WORK/r.err")" "$PW"
assert_not_contains "not in status" "$("$UPGRADER" --root "$D" status --json)" "$PW"
leaks=$(find "$D" -type f -perm -o+r -exec grep -l -- "$PW" {} + 2>/dev/null || true)
assert_eq "in no world-readable file of the state folder" "$leaks" ""
grep -q -- "$PW" "$D/params" || fail "the password is not in the store at all (the test proves nothing)"
[ "$(stat -c %a "$D/params")" = 600 ] || fail "the store is not 0600"
ok "the store that holds it is 0600"
finish
