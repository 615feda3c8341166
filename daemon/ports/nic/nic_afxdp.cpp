// The AF_XDP queue (nic_io.hpp): one XSK whose UMEM is the region's buffer area, so the kernel writes
// received frames into region buffers and transmits straight out of them.
//
// Buffer flow: the queue owns a constant number of buffers (fill_bufs.size()), all of them in the
// fill ring, the kernel or the RX ring at any time. receive() swaps: a received frame's buffer goes to
// the caller and the caller's free buffer goes to the fill ring in its place. transmit() lends buffers
// to the kernel until reclaim() counts them back, oldest first.
//
// Staging (nic_io.hpp): receive(), transmit() and reclaim() reserve, peek and write ring entries
// but publish nothing; publish() releases and submits what they did, then makes the syscalls the
// kernel waits for. Between the two the worker commits its journal. Facts about this kernel (copy mode on
// veth, frames at chunk + 256, EBUSY on a quick re-bind): docs/AF_XDP-NOTES.md.
#include "nic_io.hpp"
#include "xsk_rings.hpp"

#include <netring/error.hpp>
#include <rings/bits.hpp>

#include <linux/if_xdp.h>
#include <sys/socket.h>
#include <xdp/xsk.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET 9 // Linux 6.17: TX descriptors one copy-mode sendto() may move
#endif

namespace netring::netringd {
namespace {

constexpr auto bind_busy_limit = std::chrono::seconds(5);
constexpr uint32_t stats_every = 4096; // receive() calls between XDP_STATISTICS reads while busy
constexpr uint32_t eth_hlen = 14;

uint32_t pow2_at_least(uint64_t v)
{
    uint32_t p = 1;
    while (p < v)
        p <<= 1;
    return p;
}

struct umem_deleter {
    void operator()(xsk_umem *u) const { xsk_umem__delete(u); }
};
struct socket_deleter {
    void operator()(xsk_socket *s) const { xsk_socket__delete(s); }
};

class afxdp_queue final : public nic_queue_io {
public:
    explicit afxdp_queue(const nic_buffers &mem) : mem_(mem) {}
    afxdp_queue(const afxdp_queue &) = delete;
    afxdp_queue &operator=(const afxdp_queue &) = delete;

    status open(const std::string &ifname, uint32_t queue, std::span<const uint32_t> fill_bufs,
                uint32_t ring_size);
    status adopt(unique_fd xsk, const afxdp_kept &k, std::span<const uint32_t> held);
    void keep(afxdp_kept &out) const { out = {rx_.size, fill_.size, submitted_ - completed_, credits_, false, {}}; }
    void sizes(uint32_t &ring, uint32_t &fill) const { ring = rx_.size, fill = fill_.size; }
    bool undelivered(std::vector<io_slot> &frames) const;
    void settle_held(const std::vector<uint8_t> &in_slots);

    uint32_t receive(io_slot *slots, uint32_t n) override;
    uint32_t transmit(const io_slot *slots, uint32_t n) override;
    uint32_t reclaim() override;
    int rx_wait_fd() const override { return fd_; }
    bool staged(xsk_cursors &c) const override
    {
        c = {fill_.cached_prod,
             rx_.cached_cons,
             tx_.cached_prod,
             comp_.cached_cons,
             rx_.cached_cons - pending_rx_,
             static_cast<uint32_t>(submitted_ - completed_),
             credits_};
        return true;
    }
    void publish() override;
    const io_counters &counters() const override { return counters_; }
    void held_buffers(std::vector<uint32_t> &out) const override
    {
        for (uint32_t b = 0; b < held_.size(); b++)
            if (held_[b])
                out.push_back(b);
    }

    int fd() const { return fd_; }

private:
    bool tx_frame_ok(const io_slot &s) const
    {
        return s.len >= eth_hlen && uint32_t{s.offset} + s.len <= mem_.buf_size;
    }
    // What a descriptor is: outside the area (not ours: nothing returns to the fill ring), a bad
    // frame in our buffer (the buffer goes back to the fill ring), or a frame to deliver.
    enum class rx_kind { foreign, bad, frame };
    rx_kind classify(const xdp_desc &d) const
    {
        if (d.addr >= mem_.area_bytes)
            return rx_kind::foreign;
        const auto off = static_cast<uint32_t>(d.addr % mem_.buf_size);
        return d.len == 0 || off + d.len > mem_.buf_size ? rx_kind::bad : rx_kind::frame;
    }
    io_slot frame_of(const xdp_desc &d) const
    {
        return {static_cast<uint32_t>(d.addr / mem_.buf_size), static_cast<uint16_t>(d.addr % mem_.buf_size),
                static_cast<uint16_t>(d.len)};
    }
    status roll_forward(const xsk_cursors &at);
    void kick_tx();
    void refresh_stats();

