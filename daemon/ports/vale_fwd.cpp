#include "vale_fwd.hpp"

#include <rings/pipe_sync.hpp>

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace netring::netringd {
namespace {

constexpr uint32_t batch = 64;           // frames taken from one port at a time
constexpr uint32_t mac_capacity = 4096;  // learned addresses per switch
constexpr uint32_t mac_ageing_s = 300;
constexpr uint32_t eth_header = 14;
// How long a full destination may hold back a source before it counts as stalled. Longer than a
// scheduler time slice, so a receiver that is merely waiting for a CPU is not mistaken for one
// that stopped.
constexpr int64_t stall_grace_ns = 20'000'000;

inline void cpu_relax()
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}
inline void full_fence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
uint32_t next(uint32_t i, uint32_t n) { return i + 1 == n ? 0 : i + 1; }
uint32_t prev(uint32_t i, uint32_t n) { return i == 0 ? n - 1 : i - 1; }

void signal(int fd)
{
    const uint64_t one = 1;
    ssize_t r;
    do {
        r = ::write(fd, &one, sizeof one);
    } while (r < 0 && errno == EINTR);
}
void drain(int fd)
{
    uint64_t v;
    while (::read(fd, &v, sizeof v) < 0 && errno == EINTR) {
    }
}

rings::ring_ref ref(uint8_t *base, const nic_ring &r)
{
    return {reinterpret_cast<nr_ring *>(base + r.ring_off), reinterpret_cast<nr_sync *>(base + r.sync_off), r.num_slots};
}

// Kernel side: wake the application if it waits (flag taken; partner: its fence after arming).
void wake_app(const rings::ring_ref &r, int notify_fd)
{
    full_fence();
    if (rings::load_relaxed(r.sync->flags.appl_need_kick) == 0)
        return;
    rings::store_relaxed(r.sync->flags.appl_need_kick, 0u);
    signal(notify_fd);
}

// Application side: publish head, and kick the NIC worker if it sleeps (as libnetring does).
void publish_head(app_ring &a)
{
    rings::store_relaxed(a.r.ring->head, a.head);
    rings::store_relaxed(a.r.ring->cur, a.head);
    rings::store_relaxed(a.r.sync->app.cur, a.head);
    rings::store_release(a.r.sync->app.head, a.head);
    full_fence();
    if (rings::load_relaxed(a.r.sync->flags.kern_need_kick) != 0) {
        rings::store_relaxed(a.r.sync->flags.kern_need_kick, 0u);
        signal(a.kick_fd);
    }
}

// The kernel-side tail of a NIC ring as the switch may believe it: a slot number, ring not gone.
bool app_tail(const app_ring &a, uint32_t &tail)
{
    if (rings::load_acquire(a.r.sync->flags.status) == NR_SYNC_PEER_GONE)
        return false;
    tail = rings::load_acquire(a.r.sync->kern.hwtail);
    return tail < a.r.num_slots;
}

void reset_served(uint8_t *base, const nic_ring &r, const rings::buffer_limits &lim, fwd_counters &c)
{
    const rings::ring_ref rr = ref(base, r);
    rings::ring_reset(rr, r.hwcur, r.hwtail, lim);
    rings::store_relaxed(rr.sync->app.cur, r.hwcur);
    rings::store_relaxed(rr.sync->app.head, r.hwcur);
    c.errors.fetch_add(1, std::memory_order_relaxed);
}

void add(std::atomic<uint64_t> &c, uint64_t v) { c.store(c.load(std::memory_order_relaxed) + v, std::memory_order_relaxed); }

} // namespace

switch_fwd::switch_fwd() : macs_(mac_capacity, mac_ageing_s) {}

