// The AF_PACKET queue (nic_io.hpp): the fallback NIC backend where AF_XDP cannot attach. One raw
// socket sees every frame of the interface. RX is a TPACKET_V3 ring the kernel fills block by block;
// receive() copies frames out of it into the region buffers the worker hands in. TX is sendmmsg()
// straight from the region buffers (the kernel copies them into skbs before the call returns, so a
// taken frame's buffer is free by the next reclaim()).
//
// `copies` counts every frame this backend moves by copying: the memcpy out of the RX ring and the
// kernel's copy of each frame sendmmsg() takes. `syscalls` counts sendmmsg() and statistics reads;
// the RX ring itself needs none.
#include "nic_io.hpp"

#include <netring/unique_fd.hpp>

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

namespace netring::netringd {
namespace {

// A block is the unit the kernel hands over; 128 KiB holds ~60 full-size or ~900 small frames, and
// a lone frame still becomes visible after the retire timeout. The kernel retires a block after
// that timeout however little it holds, so with a trickle of traffic the block count, not their
// size, decides how long the worker may be kept off the CPU before frames drop: many small blocks.
constexpr uint32_t block_bytes = 128u << 10;
constexpr uint32_t frame_bytes = 2048; // only for tp_frame_nr's arithmetic: V3 packs frames tightly
constexpr uint32_t retire_ms = 1;
constexpr uint32_t min_blocks = 128;
constexpr uint32_t max_blocks = 512;
constexpr uint32_t tx_batch = 64;

uint32_t blocks_for(uint32_t ring_size)
{
    // Room for about two rings' worth of full-size frames, so the kernel keeps filling while the
    // worker drains a block.
    uint64_t want = uint64_t{std::max(ring_size, 256u)} * 2 * frame_bytes / block_bytes;
    return static_cast<uint32_t>(std::clamp<uint64_t>(want, min_blocks, max_blocks));
}

class afpacket_queue final : public nic_queue_io {
public:
    afpacket_queue(unique_fd sock, mapped_region ring, uint32_t blocks, const nic_buffers &mem,
                   bool filter_outgoing)
        : sock_(std::move(sock)), ring_(std::move(ring)), blocks_(blocks), mem_(mem),
          filter_outgoing_(filter_outgoing)
    {
        for (uint32_t i = 0; i < tx_batch; ++i) {
            msgs_[i] = {};
            msgs_[i].msg_hdr.msg_iov = &iovs_[i];
            msgs_[i].msg_hdr.msg_iovlen = 1;
        }
    }

    uint32_t receive(io_slot *slots, uint32_t n) override
    {
        uint32_t got = 0;
        while (got < n) {
            if (left_in_block_ == 0 && !open_block())
                break;
            const auto *h = reinterpret_cast<const tpacket3_hdr *>(frame_);
            if (copy_frame(*h, slots[got]))
                ++got;
            frame_ += h->tp_next_offset;
            if (--left_in_block_ == 0)
                close_block(); // after the copy: from here the kernel may refill the block
        }
        return got;
    }

    uint32_t transmit(const io_slot *slots, uint32_t n) override
    {
        uint32_t taken = 0;
        while (taken < n) {
            uint32_t batch = std::min(n - taken, tx_batch);
            for (uint32_t i = 0; i < batch; ++i) {
                iovs_[i].iov_base = mem_.data(slots[taken + i]);
                iovs_[i].iov_len = slots[taken + i].len;
            }
            ++counters_.syscalls;
            int sent = ::sendmmsg(sock_.get(), msgs_.data(), batch, MSG_DONTWAIT);
            if (sent > 0) {
                for (int i = 0; i < sent; ++i)
                    counters_.tx_bytes += slots[taken + i].len;
                counters_.tx_packets += sent;
                counters_.tx_copies += sent;
                taken += sent;
                continue;
            }
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == ENOBUFS)
                break; // the socket's send buffer or the device queue is full: offer again later
            // The kernel refuses this frame (too long, link down...): count it and move past it so
            // one bad frame cannot stall the ring.
            ++counters_.tx_errors;
            ++taken;
        }
        unreclaimed_ += taken;
        return taken;
    }

    uint32_t reclaim() override { return std::exchange(unreclaimed_, 0); }

    int rx_wait_fd() const override { return sock_.get(); }
    const io_counters &counters() const override { return counters_; }

