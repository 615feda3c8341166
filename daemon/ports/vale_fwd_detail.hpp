// What vale_fwd.cpp and vale_fwd_rings.cpp share: constants and the small ring helpers of the
// forwarding thread. Not an API.
#pragma once

#include "vale_fwd.hpp"

#include <rings/pipe_sync.hpp>
#include <rings/bits.hpp>
#include <rings/eventfd.hpp>

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

namespace netring::netringd::fwd_detail {

inline constexpr uint32_t batch = 256;          // frames taken from one port at a time
inline constexpr uint32_t mac_capacity = 4096;  // learned addresses per switch
inline constexpr uint32_t mac_ageing_s = 300;
inline constexpr uint32_t eth_header = 14;


inline rings::ring_ref ref(uint8_t *base, const nic_ring &r)
{
    return {reinterpret_cast<nr_ring *>(base + r.ring_off), reinterpret_cast<nr_sync *>(base + r.sync_off), r.num_slots};
}

// Kernel side: wake the application if it waits (flag taken; partner: its fence after arming).
inline void wake_app(const rings::ring_ref &r, int notify_fd)
{
    rings::full_fence();
    if (rings::load_relaxed(r.sync->flags.appl_need_kick) == 0)
        return;
    rings::store_relaxed(r.sync->flags.appl_need_kick, 0u);
    rings::eventfd_signal(notify_fd);
}

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

inline void reset_served(uint8_t *base, const nic_ring &r, const rings::buffer_limits &lim, fwd_counters &c)
{
    const rings::ring_ref rr = ref(base, r);
    rings::ring_reset(rr, r.hwcur, r.hwtail, lim);
    rings::store_relaxed(rr.sync->app.cur, r.hwcur);
    rings::store_relaxed(rr.sync->app.head, r.hwcur);
    c.errors.fetch_add(1, std::memory_order_relaxed);
}

inline void add(std::atomic<uint64_t> &c, uint64_t v) { c.store(c.load(std::memory_order_relaxed) + v, std::memory_order_relaxed); }

} // namespace netring::netringd::fwd_detail
