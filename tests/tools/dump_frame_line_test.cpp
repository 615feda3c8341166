// tools/dump/frame_line.hpp: the line per frame: UTC time with nanoseconds, interface, direction,
// length, and the Ethernet header (through one VLAN tag; short frames said to be short).
#include "dump_test_support.hpp"
#include "frame_line.hpp"

#include <gtest/gtest.h>

using namespace netring::dump;
using namespace netring::dump::testing;

namespace {

// 2023-11-14 22:13:20 UTC is 1700000000 s after the epoch.
constexpr uint64_t t0 = 1700000000ull * 1000000000ull;

std::string line_of(std::span<const unsigned char> kept, uint32_t len, frame_direction dir, uint64_t ts = t0)
{
    std::string out;
    append_frame_line(out, ts, "netmap:p{1 tx0", dir, kept, len);
    return out;
}

} // namespace

TEST(DumpFrameLine, Ipv4)
{
    const auto f = ipv4_frame(ip_proto_udp, 9);
    EXPECT_EQ(line_of(f, 60, frame_direction::outbound, t0 + 123456789),
              "22:13:20.123456789 netmap:p{1 tx0 out length 60: 02:00:00:00:00:01 > 02:00:00:00:00:02, "
              "ethertype IPv4 (0x0800)\n");
    EXPECT_EQ(line_of(f, 60, frame_direction::inbound, t0 + 1).substr(0, 37),
              "22:13:20.000000001 netmap:p{1 tx0 in ");
}

TEST(DumpFrameLine, VlanUnknownTypeAnd8023)
{
    auto f = ipv4_frame(ip_proto_udp, 9);
    f.insert(f.begin() + 12, {0x81, 0x00, 0x20, 0x05}); // priority 1, vlan 5
    EXPECT_NE(line_of(f, 64, frame_direction::inbound)
                  .find("ethertype 802.1Q (0x8100), vlan 5, ethertype IPv4 (0x0800)\n"),
              std::string::npos);
    f = ipv4_frame(ip_proto_udp, 9);
    f[12] = 0x88;
    f[13] = 0xb5;
    EXPECT_NE(line_of(f, 60, frame_direction::inbound).find(", ethertype 0x88b5\n"), std::string::npos);
    f[12] = 0x00;
    f[13] = 0x2e;
    EXPECT_NE(line_of(f, 60, frame_direction::inbound).find(", 802.3 length 46\n"), std::string::npos);
}

TEST(DumpFrameLine, ShortFrames)
{
    const auto f = ipv4_frame(ip_proto_udp, 9);
    EXPECT_EQ(line_of(std::span(f).first(10), 60, frame_direction::unknown),
              "22:13:20.000000000 netmap:p{1 tx0 - length 60: truncated Ethernet header\n");
    auto tagged = f;
    tagged[12] = 0x81;
    tagged[13] = 0x00;
    EXPECT_NE(
        line_of(std::span(tagged).first(16), 60, frame_direction::inbound).find("(0x8100), truncated tag\n"),
        std::string::npos);
}
