// The copying NIC backends (nic_afpacket.cpp, nic_tap.cpp) against real devices: a veth pair
// nrtc<pid>a/nrtc<pid>b and a TAP nrtc<pid>t, created here and deleted by name afterwards. Frames carry
// ethertype 0x88b5, a sequence number and a payload pattern; every received byte is checked.
// AF_PACKET: frames sent on b arrive through receive() on a (also across blocks, in small batches, and
// an oversized one is dropped and counted); transmit() on a arrives on b; a's outgoing frames are not
// received on a.
// TAP: the device exists with its MAC, MTU and IFF_UP and goes with the object; a second open is
// refused; transmit() reaches the kernel (an AF_PACKET socket on the TAP sees it incoming) and frames
// the kernel sends out through the TAP come out of receive(). Needs root (CAP_NET_ADMIN, CAP_NET_RAW).
#include "ports/nic/nic_io.hpp"

#include <netring/unique_fd.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace netring::netringd {
namespace {

constexpr uint16_t test_ethertype = 0x88b5;
constexpr uint32_t buf_size = 2048;
constexpr uint32_t num_buffers = 2048;
constexpr size_t hdr_len = 18; // dst, src, ethertype, 4-byte sequence number

using mac_t = std::array<uint8_t, 6>;

uint32_t frame_len(uint32_t seq) { return 60 + (seq * 97) % (1514 - 60 + 1); }
uint8_t pattern(uint32_t seq, size_t i, uint8_t tag) { return static_cast<uint8_t>(seq * 31 + i * 7 + tag); }

std::vector<uint8_t> make_frame(const mac_t &dst, const mac_t &src, uint32_t seq, uint32_t len, uint8_t tag)
{
    std::vector<uint8_t> f(len);
    std::memcpy(f.data(), dst.data(), 6);
    std::memcpy(f.data() + 6, src.data(), 6);
    uint16_t type = htons(test_ethertype);
    std::memcpy(f.data() + 12, &type, 2);
    uint32_t s = htonl(seq);
    std::memcpy(f.data() + 14, &s, 4);
    for (size_t i = hdr_len; i < len; ++i)
        f[i] = pattern(seq, i, tag);
    return f;
}

bool is_test_frame(const uint8_t *p, size_t len)
{
    return len >= hdr_len && p[12] == (test_ethertype >> 8) && p[13] == (test_ethertype & 0xff);
}

uint32_t seq_of(const uint8_t *p)
{
    uint32_t s;
    std::memcpy(&s, p + 14, 4);
    return ntohl(s);
}

// Empty on success, else what is wrong with the frame.
std::string check_frame(const uint8_t *p, size_t len, uint32_t seq, uint32_t want_len, uint8_t tag)
{
    if (seq_of(p) != seq)
        return "seq " + std::to_string(seq_of(p)) + ", want " + std::to_string(seq);
    if (len != want_len)
        return "seq " + std::to_string(seq) + ": len " + std::to_string(len) + ", want " +
               std::to_string(want_len);
    for (size_t i = hdr_len; i < len; ++i)
        if (p[i] != pattern(seq, i, tag))
            return "seq " + std::to_string(seq) + ": byte " + std::to_string(i) + " differs";
    return {};
}

std::string read_sys(const std::string &dev, const std::string &file)
{
    std::ifstream in("/sys/class/net/" + dev + "/" + file);
    std::string s;
    std::getline(in, s);
    return s;
}

mac_t mac_of(const std::string &dev)
{
    mac_t m{};
    unsigned v[6] = {};
    EXPECT_EQ(std::sscanf(read_sys(dev, "address").c_str(), "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3],
                          &v[4], &v[5]),
              6);
    for (int i = 0; i < 6; ++i)
        m[i] = static_cast<uint8_t>(v[i]);
    return m;
}

bool run(const std::string &cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0; }

// A raw socket on `dev` that sees every frame of it (or none until used for sending, protocol 0).
unique_fd raw_socket(const std::string &dev, uint16_t proto)
{
    unique_fd s(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(proto)));
    EXPECT_TRUE(s.valid()) << std::strerror(errno);
    sockaddr_ll a{};
    a.sll_family = AF_PACKET;
    a.sll_protocol = htons(proto);
    a.sll_ifindex = static_cast<int>(::if_nametoindex(dev.c_str()));
    EXPECT_EQ(::bind(s.get(), reinterpret_cast<sockaddr *>(&a), sizeof(a)), 0) << std::strerror(errno);
    return s;
}

