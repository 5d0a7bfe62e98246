#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The transport (upgrader/net/fetch*.c) through its test drivers fetch_tool and engine_tool against
# real servers on 127.0.0.1: nginx (HTTP, HTTPS, client certificates), tftpd-hpa, Digest and
# stalling servers, and an nginx of its own that logs which connection carried each request.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"

F=$TOOLS/fetch_tool
E=$TOOLS/engine_tool
[ -x "$F" ] && [ -x "$E" ] || fail "$F or $E not built (make test builds tests/tools)"

pki_make "$WORK/pki" CP-8841-3PCC 88012BA01234 000e08abcdef
WWW=$WORK/www
mkdir -p "$WWW"
echo "hello from the provisioning server" >"$WWW/hello.txt"
head -c 3000000 /dev/urandom >"$WWW/big.bin"
nginx_start "$WWW"
tftpd_start "$WWW"
TFTP=$TFTP_PORT
tftpd_start "$WWW" --refuse blksize
TFTP_NOOPT=$TFTP_PORT
digest_server_start "$WWW" digestuser digest-secret
stall_server_start
closed_port CLOSED
HTTP=http://127.0.0.1:$NGINX_HTTP_PORT
HTTPS=https://127.0.0.1:$NGINX_HTTPS_PORT
CA=(--ca "$PKI/ca.pem")
DEVICE=(--cert "$PKI/device.pem" --key "$PKI/device.key")
OUTF=$WORK/out

# field NAME: one key=value of the last fetch_tool run's result.
field() { sed -n "s/^$1=//p" <<<"$OUT" | head -n 1; }
log_lines() { wc -l <"$NGINX_ACCESS_LOG"; }

# --- HTTP, HTTPS, client certificates -----------------------------------------------------
rm -f "$OUTF"
expect_exit 0 "HTTP GET" "$F" --ua-product CP-8841-3PCC --ua-version 11.0.1 \
    --ua-serial 88012BA01234 --ua-mac 000e08abcdef "$HTTP/hello.txt" "$OUTF"
assert_same_file "HTTP body arrives intact" "$OUTF" "$WWW/hello.txt"
assert_eq "HTTP status" "$(field status)" 200
assert_eq "HTTP reason" "$(field reason)" ok
[ -n "$(field etag)" ] && [ -n "$(field last_modified)" ] || fail "ETag/Last-Modified missing: $OUT"
ok "ETag and Last-Modified reported"
assert_eq "server address reported" "$(field server)" "127.0.0.1:$NGINX_HTTP_PORT"
assert_contains "User-Agent in the phones' form: product, version and MAC" "$(tail -n 1 "$NGINX_ACCESS_LOG")" \
    '"Cisco-CP-8841-3PCC/11.0.1 (000e08abcdef)"'

expect_exit 0 "HTTPS GET with the device CA" "$F" "${CA[@]}" "$HTTPS/big.bin" "$OUTF"
assert_same_file "HTTPS body arrives intact" "$OUTF" "$WWW/big.bin"
expect_exit 0 "HTTPS by host name localhost" "$F" "${CA[@]}" \
    "https://localhost:$NGINX_HTTPS_PORT/hello.txt" "$OUTF"
expect_exit 0 "HTTPS with an extra CA (Custom_CA_Rule) beside an unrelated device CA" \
    "$F" --ca "$PKI/client-ca.pem" --extra-ca "$PKI/ca.pem" "$HTTPS/hello.txt" "$OUTF"
expect_exit 3 "HTTPS against the system bundle rejects the test CA" "$F" "$HTTPS/hello.txt" "$OUTF"
assert_eq "system bundle: reason" "$(field reason)" "certificate verify failed"

expect_exit 0 "client-certificate server accepts the device certificate" \
    "$F" "${CA[@]}" "${DEVICE[@]}" "https://127.0.0.1:$NGINX_MTLS_PORT/hello.txt" "$OUTF"
assert_same_file "client-certificate body" "$OUTF" "$WWW/hello.txt"
assert_contains "server saw the device subject" "$(tail -n 1 "$NGINX_ACCESS_LOG")" \
    '"CN=000e08abcdef,L=88012BA01234,OU=CP-8841-3PCC"'
# nginx finishes the handshake and answers 400 when no certificate came: the server answered.
expect_exit 4 "client-certificate server without the device certificate" \
    "$F" "${CA[@]}" "https://127.0.0.1:$NGINX_MTLS_PORT/hello.txt" "$OUTF"
