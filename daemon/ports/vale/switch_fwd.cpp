#include "switch_fwd.hpp"
#include "fwd_ring_ops.hpp"

#include <rings/bits.hpp>
#include <rings/eventfd.hpp>
#include <rings/pipe_sync.hpp>

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace netring::netringd {

using namespace fwd_detail;

switch_fwd::switch_fwd() : macs_(mac_capacity, mac_ageing_s) {}

status switch_fwd::start(std::vector<fwd_endpoint *> eps, const fwd_settings &settings,
                         const std::vector<learned_mac> &macs, fwd_journal *journal)
{
    stop();
    macs_.clear(); // port numbers are positions in eps_: the caller maps `macs` to this set
    // The thread's clock starts at 1 on its first pass (run()): an address seen `age_s` ago was
    // seen at 1 - age_s, modulo 2^32 like every age the table computes.
    now_s_ = 0;
    for (const learned_mac &m : macs)
        if (m.port < eps.size())
            macs_.learn(m.mac, m.port, 1u - m.age_s);
    mac_count_.store(macs_.size(), std::memory_order_relaxed);
    if (eps.empty())
        return ok_status();
    eps_ = std::move(eps);
    journal_ = journal;
    spin_ = settings.spin;
    stall_grace_ns_ = settings.stall_grace_ns;
    size_t fds = 1;
    for (const fwd_endpoint *ep : eps_)
        fds += 1 + ep->in.size();
    pollset_.clear();
    pollset_.reserve(fds);
    return thread_.start("a switch", [this] { run(); });
}

void switch_fwd::stop()
{
    if (!thread_.running())
        return;
    thread_.stop();
    arm(false); // leave no flag saying "kick me": nobody reads the eventfds until the next start
    eps_.clear();
}

std::vector<learned_mac> switch_fwd::learned() const
{
    const uint32_t now = now_s_ ? now_s_ : 1; // a thread that made no pass yet is at its first second
    std::vector<learned_mac> out;
    macs_.each([&](uint64_t mac, uint16_t port, uint32_t seen) { out.push_back({mac, port, now - seen}); });
    return out;
}

void switch_fwd::run()
{
    using clock = std::chrono::steady_clock;
    const auto t0 = clock::now();
    thread_.spin_then_sleep(
        spin_,
        [&] {
            if ((++pass_ & 1023) == 0 || now_s_ == 0)
                now_s_ = 1 + static_cast<uint32_t>(
                                 std::chrono::duration_cast<std::chrono::seconds>(clock::now() - t0).count());
            bool progress = false;
            holding_ = false;
            for (uint16_t i = 0; i < eps_.size(); i++)
                progress |= forward_from(i);
            bool moved = false;
            for (fwd_endpoint *ep : eps_)
                moved |= settle(*ep);
            if (moved)
                commit();
            for (fwd_endpoint *ep : eps_)
                publish(*ep);
            return progress;
        },
        [this] { sleep(); });
}

bool switch_fwd::forward_from(uint16_t src)
{
    fwd_endpoint &ep = *eps_[src];
    ep.held = false;
    frame frames[batch];
    uint32_t ring_index = 0;
    const uint32_t n = pull(ep, frames, batch, ring_index);
    if (n == 0) {
        if (ep.served && ep.tx->reclaim != ep.tx->hwcur) { // only slots with nothing to switch
            release(ep, 0, ep.tx->reclaim);
            return true;
        }
        return false;
    }
    uint64_t bytes = 0;
    uint32_t flooded = 0; // counted here, added to the shared counter once per pass
    const auto ports = static_cast<uint16_t>(eps_.size());
    uint32_t i = 0;
    for (; i < n; i++) {
        const frame &f = frames[i];
        const uint8_t *dst_mac = f.data;
        const uint8_t *src_mac = f.data + 6;
        // Where the destination is once this frame's source is learned (that happens only when the
        // frame is handled, below): a frame to its own source address stays where it came from.
        const int known = (dst_mac[0] & 1)                       ? -1
                          : mac_key(dst_mac) == mac_key(src_mac) ? static_cast<int>(src)
                                                                 : macs_.lookup(mac_key(dst_mac), now_s_);
        if (known >= 0 && known != src && !can_take(static_cast<uint16_t>(known)))
            break; // held back: this frame and the rest stay in the source's ring
        if (known < 0) {
            bool all = true;
            for (uint16_t p = 0; p < ports && all; p++)
                all = p == src || can_take(p);
            if (!all)
                break;
        }
        if ((src_mac[0] & 1) == 0)
            macs_.learn(mac_key(src_mac), src, now_s_);
        bytes += f.len;
        if (known == src)
            continue; // the destination sits behind the port it came from
        if (known >= 0) {
            deliver(static_cast<uint16_t>(known), f);
            continue;
        }
        flooded++;
        for (uint16_t p = 0; p < ports; p++)
            if (p != src)
                deliver(p, f);
    }
    add(ep.counters.rx_packets, i);
    add(ep.counters.rx_bytes, bytes);
    add(ep.counters.flooded, flooded);
    mac_count_.store(macs_.size(), std::memory_order_relaxed);
    ep.held = i < n;
    if (i == 0)
        return false;
    const uint32_t upto = i < n ? frames[i].slot : (ep.served ? ep.tx->reclaim : ep.in[ring_index].pull_end);
    release(ep, ring_index, upto);
    return true;
}

// Flags on every ring whose progress would give the thread work: sources (their tx rings; an
// attached NIC's rx rings) and destinations (room freed in an rx ring; NIC tx completions).
void switch_fwd::arm(bool on)
{
    const uint32_t v = on ? 1u : 0u;
    for (fwd_endpoint *ep : eps_) {
        if (ep->served) {
            rings::store_relaxed(ring_ref_of(ep->base, *ep->tx).sync->flags.kern_need_kick, v);
            rings::store_relaxed(ring_ref_of(ep->base, *ep->rx).sync->flags.kern_need_kick, v);
        } else {
            for (app_ring &a : ep->in)
                rings::store_relaxed(a.r.sync->flags.appl_need_kick, v);
            rings::store_relaxed(ep->out.r.sync->flags.appl_need_kick, v);
        }
    }
}

void switch_fwd::sleep()
{
    arm(true);
    rings::full_fence(); // partner: the fence between a client's publish and its read of the flag
    bool work = false;
    int timeout_ms = -1;
    pollset_.clear();
    pollset_.push_back({thread_.wake_fd(), POLLIN, 0});
    const int64_t now = now_ns();
    // A full port matters only while it holds a source back (holding_, from the pass just made):
    // then wake in time to declare it stalled, and go on at once if its receiver made room. A full
    // port nobody is sending to is left alone: waking for it would turn every sleep into poll(0).
    for (fwd_endpoint *ep : eps_) {
        if (holding_ && ep->full_since_ns != 0 && !ep->stalled) {
            const int64_t left = stall_grace_ns_ - (now - ep->full_since_ns);
            const int ms = left <= 0 ? 0 : static_cast<int>(left / 1'000'000 + 1);
            timeout_ms = timeout_ms < 0 ? ms : std::min(timeout_ms, ms);
        }
        if (ep->served) {
            const rings::ring_ref tx = ring_ref_of(ep->base, *ep->tx);
            const rings::ring_ref rx = ring_ref_of(ep->base, *ep->rx);
            work |= !ep->held && rings::load_acquire(tx.sync->app.head) != ep->tx->hwcur;
            work |=
                holding_ && ep->full_since_ns != 0 && rings::load_acquire(rx.sync->app.head) != ep->rx->hwcur;
            pollset_.push_back({ep->tx->kick.get(), POLLIN, 0});
            pollset_.push_back({ep->rx->kick.get(), POLLIN, 0});
        } else {
            for (app_ring &a : ep->in) {
                uint32_t tail;
                work |= !ep->held && app_tail(a, tail) && tail != a.head;
                pollset_.push_back({a.notify_fd, POLLIN, 0});
            }
            pollset_.push_back({ep->out.notify_fd, POLLIN, 0});
        }
    }
    if (!work && !thread_.stopping()) {
        int rc;
        do {
            rc = ::poll(pollset_.data(), pollset_.size(), timeout_ms);
        } while (rc < 0 && errno == EINTR);
    }
    arm(false);
    for (size_t i = 1; i < pollset_.size(); i++)
        rings::eventfd_drain(pollset_[i].fd);
}

} // namespace netring::netringd
