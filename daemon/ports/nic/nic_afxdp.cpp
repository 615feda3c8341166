// The AF_XDP queue (nic_io.hpp, class in nic_afxdp.hpp): one XSK whose UMEM is the region's buffer
// area, so the kernel writes received frames into region buffers and transmits straight out of
// them. This file opens a queue and runs its data path; nic_afxdp_keep.cpp keeps and adopts it
// across a restart. Facts about this kernel (copy mode on veth, frames at chunk + 256, EBUSY on a
// quick re-bind): docs/AF_XDP-NOTES.md.
#include "nic_afxdp.hpp"

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

uint32_t pow2_at_least(uint64_t v)
{
    uint32_t p = 1;
    while (p < v)
        p <<= 1;
    return p;
}

} // namespace

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

int afxdp_socket_fd(const nic_queue_io &q)
{
    const auto *x = dynamic_cast<const afxdp_queue *>(&q);
    return x ? x->fd() : -1;
}

} // namespace netring::netringd