assert_eq "no client certificate: status" "$(field status)" 400
assert_eq "no client certificate: not a file-not-found" "$(field not_found)" 0

# --- TFTP ---------------------------------------------------------------------------------
expect_exit 0 "TFTP GET" "$F" "tftp://127.0.0.1:$TFTP/hello.txt" "$OUTF"
assert_same_file "TFTP body" "$OUTF" "$WWW/hello.txt"
assert_eq "TFTP has no HTTP status" "$(field status)" 0
expect_exit 0 "URL without a scheme goes over TFTP" "$F" "127.0.0.1:$TFTP/hello.txt" "$OUTF"
assert_eq "scheme-less URL became tftp://" "$(field url)" "tftp://127.0.0.1:$TFTP/hello.txt"
assert_same_file "scheme-less body" "$OUTF" "$WWW/hello.txt"
expect_exit 0 "TFTP with block size 8192 negotiated" "$F" --blksize 8192 \
    "tftp://127.0.0.1:$TFTP/big.bin" "$OUTF"
assert_same_file "TFTP 8192-byte blocks" "$OUTF" "$WWW/big.bin"
# If libcurl kept expecting 8192-byte blocks, the first 512-byte block would look like the
# last one and the file would end after 512 bytes.
expect_exit 0 "TFTP server refusing blksize: fallback to 512" "$F" --blksize 8192 \
    "tftp://127.0.0.1:$TFTP_NOOPT/big.bin" "$OUTF"
assert_same_file "TFTP fallback body" "$OUTF" "$WWW/big.bin"
# 512-byte blocks: block numbers wrap past 65535 after 32 MiB.
head -c $((33 * 1024 * 1024 + 777)) /dev/urandom >"$WWW/huge.bin"
expect_exit 0 "TFTP over 32 MiB (block-number rollover)" "$F" \
    "tftp://127.0.0.1:$TFTP/huge.bin" "$OUTF"
assert_same_file "TFTP rollover body" "$OUTF" "$WWW/huge.bin"
rm -f "$WWW/huge.bin"

# --- credentials, POST, PUT ---------------------------------------------------------------
expect_exit 0 "HTTP Basic credentials" "$F" --user "$BASIC_USER" --password "$BASIC_PASS" \
    "$HTTP/private/hello.txt" "$OUTF"
assert_same_file "Basic body" "$OUTF" "$WWW/hello.txt"
expect_exit 4 "Basic location without credentials" "$F" "$HTTP/private/hello.txt" "$OUTF"
assert_eq "401 reason" "$(field reason)" "access denied (http 401)"
expect_exit 4 "wrong password in the URL" "$F" \
    "http://$BASIC_USER:not-the-pw-4711@127.0.0.1:$NGINX_HTTP_PORT/private/hello.txt" "$OUTF"
assert_not_contains "password not in the message" "$ERR" "not-the-pw-4711"
assert_not_contains "password not in the result" "$OUT" "not-the-pw-4711"
assert_contains "message names the URL without credentials" "$ERR" \
    "http://127.0.0.1:$NGINX_HTTP_PORT/private/hello.txt"

expect_exit 0 "HTTP Digest credentials" "$F" --user digestuser --password digest-secret \
    "http://127.0.0.1:$DIGEST_PORT/hello.txt" "$OUTF"
assert_same_file "Digest body" "$OUTF" "$WWW/hello.txt"
assert_contains "server checked a Digest answer" "$(cat "$DIGEST_LOG")" "auth=digest result=ok"
digest_server_start "$WWW" digestuser digest-secret sha256
expect_exit 0 "HTTP Digest with SHA-256" "$F" --user digestuser --password digest-secret \
    "http://127.0.0.1:$DIGEST_PORT/hello.txt" "$OUTF"
assert_contains "SHA-256 server checked a Digest answer" "$(cat "$DIGEST_LOG")" "auth=digest result=ok"
expect_exit 4 "Digest server with a wrong password" "$F" --user digestuser --password wrong \
    "http://127.0.0.1:$DIGEST_PORT/hello.txt" "$OUTF"
assert_eq "Digest refusal status" "$(field status)" 401

