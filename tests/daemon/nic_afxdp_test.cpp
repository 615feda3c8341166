// The AF_XDP queue and the daemon's XDP program on a veth pair.
//
// Objective: frames sent into veth side b arrive through open_afxdp_queue on side a intact (every
// sequence number and payload byte) with the buffer swap keeping ownership straight; frames
// transmitted on a arrive on b intact and reclaim() counts every one (each call followed by
// publish(), as the worker does: before it, nothing reaches the kernel); queues without a socket pass
// frames to the kernel stack; xdp_program leaves no program behind and clear_stale_xdp removes only
// ours. Steps: a veth pair nrtx<pid>a / nrtx<pid>b in the root namespace (IPv6 off so no stray
// frames), a memfd buffer area of 4096 x 2048, AF_PACKET sockets on the other side. Needs root.
#include "ports/nic/nic_io.hpp"
#include "ports/nic/xdp_program.hpp"

#include <netring/unique_fd.hpp>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <vector>

namespace nd = netring::netringd;
using netring::unique_fd;

namespace {

constexpr uint16_t test_ethertype = 0x88b5;
constexpr uint32_t marker = 0x4e525458; // "NRTX"
constexpr uint32_t nbufs = 4096, bsize = 2048;

// Frame: broadcast dst, src, ethertype, marker at 14, u64 seq at 18, then bytes (seq + i) & 0xff.
uint16_t frame_len(uint64_t seq) { return static_cast<uint16_t>(60 + (seq * 37) % 1400); }

void write_frame(uint8_t *p, uint64_t seq)
{
    const uint16_t len = frame_len(seq);
    std::memset(p, 0xff, 6);
    const uint8_t src[6] = {0x02, 0x6e, 0x72, 0x74, 0x78, 0x01};
    std::memcpy(p + 6, src, 6);
    const uint16_t et = htons(test_ethertype);
    std::memcpy(p + 12, &et, 2);
    std::memcpy(p + 14, &marker, 4);
    std::memcpy(p + 18, &seq, 8);
    for (uint32_t i = 26; i < len; i++)
        p[i] = static_cast<uint8_t>(seq + i);
}

// Checks a received frame against what write_frame(seq) made; returns a failure text or "".
std::string check_frame(const uint8_t *p, uint32_t len, uint64_t want_seq)
{
    uint64_t seq = 0;
    uint32_t mk = 0;
    if (len < 26)
        return "short frame " + std::to_string(len);
    std::memcpy(&mk, p + 14, 4);
    std::memcpy(&seq, p + 18, 8);
    if (mk != marker || seq != want_seq)
        return "seq " + std::to_string(seq) + " where " + std::to_string(want_seq) + " was due";
    if (len != frame_len(seq))
        return "seq " + std::to_string(seq) + ": length " + std::to_string(len);
    for (uint32_t i = 26; i < len; i++)
        if (p[i] != static_cast<uint8_t>(seq + i))
            return "seq " + std::to_string(seq) + ": byte " + std::to_string(i);
    return "";
}

int sh(const std::string &cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

// An AF_PACKET socket on ifname for test frames (bound to the ethertype: sees incoming ones only).
unique_fd packet_socket(const std::string &ifname)
{
    unique_fd fd(socket(AF_PACKET, SOCK_RAW, htons(test_ethertype)));
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(test_ethertype);
    sll.sll_ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
    if (fd.valid() && bind(fd.get(), reinterpret_cast<sockaddr *>(&sll), sizeof sll) != 0)
        fd.reset();
    return fd;
}

bool wait_readable(int fd, int ms)
{
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, ms) == 1;
}

// How many test frames arrive on an AF_PACKET socket within `ms` of quiet.
int drain_count(int fd, int ms)
{
    int n = 0;
    uint8_t buf[2048];
    while (wait_readable(fd, ms) && recv(fd, buf, sizeof buf, 0) > 0)
        n++;
    return n;
}

bool xdp_attached(const std::string &ifname, uint32_t *drv, uint32_t *skb)
{
    LIBBPF_OPTS(bpf_xdp_query_opts, q);
    if (bpf_xdp_query(static_cast<int>(if_nametoindex(ifname.c_str())), 0, &q) != 0)
        return false;
    *drv = q.drv_prog_id;
    *skb = q.skb_prog_id;
    return true;
}

// A two-instruction XDP_PASS program with the given name, for the stale-program checks.
unique_fd load_pass_program(const char *name)
{
    bpf_insn prog[2]{};
    prog[0].code = BPF_ALU64 | BPF_MOV | BPF_K; // r0 = XDP_PASS
    prog[0].imm = XDP_PASS;
    prog[1].code = BPF_JMP | BPF_EXIT;
    LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_XDP);
    return unique_fd(bpf_prog_load(BPF_PROG_TYPE_XDP, name, "GPL", prog, 2, &opts));
}

