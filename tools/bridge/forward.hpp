// One direction of the bridge: frames from the rx rings of one port onto the tx rings of another.
//
//   direction ab(a, b, zero_copy);
//   uint32_t n = ab.forward(batch);   // moves up to `batch` frames; heads and curs advanced
//   a.rxsync(); b.txsync();           // the caller publishes (and collects) afterwards
//
// Rings pair as in netmap's bridge: the first rx ring with frames feeds the first tx ring with room,
// so ports with different ring counts (a multi-queue NIC and its one host ring) still join.
// zero_copy: both ports live in one region, so a frame moves by swapping buffer indices (and the
// slot's data offset) between the rx and the tx slot; otherwise its bytes are copied. No allocation,
// no system call.
#pragma once

#include <netring/netring.hpp>

#include <cstdint>
#include <vector>

namespace netring::bridge {

struct traffic {
    uint64_t packets = 0;
    uint64_t bytes = 0;
    uint64_t dropped = 0; // frames whose slot did not describe a frame inside its buffer (copy mode)
};

class direction {
public:
    direction(const port &from, const port &to, bool zero_copy);

    uint32_t forward(uint32_t limit);
    bool rx_pending() const; // an rx ring of `from` holds frames
    const traffic &totals() const { return totals_; }

private:
    uint32_t move(nr_ring *rx, nr_ring *tx, uint32_t limit);
    uint16_t copy_frame(const nr_ring *rx, const nr_slot &rs, nr_slot &ts);

    const port &from_;
    const port &to_;
    std::vector<nr_ring *> rx_;
    std::vector<nr_ring *> tx_;
    bool zero_copy_;
    traffic totals_;
};

} // namespace netring::bridge