expect_exit 0 "POST body" "$F" --post 'mac=000e08abcdef&event=resync' "$HTTP/post" "$OUTF"
assert_contains "server received the POST body" "$(cat "$NGINX_POST_LOG")" \
    "POST /post application/x-www-form-urlencoded mac=000e08abcdef&event=resync"
printf 'report line 1\nreport line 2\n' >"$WORK/report.txt"
expect_exit 0 "PUT upload" "$F" --put "$WORK/report.txt" "$HTTP/upload/reports/r1.txt" "$OUTF"
assert_same_file "PUT body stored by the server" "$NGINX_UPLOAD_DIR/reports/r1.txt" "$WORK/report.txt"
expect_exit 2 "POST over TFTP is refused" "$F" --post x "tftp://127.0.0.1:$TFTP/hello.txt" "$OUTF"

# --- redirects ----------------------------------------------------------------------------
expect_exit 0 "redirect followed" "$F" "$HTTP/redirect" "$OUTF"
assert_eq "effective URL after the redirect" "$(field url)" "$HTTP/hello.txt"
assert_same_file "redirected body" "$OUTF" "$WWW/hello.txt"
expect_exit 4 "redirect to ftp:// refused" "$F" "$HTTP/redirect-ftp" "$OUTF"
assert_eq "redirect-ftp reason" "$(field reason)" "redirect refused"
expect_exit 4 "redirect loop stops" "$F" "$HTTP/loop" "$OUTF"
assert_eq "loop reason" "$(field reason)" "too many redirects"
expect_exit 4 "redirect out of Restricted_Access_Domains refused" "$F" --restrict 127.0.0.1 \
    "$HTTP/redirect-away" "$OUTF"
assert_contains "redirect refusal names the host" "$ERR" "'localhost' is not in Restricted_Access_Domains"
assert_contains "the refused target was never requested" "$(tail -n 1 "$NGINX_ACCESS_LOG")" \
    '"GET /redirect-away HTTP/1.1" 302'

# --- each error class -----------------------------------------------------------------------
expect_exit 3 "unknown host" "$F" "http://no-such-host.invalid/hello.txt" "$OUTF"
assert_eq "unknown host reason" "$(field reason)" "host not found"
expect_exit 3 "closed port over HTTP" "$F" "http://127.0.0.1:$CLOSED/hello.txt" "$OUTF"
assert_eq "closed port reason" "$(field reason)" "connection refused"
expect_exit 3 "closed port over TFTP (no answer)" "$F" --timeout 2000 \
    "tftp://127.0.0.1:$CLOSED/hello.txt" "$OUTF"
assert_eq "silent TFTP reason" "$(field reason)" "timed out"
expect_exit 3 "stalling server: low-speed abort" "$F" --low-speed-time 2 \
    "http://127.0.0.1:$STALL_PORT/hello.txt" "$OUTF"
assert_eq "stall reason" "$(field reason)" "timed out"
expect_exit 3 "stalling server: overall timeout" "$F" --low-speed-time 0 --timeout 1500 \
    "http://127.0.0.1:$STALL_PORT/hello.txt" "$OUTF"
expect_exit 4 "404 over HTTP" "$F" "$HTTP/missing.cfg" "$OUTF"
assert_eq "HTTP 404 is file-not-found" "$(field not_found)" 1
assert_eq "HTTP 404 reason" "$(field reason)" "file not found"
expect_exit 4 "410 over HTTP" "$F" "$HTTP/gone" "$OUTF"
assert_eq "HTTP 410 is file-not-found" "$(field not_found)" 1
expect_exit 4 "file not found over TFTP" "$F" "tftp://127.0.0.1:$TFTP/missing.cfg" "$OUTF"
assert_eq "TFTP error 1 is file-not-found" "$(field not_found)" 1
expect_exit 4 "HTTP 500" "$F" "$HTTP/error500" "$OUTF"
assert_eq "500 is not file-not-found" "$(field not_found)" 0
assert_eq "500 reason" "$(field reason)" "http error 500"
expect_exit 3 "untrusted certificate" "$F" "${CA[@]}" \
    "https://127.0.0.1:$NGINX_UNTRUSTED_PORT/hello.txt" "$OUTF"
assert_eq "untrusted reason" "$(field reason)" "certificate verify failed"
expect_exit 3 "certificate for another name" "$F" "${CA[@]}" \
    "https://127.0.0.1:$NGINX_WRONGNAME_PORT/hello.txt" "$OUTF"