    void keep(afpacket_kept &out) const
    {
        const auto *b = reinterpret_cast<const uint8_t *>(block(block_idx_));
        const auto at = left_in_block_ ? static_cast<uint32_t>(frame_ - b) : 0u;
        out = {blocks_, block_idx_, left_in_block_, at, unreclaimed_, filter_outgoing_};
    }
    // The reader's place a predecessor recorded: inside a block the kernel handed over, on a frame.
    bool resume_at(const afpacket_kept &k)
    {
        if (k.block >= blocks_ || k.unreclaimed > (1u << 20))
            return false;
        block_idx_ = k.block;
        unreclaimed_ = k.unreclaimed;
        if (k.left == 0)
            return true;
        const tpacket_block_desc *b = block(k.block);
        // Acquire pairs with the kernel's store of TP_STATUS_USER, as in open_block().
        if ((__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) == 0 ||
            k.left > b->hdr.bh1.num_pkts || k.frame_off < sizeof(tpacket_block_desc) ||
            k.frame_off > block_bytes - sizeof(tpacket3_hdr))
            return false;
        left_in_block_ = k.left;
        frame_ = reinterpret_cast<const uint8_t *>(b) + k.frame_off;
        return true;
    }
    int fd() const { return sock_.get(); }

private:
    tpacket_block_desc *block(uint32_t i) const
    {
        return reinterpret_cast<tpacket_block_desc *>(ring_.base() + uint64_t{i} * block_bytes);
    }

    // Starts on the next block if the kernel has handed it over.
    bool open_block()
    {
        tpacket_block_desc *b = block(block_idx_);
        // Acquire pairs with the kernel's store of TP_STATUS_USER after it wrote the block.
        if ((__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) == 0)
            return false;
        left_in_block_ = b->hdr.bh1.num_pkts;
        frame_ = reinterpret_cast<uint8_t *>(b) + b->hdr.bh1.offset_to_first_pkt;
        if (left_in_block_ == 0)
            close_block();
        return true;
    }

