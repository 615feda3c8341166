#!/usr/bin/env bash
# Usage: scripts/package.sh [OUT_DIR]
# Builds the Debian package netring_<version>_<arch>.deb: configures build-pkg/ at the repository
# root (RelWithDebInfo, prefix /usr, warnings as errors, no tests), builds, and runs CPack's DEB
# generator (packaging/CMakeLists.txt), then copies the .deb into OUT_DIR (default build-pkg/) and
# prints its path last. PKG_BUILD_DIR overrides build-pkg/; SKIP_DEPS=1 skips the package check.
# Binaries are stripped in the package; the build directory keeps the unstripped ones.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${PKG_BUILD_DIR:-$root/build-pkg}
out_dir=${1:-$build_dir}

if [[ ${SKIP_DEPS:-0} != 1 ]]; then
    "$root/scripts/deps.sh"
fi

launcher=()
if command -v ccache >/dev/null 2>&1; then
    launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNETRING_WERROR=ON \
    -DNETRING_TESTS=OFF -DCMAKE_INSTALL_PREFIX=/usr "${launcher[@]}"
cmake --build "$build_dir" -j"${PKG_JOBS:-$(nproc)}"
rm -f "$build_dir"/netring_*.deb
(cd "$build_dir" && cpack -G DEB)

debs=("$build_dir"/netring_*.deb)
if ((${#debs[@]} != 1)) || [[ ! -f ${debs[0]} ]]; then
    echo "package: expected one netring_*.deb in $build_dir, found: ${debs[*]}" >&2
    exit 1
fi
mkdir -p "$out_dir"
if [[ $(realpath "$out_dir") != $(realpath "$build_dir") ]]; then
    cp "${debs[0]}" "$out_dir/"
fi
echo "$out_dir/$(basename "${debs[0]}")"