assert_contains "wrong-name message" "$ERR" "certificate verify failed"
expect_exit 1 "missing CA file is a local problem" "$F" --ca "$WORK/nothing.pem" \
    "$HTTPS/hello.txt" "$OUTF"

# Refused before any packet: nginx logs nothing, and no DNS is needed for a refused name.
before=$(log_lines)
expect_exit 2 "host outside Restricted_Access_Domains" "$F" --restrict "example.com, provisioning.example.net" \
    "$HTTP/hello.txt" "$OUTF"
assert_eq "restricted reason" "$(field reason)" "restricted domain"
assert_eq "no request reached the server" "$(log_lines)" "$before"
expect_exit 0 "listed host passes" "$F" --restrict "example.com,localhost" \
    "http://localhost:$NGINX_HTTP_PORT/hello.txt" "$OUTF"
expect_exit 2 "unsupported scheme" "$F" "ftp://127.0.0.1/hello.txt" "$OUTF"
expect_exit 2 "URL without a host" "$F" "http://:80/hello.txt" "$OUTF"

# --- size limit -----------------------------------------------------------------------------
expect_exit 4 "size limit over HTTP" "$F" --max-size 100000 "$HTTP/big.bin" "$OUTF"
assert_eq "size limit reason" "$(field reason)" "file too large"
expect_exit 4 "size limit over TFTP" "$F" --max-size 100000 "tftp://127.0.0.1:$TFTP/big.bin" "$OUTF"
assert_eq "TFTP size limit reason" "$(field reason)" "file too large"
expect_exit 4 "size limit of the to-buffer path" "$F" --buffer --max-size 100000 "$HTTP/big.bin" "$OUTF"
expect_exit 0 "to-buffer path" "$F" --buffer "${CA[@]}" "$HTTPS/big.bin" "$OUTF"
assert_same_file "to-buffer body" "$OUTF" "$WWW/big.bin"

# --- conditional GET ------------------------------------------------------------------------
expect_exit 0 "first fetch of a profile" "$F" "$HTTP/hello.txt" "$OUTF"
etag=$(field etag) lastmod=$(field last_modified)
echo "untouched" >"$OUTF"
expect_exit 0 "repeat with If-None-Match" "$F" --etag "$etag" "$HTTP/hello.txt" "$OUTF"
assert_eq "304 status" "$(field status)" 304
assert_eq "not modified flag" "$(field not_modified)" 1
assert_eq "nothing transferred" "$(field bytes)" 0
assert_eq "local copy untouched" "$(cat "$OUTF")" untouched
# nginx logs the quotes of the ETag as \x22.
assert_contains "server saw If-None-Match" "$(tail -n 1 "$NGINX_ACCESS_LOG")" "\\x22${etag//\"/}\\x22"
expect_exit 0 "repeat with If-Modified-Since" "$F" --last-modified "$lastmod" "$HTTP/hello.txt" "$OUTF"
assert_eq "304 by date" "$(field not_modified)" 1
expect_exit 0 "a stale ETag gets the file" "$F" --etag '"stale"' "$HTTP/hello.txt" "$OUTF"
assert_eq "stale ETag: 200" "$(field status)" 200
assert_same_file "stale ETag body" "$OUTF" "$WWW/hello.txt"

# --- resume ---------------------------------------------------------------------------------
head -c 1000000 "$WWW/big.bin" >"$OUTF"
expect_exit 0 "resumed HTTP transfer" "$F" --resume 1000000 "$HTTP/big.bin" "$OUTF"
assert_eq "server honoured the range" "$(field resumed)" 1
assert_eq "resume starts at the offset" "$(field start_offset)" 1000000
assert_eq "only the rest travelled" "$(field bytes)" 2000000
assert_same_file "resumed file complete" "$OUTF" "$WWW/big.bin"
assert_contains "server saw the Range header" "$(tail -n 1 "$NGINX_ACCESS_LOG")" '"bytes=1000000-"'
# libmicrohttpd serves no ranges: the whole file comes back with 200 and is written from 0.
head -c 1000000 "$WWW/big.bin" >"$OUTF"
expect_exit 0 "resume against a server without ranges" "$F" --resume 1000000 \
    --user digestuser --password digest-secret "http://127.0.0.1:$DIGEST_PORT/big.bin" "$OUTF"
