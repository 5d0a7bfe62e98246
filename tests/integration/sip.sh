# SPDX-License-Identifier: MIT
# A real SIP user agent and a real caller on loopback, for the daemon's tests and the demo:
# baresip (answermode=auto, its ctrl_tcp port on 127.0.0.1) and sipp placing one call.
# Source after lib.sh and servers.sh; both are stopped by PID when the script ends.
command -v baresip >/dev/null && command -v sipp >/dev/null ||
    fail "baresip and sipp are needed (make deps installs baresip-core and sip-tester)"

# baresip_start: the phone's SIP user agent on 127.0.0.1. Sets SIP_PORT, CTRL_PORT, BARESIP_PID.
baresip_start() {
    local dir=$WORK/baresip try
    mkdir -p "$dir"
    for try in 1 2 3; do
        free_port SIP_PORT && free_port CTRL_PORT || return 1
        cat >"$dir/config" <<EOF2
sip_listen 127.0.0.1:$SIP_PORT
audio_player alsa,null
audio_source alsa,null
audio_alert alsa,null
module_path /usr/lib/baresip/modules
module g711.so
module alsa.so
module_app account.so
module_app menu.so
module_app ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:$CTRL_PORT
EOF2
        echo "<sip:phone@127.0.0.1:$SIP_PORT>;regint=0;answermode=auto" >"$dir/accounts"
        baresip -f "$dir" </dev/null >"$WORK/baresip.log" 2>&1 &
        BARESIP_PID=$!
        if wait_listening t "$BARESIP_PID" "$CTRL_PORT"; then
            at_exit "stop_pid $BARESIP_PID"
            return 0
        fi
        stop_pid "$BARESIP_PID"
    done
    fail "baresip did not start: $(tail -n 5 "$WORK/baresip.log")"
}

# call_start SECONDS: sipp calls the phone and hangs up (BYE) after SECONDS. Sets SIPP_PID.
call_start() {
    free_port SIPP_PORT
    sipp -sn uac "127.0.0.1:$SIP_PORT" -s phone -i 127.0.0.1 -p "$SIPP_PORT" -m 1 -d "$(($1 * 1000))" \
        -nostdin >"$WORK/sipp.log" 2>&1 &
    SIPP_PID=$!
    at_exit "stop_pid $SIPP_PID"
}