class afxdp_test : public ::testing::Test {
protected:
    void SetUp() override
    {
        if (geteuid() != 0)
            GTEST_SKIP() << "needs root (veth pair, XDP program, AF_XDP socket)";
        a_ = "nrtx" + std::to_string(getpid()) + "a";
        b_ = "nrtx" + std::to_string(getpid()) + "b";
        ASSERT_EQ(sh("ip link add " + a_ + " type veth peer name " + b_), 0);
        for (const auto &n : {a_, b_})
            std::ofstream("/proc/sys/net/ipv6/conf/" + n + "/disable_ipv6") << "1";
        ASSERT_EQ(sh("ip link set " + a_ + " up && ip link set " + b_ + " up"), 0);

        area_fd_ = unique_fd(memfd_create("nrtx_area", 0));
        ASSERT_TRUE(area_fd_.valid());
        ASSERT_EQ(ftruncate(area_fd_.get(), uint64_t{nbufs} * bsize), 0);
        auto m = netring::mapped_region::map(area_fd_.get(), uint64_t{nbufs} * bsize);
        ASSERT_TRUE(m.ok());
        area_ = std::move(m.value());
        mem_ = nd::nic_buffers{area_.base(), uint64_t{nbufs} * bsize, bsize, nbufs};
        // Buffers 0 and 1 stay reserved; 2..1025 go to the fill ring, the rest are the test's.
        queue_owns_.assign(nbufs, false);
        for (uint32_t i = 2; i < 1026; i++) {
            fill_.push_back(i);
            queue_owns_[i] = true;
        }
        for (uint32_t i = 1026; i < nbufs; i++)
            free_.push_back(i);
    }

    void TearDown() override
    {
        if (!a_.empty())
            sh("ip link del " + a_); // takes the peer with it
    }

    // Sends frames [first, first + n) from b with an AF_PACKET socket.
    void send_from_b(uint64_t first, uint32_t n)
    {
        unique_fd s(socket(AF_PACKET, SOCK_RAW, 0)); // protocol 0: send only, never receives
        ASSERT_TRUE(s.valid());
        sockaddr_ll to{};
        to.sll_family = AF_PACKET;
        to.sll_ifindex = static_cast<int>(if_nametoindex(b_.c_str()));
        to.sll_halen = 6;
        uint8_t frame[2048];
        for (uint64_t seq = first; seq < first + n; seq++) {
            write_frame(frame, seq);
            ASSERT_EQ(sendto(s.get(), frame, frame_len(seq), 0, reinterpret_cast<sockaddr *>(&to), sizeof to),
                      frame_len(seq));
        }
    }