assert_eq "range not honoured: status" "$(field status)" 200
assert_eq "range not honoured: reported" "$(field resumed)" 0
assert_eq "range not honoured: starts at 0" "$(field start_offset)" 0
assert_same_file "range not honoured: file complete" "$OUTF" "$WWW/big.bin"
head -c 1000000 "$WWW/big.bin" >"$OUTF"
expect_exit 0 "resume over TFTP restarts at 0" "$F" --resume 1000000 \
    "tftp://127.0.0.1:$TFTP/big.bin" "$OUTF"
assert_eq "TFTP cannot resume" "$(field resumed)" 0
assert_eq "TFTP starts at 0" "$(field start_offset)" 0
assert_same_file "TFTP restart complete" "$OUTF" "$WWW/big.bin"

# --- the pulled reader ----------------------------------------------------------------------
head -c 20000000 /dev/urandom >"$WWW/large.bin"
expect_exit 0 "pull reader, 777-byte reads over HTTP" "$F" --pull 777 "$HTTP/large.bin" "$OUTF"
assert_same_file "pulled body" "$OUTF" "$WWW/large.bin"
[ "$(sed -n 's/^reads=//p' <<<"$OUT")" -ge $((20000000 / 777)) ] || fail "too few reads: $OUT"
ok "pulled in small pieces"
expect_exit 0 "pull reader over HTTPS with a client certificate" "$F" --pull 4096 "${CA[@]}" \
    "${DEVICE[@]}" "https://127.0.0.1:$NGINX_MTLS_PORT/large.bin" "$OUTF"
assert_same_file "pulled HTTPS body" "$OUTF" "$WWW/large.bin"
expect_exit 0 "pull reader over TFTP" "$F" --pull 1000 --blksize 1468 \
    "tftp://127.0.0.1:$TFTP/big.bin" "$OUTF"
assert_same_file "pulled TFTP body" "$OUTF" "$WWW/big.bin"
# 150 MB through either path must not make the process hold the body (peak well below it).
# ASan's quarantine would keep freed blocks resident, so it is kept small for this check.
head -c 150000000 /dev/zero >"$WWW/huge-zero.bin"
for mode in push pull; do
    args=()
    [ $mode = pull ] && args=(--pull 65536)
    expect_exit 0 "150 MB $mode transfer" env ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=4" \
        "$F" "${args[@]}" "$HTTP/huge-zero.bin" "$OUTF"
    assert_eq "150 MB $mode: size" "$(stat -c %s "$OUTF")" 150000000
    [ "$(field maxrss_kb)" -lt 75000 ] || fail "$mode path peaked at $(field maxrss_kb) kB"
    ok "$mode path streams: peak $(field maxrss_kb) kB for a 150 MB body"
done
rm -f "$WWW/huge-zero.bin" "$OUTF"
expect_exit 4 "pull reader: 404 fails at open" "$F" --pull 100 "$HTTP/missing.cfg" "$OUTF"
assert_eq "pull 404 reads" "$(sed -n 's/^reads=//p' <<<"$OUT")" ""
expect_exit 4 "pull reader: size limit mid-stream" "$F" --pull 1000 --max-size 5000000 \
    "tftp://127.0.0.1:$TFTP/large.bin" "$OUTF"
expect_exit 3 "pull reader: unreachable fails at open" "$F" --pull 100 \
    "http://127.0.0.1:$CLOSED/x" "$OUTF"

