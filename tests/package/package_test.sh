#!/usr/bin/env bash
# The Debian package, end to end, as root on a Debian 12 machine where netring is not installed.
#
# Objective: the package built by scripts/package.sh installs, reinstalls and purges cleanly,
# passes lintian without errors, and its daemon works as its systemd unit starts it: socket
# reachable by group netring only, pipes that move every frame, libnetring usable from an
# outside project through CMake and through pkg-config.
#
# Steps:
#   1. install missing tools (lintian, systemd for systemd-analyze, dpkg-dev, ...) with apt-get
#   2. scripts/package.sh into a temporary directory; lintian on the .deb (errors fail)
#   3. dpkg -i twice (the second is an upgrade to the same version); systemd-analyze verify
#   4. start /usr/sbin/netringd as the installed unit would, without systemd: its ExecStart, its
#      capability bounding and ambient sets (setpriv, read from the unit file), NoNewPrivileges,
#      its RuntimeDirectory; check the daemon's capabilities and the socket's group and mode
#   5. as a throwaway member of group netring: netring-pktgen tx and rx of 100000 frames on a
#      pipe (rx must report packets 100000, lost 0)
#   6. as uid 65534 (not a member): "permission denied" naming the socket
#   7. tests/package/example built with find_package(netring) and with pkg-config; both move
#      1000 frames through the daemon as the member
#   8. SIGTERM to the daemon; dpkg --purge; nothing of the package left (files, /etc/netring,
#      the group)
# Everything the test creates (user, package, daemon, /run/netring, temporary files) is removed
# on exit, also on failure. PKG_BUILD_DIR and SKIP_DEPS pass through to scripts/package.sh.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
unit=/lib/systemd/system/netringd.service
sock=/run/netring/netringd.sock
frames=100000

fail() {
    echo "package_test: FAILED: $*" >&2
    exit 1
}
step() { printf '\n--- %s\n' "$*"; }

[[ $(id -u) -eq 0 ]] || fail "must run as root (dpkg, setpriv, useradd)"
if dpkg-query -W -f='${Status}' netring 2>/dev/null | grep -q 'installed'; then
    fail "netring is already installed; this test installs and purges it, so it will not run here"
fi
getent group netring >/dev/null && fail "group netring exists already; the test must create and remove it"
[[ -e /run/netring ]] && fail "/run/netring exists (is a netringd running?)"

