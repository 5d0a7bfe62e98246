#!/usr/bin/env bash
# make demo: the whole story on a simulated device, narrated step by step. It grows with the
# project; each step runs the real programs of $BUILD against a device folder in /tmp.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
UPGRADER="$top/$BUILD/upgrader"
BOOTCTL="$top/$BUILD/bootctl"
demo=$(mktemp -d /tmp/upgrader-demo.XXXXXX)
nginx_pid=""
cleanup() {
    if [ -n "$nginx_pid" ]; then kill "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; fi
    rm -rf "$demo"
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "A simulated phone: identity, two file-backed slots"
run "$UPGRADER" --root "$demo/phone" init --mac 00:0e:08:12:34:56 --version 1.0.0
run ls "$demo/phone"

env="$demo/phone/bootenv"
step "Power-on: the bootloader picks a slot (bootctl boot), slot A runs 1.0.0"
run "$BOOTCTL" --env "$env" boot
run "$BOOTCTL" --env "$env" status

step "A new image in slot B gets 2 tries; it never reports a good boot"
run "$BOOTCTL" --env "$env" set-active B --tries 2
run "$BOOTCTL" --env "$env" boot
run "$BOOTCTL" --env "$env" boot
echo "(no mark-good: the new slot is broken)"
run "$BOOTCTL" --env "$env" boot
run "$BOOTCTL" --env "$env" status --json

step "The SIP stack reports calls; reboots wait until none is active"
run "$UPGRADER" --root "$demo/phone" call start
run "$UPGRADER" --root "$demo/phone" call end

step "Real firmware: ext4 images, signed bundles and a signed catalog (make images)"
run "$top/images/build.sh" "$demo/images" "$UPGRADER"

step "A firmware server: nginx on 127.0.0.1 serving them"
for try in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    [ -z "$(ss -Htln "sport = :$port" 2>/dev/null)" ] && break
done
mkdir -p "$demo/nginx"
user_line=""
[ "$(id -u)" = 0 ] && user_line="user root;"
cat > "$demo/nginx/nginx.conf" <<NGINX
$user_line
daemon off;
worker_processes 1;
pid $demo/nginx/nginx.pid;
error_log $demo/nginx/error.log warn;
events { worker_connections 64; }
http {
    access_log $demo/nginx/access.log;
    client_body_temp_path $demo/nginx/body;
    proxy_temp_path $demo/nginx/proxy;
    fastcgi_temp_path $demo/nginx/fastcgi;
    uwsgi_temp_path $demo/nginx/uwsgi;
    scgi_temp_path $demo/nginx/scgi;
    server { listen 127.0.0.1:$port; root $demo/images; }
}
NGINX
nginx -c "$demo/nginx/nginx.conf" -p "$demo/nginx" -e "$demo/nginx/error.log" &
nginx_pid=$!
for i in $(seq 1 100); do
    ss -Htln "sport = :$port" 2>/dev/null | grep -q . && break
    sleep 0.05
done
url="http://127.0.0.1:$port/catalog.json"
echo "serving $url"

step "A second phone that trusts the firmware signer; its Upgrade_Rule names the catalog"
phone="$demo/phone2"
run "$UPGRADER" --root "$phone" init --mac 00:0e:08:65:43:21 --version 1.0.0 --keyring "$demo/images/keys/ca.pem"
run "$UPGRADER" --root "$phone" param set Upgrade_Rule "$url"
run "$UPGRADER" --root "$phone" plan --catalog "$url"

step "A call is active: the first hop is written and verified, but the switch waits (exit 6)"
run "$UPGRADER" --root "$phone" call start
run "$UPGRADER" --root "$phone" upgrade || echo "(exit $?)"
run jq .status "$phone/upgrade.json"

step "The call ends: the next pass only switches (nothing downloaded again) and reboots"
run "$UPGRADER" --root "$phone" call end
run "$UPGRADER" --root "$phone" upgrade
echo "(the simulated reboot only left $phone/reboot-requested)"

step "Power-on after power-on: each boot confirms the hop and takes the next one"
while [ -f "$phone/reboot-requested" ]; do
    rm -f "$phone/reboot-requested"
    run "$BOOTCTL" --env "$phone/bootenv" boot
    run "$UPGRADER" --root "$phone" boot
done
run "$BOOTCTL" --env "$phone/bootenv" status
run jq .status "$phone/upgrade.json"

step "The rule was acted on: another pass does nothing"
run "$UPGRADER" --root "$phone" upgrade
echo
echo "demo finished"
