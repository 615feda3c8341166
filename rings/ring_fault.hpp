// What a side serving a ring does when the other side wrote something wrong, the same for every
// port kind and both sync paths: the fault kinds, netmap's ring reinit, marking a ring whose peer
// left, and the error code and sentence a client gets for a fault (errc::ring_reset, peer_gone).
#pragma once

#include "ring_ops.hpp"

#include <netring/error.hpp>

#include <cstdint>
#include <string>

namespace netring::rings {

enum class sync_fault : uint8_t {
    none,
    hw_index,  // a kernel-side index (hwcur/hwtail) is not a slot number
    head,      // application head outside [hwcur, hwtail]
    cur,       // application cur outside [head, hwtail]
    slot_buf,  // a slot's buf_idx is outside the region
    slot_len,  // a slot's len + offset exceeds the buffer
    peer_gone, // the other end closed
};

struct sync_outcome {
    sync_fault fault = sync_fault::none;
    bool kick = false;  // write the ring's kick eventfd: the other side sleeps
    uint32_t moved = 0; // packets handed over (txsync) or newly visible (rxsync)
    uint32_t value = 0; // the offending value, for the message
    uint32_t lo = 0;    // the window it had to be in
    uint32_t hi = 0;

    bool ok() const { return fault == sync_fault::none; }
};

// A fault report: `value` outside [lo, hi].
inline sync_outcome make_fault(sync_fault f, uint32_t value, uint32_t lo, uint32_t hi)
{
    sync_outcome o;
    o.fault = f;
    o.value = value;
    o.lo = lo;
    o.hi = hi;
    return o;
}

// netmap's sync prologue: the application's head must lie in [hwcur, hwtail] and its cur in
// [head, hwtail]; anything else is a head or cur fault (ring_reset). Every side that serves a ring,
// on every sync path, applies this rule.
inline sync_outcome index_fault(uint32_t head, uint32_t cur, uint32_t hwcur, uint32_t hwtail, uint32_t n)
{
    if (indices_valid(head, cur, hwcur, hwtail, n))
        return {};
    return in_window(head, hwcur, hwtail, n) ? make_fault(sync_fault::cur, cur, head, hwtail)
                                             : make_fault(sync_fault::head, head, hwcur, hwtail);
}

// Why a slot failed slot_valid: its buffer index, or its length (with the data offset).
inline sync_outcome slot_fault(const nr_slot &s, const buffer_limits &lim)
{
    return s.buf_idx < lim.num_buffers ? make_fault(sync_fault::slot_len, s.len, 0, lim.buf_size)
                                       : make_fault(sync_fault::slot_buf, s.buf_idx, 0, lim.num_buffers - 1);
}

// netmap's ring reinit: head = cur = hwcur, tail = hwtail, slots that point outside the region or
// overflow their buffer are repaired. Used after a fault on a ring this side serves.
void ring_reset(const ring_ref &r, uint32_t hwcur, uint32_t hwtail, const buffer_limits &lim);

// Marks a ring whose partner went away; its next syncs report peer_gone.
void mark_peer_gone(const ring_ref &r);

errc fault_errc(sync_fault f);
std::string describe(const sync_outcome &o, const char *ring_name);

} // namespace netring::rings
