// The AF_XDP queue's class, shared by nic_afxdp.cpp (opening a queue and its data path) and
// nic_afxdp_keep.cpp (a queue across a restart: kept, adopted, moved forward to a journal's
// commit). Only those two include it; everything else goes through nic_io.hpp.
//
// Buffer flow: the queue owns a constant number of buffers (fill_bufs.size()), all of them in the
// fill ring, the kernel or the RX ring at any time. receive() swaps: a received frame's buffer goes to
// the caller and the caller's free buffer goes to the fill ring in its place. transmit() lends buffers
// to the kernel until reclaim() counts them back, oldest first.
//
// Staging (nic_io.hpp): receive(), transmit() and reclaim() reserve, peek and write ring entries
// but publish nothing; publish() releases and submits what they did, then makes the syscalls the
// kernel waits for. Between the two the worker commits its journal.
#pragma once

#include "nic_io.hpp"
#include "xsk_rings.hpp"

#include <netring/error.hpp>
#include <netring/unique_fd.hpp>

#include <linux/if_xdp.h>
#include <xdp/xsk.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace netring::netringd {

inline constexpr uint32_t afxdp_eth_hlen = 14;

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
        return s.len >= afxdp_eth_hlen && uint32_t{s.offset} + s.len <= mem_.buf_size;
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

} // namespace netring::netringd
