#!/bin/sh
# render.sh SCDOC IN.scd OUT: turns one scdoc page into roff.
#
# scdoc starts a paragraph (.P) at every blank line, also right before a section heading and at
# the end of an indented block, where it opens an empty paragraph. groff ignores those; mandoc's
# lint warns about each one ("skipping paragraph macro"). The filter moves a .P past the end of an
# indent (so the space between two option entries stays), drops it before a heading, another .P
# or the end of the page and right after .TH or a heading: the lint stays quiet, and a warning
# it prints again means something.
set -eu
scdoc=$1 in=$2 out=$3
# No pipe: sh would report awk's status, and a page scdoc rejects would pass as an empty one.
"$scdoc" <"$in" >"$out.raw"
awk '
    pending && $0 == ".RE" { print; next }
    pending && $0 ~ /^\.(SH|SS|P|PP)( |$)/ { pending = 0 }
    $0 == ".P" && last ~ /^\.(SH|SS|TH)( |$)/ { next }
    $0 == ".P" { if (!pending) pending = 1; next }
    pending { print ".P"; pending = 0 }
    { print; last = $0 }
' "$out.raw" >"$out.tmp"
rm -f "$out.raw"
mv "$out.tmp" "$out"
