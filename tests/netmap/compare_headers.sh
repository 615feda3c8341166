#!/bin/sh
# Compares netring's netmap headers (include/netmap) with netmap's own, from a netmap checkout:
#
#   tests/netmap/compare_headers.sh NETMAP_SRC_DIR
#
# Not run by CTest: CI has no netmap checkout. extract_decls.pl lists what each header set
# declares (structs and their fields, object-like macros, enumerators, functions); from the union
# of both lists this script generates
#   - a C program that prints sizeof/alignment of every struct, offset/size/type class of every
#     field, the value and type class of every macro and enumerator, and the results of the
#     pointer and index helpers on a hand-built ring; it is built and run once against each
#     header set, and the two outputs must be identical;
#   - a C file that includes our headers and then redeclares netmap's library functions with
#     netmap's prototypes: the compiler rejects any signature that differs.
# A name declared on one side only makes the other side's build fail. Exit status 0 when the
# headers agree, 1 on a difference, 2 on a usage error.
set -eu

if [ $# -ne 1 ] || [ ! -f "$1/sys/net/netmap.h" ] || [ ! -f "$1/libnetmap/libnetmap.h" ]; then
    echo "usage: $0 NETMAP_SRC_DIR (a netmap checkout: sys/net/netmap.h, libnetmap/libnetmap.h)" >&2
    exit 2
fi
netmap_dir=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
ours_dir=$(cd "$here/../../include/netmap" && pwd)
CC=${CC:-cc}
work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT

# netmap's header-internal helpers, which programs do not call: nm_is_identifier() serves its
# static nm_parse(), libnetmap_init() only references nmctx_threadsafe to pull in a constructor.
skip='^func (nm_is_identifier|libnetmap_init) '

printf '#include <libnetmap.h>\n' >"$work/driver.c"
list() { # $1 include flags, $2 header root
    # shellcheck disable=SC2086
    "$CC" -std=gnu11 -DNETMAP_WITH_LIBS -E -dD $1 "$work/driver.c" | perl "$here/extract_decls.pl" "$2"
}
list "-I$netmap_dir/sys -I$netmap_dir/libnetmap" "$netmap_dir" >"$work/theirs.lst"
list "-I$ours_dir" "$ours_dir" >"$work/ours.lst"
grep -Ev "$skip" "$work/theirs.lst" "$work/ours.lst" -h | grep -v '^proto ' | sort -u >"$work/all.lst"

# ---- the layout and value program ----
{
    cat <<'EOF'
#include <libnetmap.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define CLASS(x) _Generic((x), _Bool: "bool", char: "char", signed char: "schar",                   \
    unsigned char: "uchar", short: "short", unsigned short: "ushort", int: "int",                  \
    unsigned int: "uint", long: "long", unsigned long: "ulong", long long: "llong",                \
    unsigned long long: "ullong", char *: "char*", const char *: "const char*", void *: "void*",  \
    default: "other")
#define FIELD(s, f, n) printf("field %s.%s offset %zu size %zu class %s\n", #s, #f,                  \
    offsetof(struct s, f), (size_t)(n), CLASS(((struct s *)0)->f))
#define ELEM(s, f) printf("field %s.%s offset %zu element %zu class %s\n", #s, #f,                  \
    offsetof(struct s, f), sizeof(((struct s *)0)->f[0]), CLASS(((struct s *)0)->f[0]))
#define INT(kind, x) printf("%s %s = %lld class %s\n", kind, #x, (long long)(x), CLASS(x))

/* Writes a field through memcpy: netmap declares the geometry fields const. */
#define SET(base, s, f, v)                                                                         \
    do {                                                                                           \
        __typeof__(((struct s *)0)->f) v_ = (v);                                                   \
        memcpy((char *)(base) + offsetof(struct s, f), &v_, sizeof v_);                             \
    } while (0)

int nmctx_threadsafe; /* libnetmap's variable: netmap's header references it, nothing links it in */

