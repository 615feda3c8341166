#!/usr/bin/env bash
# Installs the Debian 12 packages netring needs to build, test, fuzz and run its demo.
# Only missing packages are installed, and `apt-get update` runs only when something is missing,
# so a second run costs a few dpkg queries. Needs root, or sudo.
set -euo pipefail

packages=(
    build-essential cmake pkg-config
    libsystemd-dev # sd_notify: netringd tells systemd when it is ready (Type=notify)
    libboost-dev libnuma-dev libxdp-dev libbpf-dev
    libgtest-dev libgmock-dev googletest libbenchmark-dev
    libpcap-dev # netring-dump: filters and classic pcap
    tshark # the netring-dump tests read its files back with it (they skip that part without it)
    prometheus # the metrics test lints /metrics with promtool and has Prometheus scrape it (skips without)
    clang-14 libclang-rt-14-dev # libFuzzer and the clang sanitizer runtimes
    iproute2 util-linux procps python3 # ip, setpriv, ps/pgrep for the tests and the demo
    scdoc mandoc # the manual pages (docs/man) and their lint test
    tmux # ctl_top_test runs netring-ctl top in a real terminal
)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

missing=()
for p in "${packages[@]}"; do
    installed "$p" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
    echo "deps: all ${#packages[@]} packages present"
    exit 0
fi
echo "deps: installing ${missing[*]}"

if [[ $(id -u) -eq 0 ]]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "deps: missing packages (${missing[*]}) and not root, and sudo is not installed." >&2
    echo "deps: run this script as root, or install them: apt-get install ${missing[*]}" >&2
    exit 1
fi

"${as_root[@]}" apt-get update
# No questions: debconf takes each package's default answer (wireshark-common, which tshark pulls
# in, asks whether users other than root may capture; the default, no, is what netring needs).
# env sets the variable inside sudo, which may drop the caller's environment.
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
