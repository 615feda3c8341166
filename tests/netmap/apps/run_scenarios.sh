#!/usr/bin/env bash
# Runs netmap's own pkt-gen, bridge and vale-ctl on netring, by hand (CI has no netmap tree):
#
#   run_scenarios.sh NETMAP_SRC NETRING_BUILD [A|B|both]
#
# Builds the programs with build_netmap_apps.sh (A: netring's headers and library; B: netmap's
# headers and libnetmap, run with libnetring-netmap in LD_PRELOAD), starts a private netringd and,
# for each flavour, runs the programs as uid 65534 (vale-ctl's admin steps as root):
#
#   1 pipe      pkt-gen -f tx on netmap:nrpipe}1 to pkt-gen -f rx on netmap:nrpipe{1: nothing lost
#   2 nic-tx    pkt-gen -f tx on netmap:$IF (a veth bound by the daemon, AF_XDP): the peer veth's
#               rx_packets counter (/sys/class/net/$PEER/statistics/rx_packets, read in its
#               namespace) grows by at least the number sent
#   3 bridge    bridge -i netmap:$IF -i netmap:$IF^ carries ping and an 8 MiB TCP transfer each
#               way (socat, sha256 compared) between the host stack (the TAP nr-$IF, which holds
#               the address) and the peer namespace
#   4 vale-ctl  root creates, attaches, lists, detaches and removes a switch port (checked with
#               netring-switch list); uid 65534 gets "Operation not permitted" for -n -a -d -r
#
# Needs root, iproute2, setpriv, ping (iputils-ping), socat, ethtool. Every step prints PASS or FAIL;
# the exit status is 1 if any step failed. The namespace, the veth pair, the daemon (with its XDP
# program and TAP) and the switch are removed on exit, failure and Ctrl-C included. Logs stay in the
# work directory when a step failed (KEEP=1: always).
#
# Environment: N_PIPE (default 1000000), N_NIC (100000), TRANSFER_MB (8).
set -uo pipefail

usage() {
  echo "usage: $0 NETMAP_SRC NETRING_BUILD [A|B|both]" >&2
  exit 2
}
if [ $# -lt 2 ] || [ $# -gt 3 ]; then usage; fi
NETMAP_SRC=$(cd "$1" && pwd) || usage
NETRING_BUILD=$(cd "$2" && pwd) || usage
WHICH=${3:-both}
case "$WHICH" in A) FLAVOURS="A" ;; B) FLAVOURS="B" ;; both) FLAVOURS="A B" ;; *) usage ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)

N_PIPE=${N_PIPE:-1000000}
N_NIC=${N_NIC:-100000}
TRANSFER_MB=${TRANSFER_MB:-8}

NETRINGD=$NETRING_BUILD/daemon/netringd
SWITCH=$NETRING_BUILD/tools/netring-switch
PRELOAD=$NETRING_BUILD/libclient/netmap/libnetring-netmap.so

# Names this script creates (and only these are removed).
NS=nmscen-peer
IF=nmscen0
PEER=nmscen1
TAP=nr-$IF
HOST_IP=10.199.77.1
PEER_IP=10.199.77.2
NOBODY=65534

[ "$(id -u)" = 0 ] || { echo "error: run as root (namespaces, veth, daemon binding a NIC)" >&2; exit 2; }
missing=()
for t in ip:iproute2 setpriv:util-linux ping:iputils-ping socat:socat ethtool:ethtool pkg-config:pkg-config; do
  command -v "${t%%:*}" >/dev/null || missing+=("${t#*:}")
