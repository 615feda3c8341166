// What the pieces of libnetmap's and nm_open()'s implementation share, and nothing else:
//  - device_ctrl(): open "/dev/netmap" and issue one NIOCCTRL request, reporting a failure
//    (per option when the device flagged options) through an nmctx;
//  - bound_rings / find_bound_rings(): which rings a registration bound, read from its netmap_if;
//  - inject_packet(): copy one packet into the next tx ring with room (nmport_inject, nm_inject);
//  - the nmport cleanup stack, LIFO undo actions that nmport_undo_parse() runs.
// Everything here has hidden visibility: the library exports only netmap's C API.
#pragma once

#include <libnetmap.h>
#include <net/netmap_legacy.h>

#include <cstddef>
#include <cstdint>

#define NM_PRIVATE __attribute__((visibility("hidden")))

namespace netring::nm {

// Returns a netmap fd on which `hdr` succeeded, or -1 with errno set and the reason sent to `ctx`.
NM_PRIVATE int device_ctrl(nmctx *ctx, nmreq_header *hdr);

// Rings of each direction bound to a registration: [first, last]; empty when last < first, as
// libnetmap leaves it (last = first - 1, which wraps when first is 0).
struct bound_rings {
    uint16_t first_tx, last_tx;
    uint16_t first_rx, last_rx;
};

// A registration's rings are the ones whose ring_ofs[] entry is non-zero; the fd layer leaves the
// others at 0, as netmap's kernel module does.
NM_PRIVATE bound_rings find_bound_rings(const netmap_if *nifp);

// Copies `size` bytes into the tx rings [first, last], trying *cur first and moving round; a packet
// longer than a buffer spans slots chained with NS_MOREFRAG. Returns `size`, or 0 when no bound
// ring has room for all of it; *cur becomes the ring used.
NM_PRIVATE int inject_packet(netmap_if *nifp, uint16_t first, uint16_t last, uint16_t *cur, const void *buf,
                             size_t size);

// One undo action of an nmport_d, run by nmport_undo_parse() in reverse order of push.
using cleanup_fn = void (*)(nmport_d *d, void *arg);
NM_PRIVATE int push_cleanup(nmport_d *d, cleanup_fn fn, void *arg);
NM_PRIVATE void run_cleanups(nmport_d *d);

// The legacy struct nmreq as a REGISTER request and back (nm_open, and NIOCREGIF on the fd).
NM_PRIVATE void to_register(const nmreq &req, nmreq_header *hdr, nmreq_register *reg);
NM_PRIVATE void from_register(const nmreq_register &reg, nmreq *req);

// Parses the "@option..." tail of a portspec into `d` (share, conf, extmem, offset).
NM_PRIVATE int decode_port_options(nmport_d *d, const char *options);

} // namespace netring::nm
