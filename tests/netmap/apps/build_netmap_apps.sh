#!/usr/bin/env bash
# Build netmap's pkt-gen, bridge and vale-ctl outside both source trees, in two flavours:
#
#   B  against netmap's own headers (NETMAP_SRC/sys) and netmap's libnetmap, compiled here into a
#      static library; the binaries run on netring with libnetring-netmap in LD_PRELOAD.
#   A  against netring's headers and library, as given by pkg-config netring-netmap
#      (PKG_CONFIG_PATH=NETRING_BUILD/pkgconfig); nothing from NETMAP_SRC/sys or
#      NETMAP_SRC/libnetmap is on the include path, only the app sources and apps/include.
#
# usage: build_netmap_apps.sh NETMAP_SRC NETRING_BUILD OUTDIR [A|B|both]
#
# Output: OUTDIR/{A,B}/{pkt-gen,bridge,vale-ctl}, plus the busy-wait variants pkt-gen-b and
# bridge-b (compiled with -DBUSYWAIT, as netmap's own makefiles do), OUTDIR/B/libnetmap.a and
# OUTDIR/<flavour>/imports.txt (the libc symbols each binary imports, for checking interposition).
# NETMAP_SRC is only read. No configure step and no kernel module are needed; pkt-gen is built
# without pcap support (-DNO_PCAP), so only libc6-dev (with linux-libc-dev) is required.
#
# Environment: CC (default cc), CFLAGS_EXTRA (appended to every compile), WERROR=1 adds -Werror
# (netmap's makefiles use it; off here so a newer compiler's new warning does not fail a test run).
set -euo pipefail

usage() {
  echo "usage: $0 NETMAP_SRC NETRING_BUILD OUTDIR [A|B|both]" >&2
  exit 2
}

[ $# -ge 3 ] && [ $# -le 4 ] || usage
NETMAP_SRC=$(cd "$1" && pwd)
NETRING_BUILD=$2
OUTDIR=$3
WHICH=${4:-both}
case "$WHICH" in A|B|both) ;; *) usage ;; esac

CC=${CC:-cc}
APPS="pkt-gen bridge vale-ctl"
BASE_CFLAGS="-O2 -g -pipe -Wall -Wextra -Wno-address-of-packed-member -Wno-unused-parameter"
[ "${WERROR:-0}" = 1 ] && BASE_CFLAGS="$BASE_CFLAGS -Werror"
BASE_CFLAGS="$BASE_CFLAGS ${CFLAGS_EXTRA:-}"
APP_LIBS="-lpthread -lm -lrt"
# pkt-gen: no pcap; the other apps take no extra defines.
declare -A APP_DEFS=([pkt-gen]="-DNO_PCAP" [bridge]="" [vale-ctl]="")
# Busy-wait variants that netmap's makefiles also build.
BUSY_APPS="pkt-gen bridge"

for f in apps/pkt-gen/pkt-gen.c apps/bridge/bridge.c apps/vale-ctl/vale-ctl.c apps/include/ctrs.h; do
  [ -f "$NETMAP_SRC/$f" ] || { echo "error: $NETMAP_SRC/$f missing (not a netmap tree?)" >&2; exit 2; }
done

mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)

# Imported symbols that matter for LD_PRELOAD interposition of the netmap file descriptor.
record_imports() {
  local dir=$1 out=$1/imports.txt b
  : >"$out"
  for b in "$dir"/*; do
    [ -x "$b" ] && [ -f "$b" ] || continue
    printf '%s:' "$(basename "$b")" >>"$out"
    nm -D --undefined-only "$b" | awk '{print $NF}' | sed 's/@.*//' |
      grep -E '^(__)?(open|open64|openat|openat64|__open_2|__open64_2|__openat_2|ioctl|mmap|mmap64|munmap|poll|ppoll|__poll_chk|__ppoll_chk|select|pselect|epoll_.*|close|dup|dup2|dup3|fcntl|fcntl64|syscall|fork|read|write)$' |
      sort | tr '\n' ' ' >>"$out" || true
    echo >>"$out"
  done
}

build_apps() { # flavour cflags libs
  local fl=$1 cflags=$2 libs=$3 dir=$OUTDIR/$1 app rc=0
  mkdir -p "$dir"
  for app in $APPS; do
    echo "[$fl] $app"
    # shellcheck disable=SC2086
    if ! $CC $BASE_CFLAGS ${APP_DEFS[$app]} $cflags -I"$NETMAP_SRC/apps/include" \
        "$NETMAP_SRC/apps/$app/$app.c" -o "$dir/$app" $libs $APP_LIBS; then
      echo "error: [$fl] $app failed to build" >&2
      rc=1
    fi
  done
  for app in $BUSY_APPS; do
    echo "[$fl] $app-b"
    # shellcheck disable=SC2086
    if ! $CC $BASE_CFLAGS ${APP_DEFS[$app]} -DBUSYWAIT $cflags -I"$NETMAP_SRC/apps/include" \
        "$NETMAP_SRC/apps/$app/$app.c" -o "$dir/$app-b" $libs $APP_LIBS; then
      echo "error: [$fl] $app-b failed to build" >&2
      rc=1
    fi
  done
  record_imports "$dir"
  return $rc
}

build_B() {
  local dir=$OUTDIR/B obj src
  mkdir -p "$dir/obj"
  rm -f "$dir/obj"/*.o "$dir/libnetmap.a"
  # Every libnetmap/*.c, as netmap's libnetmap makefile does (nmctx-pthreads.c included: its
  # constructor makes the default context thread-safe and is pulled in by libnetmap.h).
  for src in "$NETMAP_SRC"/libnetmap/*.c; do
    obj=$dir/obj/$(basename "$src" .c).o
    echo "[B] libnetmap/$(basename "$src")"
    # shellcheck disable=SC2086
    $CC $BASE_CFLAGS -I"$NETMAP_SRC/sys" -I"$NETMAP_SRC/libnetmap" -c "$src" -o "$obj" || {
      echo "error: [B] libnetmap/$(basename "$src") failed to build" >&2
      return 1
    }
  done
  ar rcs "$dir/libnetmap.a" "$dir"/obj/*.o || return 1
  build_apps B "-I$NETMAP_SRC/sys -I$NETMAP_SRC/libnetmap" "-L$dir -lnetmap"
}

build_A() {
  local pcdir=$NETRING_BUILD/pkgconfig cflags libs inc missing=0 h
  if [ ! -f "$pcdir/netring-netmap.pc" ]; then
    echo "error: $pcdir/netring-netmap.pc not found (configure netring first)" >&2
    return 1
  fi
  cflags=$(PKG_CONFIG_PATH=$pcdir pkg-config --cflags netring-netmap)
  libs=$(PKG_CONFIG_PATH=$pcdir pkg-config --libs netring-netmap)
  inc=$(PKG_CONFIG_PATH=$pcdir pkg-config --variable=includedir netring-netmap)
  for h in net/netmap.h net/netmap_user.h libnetmap.h; do
    [ -f "$inc/$h" ] || { echo "error: netring header $inc/$h missing" >&2; missing=1; }
  done
  [ $missing = 0 ] || return 1
  case " $cflags " in
    *"$NETMAP_SRC"*) echo "error: pkg-config cflags point into NETMAP_SRC" >&2; return 1 ;;
  esac
  build_apps A "$cflags" "$libs"
}

status=0
if [ "$WHICH" = B ] || [ "$WHICH" = both ]; then
  build_B || status=1
fi
if [ "$WHICH" = A ] || [ "$WHICH" = both ]; then
  build_A || status=1
fi
exit $status