done
if ((${#missing[@]})); then
  echo "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null ||
    { echo "error: apt-get install ${missing[*]} failed" >&2; exit 2; }
fi
for f in "$NETRINGD" "$SWITCH" "$PRELOAD" "$NETRING_BUILD/pkgconfig/netring-netmap.pc"; do
  [ -e "$f" ] || { echo "error: $f missing: build netringd, netring-switch and netring_netmap first" >&2; exit 2; }
done
if ip netns list | grep -qw "$NS" || ip link show "$IF" >/dev/null 2>&1 || ip link show "$TAP" >/dev/null 2>&1; then
  echo "error: $NS, $IF or $TAP already exists; remove it (or finish the run that made it) first" >&2
  exit 2
fi

WORK=$(mktemp -d /tmp/nm-scenarios.XXXXXX)
chmod 755 "$WORK"
SOCK=$WORK/netringd.sock
APPS=$WORK/apps
DAEMON_PID=
BG_PIDS=()
FAILS=0
MADE_NS=0

cleanup() {
  local p
  for p in "${BG_PIDS[@]}"; do
    kill -INT "$p" 2>/dev/null
  done
  sleep 0.3
  for p in "${BG_PIDS[@]}"; do
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  if [ -n "$DAEMON_PID" ]; then
    # Switches that vale-ctl made persistent, then the daemon (it detaches XDP, removes the TAP).
    for sw in valeNSA valeNSB; do
      NETRING_SOCKET=$SOCK "$SWITCH" destroy "$sw" >/dev/null 2>&1
    done
    kill -TERM "$DAEMON_PID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$DAEMON_PID" 2>/dev/null
    wait "$DAEMON_PID" 2>/dev/null
  fi
  if ip link show "$IF" >/dev/null 2>&1; then
    ip link set dev "$IF" xdp off 2>/dev/null
    ip link del "$IF" 2>/dev/null
  fi
  [ "$MADE_NS" = 1 ] && ip netns del "$NS" 2>/dev/null
  if [ "$FAILS" = 0 ] && [ "${KEEP:-0}" != 1 ]; then
    rm -rf "$WORK"
  else
    echo "logs kept in $WORK"
  fi
}
trap cleanup EXIT
trap 'FAILS=$((FAILS + 1)); exit 130' INT TERM

result() { # name verdict details
  printf '%-5s %-28s %s\n' "$2" "$1" "$3"
  [ "$2" = PASS ] || FAILS=$((FAILS + 1))
}

# The prefix that runs a netmap program of flavour $1 as uid 65534 (B: libnetring-netmap preloaded),
# in NB; the same for root in RT. The program execs from setpriv/env: $! is its pid.
prefixes() {
  NB=(setpriv "--reuid=$NOBODY" "--regid=$NOBODY" --clear-groups env NETRING_SOCKET="$SOCK")
  RT=(env NETRING_SOCKET="$SOCK")
  if [ "$1" = B ]; then
    NB+=(LD_PRELOAD="$PRELOAD")
    RT+=(LD_PRELOAD="$PRELOAD")
  fi
}

count_of() { # "Sent" or "Received", file: N from pkt-gen's totals line, 0 when absent
  local n
  n=$(sed -n "s/^$1 \([0-9][0-9]*\) packets.*/\1/p" "$2" | tail -n 1)
  echo "${n:-0}"
}
rate_of() { sed -n 's/^Speed: \([0-9.]* [KMG]*pps\).*/\1/p' "$1" | tail -n 1; }

wait_for() { # seconds, command...: polls every 0.1 s
  local tries=$(($1 * 10))
  shift
  while [ $tries -gt 0 ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
    tries=$((tries - 1))
  done
  return 1
}
registered() { NETRING_SOCKET=$SOCK "$NETRING_BUILD/tools/netring-ctl" status 2>/dev/null | grep -qF "$1"; }
peer_rx() { ip netns exec "$NS" cat "/sys/class/net/$PEER/statistics/rx_packets"; }

# --- build ------------------------------------------------------------------------------------------
echo "== building $WHICH into $APPS"
if ! "$HERE/build_netmap_apps.sh" "$NETMAP_SRC" "$NETRING_BUILD" "$APPS" "$WHICH" >"$WORK/build.log" 2>&1; then
  cat "$WORK/build.log" >&2
  result build FAIL "build_netmap_apps.sh failed"
  exit 1
fi

# --- topology: $IF here (the daemon's namespace), $PEER in $NS ------------------------------------
ip netns add "$NS" && MADE_NS=1
ip link add "$IF" type veth peer name "$PEER" netns "$NS"
sysctl -qw "net.ipv6.conf.$IF.disable_ipv6=1"
ip netns exec "$NS" sysctl -qw "net.ipv6.conf.$PEER.disable_ipv6=1"
ip link set "$IF" up
ip -n "$NS" link set lo up
ip -n "$NS" link set "$PEER" up
ip -n "$NS" addr add "$PEER_IP/24" dev "$PEER"
# The peer's TCP segments would leave with a partial checksum (veth offload) and reach the TAP as
# they are, through AF_XDP and the bridge: the host stack would drop them. As with netmap on a NIC,
# checksum offload is turned off where frames enter the rings.
ip netns exec "$NS" ethtool -K "$PEER" tx off >/dev/null

# --- daemon -----------------------------------------------------------------------------------------
cat >"$WORK/netringd.conf" <<EOF
allow uid=$NOBODY *
admin gid=0
EOF
"$NETRINGD" --socket "$SOCK" --config "$WORK/netringd.conf" >"$WORK/netringd.log" 2>&1 &
DAEMON_PID=$!
wait_for 10 test -S "$SOCK" || { cat "$WORK/netringd.log" >&2; result daemon FAIL "netringd did not start"; exit 1; }

head -c $((TRANSFER_MB * 1024 * 1024)) /dev/urandom >"$WORK/payload.bin"
PAYLOAD_SUM=$(sha256sum <"$WORK/payload.bin" | cut -d' ' -f1)

for FL in $FLAVOURS; do
  D=$WORK/$FL
  mkdir -p "$D"
  prefixes "$FL"
  echo "== flavour $FL ($([ "$FL" = A ] && echo "netring headers + libnetring-netmap" || echo "netmap headers + libnetmap, LD_PRELOAD"))"

  # 1. pipe ----------------------------------------------------------------------------------------
  timeout 120 "${NB[@]}" "$APPS/$FL/pkt-gen" -i 'netmap:nrpipe{1' -f rx -n "$N_PIPE" -w 0 \
    >"$D/pipe-rx.out" 2>"$D/pipe-rx.err" &
  RX=$!
  BG_PIDS+=("$RX")
  wait_for 10 registered 'netmap:nrpipe{1'
  timeout 120 "${NB[@]}" "$APPS/$FL/pkt-gen" -i 'netmap:nrpipe}1' -f tx -l 60 -n "$N_PIPE" -w 0 \
    >"$D/pipe-tx.out" 2>"$D/pipe-tx.err"
  wait "$RX"
  sent=$(count_of Sent "$D/pipe-tx.out")
  got=$(count_of Received "$D/pipe-rx.out")
  v=FAIL
  [ "$sent" = "$N_PIPE" ] && [ "$got" = "$sent" ] && v=PASS
  result "$FL/1 pipe" $v "sent $sent received $got of $N_PIPE (60 B; tx $(rate_of "$D/pipe-tx.out"), rx $(rate_of "$D/pipe-rx.out"))"

  # 2. NIC tx on the veth ----------------------------------------------------------------------------
  before=$(peer_rx)
  timeout 120 "${NB[@]}" "$APPS/$FL/pkt-gen" -i "netmap:$IF" -f tx -l 60 -n "$N_NIC" -w 0 \
    >"$D/nic-tx.out" 2>"$D/nic-tx.err"
  sleep 0.2
  after=$(peer_rx)
  sent=$(count_of Sent "$D/nic-tx.out")
  v=FAIL
  [ "$sent" = "$N_NIC" ] && [ $((after - before)) -ge "$sent" ] && v=PASS
  result "$FL/2 nic-tx" $v "sent $sent; $PEER rx_packets $before -> $after (+$((after - before))) ($(rate_of "$D/nic-tx.out"))"

  # 3. bridge between the NIC rings and the host rings -----------------------------------------------
  "${NB[@]}" "$APPS/$FL/bridge" -i "netmap:$IF" -i "netmap:$IF^" -w 0 >"$D/bridge.log" 2>&1 &
  BR=$!
  BG_PIDS+=("$BR")
  rcvd=0
  if wait_for 10 ip link show "$TAP"; then
    sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=1"
    ip addr add "$HOST_IP/24" dev "$TAP"
    ping -c 5 -i 0.2 -W 2 "$PEER_IP" >"$D/ping.out" 2>&1
    rcvd=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$D/ping.out")
    v=FAIL
    [ "${rcvd:-0}" = 5 ] && v=PASS
    result "$FL/3 bridge ping" $v "host $HOST_IP ($TAP) -> $PEER_IP ($NS): ${rcvd:-0}/5 replies, $(sed -n 's/^rtt.*= \([^ ]*\) ms/rtt min\/avg\/max\/mdev \1 ms/p' "$D/ping.out")"
  fi
  if [ "${rcvd:-0}" -gt 0 ]; then
    rm -f "$D/recv-peer.bin" "$D/recv-host.bin"
    ip netns exec "$NS" timeout 60 socat -u TCP-LISTEN:5701,reuseaddr OPEN:"$D/recv-peer.bin",creat,trunc &
    L=$!
    wait_for 5 ip netns exec "$NS" sh -c "grep -qi ':1645 ' /proc/net/tcp"
    t0=$(date +%s.%N)
    timeout 60 socat -u OPEN:"$WORK/payload.bin" TCP:"$PEER_IP":5701
    wait "$L"
    t1=$(date +%s.%N)
    s=$(sha256sum <"$D/recv-peer.bin" 2>/dev/null | cut -d' ' -f1)
    v=FAIL
    [ "$s" = "$PAYLOAD_SUM" ] && v=PASS
    result "$FL/3 bridge tcp host->peer" $v "$TRANSFER_MB MiB, sha256 $([ "$v" = PASS ] && echo match || echo "MISMATCH or nothing received"), $(echo "$t0 $t1" | awk '{printf "%.2f s", $2-$1}')"

    timeout 60 socat -u TCP-LISTEN:5702,reuseaddr,bind="$HOST_IP" OPEN:"$D/recv-host.bin",creat,trunc &
    L=$!
    wait_for 5 sh -c "grep -qi ':1646 ' /proc/net/tcp"
    t0=$(date +%s.%N)
    ip netns exec "$NS" timeout 60 socat -u OPEN:"$WORK/payload.bin" TCP:"$HOST_IP":5702
    wait "$L"
    t1=$(date +%s.%N)
    s=$(sha256sum <"$D/recv-host.bin" 2>/dev/null | cut -d' ' -f1)
    v=FAIL
    [ "$s" = "$PAYLOAD_SUM" ] && v=PASS
    result "$FL/3 bridge tcp peer->host" $v "$TRANSFER_MB MiB, sha256 $([ "$v" = PASS ] && echo match || echo "MISMATCH or nothing received"), $(echo "$t0 $t1" | awk '{printf "%.2f s", $2-$1}')"
  elif ip link show "$TAP" >/dev/null 2>&1; then
    result "$FL/3 bridge tcp" FAIL "not tried: no ping reply"
  else
    result "$FL/3 bridge" FAIL "$TAP did not appear (bridge: $(tail -n 2 "$D/bridge.log" | tr '\n' ' '))"
  fi
  kill -INT "$BR" 2>/dev/null
  wait "$BR" 2>/dev/null
  grep -q "zerocopy supported" "$D/bridge.log" && echo "      bridge: $(grep -o 'zerocopy.*' "$D/bridge.log" | head -n 1)"
  wait_for 5 sh -c "! ip link show $TAP"

  # 4. vale-ctl ---------------------------------------------------------------------------------------
  SW=valeNS$FL
  P=nsc${FL,,}0
  Q=nsc${FL,,}1
  list_has() { NETRING_SOCKET=$SOCK "$SWITCH" list "$SW" 2>/dev/null | awk '{print $1}' | grep -qx "$1"; }
  ok=1
  notes=()
  "${RT[@]}" "$APPS/$FL/vale-ctl" -n "$P" >"$D/vale.log" 2>&1 || { ok=0; notes+=("-n $P failed"); }
  "${RT[@]}" "$APPS/$FL/vale-ctl" -a "$SW:$P" >>"$D/vale.log" 2>&1 || { ok=0; notes+=("-a $SW:$P failed"); }
  list_has "$P" || { ok=0; notes+=("$P not in netring-switch list"); }
  "${RT[@]}" "$APPS/$FL/vale-ctl" -l "$SW:$P" >"$D/vale-l.out" 2>&1 || { ok=0; notes+=("-l $SW:$P failed"); }
  "${RT[@]}" "$APPS/$FL/vale-ctl" >"$D/vale-all.out" 2>&1 # lists every port; exits 1 even on success
  grep -q "^$SW:$P " "$D/vale-all.out" || { ok=0; notes+=("$SW:$P not in vale-ctl's list"); }
  # uid 65534: every change refused with EPERM, the switch left as it was
  denied=0
  for args in "-n $Q" "-a $SW:$Q" "-d $SW:$P" "-r $P"; do
    # shellcheck disable=SC2086
    out=$("${NB[@]}" "$APPS/$FL/vale-ctl" $args 2>&1)
    rc=$?
    echo "[65534] vale-ctl $args: rc $rc: $out" >>"$D/vale.log"
    if [ $rc -ne 0 ] && grep -q "Operation not permitted" <<<"$out"; then
      denied=$((denied + 1))
    else
      notes+=("65534 -${args:1:1} not refused with EPERM")
    fi
  done
  if ! list_has "$P" || list_has "$Q"; then
    ok=0
    notes+=("65534 changed the switch")
  fi
  "${NB[@]}" "$APPS/$FL/vale-ctl" -l "$SW:$P" >/dev/null 2>&1 && lnote="65534 may list (-l)" || lnote="65534 -l refused"
  "${RT[@]}" "$APPS/$FL/vale-ctl" -d "$SW:$P" >>"$D/vale.log" 2>&1 || { ok=0; notes+=("-d $SW:$P failed"); }
  list_has "$P" && { ok=0; notes+=("$P still listed after -d"); }
  "${RT[@]}" "$APPS/$FL/vale-ctl" -r "$P" >>"$D/vale.log" 2>&1 || { ok=0; notes+=("-r $P failed"); }
  NETRING_SOCKET=$SOCK "$SWITCH" destroy "$SW" >>"$D/vale.log" 2>&1
  v=FAIL
  [ $ok = 1 ] && [ $denied = 4 ] && v=PASS
  result "$FL/4 vale-ctl" $v "root -n -a -l -d -r ok=$ok (checked in netring-switch list); 65534 EPERM $denied/4 (-n -a -d -r); $lnote${notes[*]:+; ${notes[*]}}"
done

echo "== $FAILS failed"
[ "$FAILS" = 0 ]