# --- one engine: connections and TLS sessions reused ---------------------------------------
# conn_nginx_start: nginx logging "$connection $ssl_session_reused URI" for each request to
# CONN_LOG. CONN_HTTPS_PORT keeps connections alive (nginx's default); CONN_ONESHOT_PORT
# closes each after one request, so the next one needs a new connection and handshake, which
# is short when the client offers a session the server kept (TLS 1.2 here: a session cache).
conn_nginx_start() {
    local dir=$WORK/conn-nginx try pid user_line=""
    mkdir -p "$dir/tmp"
    CONN_LOG=$dir/conn.log
    [ "$(id -u)" = 0 ] && user_line="user root;"
    for try in 1 2 3 4 5; do
        free_port CONN_HTTPS_PORT && free_port CONN_ONESHOT_PORT || return 1
        cat >"$dir/nginx.conf" <<EOF
$user_line
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 64; }
http {
    log_format conn '\$connection \$ssl_session_reused \$request_uri';
    access_log $CONN_LOG conn;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    ssl_certificate $PKI/server.pem;
    ssl_certificate_key $PKI/server.key;
    root $WWW;
    server { listen 127.0.0.1:$CONN_HTTPS_PORT ssl; }
    server {
        listen 127.0.0.1:$CONN_ONESHOT_PORT ssl;
        keepalive_requests 1;
        ssl_session_cache shared:conn:1m;
    }
}
EOF
        nginx -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log" >"$dir/stdout.log" 2>&1 &
        pid=$!
        if wait_listening t "$pid" "$CONN_HTTPS_PORT" "$CONN_ONESHOT_PORT"; then
            at_exit "stop_pid $pid"
            return 0
        fi
        stop_pid "$pid"
    done
    fail "nginx (connection log) did not come up: $(tail -n 5 "$dir/error.log")"
}
conn_nginx_start
conns() { awk '{ print $1 }' "$CONN_LOG" | sort -u | wc -l; }
reused() { awk '{ printf "%s", $2 }' "$CONN_LOG"; }
CONN=https://127.0.0.1:$CONN_HTTPS_PORT
ONESHOT=https://127.0.0.1:$CONN_ONESHOT_PORT
: >"$CONN_LOG"
expect_exit 0 "catalog, signature and bundle over HTTPS on one engine (buffer, buffer, pull)" \
    "$E" "${CA[@]}" seq buffer "$CONN/hello.txt" "$OUTF.1" buffer "$CONN/big.bin" "$OUTF.2" \
    pull "$CONN/large.bin" "$OUTF.3"
assert_same_file "one engine: first body" "$OUTF.1" "$WWW/hello.txt"
assert_same_file "one engine: second body" "$OUTF.2" "$WWW/big.bin"
assert_same_file "one engine: pulled body" "$OUTF.3" "$WWW/large.bin"
assert_eq "one engine: three requests logged" "$(wc -l <"$CONN_LOG")" 3
assert_eq "one engine: one connection, so one TLS handshake, for the three" "$(conns)" 1
: >"$CONN_LOG"
expect_exit 0 "the same three with an engine for each call (engine NULL)" \
    "$E" "${CA[@]}" seq --private buffer "$CONN/hello.txt" "$OUTF.1" buffer "$CONN/big.bin" \
    "$OUTF.2" pull "$CONN/large.bin" "$OUTF.3"
assert_eq "an engine each: three connections, three full handshakes" "$(conns)/$(reused)" "3/..."
: >"$CONN_LOG"
expect_exit 0 "one engine against a server closing each connection" "$E" "${CA[@]}" seq \
    push "$ONESHOT/hello.txt" "$OUTF.1" push "$ONESHOT/hello.txt" "$OUTF.2" \
    pull "$ONESHOT/big.bin" "$OUTF.3"
assert_same_file "closing server: pulled body" "$OUTF.3" "$WWW/big.bin"
assert_eq "closing server: new connections resume the engine's TLS session" \
    "$(conns)/$(reused)" "3/.rr"
: >"$CONN_LOG"
expect_exit 0 "the same with an engine for each call" "$E" "${CA[@]}" seq --private \
    push "$ONESHOT/hello.txt" "$OUTF.1" push "$ONESHOT/hello.txt" "$OUTF.2" \
    pull "$ONESHOT/big.bin" "$OUTF.3"
assert_eq "closing server, an engine each: no session to resume" "$(conns)/$(reused)" "3/..."

# A pulled reader is open (its transfer thread drives the engine) when the reading thread
# fetches another file on the same engine: carried by that thread, on a second connection
# (the first one is busy with the body), and the reader then reads on to the end.
: >"$CONN_LOG"
expect_exit 0 "a buffered fetch while a pulled reader is open on the same engine" "$E" \
    "${CA[@]}" mix "$CONN/large.bin" "$OUTF.1" "$CONN/big.bin" "$OUTF.2"
assert_same_file "mix: pulled body" "$OUTF.1" "$WWW/large.bin"
assert_same_file "mix: buffered body" "$OUTF.2" "$WWW/big.bin"
pulled_so_far=$(sed -n 's/.*pulled_so_far=//p' <<<"$OUT")
[ "$pulled_so_far" -lt 20000000 ] || fail "the body had ended before the second fetch: $OUT"
ok "the second fetch ran while the body was still flowing ($pulled_so_far of 20000000 read)"
assert_eq "mix: two connections for two transfers at once" "$(conns)" 2