void send_raw(int sock, const std::vector<uint8_t> &f)
{
    ASSERT_EQ(::send(sock, f.data(), f.size(), 0), static_cast<ssize_t>(f.size())) << std::strerror(errno);
}

// Next test frame seen by a capture socket (skipping other traffic and, if asked, our own output).
std::vector<uint8_t> capture(int sock, bool incoming_only)
{
    uint8_t buf[4096];
    for (int tries = 0; tries < 200; ++tries) {
        pollfd p{sock, POLLIN, 0};
        if (::poll(&p, 1, 5000) <= 0)
            return {};
        sockaddr_ll from{};
        socklen_t fl = sizeof(from);
        ssize_t r = ::recvfrom(sock, buf, sizeof(buf), 0, reinterpret_cast<sockaddr *>(&from), &fl);
        if (r <= 0)
            return {};
        if (incoming_only && from.sll_pkttype == PACKET_OUTGOING)
            continue;
        if (is_test_frame(buf, static_cast<size_t>(r)))
            return {buf, buf + r};
    }
    return {};
}

class nic_copy_io_test : public ::testing::Test {
protected:
    void SetUp() override
    {
        if (::geteuid() != 0)
            GTEST_SKIP() << "needs root (CAP_NET_ADMIN, CAP_NET_RAW) for veth, TAP and AF_PACKET";
        std::string pid = std::to_string(::getpid());
        a_ = "nrtc" + pid + "a";
        b_ = "nrtc" + pid + "b";
        tap_ = "nrtc" + pid + "t";
        ASSERT_TRUE(run("ip link add " + a_ + " type veth peer name " + b_)) << "cannot create a veth pair";
        made_veth_ = true;
        ASSERT_TRUE(run("ip link set " + a_ + " up && ip link set " + b_ + " up"));
        mac_a_ = mac_of(a_);
        mac_b_ = mac_of(b_);

        unique_fd fd(::memfd_create("nic_copy_io_test", MFD_CLOEXEC));
        ASSERT_TRUE(fd.valid());
        ASSERT_EQ(::ftruncate(fd.get(), uint64_t{num_buffers} * buf_size), 0);
        auto m = mapped_region::map(fd.get(), uint64_t{num_buffers} * buf_size);
        ASSERT_TRUE(m.ok()) << m.err().describe();
        region_ = std::move(m.value());
        mem_ = {region_.base(), region_.size(), buf_size, num_buffers};
    }

    void TearDown() override
    {
        if (made_veth_)
            run("ip link del " + a_);
        run("ip link del " + tap_); // only if a failed test left it persistent; normally gone already
    }

    // Receives until `want` test frames arrived or nothing comes for a while; other traffic is skipped.
    std::vector<std::vector<uint8_t>> receive_test_frames(nic_queue_io &q, size_t want, uint32_t batch)
    {
        std::vector<std::vector<uint8_t>> out;
        std::vector<io_slot> slots(batch);
        for (int idle = 0; out.size() < want && idle < 20;) {
            for (uint32_t i = 0; i < batch; ++i)
                slots[i] = {2 + i, 0, 0};
            uint32_t got = q.receive(slots.data(), batch);
            for (uint32_t i = 0; i < got; ++i) {
                EXPECT_EQ(slots[i].offset, 0);
                EXPECT_EQ(slots[i].buf_idx, 2 + i);
                const uint8_t *p = mem_.data(slots[i]);
                if (is_test_frame(p, slots[i].len))
                    out.emplace_back(p, p + slots[i].len);
            }
            if (got == 0) {
                pollfd p{q.rx_wait_fd(), POLLIN, 0};
                if (::poll(&p, 1, 250) == 0)
                    ++idle;
            }
        }
        return out;
    }

    std::string a_, b_, tap_;
    bool made_veth_ = false;
    mac_t mac_a_{}, mac_b_{};
    mapped_region region_;
    nic_buffers mem_;
};