    // Receives until `n` frames came (or 5 s passed), checking order, bytes and buffer ownership:
    // every frame must sit in a buffer the queue owned, and the buffers given in its place become
    // the queue's.
    void receive_and_check(nd::nic_queue_io &q, uint64_t first, uint32_t n)
    {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        uint64_t want = first;
        while (want < first + n && std::chrono::steady_clock::now() < deadline) {
            nd::io_slot slots[64];
            uint32_t given[64];
            // Oldest free buffer first: a buffer the test got back is not handed in again soon, so a
            // queue that kept using it would show up as a frame in a buffer it does not own.
            for (uint32_t i = 0; i < 64; i++) {
                given[i] = slots[i].buf_idx = free_.front();
                free_.pop_front();
            }
            const uint32_t got = q.receive(slots, 64);
            q.publish(); // the RX descriptors released, the fill entries submitted
            for (uint32_t i = 0; i < got; i++) {
                ASSERT_LT(slots[i].buf_idx, nbufs);
                ASSERT_TRUE(queue_owns_[slots[i].buf_idx])
                    << "frame in buffer " << slots[i].buf_idx << " the queue did not own";
                queue_owns_[slots[i].buf_idx] = false;
                ASSERT_LE(slots[i].offset + slots[i].len, bsize);
                rx_offset_ = slots[i].offset;
                ASSERT_EQ(check_frame(mem_.data(slots[i]), slots[i].len, want), "");
                want++;
                free_.push_back(slots[i].buf_idx);
            }
            for (uint32_t i = 0; i < 64; i++) {
                if (i < got)
                    queue_owns_[given[i]] = true;
                else
                    free_.push_back(given[i]);
            }
            for (uint32_t i = got; i < 64; i++)
                ASSERT_EQ(slots[i].buf_idx, given[i]) << "slot beyond the received ones changed";
            if (got == 0)
                wait_readable(q.rx_wait_fd(), 100);
        }
        EXPECT_EQ(want, first + n) << "frames missing";
    }

    std::string a_, b_;
    unique_fd area_fd_;
    netring::mapped_region area_;
    nd::nic_buffers mem_;
    std::vector<uint32_t> fill_;
    std::deque<uint32_t> free_;
    std::vector<bool> queue_owns_;
    int rx_offset_ = -1;
};

TEST_F(afxdp_test, receives_every_frame_intact_into_region_buffers)
{
    auto prog = nd::xdp_program::attach(a_, 1);
    ASSERT_TRUE(prog.ok()) << prog.err().describe();
    auto q = nd::open_afxdp_queue(a_, 0, mem_, fill_, 512);
    ASSERT_TRUE(q.ok()) << q.err().describe();
    const int xsk = nd::afxdp_socket_fd(*q.value());
    ASSERT_GE(xsk, 0);
    ASSERT_TRUE(prog.value()->map_socket(0, xsk).ok());
    unique_fd stack_a = packet_socket(a_); // redirected frames must not reach the stack
    ASSERT_TRUE(stack_a.valid());

    // Batches below the fill ring's 1024 buffers, so no frame is dropped for want of one.
    constexpr uint32_t batches = 16, per_batch = 250;
    for (uint32_t b = 0; b < batches; b++) {
        send_from_b(uint64_t{b} * per_batch, per_batch);
        receive_and_check(*q.value(), uint64_t{b} * per_batch, per_batch);
        if (HasFatalFailure())
            return;
    }
    const auto &c = q.value()->counters();
    EXPECT_EQ(c.rx_packets, batches * per_batch);
    uint64_t bytes = 0;
    for (uint64_t seq = 0; seq < batches * per_batch; seq++)
        bytes += frame_len(seq);
    EXPECT_EQ(c.rx_bytes, bytes);
    EXPECT_EQ(c.copies(), 0u);
    EXPECT_EQ(c.rx_dropped, 0u);
    EXPECT_EQ(drain_count(stack_a.get(), 50), 0);
    // Copy mode puts the frame after the kernel's XDP headroom in the chunk.
    std::printf("rx data offset in the buffer: %d\n", rx_offset_);
    EXPECT_EQ(rx_offset_, 256);
    nd::io_slot none{7, 0, 0};
    EXPECT_EQ(q.value()->receive(&none, 1), 0u);
    EXPECT_EQ(none.buf_idx, 7u) << "an empty receive changed the slot";
}

