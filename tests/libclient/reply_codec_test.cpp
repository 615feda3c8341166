// libnetring's reply checks (reply_codec.hpp): header, fixed replies, error replies, and the
// record-counted STATS reply.
#include "libclient/reply_codec.hpp"

#include <netring/protocol.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace proto = netring::proto;
using netring::errc;
using netring::make_error_code;

namespace {

template <class T>
std::vector<std::byte> bytes_of(const T &v)
{
    std::vector<std::byte> out(sizeof v);
    std::memcpy(out.data(), &v, sizeof v);
    return out;
}

proto::header reply_header(proto::msg_type t, size_t len, uint32_t seq = 5)
{
    return proto::make_header(t, static_cast<uint32_t>(len), seq);
}

TEST(ReplyCodec, HeaderChecks)
{
    auto h = reply_header(proto::msg_type::sync_reply, sizeof(proto::sync_reply));
    EXPECT_TRUE(proto::check_reply_header(h, proto::msg_type::sync_reply, 5).ok());
    EXPECT_FALSE(proto::check_reply_header(h, proto::msg_type::sync_reply, 6).ok()); // seq not echoed
    EXPECT_FALSE(proto::check_reply_header(h, proto::msg_type::regif_reply, 5).ok());
    h.type = static_cast<uint16_t>(proto::msg_type::error_reply);
    EXPECT_TRUE(proto::check_reply_header(h, proto::msg_type::regif_reply, 5).ok());
    h.length = proto::max_reply_payload + 1;
    EXPECT_FALSE(proto::check_reply_header(h, proto::msg_type::regif_reply, 5).ok());
}

TEST(ReplyCodec, FixedReplies)
{
    proto::sync_reply r{};
    r.tail = 17;
    auto p = bytes_of(r);
    auto ok = proto::decode_reply<proto::sync_reply>(reply_header(proto::msg_type::sync_reply, p.size()), p);
    ASSERT_TRUE(ok.ok());
    EXPECT_EQ(ok->tail, 17u);
    p.push_back(std::byte{0});
    EXPECT_FALSE(
        proto::decode_reply<proto::sync_reply>(reply_header(proto::msg_type::sync_reply, p.size()), p).ok());

    proto::set_status(r.status, netring::error::from(errc::ring_reset, "tx ring 0: head 9 outside [1, 4]"));
    auto failed = bytes_of(r);
    auto e = proto::decode_reply<proto::sync_reply>(reply_header(proto::msg_type::sync_reply, failed.size()), failed);
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.err().code, make_error_code(errc::ring_reset));
    EXPECT_EQ(e.err().message, "tx ring 0: head 9 outside [1, 4]");
}

TEST(ReplyCodec, ErrorReply)
{
    proto::reply_status st;
    proto::set_status(st, netring::error::from(errc::access_denied, "uid 65534 may not open eth0"));
    auto p = bytes_of(st);
    auto e = proto::decode_reply<proto::regif_reply>(reply_header(proto::msg_type::error_reply, p.size()), p);
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.err().code, make_error_code(errc::access_denied));

    std::memset(st.message, 'a', sizeof st.message); // no NUL
    p = bytes_of(st);
    e = proto::decode_reply<proto::regif_reply>(reply_header(proto::msg_type::error_reply, p.size()), p);
    EXPECT_EQ(e.err().code, make_error_code(errc::bad_message));

    proto::set_ok(st); // error_reply that claims success
    p = bytes_of(st);
    e = proto::decode_reply<proto::regif_reply>(reply_header(proto::msg_type::error_reply, p.size()), p);
    EXPECT_EQ(e.err().code, make_error_code(errc::bad_message));
}

std::vector<std::byte> stats_payload(uint32_t regions, uint32_t regs, uint32_t rings, uint32_t ring_reg,
                                     size_t ring_size = sizeof(proto::stats_ring))
{
    proto::stats_reply top{};
    top.n_regions = regions;
    top.n_regs = regs;
    top.n_rings = rings;
    top.n_clients = 2;
    top.uptime_ms = 1234;
    auto out = bytes_of(top);
    for (uint32_t i = 0; i < regions; i++) {
        proto::stats_region r{};
        proto::set_text(r.name, sizeof r.name, "pipe:pipeA");
        r.buffers_free = 10 + i;
        r.hugepages = 1;
        r.hugepage_faults = 3 + i;
        auto b = bytes_of(r);
        out.insert(out.end(), b.begin(), b.end());
    }
    for (uint32_t i = 0; i < regs; i++) {
        proto::stats_registration r{};
        proto::set_text(r.port_name, sizeof r.port_name, "netmap:pipeA{1");
        r.reg_id = 100 + i;
        auto b = bytes_of(r);
        out.insert(out.end(), b.begin(), b.end());
    }
    for (uint32_t i = 0; i < rings; i++) {
        proto::stats_ring r{};
        r.registration = ring_reg;
        r.packets = 1000 + i;
        r.num_slots = 64;
        r.occupied = 7 + i;
        auto b = bytes_of(r);
        out.insert(out.end(), b.begin(), b.begin() + static_cast<std::ptrdiff_t>(ring_size));
    }
    return out;
}