    nic_buffers mem_;
    // Declared in setup order: the socket goes before the UMEM it uses.
    std::unique_ptr<xsk_umem, umem_deleter> umem_;
    std::unique_ptr<xsk_socket, socket_deleter> xsk_;
    // An adopted queue has no libxdp objects: its socket, and the rings mapped again from it.
    unique_fd kept_fd_;
    xsk_ring_maps kept_maps_;
    // libxdp keeps pointers to fill_ and comp_ from xsk_umem__create on: the object never moves.
    xsk_ring_prod fill_{};
    xsk_ring_cons comp_{};
    xsk_ring_cons rx_{};
    xsk_ring_prod tx_{};
    int fd_ = -1;

    // Staged and not published yet (publish()).
    uint32_t pending_rx_ = 0, pending_fill_ = 0, pending_tx_ = 0, pending_comp_ = 0;
    bool kick_wanted_ = false;
    bool journaled_ = false; // adopted from a journal: settle_held() derives held_

    uint64_t submitted_ = 0; // frames handed to the kernel's TX ring
    uint64_t completed_ = 0; // of those, completions counted by reclaim()
    uint32_t credits_ = 0;   // refused frames taken but not yet counted by reclaim()
    uint64_t bad_rx_ = 0;    // RX descriptors that failed our checks
    uint64_t bad_tx_ = 0;    // frames transmit() refused (shorter than a header)
    uint32_t calls_ = 0;
    bool rx_since_stats_ = false;
    io_counters counters_;
    std::vector<uint8_t> held_; // per region buffer: in the fill ring or the kernel (sized at open)
};

status afxdp_queue::open(const std::string &ifname, uint32_t queue, std::span<const uint32_t> fill_bufs,
                         uint32_t ring_size)
{
    const std::string where = "AF_XDP " + ifname + " queue " + std::to_string(queue) + ": ";
    if (!rings::is_pow2(ring_size))
        return error::from(errc::limit_exceeded,
                           where + "ring size " + std::to_string(ring_size) + " is not a power of two");
    // Aligned UMEM mode: chunks are a power of two between 2048 and the page size, the area starts
    // on a page and is whole chunks.
    if (!rings::is_pow2(mem_.buf_size) || mem_.buf_size < 2048 || mem_.buf_size > 4096 ||
        reinterpret_cast<uintptr_t>(mem_.area) % 4096 != 0 ||
        mem_.area_bytes != uint64_t{mem_.num_buffers} * mem_.buf_size || mem_.num_buffers == 0)
        return error::from(errc::internal, where + "buffer area unusable as a UMEM (buffer size " +
                                               std::to_string(mem_.buf_size) + ", " +
                                               std::to_string(mem_.num_buffers) + " buffers)");
    for (uint32_t b : fill_bufs)
        if (b >= mem_.num_buffers)
            return error::from(errc::internal, where + "fill buffer " + std::to_string(b) + " out of range");
    held_.assign(mem_.num_buffers, 0);
    for (uint32_t b : fill_bufs)
        held_[b] = 1;

    // The fill ring holds every buffer the queue owns, so refills in receive() always find room.
    xsk_umem_config ucfg{};
    ucfg.fill_size = pow2_at_least(std::max<uint64_t>(ring_size, fill_bufs.size()));
    ucfg.comp_size = ring_size;
    ucfg.frame_size = mem_.buf_size;
    ucfg.frame_headroom = 0;
    xsk_umem *u = nullptr;
    if (int err = xsk_umem__create(&u, mem_.area, mem_.area_bytes, &fill_, &comp_, &ucfg); err != 0)
        return error::from_errno(-err,
                                 where + "UMEM registration" +
                                     (err == -ENOBUFS ? " (over RLIMIT_MEMLOCK: needs CAP_IPC_LOCK)" : ""));
    umem_.reset(u);

    xsk_socket_config cfg{};
    cfg.rx_size = ring_size;
    cfg.tx_size = ring_size;
    cfg.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD; // the program is ours: xdp_program
    // Zero-copy where the driver has it, copy mode otherwise (veth here: EOPNOTSUPP for zero-copy).
    cfg.bind_flags = XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP;
    // The queue looks taken (EBUSY) until the kernel's deferred release of the previous socket's
    // pool has run, for up to about a second after a close: retry in 1 ms steps.
    const auto t0 = std::chrono::steady_clock::now();
    for (;;) {
        xsk_socket *s = nullptr;
        const int err = xsk_socket__create(&s, ifname.c_str(), queue, umem_.get(), &rx_, &tx_, &cfg);
        if (err == 0) {
            xsk_.reset(s);
            break;
        }
        if (err == -EBUSY && std::chrono::steady_clock::now() - t0 < bind_busy_limit) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            continue;
        }
        if (err != -EBUSY && (cfg.bind_flags & XDP_ZEROCOPY)) {
            cfg.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP;
            continue;
        }
        return error::from_errno(-err,
                                 where + "bind" + (err == -EBUSY ? " (queue still busy after 5 s)" : ""));
    }
    fd_ = xsk_socket__fd(xsk_.get());
    // Lets one copy-mode sendto() move a whole TX ring instead of 32 frames; older kernels say no.
    const uint32_t budget = ring_size;
    setsockopt(fd_, SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &budget, sizeof budget);