TEST_F(nic_copy_io_test, afpacket_receives_frames_sent_on_peer)
{
    auto q = open_afpacket_queue(a_, mem_, 256);
    ASSERT_TRUE(q.ok()) << q.err().describe();
    unique_fd tx = raw_socket(b_, 0);

    // 6000 frames of ~790 B on average wrap the 4-block ring; batches of 7 stop mid-block.
    constexpr uint32_t chunk = 250, total = 6000;
    uint32_t next = 0;
    for (uint32_t base = 0; base < total; base += chunk) {
        for (uint32_t s = base; s < base + chunk; ++s)
            send_raw(tx.get(), make_frame(mac_a_, mac_b_, s, frame_len(s), 1));
        auto frames = receive_test_frames(**q, chunk, 7);
        ASSERT_EQ(frames.size(), chunk) << "after seq " << next;
        for (const auto &f : frames) {
            std::string bad = check_frame(f.data(), f.size(), next, frame_len(next), 1);
            ASSERT_EQ(bad, "");
            ++next;
        }
    }
    const io_counters &c = (*q)->counters();
    EXPECT_GE(c.rx_packets, total);
    EXPECT_GE(c.copies(), total);
    EXPECT_EQ(c.rx_dropped, 0u);
    EXPECT_EQ(c.tx_packets, 0u);
}

TEST_F(nic_copy_io_test, afpacket_drops_frame_longer_than_buffer)
{
    ASSERT_TRUE(run("ip link set " + a_ + " mtu 4000 && ip link set " + b_ + " mtu 4000"));
    auto q = open_afpacket_queue(a_, mem_, 256);
    ASSERT_TRUE(q.ok()) << q.err().describe();
    unique_fd tx = raw_socket(b_, 0);
    send_raw(tx.get(), make_frame(mac_a_, mac_b_, 0, 3000, 2)); // over 2048: dropped
    send_raw(tx.get(), make_frame(mac_a_, mac_b_, 1, 2048, 2)); // exactly one buffer: kept
    auto frames = receive_test_frames(**q, 1, 8);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(check_frame(frames[0].data(), frames[0].size(), 1, 2048, 2), "");
    EXPECT_EQ((*q)->counters().rx_dropped, 1u);
}

