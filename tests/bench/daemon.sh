#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make bench: what the running daemon costs. (1) Idle: peak RSS of an idle daemon (a long
# Resync_Periodic, nothing due), with a one-shot `upgrader status` of the same build as the
# baseline, then its CPU time and context switches (wake-ups) over a quiet window.
# (2) A fleet on loopback: 100 real daemons against one nginx, all started at once with
# shortened delays; nginx's access log shows the first wave spread by Resync_Random_Delay,
# the periodic resyncs after it, and that an unchanged profile costs a 304.
# Environment: BENCH_IDLE_S (the quiet window, default 60 s), BENCH_FLEET (default 100),
# BENCH_FLEET_S (how long the fleet runs, default 45 s).
set -u
. "$TOP/tests/integration/lib.sh"
. "$TOP/tests/integration/servers.sh"

IDLE_S=${BENCH_IDLE_S:-60}
FLEET=${BENCH_FLEET:-100}
FLEET_S=${BENCH_FLEET_S:-45}

# proc_sum PID FIELD: FIELD of /proc/PID/task/*/status summed over the threads.
proc_sum() { cat /proc/"$1"/task/*/status 2>/dev/null | awk -v f="$2:" '$1 == f { s += $2 } END { print s + 0 }'; }
# cpu_ticks PID: user + system clock ticks of the process (all threads).
cpu_ticks() { awk '{ print $14 + $15 }' /proc/"$1"/stat; }
kib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

# ---- (1) Idle.
D=$WORK/idle
"$UPGRADER" --root "$D" init --slot-size 1M >/dev/null || fail "init"
for kv in "Resync_On_Reset No" "Resync_Periodic 86400"; do
    # shellcheck disable=SC2086
    "$UPGRADER" --root "$D" param set $kv >/dev/null || fail "param set $kv"
done
base=$( { /usr/bin/time -f %M "$UPGRADER" --root "$D" status >/dev/null; } 2>&1 | tail -n 1)
"$UPGRADER" --root "$D" daemon 2>"$WORK/idle.log" &
PID=$!
at_exit "stop_pid $PID"
until "$UPGRADER" --root "$D" status --json 2>/dev/null | jq -e .daemon.pid >/dev/null; do sleep 0.1; done
sleep 1 # the status request's own wake-ups are over
hwm=$(awk '$1 == "VmHWM:" { print $2 }' /proc/$PID/status)
anon=$(awk '$1 == "RssAnon:" { print $2 }' /proc/$PID/status)
file=$(awk '$1 == "RssFile:" { print $2 }' /proc/$PID/status)
priv=$(awk '$1 ~ /^Private_(Clean|Dirty):$/ { s += $2 } END { print s }' /proc/$PID/smaps_rollup)
echo "idle daemon: peak RSS $(kib "$hwm") (goal <= 4 MiB; SWUpdate's idle daemon: 20 MiB);" \
    "of it shared-library pages $(kib "$file"), anonymous $(kib "$anon"), private to the process $(kib "$priv")"
echo "  baseline, a one-shot 'upgrader status' of the same build: peak RSS $(kib "$base")"
echo "  the shared libraries mapped: $(grep -c '\.so' /proc/$PID/maps | awk '{print $1}') mappings of" \
    "$(awk '$6 ~ /\.so/ { print $6 }' /proc/$PID/maps | sort -u | wc -l) libraries (Debian's libcurl brings GnuTLS, Kerberos, LDAP, libssh2; libarchive brings libxml2 and ICU)"
t0=$(cpu_ticks $PID) v0=$(proc_sum $PID voluntary_ctxt_switches) n0=$(proc_sum $PID nonvoluntary_ctxt_switches)
sleep "$IDLE_S"
t1=$(cpu_ticks $PID) v1=$(proc_sum $PID voluntary_ctxt_switches) n1=$(proc_sum $PID nonvoluntary_ctxt_switches)
hz=$(getconf CLK_TCK)
echo "idle for ${IDLE_S} s (Resync_Periodic 86400, nothing due): CPU $(awk -v t=$((t1 - t0)) -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }') s," \
    "context switches $((v1 - v0)) voluntary + $((n1 - n0)) involuntary (goal: none but the timers'; no timer was due)"
stop_pid $PID

# ---- (2) A fleet of real daemons against one nginx.
FW=$WORK/fw
mkdir -p "$FW"
printf '<flat-profile><GPP_A>fleet</GPP_A></flat-profile>\n' >"$FW/fleet.xml"
pki_make "$WORK/pki" >/dev/null
nginx_start "$FW" || fail "nginx did not start"
H=http://127.0.0.1:$NGINX_HTTP_PORT
for i in $(seq 1 "$FLEET"); do
    d=$WORK/fleet/$i
    "$UPGRADER" --root "$d" init --slot-size 1M --mac "$(printf '000e08%06x' "$i")" >/dev/null || fail "init $i"
    # Resync_Random_Delay 1: a first contact within 0..20 s; Resync_Periodic 15 stands for the hour.
    for kv in "Profile_Rule $H/fleet.xml" "Resync_Random_Delay 1" "Resync_Periodic 15"; do
        # shellcheck disable=SC2086
        "$UPGRADER" --root "$d" param set $kv >/dev/null || fail "param set $kv"
    done
done
: >"$NGINX_ACCESS_LOG"
start=$(date +%s.%N)
pids=()
for i in $(seq 1 "$FLEET"); do
    "$UPGRADER" --root "$WORK/fleet/$i" daemon 2>>"$WORK/fleet.log" &
    pids+=($!)
    at_exit "stop_pid $!"
    printf '%012x %s\n' "$((0x000e08000000 + i))" "$(date +%s.%N)" >>"$WORK/spawned"
done
echo "fleet: $FLEET daemons started in $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s"
sleep "$FLEET_S"
pss=0
for p in "${pids[@]}"; do
    pss=$((pss + $(awk '$1 == "Pss:" { print $2 }' /proc/"$p"/smaps_rollup 2>/dev/null || echo 0)))
done
for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
echo "fleet: $FLEET daemons against one nginx for ${FLEET_S} s (Resync_Random_Delay 1 = 0..20 s," \
    "Resync_Periodic 15); together $(kib "$pss") of memory (PSS: shared pages counted once)"
grep 'GET /fleet.xml' "$NGINX_ACCESS_LOG" | awk -v s="$start" -v fleet="$FLEET" '
    function bar(c, k,   out) { out = ""; while (k-- > 0) out = out c; return out }
    { t = $NF; sub(/^t=/, "", t); sec = int(t - s); n[sec]++; st[sec, $5]++; code[$5]++
      if (sec > last) last = sec }
    END {
        for (i = 0; i <= 20; i++) if (n[i] > peak) peak = n[i]
        uniform = fleet / 21
        printf "  first wave (0..20 s): peak %d requests/s against a uniform %.1f/s: %.2fx" \
               " (with %d devices a second holds few requests: the ratio is noisy)\n",
               peak, uniform, peak / uniform, fleet
        printf "  requests a second, as nginx logged them:\n"
        for (i = 0; i <= last; i++)
            printf "    t=%2ds %3d %s%s\n", i, n[i], bar("#", st[i, 200]), bar(".", st[i, 304])
        printf "  by status: 200 x%d (first contacts), 304 x%d (unchanged profile), other x%d\n",
               code[200], code[304], NR - code[200] - code[304]
    }'
echo "  ('#' a request answered 200 with the profile, '.' one answered 304 Not Modified)"
# Each device's first contact after its own start (its MAC is in the User-Agent): the spread
# Resync_Random_Delay draws, without the time the machine took to start 100 processes.
grep 'GET /fleet.xml' "$NGINX_ACCESS_LOG" | sed -n 's/.*; \([0-9a-f]\{12\}\)).* t=\([0-9.]*\)$/\1 \2/p' |
    awk 'NR == FNR { spawned[$1] = $2; next }
         !($1 in first) { first[$1] = $2 - spawned[$1] }
         END {
             for (m in first) { b = int(first[m] / 4); if (b > 4) b = 4; n[b]++; total++ }
             printf "  first contact after each daemon'"'"'s start, in 4 s bins (0..20 s drawn):"
             for (b = 0; b <= 4; b++) { printf " %d", n[b]; if (n[b] > peak) peak = n[b] }
             printf "\n  peak bin %d against a uniform %.1f: %.2fx\n", peak, total * 4 / 21, peak / (total * 4 / 21)
         }' "$WORK/spawned" -
finish