    uint32_t idx = 0;
    const auto n = static_cast<uint32_t>(fill_bufs.size());
    if (xsk_ring_prod__reserve(&fill_, n, &idx) != n) // partner: submit below
        return error::from(errc::internal, where + "fill ring smaller than the fill buffers");
    for (uint32_t i = 0; i < n; i++)
        *xsk_ring_prod__fill_addr(&fill_, idx + i) = uint64_t{fill_bufs[i]} * mem_.buf_size;
    xsk_ring_prod__submit(&fill_, n); // partner: reserve above
    return ok_status();
}

status afxdp_queue::adopt(unique_fd xsk, const afxdp_kept &k, std::span<const uint32_t> held)
{
    auto refuse = [](const std::string &why) {
        return error::from(errc::bad_message, "kept AF_XDP queue: " + why);
    };
    if (!xsk.valid())
        return refuse("its socket was not kept");
    if (k.fill_size < held.size())
        return refuse(std::to_string(held.size()) + " buffers for a fill ring of " +
                      std::to_string(k.fill_size));
    held_.assign(mem_.num_buffers, 0);
    for (uint32_t b : held) {
        if (b >= mem_.num_buffers || held_[b])
            return refuse("buffer " + std::to_string(b) + " is outside the area or listed twice");
        held_[b] = 1;
    }
    if (auto st = kept_maps_.map(xsk.get(), {k.fill_size, k.ring_size, k.ring_size, k.ring_size}, &fill_,
                                 &comp_, &rx_, &tx_);
        !st)
        return refuse(st.err().message);
    if (k.journaled) {
        if (auto st = roll_forward(k.at); !st)
            return refuse(st.err().message);
    }
    // What waits on the RX ring must be buffers the record says the queue holds: then receive()
    // hands out only what is ours. The fill ring is only checked to stay inside the area: the
    // kernel publishes its consumer index lazily (when it next refreshes its cached entries), so
    // entries it has already taken, and that may have come back through the RX ring and left the
    // queue since, can still look pending there.
    const uint32_t in_fill = fill_.cached_prod - (fill_.cached_cons - fill_.size);
    const uint32_t in_rx = rx_.cached_prod - rx_.cached_cons;
    if (in_fill > fill_.size || in_rx > rx_.size || (!k.journaled && in_rx > held.size()))
        return refuse("its rings hold more than its " + std::to_string(held.size()) + " buffers");
    for (uint32_t i = 0; i < in_fill; i++)
        if (*xsk_ring_prod__fill_addr(&fill_, fill_.cached_cons - fill_.size + i) >= mem_.area_bytes)
            return refuse("its fill ring holds an address outside the area");
    for (uint32_t i = 0; i < in_rx && !k.journaled; i++) { // journaled: settle_held() derives them
        const uint64_t a = xsk_ring_cons__rx_desc(&rx_, rx_.cached_cons + i)->addr;
        if (a >= mem_.area_bytes || !held_[a / mem_.buf_size])
            return refuse("its RX ring holds a buffer the record does not");
    }
    // Each of the TX and completion rings holds no more than the frames in flight; not their sum,
    // for the same reason as the fill ring: a driver that sends on its own may complete a frame
    // before it publishes how far it consumed the TX ring.
    const uint32_t in_tx = tx_.cached_prod - (tx_.cached_cons - tx_.size);
    const uint32_t in_comp = comp_.cached_prod - comp_.cached_cons;
    if (in_tx > tx_.size || in_comp > comp_.size || in_tx > k.tx_in_kernel || in_comp > k.tx_in_kernel)
        return refuse("its TX and completion rings hold more frames than it sent");
    submitted_ = k.tx_in_kernel;
    completed_ = 0;
    credits_ = k.tx_credits;
    fd_ = xsk.get();
    kept_fd_ = std::move(xsk);
    return ok_status();
}

// The rings as the journal's commit left them: indices the worker owns that lag behind the commit
// are moved to it (the entries they publish were written before the commit), except the RX
// consumer, whose staged batch waits in pending_rx_ for its redelivery and the next publish().
// Each commit index may only be ahead of the kernel's by what one pass stages.
status afxdp_queue::roll_forward(const xsk_cursors &at)
{
    auto behind = [](uint32_t kernel, uint32_t commit, uint32_t size) { return commit - kernel <= size; };
    const uint32_t fill_now = fill_.cached_prod, tx_now = tx_.cached_prod, comp_now = comp_.cached_cons,
                   rx_now = rx_.cached_cons;
    if (!behind(fill_now, at.fill_prod, fill_.size) || !behind(tx_now, at.tx_prod, tx_.size) ||
        !behind(comp_now, at.comp_cons, comp_.size) || at.comp_cons - comp_now > comp_.cached_prod - comp_now)
        return error::from(errc::bad_message, "the journal's fill, TX or completion index is not one pass "
                                              "ahead of the socket's");
    if (rx_now != at.rx_cons && (rx_now != at.rx_from || at.rx_cons - at.rx_from > rx_.cached_prod - rx_now))
        return error::from(errc::bad_message, "the journal's RX batch is not the one on the socket's RX ring");
    __atomic_store_n(fill_.producer, at.fill_prod, __ATOMIC_RELEASE);
    __atomic_store_n(tx_.producer, at.tx_prod, __ATOMIC_RELEASE);
    __atomic_store_n(comp_.consumer, at.comp_cons, __ATOMIC_RELEASE);
    fill_.cached_prod = at.fill_prod;
    tx_.cached_prod = at.tx_prod;
    comp_.cached_cons = at.comp_cons;
    pending_rx_ = at.rx_cons - rx_now;
    rx_.cached_cons = at.rx_cons;
    kick_wanted_ = true; // TX descriptors may wait for a sendto()
    journaled_ = true;
    return ok_status();
}

bool afxdp_queue::undelivered(std::vector<io_slot> &frames) const
{
    frames.clear();
    for (uint32_t i = rx_.cached_cons - pending_rx_; i != rx_.cached_cons; i++) {
        const xdp_desc &d = *xsk_ring_cons__rx_desc(&rx_, i);
        if (classify(d) == rx_kind::frame)
            frames.push_back(frame_of(d));
    }
    return pending_rx_ != 0;
}

void afxdp_queue::settle_held(const std::vector<uint8_t> &in_slots)
{
    if (!journaled_)
        return;
    held_.assign(mem_.num_buffers, 0);
    auto hold = [&](uint64_t addr) {
        if (addr < mem_.area_bytes)
            held_[addr / mem_.buf_size] = 1;
    };
    for (uint32_t i = __atomic_load_n(fill_.consumer, __ATOMIC_ACQUIRE); i != fill_.cached_prod; i++) {
        const uint64_t a = *xsk_ring_prod__fill_addr(&fill_, i);
        if (const uint64_t b = a / mem_.buf_size; !(b < in_slots.size() && in_slots[b]))
            hold(a);
    }
    for (uint32_t i = rx_.cached_cons; i != rx_.cached_prod; i++) // the staged batch is delivered
        hold(xsk_ring_cons__rx_desc(&rx_, i)->addr);
}

uint32_t afxdp_queue::receive(io_slot *slots, uint32_t n)
{
    const uint32_t bs = mem_.buf_size;
    uint32_t idx_rx = 0;
    const uint32_t got = xsk_ring_cons__peek(&rx_, n, &idx_rx); // partner: release below
    if (got == 0) {
        // A zero-copy driver that ran out of fill buffers waits for this; copy mode never asks.
        if (xsk_ring_prod__needs_wakeup(&fill_)) {
            recvfrom(fd_, nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
            counters_.syscalls++;
        }
        // Going idle after traffic, or every so often: fold in the kernel's drop counts.
        if (rx_since_stats_ || ++calls_ % stats_every == 0)
            refresh_stats();
        return 0;
    }
    // Every descriptor inside the area returns one buffer to the fill ring; one outside it (the
    // kernel would have to misbehave) returns nothing, as it was never ours.
    uint32_t refill = 0;
    for (uint32_t i = 0; i < got; i++)
        refill += classify(*xsk_ring_cons__rx_desc(&rx_, idx_rx + i)) != rx_kind::foreign;
    uint32_t idx_fill = 0;
    if (xsk_ring_prod__reserve(&fill_, refill, &idx_fill) != refill) { // partner: submit in publish()
        xsk_ring_cons__cancel(&rx_, got); // cannot happen: the fill ring holds all our buffers
        return 0;
    }
    uint32_t k = 0, f = 0;
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < got; i++) {
        const xdp_desc *d = xsk_ring_cons__rx_desc(&rx_, idx_rx + i);
        const rx_kind kind = classify(*d);
        if (kind != rx_kind::frame) {
            if (kind == rx_kind::bad) // the same buffer back
                *xsk_ring_prod__fill_addr(&fill_, idx_fill + f++) = d->addr - d->addr % bs;
            bad_rx_++;
            continue;
        }
        *xsk_ring_prod__fill_addr(&fill_, idx_fill + f++) = uint64_t{slots[k].buf_idx} * bs;
        held_[d->addr / bs] = 0;
        held_[slots[k].buf_idx] = 1;
        slots[k] = frame_of(*d);
        bytes += d->len;
        k++;
    }
    pending_rx_ += got; // released, and the fill entries submitted, in publish()
    pending_fill_ += f;
    counters_.rx_packets += k;
    counters_.rx_bytes += bytes;
    rx_since_stats_ = true;
    if (++calls_ % stats_every == 0)
        refresh_stats();
    return k;
}

uint32_t afxdp_queue::transmit(const io_slot *slots, uint32_t n)
{
    // A frame the kernel would refuse never produces a completion, which would break reclaim()'s
    // oldest-first count. Such a frame is taken (and counted as an error) only when nothing older
    // is still in the kernel, so that its credit comes back in order.
    uint32_t i = 0;
    for (; i < n && !tx_frame_ok(slots[i]); i++) {
        if (submitted_ != completed_)
            return i;
        credits_++;
        bad_tx_++;
        counters_.tx_errors++;
    }
    uint32_t run = 0;
    while (i + run < n && tx_frame_ok(slots[i + run]))
        run++;
    run = std::min(run, xsk_prod_nb_free(&tx_, run));
    uint32_t idx = 0;
    if (run == 0 || xsk_ring_prod__reserve(&tx_, run, &idx) != run) // partner: submit in publish()
        return i;
    uint64_t bytes = 0;
    for (uint32_t j = 0; j < run; j++) {
        const io_slot &s = slots[i + j];
        xdp_desc *d = xsk_ring_prod__tx_desc(&tx_, idx + j);
        d->addr = uint64_t{s.buf_idx} * mem_.buf_size + s.offset;
        // The application wrote this frame on its own CPU; the copy in sendto() below reads it on
        // ours, one cross-core miss per frame paid in sequence. Asking for the first line now
        // overlaps those misses (TX 64 B on veth: 0.93 -> 1.03 of a single-threaded sender).
        __builtin_prefetch(mem_.area + d->addr);
        d->len = s.len;
        d->options = 0;
        bytes += s.len;
    }
    pending_tx_ += run;
    submitted_ += run;
    counters_.tx_packets += run;
    counters_.tx_bytes += bytes;
    return i + run;
}

uint32_t afxdp_queue::reclaim()
{
    uint32_t idx = 0;
    const uint32_t done = xsk_ring_cons__peek(&comp_, comp_.size, &idx); // partner: release in publish()
    pending_comp_ += done;
    completed_ += done;
    const uint32_t total = done + credits_;
    credits_ = 0;
    // A copy-mode sendto() moves a bounded number of descriptors: kick again while some wait.
    if (tx_.size - xsk_prod_nb_free(&tx_, tx_.size) != 0)
        kick_wanted_ = true;
    return total;
}

void afxdp_queue::publish()
{
    if (pending_rx_) {
        xsk_ring_cons__release(&rx_, pending_rx_); // partner: peek in receive()
        pending_rx_ = 0;
    }
    if (pending_fill_) {
        xsk_ring_prod__submit(&fill_, pending_fill_); // partner: reserve in receive()
        pending_fill_ = 0;
        if (xsk_ring_prod__needs_wakeup(&fill_)) {
            recvfrom(fd_, nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
            counters_.syscalls++;
        }
    }
    if (pending_comp_) {
        xsk_ring_cons__release(&comp_, pending_comp_); // partner: peek in reclaim()
        pending_comp_ = 0;
    }
    if (pending_tx_ || kick_wanted_) {
        // partner: reserve in transmit(); the kernel consumes in sendto()
        xsk_ring_prod__submit(&tx_, pending_tx_);
        pending_tx_ = 0;
        kick_wanted_ = false;
        kick_tx();
    }
}

void afxdp_queue::kick_tx()
{
    // Copy mode keeps NEED_WAKEUP set: only sendto() moves TX descriptors there. EAGAIN (budget
    // used up, more to do), EBUSY and ENOBUFS all mean "try again later"; the descriptors stay queued.
    if (!xsk_ring_prod__needs_wakeup(&tx_))
        return;
    sendto(fd_, nullptr, 0, MSG_DONTWAIT, nullptr, 0);
    counters_.syscalls++;
}

void afxdp_queue::refresh_stats()
{
    xdp_statistics st{};
    socklen_t len = sizeof st;
    rx_since_stats_ = false;
    if (getsockopt(fd_, SOL_XDP, XDP_STATISTICS, &st, &len) != 0)
        return;
    // The kernel counts an empty fill ring under rx_dropped too (rx_fill_ring_empty_descs is a
    // breakdown of it), so it is not added again.
    counters_.rx_dropped = st.rx_dropped + st.rx_ring_full + bad_rx_;
    counters_.tx_errors = st.tx_invalid_descs + bad_tx_;
}

} // namespace

result<std::unique_ptr<nic_queue_io>> open_afxdp_queue(const std::string &ifname, uint32_t queue,
                                                       const nic_buffers &mem,
                                                       std::span<const uint32_t> fill_bufs,
                                                       uint32_t ring_size)
{
    auto q = std::make_unique<afxdp_queue>(mem);
    if (auto st = q->open(ifname, queue, fill_bufs, ring_size); !st)
        return st.err();
    return std::unique_ptr<nic_queue_io>(std::move(q));
}

result<std::unique_ptr<nic_queue_io>> adopt_afxdp_queue(unique_fd xsk, const nic_buffers &mem,
                                                        const afxdp_kept &k, std::span<const uint32_t> held)
{
    auto q = std::make_unique<afxdp_queue>(mem);
    if (auto st = q->adopt(std::move(xsk), k, held); !st)
        return st.err();
    return std::unique_ptr<nic_queue_io>(std::move(q));
}

bool afxdp_undelivered(const nic_queue_io &q, std::vector<io_slot> &frames)
{
    const auto *x = dynamic_cast<const afxdp_queue *>(&q);
    return x && x->undelivered(frames);
}

void afxdp_settle_held(nic_queue_io &q, const std::vector<uint8_t> &in_slots)
{
    if (auto *x = dynamic_cast<afxdp_queue *>(&q))
        x->settle_held(in_slots);
}

bool afxdp_keep(const nic_queue_io &q, afxdp_kept &out)
{
    const auto *x = dynamic_cast<const afxdp_queue *>(&q);
    if (x)
        x->keep(out);
    return x != nullptr;
}

bool afxdp_ring_sizes(const nic_queue_io &q, uint32_t &ring, uint32_t &fill)
{
    const auto *x = dynamic_cast<const afxdp_queue *>(&q);
    if (x)
        x->sizes(ring, fill);
    return x != nullptr;
}

int afxdp_socket_fd(const nic_queue_io &q)
{
    const auto *x = dynamic_cast<const afxdp_queue *>(&q);
    return x ? x->fd() : -1;
}

} // namespace netring::netringd
