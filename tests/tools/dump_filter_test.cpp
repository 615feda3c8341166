// tools/dump/filter.hpp: libpcap's expressions compiled once and run per frame; a bad expression
// is refused with libpcap's sentence; no expression lets everything through.
#include "dump_test_support.hpp"
#include "filter.hpp"

#include <gtest/gtest.h>

using namespace netring::dump;
using namespace netring::dump::testing;

namespace {

bool accepts(const frame_filter &f, const std::vector<unsigned char> &frame)
{
    return f.accepts(frame, static_cast<uint32_t>(frame.size()));
}

} // namespace

TEST(DumpFilter, UdpPortKeepsUdpDropsTcp)
{
    std::string why;
    const auto f = frame_filter::compile("udp port 9", 262144, why);
    ASSERT_TRUE(f) << why;
    EXPECT_FALSE(f->passes_all());
    EXPECT_EQ(f->expression(), "udp port 9");
    EXPECT_TRUE(accepts(*f, ipv4_frame(ip_proto_udp, 9)));
    EXPECT_FALSE(accepts(*f, ipv4_frame(ip_proto_tcp, 9)));  // the right port, the wrong protocol
    EXPECT_FALSE(accepts(*f, ipv4_frame(ip_proto_udp, 10))); // the right protocol, the wrong port
}

TEST(DumpFilter, SeesOnlyTheKeptBytes)
{
    std::string why;
    const auto f = frame_filter::compile("udp port 9", 262144, why);
    ASSERT_TRUE(f) << why;
    const std::vector<unsigned char> frame = ipv4_frame(ip_proto_udp, 9);
    // Cut before the UDP header, as a short snapshot length would: the port cannot be read.
    EXPECT_FALSE(f->accepts(std::span(frame).first(34), static_cast<uint32_t>(frame.size())));
}

TEST(DumpFilter, LengthTestsTheWireLength)
{
    std::string why;
    const auto f = frame_filter::compile("greater 1000", 64, why);
    ASSERT_TRUE(f) << why;
    const std::vector<unsigned char> frame = ipv4_frame(ip_proto_udp, 9, 1500);
    EXPECT_TRUE(f->accepts(std::span(frame).first(64), 1500));
    EXPECT_FALSE(f->accepts(std::span(frame).first(64), 60));
}

TEST(DumpFilter, EmptyExpressionPassesAll)
{
    std::string why;
    const auto f = frame_filter::compile("", 262144, why);
    ASSERT_TRUE(f);
    EXPECT_TRUE(f->passes_all());
    EXPECT_TRUE(accepts(*f, ipv4_frame(ip_proto_tcp, 80)));
    EXPECT_TRUE(frame_filter().passes_all());
}

TEST(DumpFilter, BadExpressionQuotesLibpcap)
{
    std::string why;
    EXPECT_FALSE(frame_filter::compile("udp prot 9", 262144, why));
    EXPECT_FALSE(why.empty());
    why.clear();
    EXPECT_FALSE(frame_filter::compile("port 99999999", 262144, why));
    EXPECT_NE(why.find("99999999"), std::string::npos) << why;
}

TEST(DumpFilter, MovesOwnership)
{
    std::string why;
    auto f = frame_filter::compile("tcp", 262144, why);
    ASSERT_TRUE(f) << why;
    frame_filter moved = std::move(*f);
    EXPECT_TRUE(f->passes_all()); // the moved-from filter no longer owns the program
    EXPECT_TRUE(accepts(moved, ipv4_frame(ip_proto_tcp, 80)));
    EXPECT_FALSE(accepts(moved, ipv4_frame(ip_proto_udp, 80)));
    moved = frame_filter();
    EXPECT_TRUE(moved.passes_all());
}