TEST(ReplyCodec, StatsRecords)
{
    auto p = stats_payload(1, 2, 3, 1);
    auto s = proto::decode_stats_reply(reply_header(proto::msg_type::stats_reply, p.size()), p);
    ASSERT_TRUE(s.ok()) << s.err().message;
    EXPECT_EQ(s->uptime_ms, 1234u);
    ASSERT_EQ(s->regions.size(), 1u);
    EXPECT_EQ(s->regions[0].name, "pipe:pipeA");
    EXPECT_TRUE(s->regions[0].hugepages);
    EXPECT_EQ(s->regions[0].hugepage_faults, 3u);
    ASSERT_EQ(s->registrations.size(), 2u);
    EXPECT_EQ(s->registrations[1].reg_id, 101u);
    ASSERT_EQ(s->rings.size(), 3u);
    EXPECT_EQ(s->rings[2].packets, 1002u);
    EXPECT_EQ(s->rings[2].occupied, 9u);
}

TEST(ReplyCodec, StatsOfVersion3HaveNoOccupancy)
{
    auto p = stats_payload(1, 2, 3, 1, proto::stats_ring_v3_size);
    auto h = reply_header(proto::msg_type::stats_reply, p.size());
    h.version = 3;
    auto s = proto::decode_stats_reply(h, p);
    ASSERT_TRUE(s.ok()) << s.err().message;
    ASSERT_EQ(s->rings.size(), 3u);
    EXPECT_EQ(s->rings[2].packets, 1002u);
    EXPECT_EQ(s->rings[2].occupied, 0u);
    h.version = proto::version; // the same bytes read as version 4 records do not add up
    EXPECT_FALSE(proto::decode_stats_reply(h, p).ok());
}

TEST(ReplyCodec, StatsOccupancyNeverExceedsTheRing)
{
    auto p = stats_payload(1, 2, 1, 1);
    proto::stats_ring r;
    const size_t at = p.size() - sizeof r;
    std::memcpy(&r, p.data() + at, sizeof r);
    r.occupied = 0xffffffffu;
    std::memcpy(p.data() + at, &r, sizeof r);
    auto s = proto::decode_stats_reply(reply_header(proto::msg_type::stats_reply, p.size()), p);
    ASSERT_TRUE(s.ok()) << s.err().message;
    EXPECT_EQ(s->rings[0].occupied, 64u);
}

TEST(ReplyCodec, StatsBounds)
{
    auto p = stats_payload(1, 2, 3, 1);
    p.pop_back(); // one byte short
    EXPECT_FALSE(proto::decode_stats_reply(reply_header(proto::msg_type::stats_reply, p.size()), p).ok());
    p = stats_payload(1, 2, 3, 1);
    p.push_back(std::byte{0}); // one byte too many
    EXPECT_FALSE(proto::decode_stats_reply(reply_header(proto::msg_type::stats_reply, p.size()), p).ok());
    p = stats_payload(1, 2, 3, 2); // ring names registration 2 of 2
    EXPECT_FALSE(proto::decode_stats_reply(reply_header(proto::msg_type::stats_reply, p.size()), p).ok());
    p = stats_payload(0, 0, 0, 0);
    proto::stats_reply top;
    std::memcpy(&top, p.data(), sizeof top);
    top.n_rings = 0xffffffffu; // counts that would overflow 32-bit arithmetic
    top.n_regs = 0xffffffffu;
    std::memcpy(p.data(), &top, sizeof top);
    EXPECT_FALSE(proto::decode_stats_reply(reply_header(proto::msg_type::stats_reply, p.size()), p).ok());
    std::vector<std::byte> tiny(10);
    EXPECT_FALSE(proto::decode_stats_reply(reply_header(proto::msg_type::stats_reply, tiny.size()), tiny).ok());
}

} // namespace
