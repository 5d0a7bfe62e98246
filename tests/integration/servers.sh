# SPDX-License-Identifier: MIT
# Real servers for the integration tests: a test PKI made with openssl, nginx (HTTP, HTTPS,
# client-certificate HTTPS), tftpd-hpa, a Digest-auth and a stalling server from tests/tools.
# Source after lib.sh. Everything listens on 127.0.0.1 high ports and is stopped by PID at exit.
# Each start function sets global variables (named in its comment) rather than printing, so
# that its at_exit registration is not lost in a $(...) subshell.

TOOLS=${TOOLS:-$(dirname "$UPGRADER")/tools}
_PORTS_GIVEN=" "

# free_port VAR: sets VAR to a high port nothing listens on (TCP or UDP) and that this test
# has not handed out before. A server can still lose a race for it; the starters retry.
free_port() {
    # Locals are prefixed: printf -v must not land on a local of the same name.
    local _fp_port _fp_try
    for _fp_try in $(seq 1 500); do
        _fp_port=$((20000 + RANDOM % 40000))
        [[ "$_PORTS_GIVEN" == *" $_fp_port "* ]] && continue
        [ -z "$(ss -Htuln "sport = :$_fp_port" 2>/dev/null)" ] || continue
        _PORTS_GIVEN+="$_fp_port "
        printf -v "$1" %s "$_fp_port"
        return 0
    done
    echo "free_port: no free port found" >&2
    return 1
}

# closed_port VAR: sets VAR to a port where nothing listens (connections are refused).
closed_port() { free_port "$1"; }