status switch_fwd::start(std::vector<fwd_endpoint *> eps, uint32_t spin)
{
    stop();
    if (eps.empty())
        return ok_status();
    if (!wake_.valid()) {
        wake_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
        if (!wake_.valid())
            return error::from_errno(errno, "eventfd for a switch");
    }
    eps_ = std::move(eps);
    macs_.clear(); // port numbers are positions in eps_: they change with the set
    mac_count_.store(0, std::memory_order_relaxed);
    spin_ = spin;
    size_t fds = 1;
    for (const fwd_endpoint *ep : eps_)
        fds += 1 + ep->in.size();
    pollset_.clear();
    pollset_.reserve(fds);
    stop_.store(false, std::memory_order_relaxed);
    thread_ = std::thread([this] { run(); });
    return ok_status();
}

void switch_fwd::stop()
{
    if (!thread_.joinable())
        return;
    stop_.store(true, std::memory_order_release);
    signal(wake_.get());
    thread_.join();
    drain(wake_.get());
    arm(false); // leave no flag saying "kick me": nobody reads the eventfds until the next start
    eps_.clear();
}

void switch_fwd::run()
{
    using clock = std::chrono::steady_clock;
    const auto t0 = clock::now();
    uint32_t idle = 0;
    while (!stop_.load(std::memory_order_acquire)) {
        if ((++pass_ & 1023) == 0 || now_s_ == 0)
            now_s_ = 1 + static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(clock::now() - t0).count());
        bool progress = false;
        holding_ = false;
        for (uint16_t i = 0; i < eps_.size(); i++)
            progress |= forward_from(i);
        for (fwd_endpoint *ep : eps_)
            if (ep->out_touched)
                flush(*ep);
        if (progress) {
            idle = 0;
            continue;
        }
        if (++idle < spin_) {
            cpu_relax();
            continue;
        }
        sleep();
        idle = 0;
    }
}

