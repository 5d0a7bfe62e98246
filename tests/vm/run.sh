#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make vm-test: the whole story on a real A/B device under QEMU (tests/vm/build.sh makes it).
# OVMF starts GRUB, GRUB picks the slot from the agent's boot state, Linux runs the agent:
#   boot 1  A 1.0.0: upgrade to 2.0.0 planned through 1.5.0; 1.5.0 into B; reboot
#   boot 2  B 1.5.0: GRUB took the new slot; marked good; 2.0.0 into A; reboot
#   boot 3  A 2.0.0: marked good; nothing newer; power off. The profile now names a catalog
#           that offers 3.0.0.
#   boot 4  A 2.0.0: 3.0.0 (broken: its health check fails) into B; reboot
#   boot 5  B 3.0.0: health check fails, not marked good; reboot
#   boot 6  A 2.0.0: GRUB fell back by itself; the agent reports the rollback and does not
#           retry 3.0.0 before Upgrade_Error_Retry_Delay; power off
# Every boot is one QEMU process (-no-reboot: a guest reboot ends it), its serial console
# kept with host timestamps in $BUILD/vm-logs/boot-N.log. nginx and QEMU run in a network
# namespace made for the test (QEMU's user network inside it): nothing leaves the machine.
set -eu -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
BOOT_TIMEOUT=${VM_BOOT_TIMEOUT:-600}
PORT=8080
vm=$BUILD/vm
logs=$BUILD/vm-logs
t0=${UGVM_T0:-$EPOCHREALTIME}
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
note() { echo "vm-test: $*"; }
if [ -z "${UGVM_NETNS:-}" ]; then
    # The build first, on the machine's network (it may fetch Debian's kernel package)...
    if [ -n "${VM_REUSE:-}" ] && [ -f "$vm/disk.img" ]; then
        note "reusing $vm (VM_REUSE set)"
    else
        note "building the device (tests/vm/build.sh)"
        VM_HTTP_PORT=$PORT bash "$here/build.sh" "$vm" "$BUILD" 2>&1 | grep -v '^Creating regular file' | sed 's/^/vm-test: /'
        note "built in $(since "$t0") s"
    fi
    # ...then everything else in a network namespace of our own: only its loopback, which
    # nginx listens on and QEMU's user network reaches.
    exec unshare --net env UGVM_NETNS=1 UGVM_T0="$t0" bash "$0" "$@"
fi
ip link set lo up
rm -rf "$logs"
mkdir -p "$logs"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
fail() {
    echo "vm-test: FAIL: $*" >&2
    [ -n "${log:-}" ] && [ -f "$log" ] && { echo "--- last console lines ($log) ---" >&2; tail -n 40 "$log" >&2; }
    exit 1
}


# --- nginx on the namespace's loopback, serving the releases ---
www=$vm/www
ngx=$vm/nginx
mkdir -p "$ngx/tmp"
publish() { # PROFILE: what the device's Profile_Rule fetches from now on
    cp "$www/$1" "$www/profile.xml.new" && mv "$www/profile.xml.new" "$www/profile.xml"
}
publish profile-1.xml
cat >"$ngx/nginx.conf" <<NGX
$( [ "$(id -u)" = 0 ] && echo "user root;" )
daemon off;
worker_processes 1;
pid $ngx/nginx.pid;
error_log $ngx/error.log warn;
events { worker_connections 64; }
http {
    default_type application/octet-stream;
    access_log $logs/nginx-access.log;
    client_body_temp_path $ngx/tmp;
    server { listen 127.0.0.1:$PORT; root $www; }
}
NGX
nginx -c "$ngx/nginx.conf" -p "$ngx" -e "$ngx/error.log" >"$ngx/stdout.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$PORT/profile.xml" && break
    kill -0 "${pids[0]}" 2>/dev/null || fail "nginx did not start: $(cat "$ngx/error.log")"
    sleep 0.1
done
curl -sf -o /dev/null "http://127.0.0.1:$PORT/profile.xml" || fail "nginx does not answer"

# --- QEMU, one process per boot ---
accel=(-machine q35)
if [ -w /dev/kvm ] && [ -r /dev/kvm ]; then
    accel=(-machine q35,accel=kvm -cpu host)
    note "accelerator: KVM"
else
    note "accelerator: TCG (no usable /dev/kvm)"
