#!/bin/sh
# lint.sh MANDOC GROFF PAGE...: fails when mandoc (warning level) or groff (all warnings) says
# anything about a page. GROFF may be empty: groff's check is then skipped.
set -u
mandoc=$1 groff=$2
shift 2
status=0
for page in "$@"; do
    if [ ! -f "$page" ]; then
        echo "$page: missing; build the man target first" >&2
        status=1
        continue
    fi
    out=$("$mandoc" -T lint -W warning "$page" 2>&1) || status=1
    [ -z "$out" ] || { echo "$out"; status=1; }
    if [ -n "$groff" ]; then
        out=$("$groff" -ww -mandoc -Tutf8 -z "$page" 2>&1) || status=1
        [ -z "$out" ] || { echo "$page: $out"; status=1; }
    fi
done
exit $status