# --- rate limit, progress, cancel ---------------------------------------------------------
head -c 1000000 /dev/urandom >"$WWW/mb.bin"
# ge A B: A >= B, as decimals.
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
# 1 MB at 250 kB/s takes 4 s; the rate is kept to within one block (16 KiB HTTP, 1468 TFTP).
for url in "$HTTP/mb.bin" "tftp://127.0.0.1:$TFTP/mb.bin"; do
    expect_exit 0 "1 MB at 250000 B/s: $url" "$F" --rate 250000 --blksize 1468 "$url" "$OUTF"
    assert_same_file "rate-limited body intact: $url" "$OUTF" "$WWW/mb.bin"
    ge "$(field seconds)" 3.75 || fail "1 MB at 250000 B/s took only $(field seconds) s: $url"
    ok "1 MB at 250000 B/s took $(field seconds) s (at least (1000000 - 64 KiB) / 250000)"
done
expect_exit 0 "pulled reader at 250000 B/s" "$F" --rate 250000 --pull 65536 "${CA[@]}" \
    "$HTTPS/mb.bin" "$OUTF"
ge "$(field seconds)" 3.75 || fail "pulled 1 MB at 250000 B/s took only $(field seconds) s"
ok "pulled reader kept the rate: $(field seconds) s"

for url in "$HTTP/big.bin" "tftp://127.0.0.1:$TFTP/big.bin"; do
    expect_exit 0 "progress callbacks: $url" "$F" --progress --blksize 1468 "$url" "$OUTF"
    assert_eq "progress reaches the total: $url" "$(field progress_last)/$(field progress_total)" \
        "3000000/3000000"
    assert_eq "progress never goes back: $url" "$(field progress_monotonic)" 1
done
expect_exit 0 "progress of a pulled reader over HTTPS" "$F" --progress --pull 1000 "${CA[@]}" \
    "$HTTPS/big.bin" "$OUTF"
assert_eq "pulled progress reaches the total" "$(field progress_last)/$(field progress_total)" \
    "3000000/3000000"

# cancelled WHAT URL: the exit, message and $ERR the upgrade relies on, and how soon.
cancelled() {
    assert_contains "$1: message" "$ERR" "$2: cancelled"
    assert_eq "$1: reason" "$(field reason)" cancelled
    # The engine looks at the flag every 100 ms; 1 s leaves room for a loaded machine's
    # scheduling while still far below the transfer's own end.
    [ "$(field cancel_latency_ms)" -lt 1000 ] || fail "$1: stopped $(field cancel_latency_ms) ms late"
    ok "$1: stopped $(field cancel_latency_ms) ms after the flag"
}
expect_exit 1 "cancel flag from a thread, HTTP body flowing" "$F" --cancel-after 500 \
    "$HTTP/slow/large.bin" "$OUTF"
cancelled "HTTP cancel" "$HTTP/slow/large.bin"
expect_exit 1 "cancel flag from a thread, pulled, server silent" "$F" --cancel-after 500 \
    --pull 4096 "http://127.0.0.1:$STALL_PORT/x" "$OUTF"
cancelled "silent server cancel" "http://127.0.0.1:$STALL_PORT/x"
expect_exit 1 "cancel flag from a thread, TFTP" "$F" --cancel-after 500 --rate 100000 \
    "tftp://127.0.0.1:$TFTP/big.bin" "$OUTF"
cancelled "TFTP cancel" "tftp://127.0.0.1:$TFTP/big.bin"
rm -f "$OUTF"
"$F" --cancel-on-signal "$HTTP/slow/large.bin" "$OUTF" >"$WORK/.out" 2>"$WORK/.err" &
pid=$!
for i in $(seq 1 100); do [ -s "$OUTF" ] && break; sleep 0.05; done
kill -USR1 "$pid"
got=0
wait "$pid" || got=$?
OUT=$(cat "$WORK/.out") ERR=$(cat "$WORK/.err")
assert_eq "cancel flag from a signal handler: exit" "$got" 1
cancelled "signal cancel" "$HTTP/slow/large.bin"