TEST_F(afxdp_test, transmits_from_region_buffers_and_reclaims_every_one)
{
    auto q = nd::open_afxdp_queue(a_, 0, mem_, fill_, 512);
    ASSERT_TRUE(q.ok()) << q.err().describe();
    unique_fd cap = packet_socket(b_);
    ASSERT_TRUE(cap.valid());

    constexpr uint32_t total = 4000, batch = 64;
    uint64_t seq = 0, captured = 0, reclaimed = 0;
    std::vector<uint32_t> in_flight; // buffers lent to transmit(), oldest first
    size_t in_flight_head = 0;
    uint8_t frame[2048];
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while ((captured < total || reclaimed < total) && std::chrono::steady_clock::now() < deadline) {
        nd::io_slot slots[batch];
        uint32_t n = 0;
        for (; n < batch && seq + n < total && !free_.empty(); n++) {
            // Offsets other than 0 check that the descriptor carries buf_idx * buf_size + offset.
            const auto off = static_cast<uint16_t>(((seq + n) % 3) * 64);
            slots[n] = nd::io_slot{free_.back(), off, frame_len(seq + n)};
            free_.pop_back();
            write_frame(mem_.data(slots[n]), seq + n);
        }
        const uint32_t took = q.value()->transmit(slots, n);
        q.value()->publish(); // submitted, and sent by the sendto() it makes
        for (uint32_t i = 0; i < n; i++) {
            if (i < took)
                in_flight.push_back(slots[i].buf_idx);
            else
                free_.push_back(slots[i].buf_idx); // the test offers them again next round
        }
        seq += took;
        const uint32_t done = q.value()->reclaim();
        q.value()->publish();
        ASSERT_LE(reclaimed + done, seq) << "reclaim counted frames never taken";
        for (uint32_t i = 0; i < done; i++)
            free_.push_back(in_flight[in_flight_head++]);
        reclaimed += done;
        while (captured < seq && wait_readable(cap.get(), 20)) {
            const ssize_t len = recv(cap.get(), frame, sizeof frame, 0);
            ASSERT_GT(len, 0);
            ASSERT_EQ(check_frame(frame, static_cast<uint32_t>(len), captured), "");
            captured++;
        }
    }
    EXPECT_EQ(captured, total);
    EXPECT_EQ(reclaimed, total);
    const auto &c = q.value()->counters();
    EXPECT_EQ(c.tx_packets, total);
    EXPECT_EQ(c.tx_errors, 0u);
    EXPECT_EQ(c.copies(), 0u);
    EXPECT_GT(c.syscalls, 0u); // copy mode: every batch is a sendto()
}

TEST_F(afxdp_test, a_runt_frame_is_refused_in_order_and_still_reclaimed)
{
    auto q = nd::open_afxdp_queue(a_, 0, mem_, fill_, 64);
    ASSERT_TRUE(q.ok()) << q.err().describe();
    nd::io_slot good{free_[0], 0, frame_len(0)};
    write_frame(mem_.data(good), 0);
    const nd::io_slot runt{free_[1], 0, 5};
    const nd::io_slot pair[2] = {good, runt};
    // The runt waits behind the good frame until the kernel has given that one back.
    ASSERT_EQ(q.value()->transmit(pair, 2), 1u);
    q.value()->publish();
    uint32_t reclaimed = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (reclaimed < 1 && std::chrono::steady_clock::now() < deadline) {
        reclaimed += q.value()->reclaim();
        q.value()->publish();
    }
    ASSERT_EQ(reclaimed, 1u);
    EXPECT_EQ(q.value()->transmit(&runt, 1), 1u);
    EXPECT_EQ(q.value()->reclaim(), 1u);
    EXPECT_EQ(q.value()->counters().tx_errors, 1u);
    EXPECT_EQ(q.value()->counters().tx_packets, 1u);
}

TEST_F(afxdp_test, queues_without_a_socket_pass_frames_to_the_stack)
{
    auto prog = nd::xdp_program::attach(a_, 4);
    ASSERT_TRUE(prog.ok()) << prog.err().describe();
    unique_fd stack_a = packet_socket(a_);
    ASSERT_TRUE(stack_a.valid());
    send_from_b(0, 20);
    EXPECT_EQ(drain_count(stack_a.get(), 200), 20) << "program attached, map empty";

    auto q = nd::open_afxdp_queue(a_, 0, mem_, fill_, 512);
    ASSERT_TRUE(q.ok()) << q.err().describe();
    ASSERT_TRUE(prog.value()->map_socket(0, nd::afxdp_socket_fd(*q.value())).ok());
    send_from_b(20, 20);
    receive_and_check(*q.value(), 20, 20);
    EXPECT_EQ(drain_count(stack_a.get(), 50), 0);

    prog.value()->unmap_socket(0);
    send_from_b(40, 20);
    EXPECT_EQ(drain_count(stack_a.get(), 200), 20) << "after unmap_socket";
    EXPECT_FALSE(prog.value()->map_socket(4, nd::afxdp_socket_fd(*q.value())).ok()) << "queue 4 of 4";
}

