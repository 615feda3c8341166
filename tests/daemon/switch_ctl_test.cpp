// SWITCH_CTL in netringd (switch_ctl.cpp): who may do what (list for anyone, the rest for admins),
// operands checked before the switch table sees them, `list` of one switch, and the reply payload
// as libnetring decodes it (records round-trip; a list too large for one reply becomes an error).
#include "libclient/reply_codec.hpp"
#include "policy.hpp"
#include "registry.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

using namespace netring;
using namespace netring::netringd;

namespace {

class switch_ctl_test : public ::testing::Test {
protected:
    switch_ctl_test() : pol(cfg, 0), reg(cfg, pol) {}

    result<std::vector<switch_info>> as(uid_t uid, proto::switch_op op, std::string_view sw = {},
                                        std::string_view arg = {})
    {
        return reg.switch_ctl({1, uid, uid, ::getpid()}, op, sw, arg);
    }
    static errc code(const result<std::vector<switch_info>> &r)
    {
        return r ? errc::ok : static_cast<errc>(r.err().code.value());
    }

    config cfg = [] {
        config c;
        c.region_buffers = 4096;
        c.default_slots = 256;
        return c;
    }();
    policy pol;
    registry reg;
    static constexpr uid_t nobody = 65534;
};

TEST_F(switch_ctl_test, only_admins_change_switches_but_anyone_lists)
{
    using op = proto::switch_op;
    EXPECT_EQ(code(as(nobody, op::create, "vale0")), errc::access_denied);
    ASSERT_EQ(code(as(0, op::create, "vale0")), errc::ok);
    ASSERT_EQ(code(as(0, op::add_port, "vale0", "p1")), errc::ok);
    EXPECT_EQ(code(as(nobody, op::add_port, "vale0", "p2")), errc::access_denied);
    EXPECT_EQ(code(as(nobody, op::delete_port, "vale0", "p1")), errc::access_denied);
    EXPECT_EQ(code(as(nobody, op::attach, "vale0", "netmap:lo")), errc::access_denied);
    EXPECT_EQ(code(as(nobody, op::detach, "vale0", "netmap:lo")), errc::access_denied);
    EXPECT_EQ(code(as(nobody, op::destroy, "vale0")), errc::access_denied);
    auto refused = as(nobody, op::create, "vale1");
    EXPECT_NE(refused.err().message.find("uid 65534"), std::string::npos) << refused.err().message;

    auto l = as(nobody, op::list);
    ASSERT_TRUE(l.ok()) << l.err().describe();
    ASSERT_EQ(l->size(), 1u) << "the refused create made nothing";
    EXPECT_EQ(l.value()[0].name, "vale0");
    ASSERT_EQ(l.value()[0].ports.size(), 1u) << "the refused add made nothing";
    EXPECT_EQ(l.value()[0].ports[0].name, "p1");
}

TEST_F(switch_ctl_test, daemon_refusals_pass_through)
{
    using op = proto::switch_op;
    ASSERT_EQ(code(as(0, op::create, "vale0")), errc::ok);
    EXPECT_EQ(code(as(0, op::create, "vale0")), errc::already_exists);
    EXPECT_EQ(code(as(0, op::destroy, "vale9")), errc::not_found);
    ASSERT_EQ(code(as(0, op::add_port, "vale0", "p1")), errc::ok);
    EXPECT_EQ(code(as(0, op::destroy, "vale0")), errc::port_busy);
    ASSERT_EQ(code(as(0, op::delete_port, "vale0", "p1")), errc::ok);
    ASSERT_EQ(code(as(0, op::destroy, "vale0")), errc::ok);
    EXPECT_TRUE(as(0, op::list)->empty());
}

TEST_F(switch_ctl_test, operands_are_required)
{
    using op = proto::switch_op;
    EXPECT_EQ(code(as(0, op::create, "")), errc::bad_port_name);
    EXPECT_EQ(code(as(0, op::destroy, "")), errc::bad_port_name);
    ASSERT_EQ(code(as(0, op::create, "vale0")), errc::ok);
    for (auto o : {op::add_port, op::delete_port, op::attach, op::detach}) {
        auto r = as(0, o, "vale0", "");
        EXPECT_EQ(code(r), errc::bad_port_name) << switch_op_name(o);
    }
    EXPECT_EQ(as(0, op::list)->size(), 1u);
}

TEST_F(switch_ctl_test, list_of_one_switch)
{
    using op = proto::switch_op;
    ASSERT_EQ(code(as(0, op::create, "vale0")), errc::ok);
    ASSERT_EQ(code(as(0, op::create, "vale1")), errc::ok);
    ASSERT_EQ(code(as(0, op::add_port, "vale1", "p7")), errc::ok);
    auto l = as(nobody, op::list, "vale1");
    ASSERT_TRUE(l.ok());
    ASSERT_EQ(l->size(), 1u);
    EXPECT_EQ(l.value()[0].name, "vale1");
    EXPECT_EQ(l.value()[0].ports.size(), 1u);
    EXPECT_EQ(as(0, op::list)->size(), 2u);
    EXPECT_EQ(code(as(0, op::list, "vale5")), errc::not_found);
}

result<std::vector<switches::switch_entry>> round_trip(const result<std::vector<switch_info>> &r)
{
    const auto payload = switch_ctl_payload(r);
    const auto h =
        proto::make_header(proto::msg_type::switch_ctl_reply, static_cast<uint32_t>(payload.size()), 1);
    return proto::decode_switch_ctl_reply(h, payload);
}

TEST(switch_ctl_payload, records_round_trip)
{
    std::vector<switch_info> in(2);
    in[0].name = "vale0";
    in[0].persistent = true;
    in[0].mac_entries = 4;
    in[0].ports.push_back({"p1", "persistent", 1, 10, 600, 20, 1200, 3});
    in[0].ports.push_back({"netmap:eth0^", "host", 0, 1, 2, 3, 4, 5});
    in[1].name = "vale1";
    in[1].ports.push_back({"x", "ephemeral", 2, 7, 8, 9, 10, 11});
    auto out = round_trip(in);
    ASSERT_TRUE(out.ok()) << out.err().describe();
    ASSERT_EQ(out->size(), 2u);
    const auto &a = out.value()[0];
    EXPECT_EQ(a.name, "vale0");
    EXPECT_TRUE(a.persistent);
    EXPECT_EQ(a.mac_entries, 4u);
    ASSERT_EQ(a.ports.size(), 2u);
    EXPECT_EQ(a.ports[0].name, "p1");
    EXPECT_EQ(a.ports[0].kind, "persistent");
    EXPECT_EQ(a.ports[0].clients, 1u);
    EXPECT_EQ(a.ports[0].rx_packets, 10u);
    EXPECT_EQ(a.ports[0].rx_bytes, 600u);
    EXPECT_EQ(a.ports[0].tx_packets, 20u);
    EXPECT_EQ(a.ports[0].tx_bytes, 1200u);
    EXPECT_EQ(a.ports[0].drops, 3u);
    EXPECT_EQ(a.ports[1].name, "netmap:eth0^");
    EXPECT_EQ(a.ports[1].kind, "host");
    const auto &b = out.value()[1];
    EXPECT_FALSE(b.persistent);
    ASSERT_EQ(b.ports.size(), 1u);
    EXPECT_EQ(b.ports[0].kind, "ephemeral");
    EXPECT_EQ(b.ports[0].drops, 11u);

    auto none = round_trip(std::vector<switch_info>{});
    ASSERT_TRUE(none.ok());
    EXPECT_TRUE(none->empty());
}

TEST(switch_ctl_payload, errors_and_oversized_lists)
{
    auto e = round_trip(error::from(errc::not_found, "switch vale9 does not exist"));
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.err().code, make_error_code(errc::not_found));
    EXPECT_EQ(e.err().message, "switch vale9 does not exist");

    std::vector<switch_info> big(1);
    big[0].name = "vale0";
    big[0].ports.resize(proto::max_reply_payload / sizeof(proto::switch_port_record) + 1);
    for (auto &p : big[0].ports)
        p.name = "p", p.kind = "ephemeral";
    auto r = round_trip(big);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.err().code, make_error_code(errc::limit_exceeded));
    EXPECT_EQ(switch_ctl_payload(big).size(), sizeof(proto::switch_ctl_reply));
}

} // namespace