# --- the engine under an outside loop (epoll + timerfd in engine_tool) ------------------------
expect_exit 0 "an outside loop drives an HTTP and a TFTP transfer at once" "$E" --blksize 1468 \
    loop "$HTTP/slow/big.bin" "$OUTF.1" "tftp://127.0.0.1:$TFTP/big.bin" "$OUTF.2"
assert_same_file "loop: HTTP body" "$OUTF.1" "$WWW/big.bin"
assert_same_file "loop: TFTP body" "$OUTF.2" "$WWW/big.bin"
overlap=$(awk '/^job/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    if (v["first_byte"] > first) first = v["first_byte"]
    if (last == "" || v["done"] < last) last = v["done"] }
    END { print (first < last) ? "yes" : "no" }' <<<"$OUT")
assert_eq "loop: both bodies were flowing at the same time" "$overlap" yes
job0_done() { sed -n 's/^job0 .*done=\([0-9.]*\).*/\1/p' <<<"$OUT"; }
for url in "$HTTP/slow/big.bin" "tftp://127.0.0.1:$TFTP/big.bin"; do
    expect_exit 0 "loop: pause after 500 kB for 2 s, then resume: $url" "$E" --blksize 1468 loop \
        --pause-at 500000 --pause-ms 2000 "$url" "$OUTF"
    assert_same_file "paused and resumed body intact: $url" "$OUTF" "$WWW/big.bin"
    assert_eq "nothing delivered while paused: $url" "$(field delivered_while_paused)" 0
    ge "$(job0_done)" 2 || fail "the pause did not hold: $OUT"
    ok "the transfer ended $(job0_done) s after its start, past the 2 s pause: $url"
    # Nothing polls while a transfer rests: the loop wakes for libcurl's own timers only.
    [ "$(field wakeups_while_paused)" -le 8 ] || fail "woke $(field wakeups_while_paused) times in 2 s"
    ok "the loop woke $(field wakeups_while_paused) times in the 2 s pause"
done
# The overall timeout counts while a transfer rests: libcurl's timer for HTTP, the engine's
# for a TFTP lane (whose libcurl timers wait with it).
for url in "$HTTP/slow/big.bin" "tftp://127.0.0.1:$TFTP/big.bin"; do
    expect_exit 3 "loop: a 4 s pause under a 1.5 s timeout: $url" "$E" --timeout 1500 loop \
        --pause-at 500000 --pause-ms 4000 "$url" "$OUTF"
    assert_contains "paused past the timeout: message" "$OUT" "msg=$url: timed out"
    ge "$(job0_done)" 1.4 && ! ge "$(job0_done)" 3 || fail "timed out after $(job0_done) s: $url"
    ok "timed out $(job0_done) s after the start, within the pause: $url"
done
expect_exit 0 "loop: 100 kB/s, lifted after 1 s" "$E" loop --rate 100000 --rate-after-ms 1000 \
    --rate-to 0 "$HTTP/large.bin" "$OUTF"
assert_same_file "rate lifted: body" "$OUTF" "$WWW/large.bin"
ge "$(job0_done)" 1 && ! ge "$(job0_done)" 10 || fail "20 MB, rate lifted after 1 s: $(job0_done) s"
ok "20 MB done $(job0_done) s after the start (200 s at the first rate)"
expect_exit 1 "loop: fetch_transfer_cancel after 500 ms" "$E" loop --cancel-after-ms 500 \
    "$HTTP/slow/large.bin" "$OUTF"
assert_contains "loop cancel: message" "$OUT" "msg=$HTTP/slow/large.bin: cancelled"
# A reader on another thread stops reading for 700 ms: its full buffer pauses the transfer,
# and the loop is never held (a blocking write callback would hold it for the 700 ms).
for url in "$HTTP/large.bin" "tftp://127.0.0.1:$TFTP/large.bin"; do
    expect_exit 0 "loop drives, another thread pulls and stalls: $url" "$E" --blksize 1468 \
        loop-pull --stall-ms 700 "$url" "$OUTF"
    assert_same_file "pulled through the loop: $url" "$OUTF" "$WWW/large.bin"
    # 400 ms: room for a loaded machine's scheduling, still well below the 700 ms stall.
    ge 400 "$(field max_handler_ms)" || fail "the loop was held $(field max_handler_ms) ms: $url"
    ok "the loop was never held longer than $(field max_handler_ms) ms: $url"
done

finish