static union {
    char bytes[1 << 15];
    long long align;
} mem;

static void helpers(void)
{
    /* one interface block with 2+1 tx and 2+1 rx rings of 8 slots, 2 KiB buffers after them */
    struct netmap_if *nifp = NETMAP_IF(mem.bytes, 64);
    SET(nifp, netmap_if, ni_tx_rings, 2);
    SET(nifp, netmap_if, ni_rx_rings, 2);
    SET(nifp, netmap_if, ni_host_tx_rings, 1);
    SET(nifp, netmap_if, ni_host_rx_rings, 1);
    for (int i = 0; i < 6; i++) {
        ssize_t ofs = 1024 + 512 * i;
        memcpy((char *)nifp + offsetof(struct netmap_if, ring_ofs) + i * sizeof ofs, &ofs, sizeof ofs);
        struct netmap_ring *r = (struct netmap_ring *)((char *)nifp + ofs);
        SET(r, netmap_ring, buf_ofs, 8192 - 1024 - 512 * i);
        SET(r, netmap_ring, num_slots, 8);
        SET(r, netmap_ring, nr_buf_size, 2048);
        SET(r, netmap_ring, offset_mask, 0xff);
    }
    for (int i = 0; i < 3; i++)
        printf("txring %d at %td, rxring %d at %td\n", i, (char *)NETMAP_TXRING(nifp, i) - mem.bytes, i,
               (char *)NETMAP_RXRING(nifp, i) - mem.bytes);
    struct netmap_ring *ring = NETMAP_RXRING(nifp, 1);
    printf("buf 5 at %td\n", NETMAP_BUF(ring, 5) - mem.bytes);
    INT("expr", NETMAP_BUF_IDX(ring, NETMAP_BUF(ring, 5)));
    struct netmap_slot *slot = &ring->slot[3];
    slot->buf_idx = 4;
    slot->ptr = 0x1234;
    slot->flags = 0x0520;
    INT("expr", NETMAP_ROFFSET(ring, slot));
    INT("expr", NS_RFRAGS(slot));
    NETMAP_WOFFSET(ring, slot, 0x1ff);
    INT("expr", slot->ptr);
    printf("buf_offset at %td\n", NETMAP_BUF_OFFSET(ring, slot) - mem.bytes);
    for (uint32_t i = 0; i < 8; i++)
        printf("next %u = %u\n", i, nm_ring_next(ring, i));
    for (uint32_t h = 0; h < 8; h++) {
        for (uint32_t t = 0; t < 8; t++) {
            ring->head = ring->cur = h;
            ring->tail = t;
            printf("head %u tail %u: space %u empty %d pending %d\n", h, t, nm_ring_space(ring),
                   nm_ring_empty(ring), nm_tx_pending(ring));
        }
    }
    static char src[2048], dst[2048];
    for (int i = 0; i < 2048; i++)
        src[i] = (char)(i * 7 + 1);
    int lens[] = {0, 1, 60, 64, 128, 960, 1000, 1024, 1500, 2048};
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        memset(dst, 0, sizeof dst);
        nm_pkt_copy(src, dst, lens[k]);
        int n = 0;
        while (n < 2048 && dst[n] == src[n])
            n++;
        printf("pkt_copy %d copies %d\n", lens[k], n);
    }
    struct nm_csb_atok atok;
    struct nm_csb_ktoa ktoa;
    memset(&atok, 0, sizeof atok);
    memset(&ktoa, 0, sizeof ktoa);
    ktoa.hwcur = 3;
    ktoa.hwtail = 6;
    uint32_t hwcur = 0, hwtail = 0;
    nm_sync_kloop_appl_write(&atok, 5, 4);
    nm_sync_kloop_appl_read(&ktoa, &hwtail, &hwcur);
    printf("csb head %u cur %u hwcur %u hwtail %u\n", atok.head, atok.cur, hwcur, hwtail);

    static struct nm_desc desc;
    printf("is_desc %d", IS_NETMAP_DESC(&desc) ? 1 : 0);
    desc.self = &desc;
    desc.fd = 7;
    printf(" %d fd %d\n", IS_NETMAP_DESC(&desc) ? 1 : 0, NETMAP_FD(&desc));

    struct nmreq_header hdr;
    struct nmreq_option opts[3], *o;
    memset(&hdr, 0, sizeof hdr);
    memset(opts, 0, sizeof opts);
    hdr.nr_options = (uintptr_t)&opts[0];
    opts[0].nro_next = (uintptr_t)&opts[1];
    opts[1].nro_next = (uintptr_t)&opts[2];
    int count = 0;
    nmreq_foreach_option(&hdr, o) count++;
    printf("foreach_option %d\n", count);
}