step "tools"
need=()
for p in lintian systemd dpkg-dev fakeroot adduser passwd util-linux pkg-config cmake g++ python3; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if ((${#need[@]})); then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
fi

work=$(mktemp -d /tmp/netring-pkgtest.XXXXXX)
chmod 755 "$work" # the test user runs the example programs from here
user=nrpkgtest$$
daemon_pid=
installed=0
made_run_dir=0
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
    local rc=$?
    set +e
    if [[ -n $daemon_pid ]] && kill -0 "$daemon_pid" 2>/dev/null; then
        kill -TERM "$daemon_pid"
        wait "$daemon_pid"
    fi
    id "$user" >/dev/null 2>&1 && userdel "$user"
    ((installed)) && dpkg --purge netring >/dev/null
    ((made_run_dir)) && rm -rf /run/netring
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT

step "build the package"
deb=$("$root/scripts/package.sh" "$work/deb" | tail -n 1)
[[ -f $deb && $(basename "$deb") =~ ^netring_[0-9.]+_[a-z0-9]+\.deb$ ]] || fail "no package: '$deb'"
echo "$deb"
dpkg-deb --info "$deb"

step "lintian"
lintian --fail-on error --info "$deb" || fail "lintian reports errors"

step "install, then install again (an upgrade to the same version)"
installed=1
dpkg -i "$deb"
getent group netring >/dev/null || fail "postinst did not create group netring"
dpkg -i "$deb"
[[ $(dpkg-query -W -f='${Status}' netring) == "install ok installed" ]] || fail "not installed after the reinstall"
grep -qx /etc/netring/netringd.conf /var/lib/dpkg/info/netring.conffiles || fail "the config is not a conffile"

step "systemd-analyze verify $unit"
systemd-analyze verify "$unit"

# The unit's value of KEY (the last assignment wins, as in systemd).
unit_value() { sed -n "s/^$1=//p" "$unit" | tail -n 1; }
# "CAP_NET_ADMIN CAP_BPF" -> "-all,+net_admin,+bpf", setpriv's syntax.
setpriv_caps() {
    local out=-all c
    for c in $1; do
        c=${c#CAP_}
        out+=",+${c,,}"
    done
    echo "$out"
}
# The capability mask a list of names stands for; setpriv --list-caps prints them in number order.
caps_mask() {
    local -a names
    local mask=0 c i
    mapfile -t names < <(setpriv --list-caps)
    for c in $1; do
        c=${c#CAP_}
        for i in "${!names[@]}"; do
            [[ ${names[$i]} == "${c,,}" ]] && mask=$((mask | (1 << i)))
        done
    done
    printf '%016x' "$mask"
}

step "start netringd as $unit would"
bounding=$(unit_value CapabilityBoundingSet)
ambient=$(unit_value AmbientCapabilities)
[[ -n $bounding && -n $ambient ]] || fail "the unit sets no CapabilityBoundingSet or AmbientCapabilities"
[[ $(unit_value NoNewPrivileges) == yes ]] || fail "the unit does not set NoNewPrivileges=yes"
[[ $(unit_value Type) == notify ]] || fail "the unit is not Type=notify"
run_dir=/run/$(unit_value RuntimeDirectory)
run_mode=$(unit_value RuntimeDirectoryMode)
[[ $run_dir == /run/netring ]] || fail "RuntimeDirectory is not netring"
read -r -a exec_start <<<"$(unit_value ExecStart)"
mkdir -m "${run_mode:-0755}" "$run_dir"
made_run_dir=1
setpriv --bounding-set "$(setpriv_caps "$bounding")" --inh-caps "$(setpriv_caps "$ambient")" \
    --ambient-caps "$(setpriv_caps "$ambient")" --no-new-privs -- "${exec_start[@]}" 2>"$work/netringd.log" &
daemon_pid=$!
for _ in $(seq 100); do
    [[ -S $sock ]] && break
    kill -0 "$daemon_pid" 2>/dev/null || fail "netringd exited at startup: $(cat "$work/netringd.log")"
    sleep 0.05
done
[[ -S $sock ]] || fail "netringd did not create $sock"
cat "$work/netringd.log"
want=$(caps_mask "$bounding")
for field in CapBnd CapEff CapAmb; do
    got=$(sed -n "s/^$field:\t//p" "/proc/$daemon_pid/status")
    [[ $got == "$want" ]] || fail "netringd's $field is $got, the unit's set is $want"
done
[[ $(sed -n 's/^NoNewPrivs:\t//p' "/proc/$daemon_pid/status") == 1 ]] || fail "NoNewPrivs is not set"
[[ $(stat -c '%a %G' "$sock") == "660 netring" ]] || fail "socket is $(stat -c '%a %G' "$sock"), not 660 netring"

step "a member of group netring: $frames frames over a pipe"
useradd --system --no-create-home --no-user-group --gid nogroup --groups netring \
    --shell /usr/sbin/nologin "$user"
as_member=(setpriv --reuid="$user" --regid=nogroup --init-groups)
"${as_member[@]}" netring-pktgen -i 'netmap:pkgtest{1' -f rx -n "$frames" -T 30 --json >"$work/rx.json" &
rx_pid=$!
sleep 0.3
"${as_member[@]}" netring-pktgen -i 'netmap:pkgtest}1' -f tx -n "$frames" -T 30 >"$work/tx.txt" ||
    fail "the sender failed: $(cat "$work/tx.txt")"
wait "$rx_pid" || fail "the receiver failed: $(cat "$work/rx.json")"
cat "$work/rx.json"
python3 - "$work/rx.json" "$frames" <<'PY' || fail "the receiver's report is wrong"
import json, sys
r = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
ok = r["packets"] == n and r["lost"] == 0 and r["corrupt"] == 0 and r["duplicate"] == 0
sys.exit(0 if ok else 1)
PY

step "uid 65534, not a member: permission denied"
rc=0
setpriv --reuid=65534 --regid=65534 --clear-groups netring-ctl status >"$work/nobody.txt" 2>&1 || rc=$?
cat "$work/nobody.txt"
((rc != 0)) || fail "uid 65534 reached the daemon"
grep -qi "permission denied" "$work/nobody.txt" || fail "the error does not say permission denied"
grep -qF "$sock" "$work/nobody.txt" || fail "the error does not name $sock"

step "an outside project: find_package(netring)"
cmake -S "$root/tests/package/example" -B "$work/example-cmake" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/example-cmake"
"${as_member[@]}" "$work/example-cmake/pipe_check" pkgcmake

step "an outside project: pkg-config --cflags --libs netring"
# shellcheck disable=SC2046 # pkg-config's output is a list of flags
g++ -std=c++20 -O2 -o "$work/pipe_check_pc" "$root/tests/package/example/pipe_check.cpp" \
    $(pkg-config --cflags --libs netring)
"${as_member[@]}" "$work/pipe_check_pc" pkgconfig

step "stop netringd (SIGTERM to $daemon_pid)"
kill -TERM "$daemon_pid"
wait "$daemon_pid" || fail "netringd exited with $?"
daemon_pid=
[[ ! -e $sock ]] || fail "the socket outlived the daemon"
userdel "$user"
rm -rf /run/netring
made_run_dir=0

step "purge"
dpkg -L netring >"$work/files.txt"
dpkg --purge netring
installed=0
left=()
while read -r f; do
    [[ -e $f && ! -d $f ]] && left+=("$f")
done <"$work/files.txt"
for d in /etc/netring /usr/include/netring /usr/share/doc/netring; do
    [[ -e $d ]] && left+=("$d")
done
while read -r d; do
    [[ $d == */cmake/netring && -e $d ]] && left+=("$d")
done <"$work/files.txt"
((${#left[@]} == 0)) || fail "left after purge: ${left[*]}"
! getent group netring >/dev/null || fail "group netring outlived the purge"
[[ ! -e /var/lib/dpkg/info/netring.list ]] || fail "dpkg still lists netring"

printf '\npackage_test: all checks passed\n'