# stop_pid PID: TERM, up to 3 s to go, then KILL; reaps it if it is our child.
stop_pid() {
    local pid=$1 i
    kill "$pid" 2>/dev/null || return 0
    for i in $(seq 1 30); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# listening_by PROTO(t|u) PORT PID: true once process PID (itself) listens on the port.
listening_by() {
    ss -Hln"$1"p "sport = :$2" 2>/dev/null | grep -q "pid=$3,"
}

# wait_listening PROTO PID PORT...: waits up to 10 s until PID listens on every PORT;
# false as soon as PID has exited (e.g. it lost the race for a port).
wait_listening() {
    local proto=$1 pid=$2 i p all; shift 2
    for i in $(seq 1 200); do
        kill -0 "$pid" 2>/dev/null || return 1
        all=1
        for p in "$@"; do listening_by "$proto" "$p" "$pid" || { all=0; break; }; done
        [ "$all" = 1 ] && return 0
        sleep 0.05
    done
    return 1
}

# _spawn PORTVAR PIDVAR LOG PROTO COMMAND...: runs COMMAND in the background with each
# @PORT@ replaced by a free port, retrying on another port if it does not come up.
_spawn() {
    local portvar=$1 pidvar=$2 log=$3 proto=$4 try p pid a
    shift 4
    local args
    for try in 1 2 3 4 5; do
        free_port p || return 1
        args=()
        for a in "$@"; do args+=("${a//@PORT@/$p}"); done
        "${args[@]}" >"$log" 2>&1 &
        pid=$!
        if wait_listening "$proto" "$pid" "$p"; then
            printf -v "$portvar" %s "$p"
            printf -v "$pidvar" %s "$pid"
            at_exit "stop_pid $pid"
            return 0
        fi
        stop_pid "$pid"
    done
    echo "cannot start $1: $(tail -n 5 "$log")" >&2
    return 1
}

# pki_make DIR [PRODUCT SERIAL MAC]: a test PKI in DIR; sets PKI=DIR. Files:
#   ca.pem/ca.key              the CA the device trusts
#   server.pem/server.key      for localhost and 127.0.0.1 (SAN), signed by ca
#   wrong.pem/wrong.key        signed by ca, but for wrong.example only
#   untrusted.pem/.key         for localhost/127.0.0.1, signed by rogue-ca.pem (not trusted)
#   client-ca.pem/.key         the CA a server checks device certificates against
#   device.pem/device.key      the device's client certificate: OU=PRODUCT, L=SERIAL, CN=MAC
pki_make() {
    local dir=$1 product=${2:-CP-8841-3PCC} serial=${3:-88012BA01234} mac=${4:-000e08abcdef}
    mkdir -p "$dir"
    local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
    _pki_ca() { # NAME SUBJECT
        openssl req -x509 "${ec[@]}" -keyout "$dir/$1.key" -out "$dir/$1.pem" -days 30 \
            -subj "$2" -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    }
    _pki_leaf() { # NAME SUBJECT CA EXTENSIONS
        printf '%s\n' "$4" >"$dir/$1.ext"
        openssl req -new "${ec[@]}" -keyout "$dir/$1.key" -out "$dir/$1.csr" -subj "$2" 2>/dev/null &&
            openssl x509 -req -in "$dir/$1.csr" -CA "$dir/$3.pem" -CAkey "$dir/$3.key" \
                -CAcreateserial -days 30 -out "$dir/$1.pem" -extfile "$dir/$1.ext" 2>/dev/null
    }
    local server_ext=$'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth'
    _pki_ca ca "/CN=upgrader test CA" &&
        _pki_ca rogue-ca "/CN=upgrader rogue CA" &&
        _pki_ca client-ca "/CN=upgrader device CA" &&
        _pki_leaf server "/CN=localhost" ca "$server_ext" &&
        _pki_leaf untrusted "/CN=localhost" rogue-ca "$server_ext" &&
        _pki_leaf wrong "/CN=wrong.example" ca \
            $'subjectAltName=DNS:wrong.example\nextendedKeyUsage=serverAuth' &&
        _pki_leaf device "/OU=$product/L=$serial/CN=$mac" client-ca 'extendedKeyUsage=clientAuth' ||
        { echo "pki_make: openssl failed" >&2; return 1; }
    chmod 600 "$dir"/*.key
    PKI=$dir
}

# nginx_start DOCROOT: nginx serving DOCROOT (needs pki_make first). Sets:
#   NGINX_HTTP_PORT       plain HTTP
#   NGINX_HTTPS_PORT      HTTPS, certificate for localhost/127.0.0.1 from $PKI/ca.pem
#   NGINX_MTLS_PORT       the same, but demands a client certificate from $PKI/client-ca.pem
#   NGINX_WRONGNAME_PORT  HTTPS with a trusted certificate for wrong.example
#   NGINX_UNTRUSTED_PORT  HTTPS with a certificate from an untrusted CA
#   NGINX_PID NGINX_DIR NGINX_ACCESS_LOG NGINX_POST_LOG NGINX_UPLOAD_DIR BASIC_USER BASIC_PASS
# Every port serves the same locations:
#   /FILE            DOCROOT/FILE (ETag and Last-Modified as nginx sends them; Range works)
#   /slow/FILE       the same at 4 MB/s a connection, for tests that act in mid-transfer
#   /crawl/FILE      the same at 256 kB/s, for tests that act while a transfer runs for seconds
#   /trickle/FILE    the same at 2 bytes/s: a server that never quite stalls
#   /private/FILE    DOCROOT/FILE behind Basic auth (BASIC_USER / BASIC_PASS)
#   /upload/FILE     PUT stores into NGINX_UPLOAD_DIR/FILE (dav module)
#   /post            POST: logs "METHOD URI CONTENT-TYPE BODY" to NGINX_POST_LOG, answers "ok"
#   /error500 /gone  answer 500 / 410
#   /redirect        302 to /hello.txt on the same server; /loop redirects to itself
#   /redirect-away   302 to http://localhost:NGINX_HTTP_PORT/hello.txt (another host name)
#   /redirect-ftp    302 to ftp://127.0.0.1/hello.txt
#   /busy/FILE       503 with Retry-After: 3
# The access log lines read: ADDR "REQUEST" STATUS BYTES "UA" "CLIENT-DN" "RANGE" "IF-NONE-MATCH"
# c=CONNECTION (nginx's serial number of the connection: one per TCP connection, one TLS
# handshake each) t=MSEC (when the request ended, Unix seconds with milliseconds)
nginx_start() {
    local docroot=$1 try pid
    : "${PKI:?nginx_start needs pki_make first}"
    NGINX_DIR=$WORK/nginx
    mkdir -p "$NGINX_DIR/tmp" "$NGINX_DIR/uploads"
    NGINX_ACCESS_LOG=$NGINX_DIR/access.log
    NGINX_POST_LOG=$NGINX_DIR/post.log
    NGINX_UPLOAD_DIR=$NGINX_DIR/uploads
    BASIC_USER=provisioner
    BASIC_PASS=basic-$RANDOM-secret
    printf '%s:%s\n' "$BASIC_USER" "$(openssl passwd -apr1 "$BASIC_PASS")" >"$NGINX_DIR/htpasswd"
    # The master runs as whoever we are; as root, workers would drop to nobody and could not
    # read the test's private folders, so they stay root ("user" is ignored otherwise).
    local user_line=""
    [ "$(id -u)" = 0 ] && user_line="user root;"
    for try in 1 2 3 4 5; do
        free_port NGINX_HTTP_PORT && free_port NGINX_HTTPS_PORT && free_port NGINX_MTLS_PORT &&
            free_port NGINX_WRONGNAME_PORT && free_port NGINX_UNTRUSTED_PORT || return 1
        cat >"$NGINX_DIR/locations.conf" <<EOF
root $docroot;
location / { }
location /slow/ {
    alias $docroot/;
    limit_rate 4m;
}
location /paced/ {
    alias $docroot/;
    limit_rate 4m;
    limit_req zone=paced burst=10000;
}
location /norange/ {
    alias $docroot/;
    max_ranges 0;
}
location /tworanges/ {
    alias $docroot/;
    max_ranges 2;
}
location /crawl/ {
    alias $docroot/;
    limit_rate 256k;
}
location /trickle/ {
    alias $docroot/;
    limit_rate 2;
}
location /private/ {
    auth_basic "upgrader test";
    auth_basic_user_file $NGINX_DIR/htpasswd;
    alias $docroot/;
}
location /upload/ {
    alias $NGINX_UPLOAD_DIR/;
    dav_methods PUT;
    create_full_put_path on;
    client_max_body_size 64m;
}
location = /post {
    access_log $NGINX_POST_LOG post;
    client_body_buffer_size 1m;
    proxy_pass http://127.0.0.1:$NGINX_HTTP_PORT/ok;
}
location = /ok { return 200 "ok\n"; }
location = /error500 { return 500; }
location = /gone { return 410; }
location = /redirect { return 302 /hello.txt; }
location = /loop { return 302 /loop; }
location = /redirect-away { return 302 http://localhost:$NGINX_HTTP_PORT/hello.txt; }
location = /redirect-ftp { return 302 ftp://127.0.0.1/hello.txt; }
location /busy/ { add_header Retry-After 3 always; return 503; }
EOF
        cat >"$NGINX_DIR/nginx.conf" <<EOF
$user_line
daemon off;
worker_processes 1;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log warn;
events { worker_connections 64; }
http {
    default_type application/octet-stream;
    log_format t '\$remote_addr "\$request" \$status \$body_bytes_sent "\$http_user_agent" '
                 '"\$ssl_client_s_dn" "\$http_range" "\$http_if_none_match" c=\$connection w=\$bytes_sent t=\$msec';
    log_format post escape=none '\$request_method \$uri \$content_type \$request_body';
    access_log $NGINX_ACCESS_LOG t;
    limit_req_zone \$binary_remote_addr zone=paced:1m rate=40r/s;
    client_body_temp_path $NGINX_DIR/tmp/body;
    proxy_temp_path $NGINX_DIR/tmp/proxy;
    fastcgi_temp_path $NGINX_DIR/tmp/fastcgi;
    uwsgi_temp_path $NGINX_DIR/tmp/uwsgi;
    scgi_temp_path $NGINX_DIR/tmp/scgi;
    server { listen 127.0.0.1:$NGINX_HTTP_PORT; include $NGINX_DIR/locations.conf; }
    server {
        listen 127.0.0.1:$NGINX_HTTPS_PORT ssl;
        ssl_certificate $PKI/server.pem; ssl_certificate_key $PKI/server.key;
        include $NGINX_DIR/locations.conf;
    }
    server {
        listen 127.0.0.1:$NGINX_MTLS_PORT ssl;
        ssl_certificate $PKI/server.pem; ssl_certificate_key $PKI/server.key;
        ssl_client_certificate $PKI/client-ca.pem;
        ssl_verify_client on;
        include $NGINX_DIR/locations.conf;
    }
    server {
        listen 127.0.0.1:$NGINX_WRONGNAME_PORT ssl;
        ssl_certificate $PKI/wrong.pem; ssl_certificate_key $PKI/wrong.key;
        include $NGINX_DIR/locations.conf;
    }
    server {
        listen 127.0.0.1:$NGINX_UNTRUSTED_PORT ssl;
        ssl_certificate $PKI/untrusted.pem; ssl_certificate_key $PKI/untrusted.key;
        include $NGINX_DIR/locations.conf;
    }
}
EOF
        nginx -c "$NGINX_DIR/nginx.conf" -p "$NGINX_DIR" -e "$NGINX_DIR/error.log" \
            >"$NGINX_DIR/stdout.log" 2>&1 &
        pid=$!
        if wait_listening t "$pid" "$NGINX_HTTP_PORT" "$NGINX_HTTPS_PORT" "$NGINX_MTLS_PORT" \
            "$NGINX_WRONGNAME_PORT" "$NGINX_UNTRUSTED_PORT"; then
            NGINX_PID=$pid
            at_exit "stop_pid $pid"
            return 0
        fi
        stop_pid "$pid"
    done
    echo "nginx_start: nginx did not come up: $(tail -n 5 "$NGINX_DIR/error.log" "$NGINX_DIR/stdout.log")" >&2
    return 1
}

# tftpd_start DIR [IN.TFTPD-OPTIONS...]: tftpd-hpa serving DIR (e.g. --refuse blksize).
# Sets TFTP_PORT and TFTPD_PID (copy them before starting a second one).
tftpd_start() {
    local dir=$1
    shift
    # As root, tftpd would switch to "nobody", who cannot read the test's private folders;
    # -p drops tftpd's own world-readable check, leaving plain file permissions.
    _spawn TFTP_PORT TFTPD_PID "$(mktemp "$WORK/tftpd.XXXXXX")" u \
        in.tftpd -L -a 127.0.0.1:@PORT@ -p -u "$(id -un)" "$@" -s "$dir"
}

# digest_server_start DIR USER PASSWORD [md5|sha256]: files of DIR behind Digest auth only.
# Sets DIGEST_PORT, DIGEST_PID and DIGEST_LOG (one line a request: METHOD URL auth= result=).
digest_server_start() {
    DIGEST_LOG=$(mktemp "$WORK/digest.XXXXXX")
    _spawn DIGEST_PORT DIGEST_PID "$DIGEST_LOG" t "$TOOLS/digest_server" @PORT@ "$@"
}

# ranges_server_start DIR MODE: files of DIR whose answers to several byte ranges are joined,
# cut to the first range, or malformed multipart (tests/integration/ranges_server.py). Sets
# RANGES_PORT, RANGES_PID and RANGES_LOG (one line a request: path and Range header).
ranges_server_start() {
    RANGES_LOG=$(mktemp "$WORK/ranges.XXXXXX")
    _spawn RANGES_PORT RANGES_PID "$RANGES_LOG" t python3 "$TOP/tests/integration/ranges_server.py" @PORT@ "$@"
}

# transferring_from PID PORT: true while process PID has a TCP connection to 127.0.0.1:PORT
# established (a transfer of it is under way).
transferring_from() {
    ss -Htnp state established "dport = :$2" 2>/dev/null | grep -q "pid=$1,"
}

# wait_transferring PID PORT: waits up to 10 s until PID's transfer from PORT has begun.
wait_transferring() {
    local i
    for i in $(seq 1 200); do
        transferring_from "$1" "$2" && return 0
        kill -0 "$1" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# stall_server_start: accepts TCP connections and never answers. Sets STALL_PORT, STALL_PID.
stall_server_start() {
    _spawn STALL_PORT STALL_PID "$(mktemp "$WORK/stall.XXXXXX")" t "$TOOLS/stall_server" @PORT@
}