fi
# The boots change the disk: they run on a copy, the built image stays as it was made.
disk=$vm/run.img
cp --sparse=always "$vm/disk.img" "$disk"
nboot=0
boot() { # runs one boot; sets log, SLOT, VERSION, OUTCOME, BOOT_S, RUN_S
    nboot=$((nboot + 1))
    log=$logs/boot-$nboot.log
    local start=$EPOCHREALTIME rc
    set +e
    timeout "$BOOT_TIMEOUT" qemu-system-x86_64 "${accel[@]}" -m 512 -smp 2 \
        -bios /usr/share/ovmf/OVMF.fd -drive "file=$disk,if=virtio,format=raw" \
        -nic user,model=virtio-net-pci -display none -monitor none -serial stdio -no-reboot \
        </dev/null 2>&1 | while IFS= read -r line; do
        printf '%7.2f %s\n' "$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')" "${line//$'\r'/}"
    done >"$log"
    rc=${PIPESTATUS[0]}
    set -e
    RUN_S=$(since "$start")
    [ "$rc" = 124 ] && fail "boot $nboot: no power-off or reboot within $BOOT_TIMEOUT s"
    [ "$rc" = 0 ] || fail "boot $nboot: qemu exited with $rc"
    local booted
    booted=$(grep -a -m1 'UGVM: booted slot' "$log") || fail "boot $nboot: Linux never reached the agent"
    SLOT=$(sed -n 's/.*booted slot \([AB]\) .*/\1/p' <<<"$booted")
    VERSION=$(sed -n 's/.* version \([^ ]*\) .*/\1/p' <<<"$booted")
    BOOT_S=$(awk '{ print $1; exit }' <<<"$booted")
    if grep -aq 'UGVM: reboot requested' "$log"; then OUTCOME=reboot
    elif grep -aq 'UGVM: idle, powering off' "$log"; then OUTCOME=idle
    else fail "boot $nboot: neither a reboot nor a power-off"; fi
    note "boot $nboot: GRUB -> slot $SLOT, version $VERSION; reached the agent at ${BOOT_S} s; $OUTCOME after ${RUN_S} s"
}
expect() { # WHAT SLOT VERSION OUTCOME
    [ "$SLOT $VERSION $OUTCOME" = "$2 $3 $4" ] || fail "boot $nboot: $1: got slot $SLOT version $VERSION ($OUTCOME), expected slot $2 version $3 ($4)"
}
console_has() { # WHAT PATTERN
    grep -aqE "$2" "$log" || fail "boot $nboot: $1: no line matching '$2'"
    note "  ok: $1"
}
grub_chose() { console_has "GRUB chose slot $1 itself" "upgrader: booting slot $1 "; }

story=$EPOCHREALTIME
boot; expect "factory slot" A 1.0.0 reboot
grub_chose A
console_has "A marked good at boot" "boot: slot A \\(1.0.0\\) is good"
console_has "the plan goes through the stepping stone: 1.5.0 into B" "hop 1/2 1.5.0 +switched-awaiting-boot"
boot; expect "first hop" B 1.5.0 reboot
grub_chose B
grep -aq "UGVM: upgrader boot exit" "$log" && fail "boot $nboot: upgrader boot returned instead of taking the next hop"
grep -q 'GET /2.0.0.bundle' "$logs/nginx-access.log" || fail "boot $nboot: 2.0.0 was not fetched"
note "  ok: upgrader boot confirmed 1.5.0 and took the next hop (2.0.0 into A) itself"
boot; expect "target" A 2.0.0 idle
grub_chose A
console_has "1.5.0 had been marked good (B_TRY cleared)" "B_OK=1 B_TRY=0"
console_has "2.0.0 marked good" "slot A booted 2.0.0 and is marked good"
console_has "boot state: A good, B good" '"A":\{"priority":15,"tries":0,"successful":true.*"version":"2.0.0"'

note "the provider's profile now names a catalog with 3.0.0 (broken: its health check fails)"
publish profile-2.xml
boot; expect "running 2.0.0" A 2.0.0 reboot
console_has "3.0.0 installed into B" "hop 1/1 3.0.0 +switched-awaiting-boot"
boot; expect "the broken release boots once" B 3.0.0 reboot
grub_chose B
console_has "its health check fails" "health check: this release is broken on purpose"
# Requests for 3.0.0 so far (a delta install makes several ranged ones): after the rollback,
# the agent must not ask for it again before the retry delay.
before=$(grep -c 'GET /3.0.0.bundle' "$logs/nginx-access.log" || true)
boot; expect "GRUB fell back by itself" A 2.0.0 idle
grub_chose A
console_has "B had used its try, A took it" "ORDER=B A A_OK=1 A_TRY=1 B_OK=1 B_TRY=1"
console_has "the agent reports the rollback" "boot: rollback: 3.0.0 in slot B never reached mark-good"
console_has "and does not retry before the delay" "nothing done: 3.0.0 failed .*not retried before [0-9]+ \\(Upgrade_Error_Retry_Delay\\)"
console_has "B is marked bad" '"B":\{"priority":0'
after=$(grep -c 'GET /3.0.0.bundle' "$logs/nginx-access.log" || true)
[ "$before" -gt 0 ] || fail "3.0.0 was never fetched"
[ "$after" = "$before" ] || fail "3.0.0 was fetched again after the rollback ($before requests before, $after after)"
note "  ok: 3.0.0 not fetched again after the rollback ($before requests for its one install)"

boot_times=$(for f in "$logs"/boot-*.log; do grep -a -m1 'UGVM: booted slot' "$f" | awk '{ print $1 }'; done | tr '\n' ' ')
note "boot times to the agent (s): $boot_times"
note "the story: $nboot boots in $(since "$story") s; with the build $(since "$t0") s; console logs in $logs"
echo "vm-test: 1 passed, 0 failed"