int main(void)
{
EOF
    awk '
        $1 == "struct" { printf "    printf(\"struct %s size %%zu align %%zu\\n\", sizeof(struct %s), _Alignof(struct %s));\n", $2, $2, $2 }
        $1 == "field" && $4 == "flex" { printf "    ELEM(%s, %s);\n", $2, $3 }
        $1 == "field" && $4 != "flex" { printf "    FIELD(%s, %s, sizeof(((struct %s *)0)->%s));\n", $2, $3, $2, $3 }
        $1 == "enum" { printf "    INT(\"enum\", %s);\n", $2 }
        $1 == "macro" {
            printf "#ifdef %s\n", $2
            if ($3 == "int") printf "    INT(\"macro\", %s);\n", $2
            else if ($3 == "string") printf "    printf(\"macro %s = \\\"%%s\\\"\\n\", %s);\n", $2, $2
            else printf "    puts(\"macro %s defined\");\n", $2
            printf "#else\n    puts(\"macro %s undefined\");\n#endif\n", $2
        }
        $1 == "func" { printf "    printf(\"function %s declared (%%zu)\\n\", sizeof(&%s));\n", $2, $2 }
    ' "$work/all.lst"
    printf '    helpers();\n    return 0;\n}\n'
} >"$work/layout.c"

# ---- the signature check: netmap's prototypes after our declarations ----
{
    printf '#include <libnetmap.h>\n'
    grep '^proto ' "$work/theirs.lst" | grep -Ev ' (nm_is_identifier|libnetmap_init)\(' | sed 's/^proto //'
} >"$work/signatures.c"

status=0
build() { # $1 name, $2 include flags
    # shellcheck disable=SC2086
    if ! "$CC" -std=gnu11 -DNETMAP_WITH_LIBS -w $2 -o "$work/layout-$1" "$work/layout.c" 2>"$work/$1.err"; then
        echo "compare_headers: the program does not build against $1 headers:" >&2
        grep -E 'error' "$work/$1.err" | head -20 >&2
        status=1
        return
    fi
    "$work/layout-$1" >"$work/$1.out"
}
build netmap "-I$netmap_dir/sys -I$netmap_dir/libnetmap"
build netring "-I$ours_dir"
if ! "$CC" -std=gnu11 -DNETMAP_WITH_LIBS -Wall -c -o /dev/null "-I$ours_dir" "$work/signatures.c" 2>"$work/sig.err"; then
    echo "compare_headers: function signatures differ:" >&2
    grep -E 'error' "$work/sig.err" >&2
    status=1
fi
if [ $status -eq 0 ]; then
    if diff -u --label netmap --label netring "$work/netmap.out" "$work/netring.out"; then
        echo "compare_headers: $(wc -l <"$work/netring.out") lines identical" \
            "($(grep -c '^struct' "$work/all.lst") structs, $(grep -c '^field' "$work/all.lst") fields," \
            "$(grep -c '^macro' "$work/all.lst") macros, $(grep -c '^enum' "$work/all.lst") enumerators," \
            "$(grep -c '^func' "$work/all.lst") functions; $(grep -c . "$work/signatures.c") signatures)"
    else
        status=1
    fi
fi
exit $status