TEST_F(afxdp_test, program_detaches_with_the_object)
{
    uint32_t drv = 0, skb = 0;
    {
        auto prog = nd::xdp_program::attach(a_, 1);
        ASSERT_TRUE(prog.ok()) << prog.err().describe();
        ASSERT_TRUE(xdp_attached(a_, &drv, &skb));
        EXPECT_EQ(std::string(prog.value()->mode()) == "native" ? drv : skb, prog.value()->prog_id());
        EXPECT_NE(prog.value()->prog_id(), 0u);
        // The link holds the interface: a second attach is refused, not stacked.
        auto second = nd::xdp_program::attach(a_, 1);
        ASSERT_FALSE(second.ok());
        EXPECT_EQ(second.err().code, netring::errc::port_busy);
    }
    ASSERT_TRUE(xdp_attached(a_, &drv, &skb));
    EXPECT_EQ(drv, 0u);
    EXPECT_EQ(skb, 0u);
}

TEST_F(afxdp_test, clear_stale_xdp_removes_only_our_program)
{
    const int ifindex = static_cast<int>(if_nametoindex(a_.c_str()));
    auto nothing = nd::clear_stale_xdp(a_);
    ASSERT_TRUE(nothing.ok());
    EXPECT_EQ(nothing.value(), "");

    unique_fd ours = load_pass_program(nd::xdp_program_name);
    ASSERT_TRUE(ours.valid());
    ASSERT_EQ(bpf_xdp_attach(ifindex, ours.get(), XDP_FLAGS_SKB_MODE, nullptr), 0); // the netlink way
    auto cleared = nd::clear_stale_xdp(a_);
    ASSERT_TRUE(cleared.ok()) << cleared.err().describe();
    EXPECT_NE(cleared.value().find("detached stale netringd_xsk"), std::string::npos) << cleared.value();
    uint32_t drv = 1, skb = 1;
    ASSERT_TRUE(xdp_attached(a_, &drv, &skb));
    EXPECT_EQ(drv + skb, 0u);

    unique_fd foreign = load_pass_program("nrt_foreign");
    ASSERT_TRUE(foreign.valid());
    ASSERT_EQ(bpf_xdp_attach(ifindex, foreign.get(), XDP_FLAGS_SKB_MODE, nullptr), 0);
    auto left = nd::clear_stale_xdp(a_);
    ASSERT_TRUE(left.ok());
    EXPECT_EQ(left.value(), "");
    ASSERT_TRUE(xdp_attached(a_, &drv, &skb));
    EXPECT_NE(skb, 0u) << "a foreign program was removed";
    auto refused = nd::xdp_program::attach(a_, 1);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.err().code, netring::errc::port_busy);
    EXPECT_NE(refused.err().message.find("nrt_foreign"), std::string::npos) << refused.err().message;
    bpf_xdp_detach(ifindex, XDP_FLAGS_SKB_MODE, nullptr);
}

// Checks that need no privilege: bad arguments are refused before any socket exists.
TEST(afxdp_args, bad_ring_size_and_unknown_interface_are_errors)
{
    alignas(4096) static uint8_t area[4 * 4096];
    const nd::nic_buffers mem{area, sizeof area, 2048, 8};
    const uint32_t fill[] = {2, 3};
    auto q = nd::open_afxdp_queue("lo", 0, mem, fill, 100);
    ASSERT_FALSE(q.ok());
    EXPECT_EQ(q.err().code, netring::errc::limit_exceeded);
    const uint32_t bad_fill[] = {8};
    auto q2 = nd::open_afxdp_queue("lo", 0, mem, bad_fill, 64);
    ASSERT_FALSE(q2.ok());
    auto p = nd::xdp_program::attach("nrt-no-such-if", 1);
    ASSERT_FALSE(p.ok());
    auto c = nd::clear_stale_xdp("nrt-no-such-if");
    ASSERT_FALSE(c.ok());
}

} // namespace
