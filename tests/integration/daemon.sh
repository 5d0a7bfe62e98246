# SPDX-License-Identifier: MIT
# Helpers for the tests of a running `upgrader daemon`: start one on a folder (stopped by PID
# at exit), wait on what it shows (its log, its status document, the state folder, the
# server's log) with generous bounds that fail with what was seen. Source after lib.sh and
# servers.sh. Nothing here sleeps for a fixed time to let the daemon act.

# daemon_start DIR [DAEMON-ARGS...]: starts the daemon of DIR; sets DAEMON_PID and DAEMON_LOG
# and returns once it answers on its control socket. Without a --listen of the test's own the
# web server is off (its default would be port 80 on every address).
daemon_start() {
    local dir=$1
    shift
    [[ " $* " == *" --listen "* ]] || set -- "$@" --listen off
    DAEMON_LOG=$WORK/daemon-$(basename "$dir").log
    echo "---- start $(date +%T.%N)" >>"$DAEMON_LOG"
    TZ=${DAEMON_TZ:-UTC} "$UPGRADER" --root "$dir" daemon "$@" >>"$DAEMON_LOG" 2>&1 &
    DAEMON_PID=$!
    at_exit "stop_pid $DAEMON_PID"
    wait_until 10 "the daemon of $(basename "$dir") answers" daemon_answers "$dir"
}

# daemon_answers DIR: true once the daemon of DIR answers `status`.
daemon_answers() {
    "$UPGRADER" --root "$1" status --json 2>/dev/null | jq -e '.daemon.pid' >/dev/null 2>&1
}

# daemon_stop: SIGTERM, then waits for the exit; the exit code is in DAEMON_RC.
daemon_stop() {
    kill -TERM "$DAEMON_PID"
    DAEMON_RC=0
    wait "$DAEMON_PID" || DAEMON_RC=$?
}

# wait_until SECONDS WHAT COMMAND...: runs COMMAND every 50 ms until it succeeds; after
# SECONDS fails the test with the daemon's last lines.
wait_until() {
    local limit=$1 what=$2 end
    shift 2
    end=$(($(date +%s) + limit))
    until "$@"; do
        if [ "$(date +%s)" -ge "$end" ]; then
            fail "$what: not within ${limit} s; the daemon's log ends: $(tail -n 20 "${DAEMON_LOG:-/dev/null}" | sed 's/^/  | /')"
        fi
        sleep 0.05
    done
    ok "$what"
}

log_has() { grep -q -- "$1" "$DAEMON_LOG"; }
log_count() { grep -c -- "$1" "$DAEMON_LOG" || true; }
# log_count_at_least PATTERN N
log_count_at_least() { [ "$(log_count "$1")" -ge "$2" ]; }
# dstatus DIR FILTER: one value of the daemon's part of `status --json`.
dstatus() { "$UPGRADER" --root "$1" status --json | jq -r ".daemon$2"; }
# requests PATTERN: how many requests nginx logged for PATTERN.
requests() { grep -c -- "$1" "$NGINX_ACCESS_LOG" || true; }
requests_at_least() { [ "$(requests "$1")" -ge "$2" ]; }
# request_times PATTERN: nginx's end time of each request for PATTERN, one a line.
request_times() { grep -- "$1" "$NGINX_ACCESS_LOG" | sed -n 's/.* t=\([0-9.]*\)$/\1/p'; }
# gaps PATTERN: the seconds between consecutive requests for PATTERN, one a line.
gaps() { request_times "$1" | awk 'NR > 1 { printf "%.2f\n", $1 - prev } { prev = $1 }'; }
# gap_between N LOW HIGH PATTERN: the N-th gap (1-based) lies in [LOW, HIGH].
gap_between() {
    local g
    g=$(gaps "$4" | sed -n "${1}p")
    [ -n "$g" ] || fail "no gap $1 between requests for $4: $(request_times "$4" | tr '\n' ' ')"
    awk -v g="$g" -v lo="$2" -v hi="$3" 'BEGIN { exit !(g >= lo && g <= hi) }' ||
        fail "gap $1 between requests for $4 is $g s, expected $2..$3 s (gaps: $(gaps "$4" | tr '\n' ' '))"
    ok "gap $1 between requests for $4 is $g s (expected $2..$3)"
}