    // Gives the current block back to the kernel and moves to the next one.
    void close_block()
    {
        // Release: our reads of the block's frames happen before the kernel may overwrite them.
        __atomic_store_n(&block(block_idx_)->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
        block_idx_ = (block_idx_ + 1) % blocks_;
        left_in_block_ = 0;
        read_kernel_drops();
    }

    // Once per block: cheap next to the block's frames, and soon enough for STATS.
    void read_kernel_drops()
    {
        tpacket_stats_v3 st{};
        socklen_t len = sizeof(st);
        ++counters_.syscalls;
        if (::getsockopt(sock_.get(), SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
            counters_.rx_dropped += st.tp_drops; // the kernel resets its counters on each read
    }

    bool copy_frame(const tpacket3_hdr &h, io_slot &slot)
    {
        const uint8_t *src = reinterpret_cast<const uint8_t *>(&h) + h.tp_mac;
        if (filter_outgoing_) {
            const auto *ll = reinterpret_cast<const sockaddr_ll *>(reinterpret_cast<const uint8_t *>(&h) +
                                                                   TPACKET_ALIGN(sizeof(tpacket3_hdr)));
            if (ll->sll_pkttype == PACKET_OUTGOING)
                return false;
        }
        // A VLAN tag the driver stripped goes back in after the MAC addresses, as it was on the wire.
        bool tagged = (h.tp_status & TP_STATUS_VLAN_VALID) != 0 && h.tp_snaplen >= 12;
        uint32_t len = h.tp_snaplen + (tagged ? 4 : 0);
        if (h.tp_snaplen < h.tp_len || len > mem_.buf_size || len > 0xffff) {
            ++counters_.rx_dropped;
            return false;
        }
        uint8_t *dst = mem_.data({slot.buf_idx, 0, 0});
        if (tagged) {
            uint16_t tpid = (h.tp_status & TP_STATUS_VLAN_TPID_VALID) ? h.hv1.tp_vlan_tpid : ETH_P_8021Q;
            uint16_t tag[2] = {htons(tpid), htons(static_cast<uint16_t>(h.hv1.tp_vlan_tci))};
            std::memcpy(dst, src, 12);
            std::memcpy(dst + 12, tag, 4);
            std::memcpy(dst + 16, src + 12, h.tp_snaplen - 12);
        } else {
            std::memcpy(dst, src, h.tp_snaplen);
        }
        slot.offset = 0;
        slot.len = static_cast<uint16_t>(len);
        ++counters_.rx_packets;
        counters_.rx_bytes += len;
        ++counters_.rx_copies;
        return true;
    }

    unique_fd sock_;
    mapped_region ring_; // unmapped before the socket closes
    uint32_t blocks_;
    nic_buffers mem_;
    bool filter_outgoing_; // PACKET_IGNORE_OUTGOING was refused: skip our own frames by hand

    uint32_t block_idx_ = 0;     // the block receive() reads or waits for
    uint32_t left_in_block_ = 0; // frames of that block not yet read; 0: not opened
    const uint8_t *frame_ = nullptr;

    std::array<mmsghdr, tx_batch> msgs_{};
    std::array<iovec, tx_batch> iovs_{};
    uint32_t unreclaimed_ = 0;
    io_counters counters_;
};

error sock_error(const std::string &ifname, const char *what)
{
    return error::from_errno(errno, "AF_PACKET on " + ifname + ": " + what);
}

} // namespace

int afpacket_keep(const nic_queue_io &q, afpacket_kept &out)
{
    const auto *p = dynamic_cast<const afpacket_queue *>(&q);
    if (!p)
        return -1;
    p->keep(out);
    return p->fd();
}

result<std::unique_ptr<nic_queue_io>> adopt_afpacket_queue(unique_fd sock, const std::string &ifname,
                                                           const nic_buffers &mem, const afpacket_kept &k)
{
    auto refuse = [&](const std::string &why) {
        return error::from(errc::bad_message, "kept AF_PACKET queue on " + ifname + ": " + why);
    };
    int domain = 0, version = 0;
    socklen_t len = sizeof domain;
    if (!sock.valid() || ::getsockopt(sock.get(), SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 ||
        domain != AF_PACKET)
        return refuse("the kept fd is not a packet socket");
    len = sizeof version;
    if (::getsockopt(sock.get(), SOL_PACKET, PACKET_VERSION, &version, &len) != 0 || version != TPACKET_V3)
        return refuse("the socket is not TPACKET_V3");
    sockaddr_ll addr{};
    len = sizeof addr;
    if (::getsockname(sock.get(), reinterpret_cast<sockaddr *>(&addr), &len) != 0 ||
        addr.sll_ifindex != static_cast<int>(::if_nametoindex(ifname.c_str())))
        return refuse("the socket is not bound to " + ifname);
    if (k.blocks < min_blocks || k.blocks > max_blocks)
        return refuse(std::to_string(k.blocks) + " blocks recorded");
    // packet_mmap() maps the ring's exact size or nothing: the recorded block count is the kernel's.
    auto ring = mapped_region::map(sock.get(), size_t{k.blocks} * block_bytes);
    if (!ring)
        return refuse("its RX ring is not " + std::to_string(k.blocks) + " blocks (" + ring.err().message +
                      ")");
    auto q = std::make_unique<afpacket_queue>(std::move(sock), std::move(ring.value()), k.blocks, mem,
                                              k.skip_outgoing);
    if (!q->resume_at(k))
        return refuse("the reader's place is not in a block the kernel handed over");
    return std::unique_ptr<nic_queue_io>(std::move(q));
}

result<std::unique_ptr<nic_queue_io>> open_afpacket_queue(const std::string &ifname, const nic_buffers &mem,
                                                          uint32_t ring_size)
{
    if (mem.area == nullptr || mem.buf_size == 0)
        return error::from(errc::internal, "AF_PACKET on " + ifname + ": no buffer area");
    unsigned ifindex = ::if_nametoindex(ifname.c_str());
    if (ifindex == 0)
        return sock_error(ifname, "no such interface");

    // Protocol 0 until bind: the socket sees no frame of any other interface in between.
    unique_fd sock(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
    if (!sock.valid())
        return sock_error(ifname, "socket");

    int version = TPACKET_V3;
    if (::setsockopt(sock.get(), SOL_PACKET, PACKET_VERSION, &version, sizeof(version)) != 0)
        return sock_error(ifname, "PACKET_VERSION");
    int one = 1;
    bool filter_outgoing =
        ::setsockopt(sock.get(), SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) != 0;
    // A deeper send buffer lets one sendmmsg() take a whole batch of full-size frames.
    int sndbuf = 4 << 20;
    if (::setsockopt(sock.get(), SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) != 0)
        (void)::setsockopt(sock.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));

    uint32_t blocks = blocks_for(ring_size);
    tpacket_req3 req{};
    req.tp_block_size = block_bytes;
    req.tp_block_nr = blocks;
    req.tp_frame_size = frame_bytes;
    req.tp_frame_nr = blocks * (block_bytes / frame_bytes);
    req.tp_retire_blk_tov = retire_ms;
    if (::setsockopt(sock.get(), SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) != 0)
        return sock_error(ifname, "PACKET_RX_RING");
    auto ring = mapped_region::map(sock.get(), size_t{blocks} * block_bytes);
    if (!ring)
        return sock_error(ifname, "mmap of the RX ring");

    sockaddr_ll addr{};
    addr.sll_family = AF_PACKET;
    addr.sll_protocol = htons(ETH_P_ALL);
    addr.sll_ifindex = static_cast<int>(ifindex);
    if (::bind(sock.get(), reinterpret_cast<const sockaddr *>(&addr), sizeof(addr)) != 0)
        return sock_error(ifname, "bind");

    return std::unique_ptr<nic_queue_io>(
        new afpacket_queue(std::move(sock), std::move(ring.value()), blocks, mem, filter_outgoing));
}

} // namespace netring::netringd