TEST_F(nic_copy_io_test, afpacket_transmit_arrives_on_peer_and_is_not_received_back)
{
    auto q = open_afpacket_queue(a_, mem_, 256);
    ASSERT_TRUE(q.ok()) << q.err().describe();
    unique_fd cap = raw_socket(b_, ETH_P_ALL);

    constexpr uint32_t total = 100;
    std::vector<io_slot> slots(total);
    for (uint32_t s = 0; s < total; ++s) {
        auto f = make_frame(mac_b_, mac_a_, s, frame_len(s), 3);
        slots[s] = {100 + s, 64, static_cast<uint16_t>(f.size())}; // a non-zero offset on purpose
        std::memcpy(mem_.data(slots[s]), f.data(), f.size());
    }
    uint32_t taken = 0, reclaimed = 0;
    for (int tries = 0; taken < total && tries < 1000; ++tries) {
        taken += (*q)->transmit(slots.data() + taken, total - taken);
        reclaimed += (*q)->reclaim();
        if (taken < total)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    reclaimed += (*q)->reclaim();
    ASSERT_EQ(taken, total);
    EXPECT_EQ(reclaimed, total);
    EXPECT_EQ((*q)->reclaim(), 0u);

    for (uint32_t s = 0; s < total; ++s) {
        auto f = capture(cap.get(), true);
        ASSERT_FALSE(f.empty()) << "frame " << s << " did not arrive on " << b_;
        ASSERT_EQ(check_frame(f.data(), f.size(), s, frame_len(s), 3), "");
    }
    const io_counters &c = (*q)->counters();
    EXPECT_EQ(c.tx_packets, total);
    EXPECT_EQ(c.tx_errors, 0u);
    EXPECT_GE(c.copies(), total);

    // Outgoing frames of a from anyone else (the kernel never loops a packet socket's own output back
    // to it, so this is what PACKET_IGNORE_OUTGOING is for), then a marker sent on b: everything a saw
    // before the marker is in the ring ahead of it, so no outgoing frame may show up on the way.
    unique_fd other = raw_socket(a_, 0);
    for (uint32_t s = 0; s < 5; ++s)
        send_raw(other.get(), make_frame(mac_b_, mac_a_, 5000 + s, 200, 7));
    unique_fd tx = raw_socket(b_, 0);
    send_raw(tx.get(), make_frame(mac_a_, mac_b_, 9999, 100, 4));
    auto frames = receive_test_frames(**q, 1, 16);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(check_frame(frames[0].data(), frames[0].size(), 9999, 100, 4), "");
}

TEST(tap_name, derived_from_interface_and_cut_to_ifnamsiz)
{
    EXPECT_EQ(tap_name_for("eth0"), "nr-eth0");
    EXPECT_EQ(tap_name_for("enp0s31f6"), "nr-enp0s31f6");
    EXPECT_EQ(tap_name_for("averyverylongifname"), "nr-averyverylon");
    EXPECT_EQ(tap_name_for("averyverylongifname").size(), size_t{IFNAMSIZ - 1});
}

TEST_F(nic_copy_io_test, tap_exists_with_mac_mtu_up_and_goes_with_the_object)
{
    const uint8_t mac[6] = {0x02, 0x6e, 0x72, 0x00, 0x12, 0x34};
    auto q = open_tap_queue(tap_, mac, 1400, mem_);
    ASSERT_TRUE(q.ok()) << q.err().describe();
    ASSERT_NE(::if_nametoindex(tap_.c_str()), 0u);
    EXPECT_EQ(read_sys(tap_, "address"), "02:6e:72:00:12:34");
    EXPECT_EQ(read_sys(tap_, "mtu"), "1400");
    EXPECT_NE(std::stoul(read_sys(tap_, "flags"), nullptr, 16) & IFF_UP, 0u);

    auto again = open_tap_queue(tap_, mac, 1400, mem_);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.err().code, make_error_code(errc::port_busy));
    EXPECT_NE(again.err().message.find("exists"), std::string::npos);

    auto too_big = open_tap_queue(tap_ + "x", mac, 2040, mem_); // 2040 + Ethernet header > 2048
    EXPECT_FALSE(too_big.ok());

    q.value().reset();
    bool gone = false;
    for (int i = 0; i < 100 && !gone; ++i) {
        gone = ::if_nametoindex(tap_.c_str()) == 0;
        if (!gone)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_TRUE(gone) << tap_ << " still exists after the queue was destroyed";
}

TEST_F(nic_copy_io_test, tap_transmit_enters_kernel_and_kernel_output_is_received)
{
    const uint8_t mac[6] = {0x02, 0x6e, 0x72, 0x00, 0x56, 0x78};
    const mac_t tap_mac = {mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]};
    auto q = open_tap_queue(tap_, mac, 1500, mem_);
    ASSERT_TRUE(q.ok()) << q.err().describe();
    unique_fd cap = raw_socket(tap_, ETH_P_ALL);
    const mac_t peer = {0x02, 0x6e, 0x72, 0x00, 0x00, 0x01};

    // transmit(): the kernel sees the frames as received on the TAP.
    constexpr uint32_t total = 20;
    std::vector<io_slot> slots(total);
    for (uint32_t s = 0; s < total; ++s) {
        auto f = make_frame(tap_mac, peer, s, frame_len(s), 5);
        slots[s] = {300 + s, 0, static_cast<uint16_t>(f.size())};
        std::memcpy(mem_.data(slots[s]), f.data(), f.size());
    }
    uint64_t rx_before = std::stoull(read_sys(tap_, "statistics/rx_packets"));
    ASSERT_EQ((*q)->transmit(slots.data(), total), total);
    EXPECT_EQ((*q)->reclaim(), total);
    for (uint32_t s = 0; s < total; ++s) {
        auto f = capture(cap.get(), true);
        ASSERT_FALSE(f.empty()) << "frame " << s << " not seen by the kernel";
        ASSERT_EQ(check_frame(f.data(), f.size(), s, frame_len(s), 5), "");
    }
    EXPECT_GE(std::stoull(read_sys(tap_, "statistics/rx_packets")), rx_before + total);
    EXPECT_EQ((*q)->counters().tx_packets, total);

    // The kernel sends out through the TAP: receive() gets the frames.
    unique_fd tx = raw_socket(tap_, 0);
    for (uint32_t s = 0; s < total; ++s)
        send_raw(tx.get(), make_frame(peer, tap_mac, 1000 + s, frame_len(s), 6));
    auto frames = receive_test_frames(**q, total, 4);
    ASSERT_EQ(frames.size(), total);
    for (uint32_t s = 0; s < total; ++s)
        ASSERT_EQ(check_frame(frames[s].data(), frames[s].size(), 1000 + s, frame_len(s), 6), "");
    const io_counters &c = (*q)->counters();
    EXPECT_GE(c.rx_packets, total);
    EXPECT_GE(c.copies(), 2 * total);
    EXPECT_GE(c.syscalls, c.tx_packets + c.rx_packets); // one read() or write() per frame at least
}

} // namespace
} // namespace netring::netringd
