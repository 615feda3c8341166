// The forwarding thread as the application of an attached NIC's rings (a daemon registration of the
// NIC port): publishing its head and reading the tail the NIC worker published, as libnetring does.
// The served side of the switch's client ports uses served_ring.hpp like the NIC worker.
#pragma once

#include "switch_fwd.hpp"

#include <rings/bits.hpp>
#include <rings/eventfd.hpp>
#include <rings/ring_ops.hpp>

#include <atomic>

namespace netring::netringd::fwd_detail {

// Application side: publish head, and kick the NIC worker if it sleeps (as libnetring does).
inline void publish_head(app_ring &a)
{
    rings::store_relaxed(a.r.ring->head, a.head);
    rings::store_relaxed(a.r.ring->cur, a.head);
    rings::store_relaxed(a.r.sync->app.cur, a.head);
    rings::store_release(a.r.sync->app.head, a.head);
    rings::full_fence();
    if (rings::load_relaxed(a.r.sync->flags.kern_need_kick) != 0) {
        rings::store_relaxed(a.r.sync->flags.kern_need_kick, 0u);
        rings::eventfd_signal(a.kick_fd);
    }
}

// The kernel-side tail of a NIC ring as the switch may believe it: a slot number, ring not gone.
inline bool app_tail(const app_ring &a, uint32_t &tail)
{
    if (rings::load_acquire(a.r.sync->flags.status) == NR_SYNC_PEER_GONE)
        return false;
    tail = rings::load_acquire(a.r.sync->kern.hwtail);
    return tail < a.r.num_slots;
}

inline void add(std::atomic<uint64_t> &c, uint64_t v)
{
    c.store(c.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
}

} // namespace netring::netringd::fwd_detail
