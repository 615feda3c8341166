#!/usr/bin/env bash
# The demo: zero-copy pipes between two unprivileged processes, on a fresh Debian 12, as root.
#
#   1. install missing packages and build (scripts/build.sh, into build/)
#   2. start build/daemon/netringd on a socket in a temporary directory, with a config that lets
#      uid 65534 (nobody) open pipes
#   3. as uid/gid 65534: a receiver on netmap:demo{1 and a sender on netmap:demo}1, 60-byte frames
#      with every payload byte checked, then 1500-byte frames with only headers checked
#   4. netring-ctl status during the second round and after it; stop the daemon, remove the
#      directory
#
# DEMO_SECONDS (default 10) sets how long each sender runs. Exits non-zero if any step failed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${DEMO_SECONDS:-10}
as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)

if [[ $(id -u) -ne 0 ]]; then
    echo "demo.sh must run as root: it starts netringd and runs the clients as uid 65534." >&2
    exit 1
fi

"$root/scripts/build.sh" "$root/build"
bin=$root/build
netringd=$bin/daemon/netringd
pktgen=$bin/tools/netring-pktgen
ctl=$bin/tools/netring-ctl

work=$(mktemp -d /tmp/netring-demo.XXXXXX)
chmod 755 "$work" # uid 65534 must reach the socket inside
daemon_pid=
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup()
{
    if [[ -n $daemon_pid ]] && kill -0 "$daemon_pid" 2>/dev/null; then
        kill -TERM "$daemon_pid"
        wait "$daemon_pid" || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

sock=$work/netringd.sock
conf=$work/netringd.conf
cat >"$conf" <<'CONF'
# netringd configuration for the demo
buf_size 2048
region_buffers 16384
default_slots 1024
# first matching rule wins; uid 0 is always allowed
allow uid=65534 netmap:demo*
allow uid=65534 netmap:pipe*
CONF

banner() { printf '\n=== %s\n' "$*"; }

banner "netringd --socket $sock --config $conf"
"$netringd" --socket "$sock" --config "$conf" &
daemon_pid=$!
for _ in $(seq 100); do
    [[ -S $sock ]] && break
    kill -0 "$daemon_pid" 2>/dev/null || { echo "netringd exited at startup" >&2; exit 1; }
    sleep 0.05
done
[[ -S $sock ]] || { echo "netringd did not create $sock" >&2; exit 1; }

# One round: a receiver, then a sender; the receiver runs a little longer so it sees the sender's
# end close, drains the ring and checks every frame that was sent. With show_status=1,
# netring-ctl status runs while the frames flow.
round()
{
    local len=$1 payload=$2 show_status=$3 rx_pid tx_pid rc_rx=0 rc_tx=0 rc_ctl=0
    banner "pipe demo{1 <- demo}1: ${len}-byte frames, ${payload} payload check, ${seconds} s, as uid 65534"
    "${as_nobody[@]}" "$pktgen" --socket "$sock" -i 'netmap:demo{1' -f rx -T $((seconds + 2)) \
        --payload "$payload" &
    rx_pid=$!
    sleep 0.5
    "${as_nobody[@]}" "$pktgen" --socket "$sock" -i 'netmap:demo}1' -f tx -T "$seconds" -l "$len" \
        --payload "$payload" &
    tx_pid=$!
    if ((show_status)); then
        sleep 1
        banner "netring-ctl status (while the pipe runs)"
        "$ctl" --socket "$sock" status || rc_ctl=$?
    fi
    wait "$tx_pid" || rc_tx=$?
    wait "$rx_pid" || rc_rx=$?
    if ((rc_tx != 0 || rc_rx != 0 || rc_ctl != 0)); then
        echo "round ${len} bytes failed: sender exit ${rc_tx}, receiver exit ${rc_rx}, netring-ctl exit ${rc_ctl}" >&2
        return 1
    fi
}

status=0
round 60 full 0 || status=1
round 1500 header 1 || status=1

banner "netring-ctl status (after both rounds: the pipe is gone, its region freed)"
"$ctl" --socket "$sock" status || status=1

banner "stopping netringd (SIGTERM to pid $daemon_pid)"
kill -TERM "$daemon_pid"
if ! wait "$daemon_pid"; then
    echo "netringd did not exit cleanly" >&2
    status=1
fi
daemon_pid=

if ((status == 0)); then
    banner "demo finished: all steps passed"
else
    banner "demo finished with failures"
fi
exit "$status"