// Frames from one ring of `ep` (client endpoints rotate over their NIC rx rings).
uint32_t switch_fwd::pull(fwd_endpoint &ep, frame *out, uint32_t max, uint32_t &ring_index)
{
    uint32_t k = 0;
    uint32_t slot_index = 0;
    const uint32_t bs = ep.lim.buf_size;
    auto take = [&](nr_slot &slot) {
        const nr_slot s = rings::slot_snapshot(slot);
        if (!rings::slot_valid(s, ep.lim)) {
            rings::slot_repair(slot, s, ep.lim);
            ep.counters.errors.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        if (s.len < eth_header)
            return; // nothing to switch on: skipped
        out[k++] = {ep.bufs + uint64_t{s.buf_idx} * bs + (s.ptr & ep.lim.offset_mask), s.len, slot_index};
    };
    if (ep.served) {
        nic_ring &r = *ep.tx;
        const rings::ring_ref rr = ref(ep.base, r);
        const uint32_t head = rings::load_acquire(rr.sync->app.head);
        if (head == r.hwcur)
            return 0;
        const uint32_t cur = rings::load_relaxed(rr.sync->app.cur);
        if (!rings::indices_valid(head, cur, r.hwcur, r.hwtail, r.num_slots)) {
            reset_served(ep.base, r, ep.lim, ep.counters);
            return 0;
        }
        uint32_t i = r.hwcur;
        for (uint32_t seen = 0; i != head && seen < max; seen++, i = next(i, r.num_slots)) {
            slot_index = i;
            take(rr.ring->slot[i]);
        }
        r.reclaim = i; // where this pull stopped: release() moves hwcur there
        return k;
    }
    for (uint32_t tries = 0; tries < ep.in.size(); tries++) {
        ring_index = (ring_index + 1) % static_cast<uint32_t>(ep.in.size());
        app_ring &a = ep.in[ring_index];
        uint32_t tail;
        if (!app_tail(a, tail) || tail == a.head)
            continue;
        uint32_t i = a.head;
        for (uint32_t seen = 0; i != tail && seen < max; seen++, i = next(i, a.r.num_slots)) {
            slot_index = i;
            take(a.r.ring->slot[i]);
        }
        a.pull_end = i;
        if (k == 0)
            release(ep, ring_index, i); // only slots with nothing to switch: hand them back
        return k;
    }
    return 0;
}

// Hands back the slots before `upto_slot` (where pull() stopped, or the first frame held back).
void switch_fwd::release(fwd_endpoint &ep, uint32_t ring_index, uint32_t upto_slot)
{
    if (ep.served) {
        nic_ring &r = *ep.tx;
        const rings::ring_ref rr = ref(ep.base, r);
        if (upto_slot == r.hwcur)
            return;
        r.hwcur = upto_slot;
        r.hwtail = prev(r.hwcur, r.num_slots); // copied out already: every slot is free again
        rings::store_release(rr.sync->kern.hwcur, r.hwcur);
        rings::store_release(rr.sync->kern.hwtail, r.hwtail);
        wake_app(rr, r.notify.get());
        return;
    }
    app_ring &a = ep.in[ring_index];
    if (upto_slot == a.head)
        return;
    a.head = upto_slot;
    publish_head(a);
}

bool switch_fwd::open_out(fwd_endpoint &ep)
{
    if (ep.out_pass == pass_)
        return true;
    ep.out_pass = pass_;
    ep.out_room = 0;
    if (ep.served) {
        nic_ring &r = *ep.rx;
        const rings::ring_ref rr = ref(ep.base, r);
        const uint32_t head = rings::load_acquire(rr.sync->app.head);
        if (head != r.hwcur) {
            if (!rings::indices_valid(head, rings::load_relaxed(rr.sync->app.cur), r.hwcur, r.hwtail, r.num_slots)) {
                reset_served(ep.base, r, ep.lim, ep.counters);
                return false;
            }
            r.hwcur = head;
            rings::store_release(rr.sync->kern.hwcur, r.hwcur);
        }
        ep.out_cursor = r.hwtail;
        ep.out_room = rings::distance(r.hwtail, prev(r.hwcur, r.num_slots), r.num_slots);
    } else {
        uint32_t tail;
        if (!app_tail(ep.out, tail))
            return false;
        ep.out_cursor = ep.out.head;
        ep.out_room = rings::distance(ep.out.head, tail, ep.out.r.num_slots);
    }
    if (ep.out_room > 0) {
        ep.full_since_ns = 0;
        ep.stalled = false;
    }
    return true;
}

int64_t switch_fwd::now_ns()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Whether a frame for `dst` may be handled now: it has room, or it is stalled (the frame will be
// dropped). A destination that just filled up holds the source back instead, for a while.
bool switch_fwd::can_take(uint16_t dst)
{
    fwd_endpoint &ep = *eps_[dst];
    if (!open_out(ep) || ep.out_room > 0 || ep.stalled)
        return true; // a ring that is gone or unusable drops, it never holds anyone back
    const int64_t now = now_ns();
    if (ep.full_since_ns == 0)
        ep.full_since_ns = now;
    if (now - ep.full_since_ns >= stall_grace_ns) {
        ep.stalled = true;
        return true;
    }
    holding_ = true;
    return false;
}

void switch_fwd::deliver(uint16_t dst, const frame &f)
{
    fwd_endpoint &ep = *eps_[dst];
    if (!open_out(ep) || ep.out_room == 0) {
        add(ep.counters.drops, 1);
        return;
    }
    nr_ring *ring = ep.served ? ref(ep.base, *ep.rx).ring : ep.out.r.ring;
    const uint32_t n = ep.served ? ep.rx->num_slots : ep.out.r.num_slots;
    nr_slot &slot = ring->slot[ep.out_cursor];
    uint32_t buf = rings::load_relaxed(slot.buf_idx);
    if (buf >= ep.lim.num_buffers) {
        buf = NR_DUMMY_BUFFER;
        rings::store_relaxed(slot.buf_idx, buf);
        ep.counters.errors.fetch_add(1, std::memory_order_relaxed);
    }
    const uint16_t len = f.len <= ep.lim.buf_size ? f.len : static_cast<uint16_t>(ep.lim.buf_size);
    std::memcpy(ep.bufs + uint64_t{buf} * ep.lim.buf_size, f.data, len);
    rings::store_relaxed(slot.len, len);
    rings::store_relaxed(slot.ptr, uint64_t{0});
    rings::store_relaxed(slot.flags, uint16_t{0});
    ep.out_cursor = next(ep.out_cursor, n);
    ep.out_room--;
    if (ep.out_room == 0 && ep.full_since_ns == 0)
        ep.full_since_ns = now_ns(); // the grace runs from when it filled
    ep.out_touched = true;
    ep.pass_tx_packets++;
    ep.pass_tx_bytes += len;
}

void switch_fwd::flush(fwd_endpoint &ep)
{
    ep.out_touched = false;
    add(ep.counters.tx_packets, ep.pass_tx_packets);
    add(ep.counters.tx_bytes, ep.pass_tx_bytes);
    ep.pass_tx_packets = 0;
    ep.pass_tx_bytes = 0;
    if (ep.served) {
        nic_ring &r = *ep.rx;
        const rings::ring_ref rr = ref(ep.base, r);
        r.hwtail = ep.out_cursor;
        rings::store_release(rr.sync->kern.hwtail, r.hwtail);
        wake_app(rr, r.notify.get());
        return;
    }
    ep.out.head = ep.out_cursor;
    publish_head(ep.out);
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
    const auto ports = static_cast<uint16_t>(eps_.size());
    uint32_t i = 0;
    for (; i < n; i++) {
        const frame &f = frames[i];
        const uint8_t *dst_mac = f.data;
        const uint8_t *src_mac = f.data + 6;
        const int known = (dst_mac[0] & 1) ? -1 : macs_.lookup(mac_key(dst_mac), now_s_);
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
        for (uint16_t p = 0; p < ports; p++)
            if (p != src)
                deliver(p, f);
    }
    add(ep.counters.rx_packets, i);
    add(ep.counters.rx_bytes, bytes);
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
            rings::store_relaxed(ref(ep->base, *ep->tx).sync->flags.kern_need_kick, v);
            rings::store_relaxed(ref(ep->base, *ep->rx).sync->flags.kern_need_kick, v);
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
    full_fence(); // partner: the fence between a client's publish and its read of the flag
    bool work = false;
    int timeout_ms = -1;
    pollset_.clear();
    pollset_.push_back({wake_.get(), POLLIN, 0});
    const int64_t now = now_ns();
    for (fwd_endpoint *ep : eps_) {
        if (ep->full_since_ns != 0 && !ep->stalled) {
            // Someone may be held back by it: wake in time to declare it stalled.
            const int64_t left = stall_grace_ns - (now - ep->full_since_ns);
            const int ms = left <= 0 ? 0 : static_cast<int>(left / 1'000'000 + 1);
            timeout_ms = timeout_ms < 0 ? ms : std::min(timeout_ms, ms);
        }
        if (ep->served) {
            const rings::ring_ref tx = ref(ep->base, *ep->tx);
            const rings::ring_ref rx = ref(ep->base, *ep->rx);
            work |= !ep->held && rings::load_acquire(tx.sync->app.head) != ep->tx->hwcur;
            work |= ep->full_since_ns != 0 && rings::load_acquire(rx.sync->app.head) != ep->rx->hwcur;
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
    if (!work && !stop_.load(std::memory_order_acquire)) {
        int rc;
        do {
            rc = ::poll(pollset_.data(), pollset_.size(), timeout_ms);
        } while (rc < 0 && errno == EINTR);
    }
    arm(false);
    for (size_t i = 1; i < pollset_.size(); i++)
        drain(pollset_[i].fd);
}

} // namespace netring::netringd
