#!/usr/bin/env bash
# AF_XDP over a veth pair with no rings layer: the reference for netring's NIC benchmarks.
#
# Creates netns nrx_tx (veth nrxv0) and nrx_rx (veth nrxv1), runs `xsk_min -f rx` on nrxv1
# (the receiving veth carries the XDP redirect program) and `xsk_min -f tx` on nrxv0, pinned
# to different CPUs, at 64 and 1500 bytes, and prints one JSON line per side and size.
# With --peers it then runs DPDK's af_packet/af_xdp PMDs on their own veth pair
# (/work/shared/peers/03-dpdk-veth.sh) so the numbers come from the same machine state.
#
# Needs root. Removes what it made on exit, even when interrupted: the XDP programs, the
# veth pair and the two namespaces. Traffic never leaves the namespaces.
#
# Env: DUR (seconds per run, default 5), XSK_MIN (path of the xsk_min binary),
#      RX_CPU / TX_CPU (default 0 / 1), SIZES (default "64 1500"),
#      XSK_ARGS (extra xsk_min options for both sides, e.g. "-b 256 --tx-budget 256").
set -euo pipefail

DUR=${DUR:-5}
RX_CPU=${RX_CPU:-0}
TX_CPU=${TX_CPU:-1}
SIZES=${SIZES:-64 1500}
XSK_ARGS=${XSK_ARGS:-}
TX_NS=nrx_tx RX_NS=nrx_rx TX_IF=nrxv0 RX_IF=nrxv1
PEER_SCRIPT=/work/shared/peers/03-dpdk-veth.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

usage() { echo "usage: [DUR=5] $0 [--peers]" >&2; exit 2; }
run_peers=0
for arg in "$@"; do
    case $arg in
        --peers) run_peers=1 ;;
        *) usage ;;
    esac
done
[[ $(id -u) -eq 0 ]] || { echo "veth_bench: needs root (netns, veth, XDP)" >&2; exit 1; }

if [[ -z ${XSK_MIN:-} ]]; then
    for c in "$REPO/build/tests/bench/xsk_min" /tmp/build-*/tests/bench/xsk_min; do
        [[ -x $c ]] && { XSK_MIN=$c; break; }
    done
fi
[[ -x ${XSK_MIN:-} ]] || { echo "veth_bench: xsk_min not found; build it or set XSK_MIN" >&2; exit 1; }

made_ns=()
pids=()
tmp=$(mktemp -d /tmp/veth_bench.XXXXXX)
cleanup() {
    local rc=$?
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    for ns in "${made_ns[@]}"; do
        # Detach explicitly (a netlink-attached program would outlive a killed xsk_min),
        # then delete the namespace, which deletes the veth end inside it.
        for dev in "$TX_IF" "$RX_IF"; do
            ip -n "$ns" link set dev "$dev" xdp off 2>/dev/null || true
        done
        ip netns del "$ns" 2>/dev/null || true
    done
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Our own names only: a namespace of that name is a leftover of a killed run of this script.
for ns in "$TX_NS" "$RX_NS"; do
    if ip netns list | grep -qw "^$ns"; then
        echo "veth_bench: removing leftover netns $ns" >&2
        ip netns del "$ns"
    fi
done
for ns in "$TX_NS" "$RX_NS"; do
    ip netns add "$ns"
    made_ns+=("$ns")
    # No IPv6 autoconfiguration: its ND/RS packets would land in the XSK among ours.
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" link set lo up
done
# Both ends are created inside their namespaces: the pair never appears in the root netns.
ip link add "$TX_IF" netns "$TX_NS" type veth peer name "$RX_IF" netns "$RX_NS"
ip -n "$TX_NS" link set "$TX_IF" up
ip -n "$RX_NS" link set "$RX_IF" up

echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) vCPUs;" \
     "kernel $(uname -r); xsk_min $XSK_MIN; DUR=$DUR rx cpu $RX_CPU tx cpu $TX_CPU" >&2

run_size() {
    local len=$1 rx_pid tx_pid i
    # shellcheck disable=SC2086  # XSK_ARGS is a list of options
    ip netns exec "$RX_NS" taskset -c "$RX_CPU" "$XSK_MIN" -i "$RX_IF" -f rx -l "$len" -T "$DUR" \
        --json $XSK_ARGS >"$tmp/rx.json" 2>"$tmp/rx.log" &
    rx_pid=$!
    pids=("$rx_pid")
    for ((i = 0; i < 100; i++)); do   # the sender starts once the redirect program is there
        ip -n "$RX_NS" link show dev "$RX_IF" | grep -q 'prog/xdp' && break
        kill -0 "$rx_pid" 2>/dev/null || break
        sleep 0.05
    done
    # In the background too: `wait` returns at once on SIGINT/SIGTERM, a foreground child would
    # delay the trap until it exits.
    # shellcheck disable=SC2086
    ip netns exec "$TX_NS" taskset -c "$TX_CPU" "$XSK_MIN" -i "$TX_IF" -f tx -l "$len" -T "$DUR" \
        --json $XSK_ARGS >"$tmp/tx.json" 2>"$tmp/tx.log" &
    tx_pid=$!
    pids+=("$tx_pid")
    wait "$tx_pid" || { cat "$tmp/tx.log" >&2; return 1; }
    wait "$rx_pid" || { cat "$tmp/rx.log" >&2; return 1; }
    pids=()
    sed "s/^{/{\"case\":\"xsk_min-veth-${len}B-tx\",/" "$tmp/tx.json"
    sed "s/^{/{\"case\":\"xsk_min-veth-${len}B-rx\",/" "$tmp/rx.json"
}

for len in $SIZES; do run_size "$len"; done

if ((run_peers)); then
    DUR=$DUR bash "$PEER_SCRIPT"
fi
