#include "ring_fault.hpp"

#include <cstdio>

namespace netring::rings {

void ring_reset(const ring_ref &r, uint32_t hwcur, uint32_t hwtail, const buffer_limits &lim)
{
    for (uint32_t i = 0; i < r.num_slots; i++) {
        const nr_slot seen = slot_snapshot(r.ring->slot[i]);
        if (!slot_valid(seen, lim))
            slot_repair(r.ring->slot[i], seen, lim);
    }
    store_relaxed(r.ring->head, hwcur);
    store_relaxed(r.ring->cur, hwcur);
    store_relaxed(r.ring->tail, hwtail);
    store_relaxed(r.sync->kern.errors, load_relaxed(r.sync->kern.errors) + 1);
}

void mark_peer_gone(const ring_ref &r) { store_release(r.sync->flags.status, NR_SYNC_PEER_GONE); }

errc fault_errc(sync_fault f)
{
    switch (f) {
    case sync_fault::none: return errc::ok;
    case sync_fault::peer_gone: return errc::peer_gone;
    default: return errc::ring_reset;
    }
}

std::string describe(const sync_outcome &o, const char *ring_name)
{
    char text[160];
    switch (o.fault) {
    case sync_fault::none: return "ok";
    case sync_fault::hw_index:
        std::snprintf(text, sizeof text, "%s: kernel index %u is not a slot (0..%u); ring reset", ring_name,
                      o.value, o.hi);
        break;
    case sync_fault::head:
        std::snprintf(text, sizeof text, "%s: head %u outside [hwcur %u, hwtail %u]; ring reset", ring_name,
                      o.value, o.lo, o.hi);
        break;
    case sync_fault::cur:
        std::snprintf(text, sizeof text, "%s: cur %u outside [head %u, hwtail %u]; ring reset", ring_name,
                      o.value, o.lo, o.hi);
        break;
    case sync_fault::slot_buf:
        std::snprintf(text, sizeof text, "%s: slot buf_idx %u outside the region (0..%u); ring reset",
                      ring_name, o.value, o.hi);
        break;
    case sync_fault::slot_len:
        std::snprintf(text, sizeof text, "%s: slot len %u + offset exceeds the %u-byte buffer; ring reset",
                      ring_name, o.value, o.hi);
        break;
    case sync_fault::peer_gone:
        std::snprintf(text, sizeof text, "%s: the other end of the pipe closed", ring_name);
        break;
    }
    return text;
}

} // namespace netring::rings
