#!/usr/bin/env bash
# Usage: scripts/build.sh [BUILD_DIR] [extra cmake arguments...]
# Installs missing packages, configures (RelWithDebInfo unless CMAKE_BUILD_TYPE is given among the
# extra arguments, warnings as errors) and builds with every core. Re-running only rebuilds what
# changed. BUILD_DIR defaults to build/ at the repository root. SKIP_DEPS=1 skips the package check.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${1:-$root/build}
(($# > 0)) && shift

if [[ ${SKIP_DEPS:-0} != 1 ]]; then
    "$root/scripts/deps.sh"
fi

cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNETRING_WERROR=ON "$@"
cmake --build "$build_dir" -j"$(nproc)"
