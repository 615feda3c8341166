/* The four netmap headers in C (C11 and gnu11, -pedantic) and, through headers_compile.cpp, in
 * C++ (C++17 and C++20; not -pedantic: netmap's rings and interface block end in flexible array
 * members, which ISO C++ lacks), with and without NETMAP_WITH_LIBS: they must compile without a
 * warning under -Wall -Wextra -Werror, alone and together, and agree with netmap API 14's sizes,
 * offsets and values (api14_facts.h). Built, not run. */
#include <libnetmap.h>
#include <net/netmap.h>
#include <net/netmap_legacy.h>
#include <net/netmap_user.h>

#include "api14_facts.h"

#ifndef NETMAP_HEADERS_USE
#define NETMAP_HEADERS_USE netmap_headers_c_use
#endif

/* The inline helpers and macros used the way programs use them, so their warnings show too. */
int NETMAP_HEADERS_USE(struct netmap_if *nifp);
int NETMAP_HEADERS_USE(struct netmap_if *nifp)
{
    struct netmap_ring *rx = NETMAP_RXRING(nifp, 0);
    struct netmap_ring *tx = NETMAP_TXRING(nifp, 0);
    int moved = 0;
    while (!nm_ring_empty(rx) && nm_ring_space(tx) > 0) {
        struct netmap_slot *in = &rx->slot[rx->head];
        struct netmap_slot *out = &tx->slot[tx->head];
        nm_pkt_copy(NETMAP_BUF_OFFSET(rx, in), NETMAP_BUF(tx, out->buf_idx), in->len);
        NETMAP_WOFFSET(tx, out, 0);
        out->len = in->len;
        rx->head = rx->cur = nm_ring_next(rx, rx->head);
        tx->head = tx->cur = nm_ring_next(tx, tx->head);
        moved++;
    }
    if (moved == 0)
        RD(1, "idle, %d pending", nm_tx_pending(tx));
    ND("moved %d", moved);
    D("moved %d", moved);
    return moved + (int)NETMAP_BUF_IDX(tx, NETMAP_BUF(tx, 2));
}
