#include "forward.hpp"

#include <algorithm>
#include <cstring>

namespace netring::bridge {

direction::direction(const port &from, const port &to, bool zero_copy)
    : from_(from), to_(to), zero_copy_(zero_copy)
{
    for (uint32_t i = 0; i < from.rx_rings(); i++)
        rx_.push_back(from.rx_ring(i));
    for (uint32_t i = 0; i < to.tx_rings(); i++)
        tx_.push_back(to.tx_ring(i));
}

bool direction::rx_pending() const
{
    for (const nr_ring *r : rx_)
        if (!nr_ring_empty(r))
            return true;
    return false;
}

uint32_t direction::forward(uint32_t limit)
{
    uint32_t moved = 0;
    size_t si = 0, di = 0;
    while (si < rx_.size() && di < tx_.size() && moved < limit) {
        if (nr_ring_empty(rx_[si])) {
            si++;
            continue;
        }
        if (nr_ring_space(tx_[di]) == 0) {
            di++;
            continue;
        }
        moved += move(rx_[si], tx_[di], limit - moved);
    }
    return moved;
}

// The frame of rs into ts's buffer at offset 0; returns the length written (0: nothing to send).
// The buffers come from the library's own bounds-checked mapping, and the frame must lie inside
// its buffer: a slot the other side corrupted costs a drop, never a stray read.
uint16_t direction::copy_frame(const nr_ring *rx, const nr_slot &rs, nr_slot &ts)
{
    const uint64_t off = rs.ptr & rx->offset_mask;
    const char *src = from_.buffer(rs.buf_idx);
    char *dst = to_.buffer(ts.buf_idx);
    ts.ptr = 0;
    if (!src || !dst || off + rs.len > from_.buf_size() || rs.len > to_.buf_size()) {
        totals_.dropped++;
        return 0;
    }
    std::memcpy(dst, src + off, rs.len);
    return rs.len;
}

uint32_t direction::move(nr_ring *rx, nr_ring *tx, uint32_t limit)
{
    const uint32_t n = std::min({nr_ring_space(rx), nr_ring_space(tx), limit});
    uint32_t ri = rx->cur;
    uint32_t ti = tx->cur;
    uint64_t bytes = 0;
    const uint64_t dropped_before = totals_.dropped;
    for (uint32_t k = 0; k < n; k++) {
        nr_slot &rs = rx->slot[ri];
        nr_slot &ts = tx->slot[ti];
        const uint64_t off = rs.ptr & rx->offset_mask;
        uint16_t len = rs.len;
        // Swap only when the tx ring can carry the frame's offset (rings of one region agree).
        if (zero_copy_ && (off & ~tx->offset_mask) == 0) {
            const uint32_t idx = ts.buf_idx;
            ts.buf_idx = rs.buf_idx;
            rs.buf_idx = idx;
            ts.ptr = off;
            rs.ptr = 0; // the rx slot's new buffer starts empty
            ts.flags |= NS_BUF_CHANGED;
            rs.flags |= NS_BUF_CHANGED;
        } else {
            len = copy_frame(rx, rs, ts);
        }
        ts.len = len;
        bytes += len;
        ri = nr_ring_next(rx, ri);
        ti = nr_ring_next(tx, ti);
    }
    // Released rx slots and filled tx slots; the caller's rxsync/txsync publish them.
    rx->head = rx->cur = ri;
    tx->head = tx->cur = ti;
    totals_.packets += n - (totals_.dropped - dropped_before);
    totals_.bytes += bytes;
    return n;
}

} // namespace netring::bridge
