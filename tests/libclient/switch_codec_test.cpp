// SWITCH_CTL codec: the request's size, strings and operation range as netringd decodes them, and
// the reply's records as libnetring decodes them (counts against the payload size, names and kinds
// terminated, ports grouped under the switch they name, each switch's port count honoured).
#include "libclient/reply_codec.hpp"

#include <netring/protocol.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace proto = netring::proto;
using netring::errc;
using netring::make_error_code;

namespace {

template <class T>
void append(std::vector<std::byte> &out, const T &v)
{
    const auto *p = reinterpret_cast<const std::byte *>(&v);
    out.insert(out.end(), p, p + sizeof v);
}

proto::switch_ctl request(proto::switch_op op, const char *sw, const char *arg)
{
    proto::switch_ctl m{};
    m.op = static_cast<uint32_t>(op);
    proto::set_text(m.switch_name, sizeof m.switch_name, sw);
    proto::set_text(m.arg, sizeof m.arg, arg);
    return m;
}

netring::result<proto::decoded_request> decode(const proto::switch_ctl &m)
{
    std::vector<std::byte> p;
    append(p, m);
    return proto::decode_request(proto::make_header(proto::msg_type::switch_ctl, p.size(), 9), p);
}

TEST(SwitchCtlRequest, HeaderAndSessionAcceptIt)
{
    EXPECT_TRUE(proto::check_request_header(proto::make_header(proto::msg_type::switch_ctl, 136, 1)).ok());
    EXPECT_EQ(proto::session_transition(proto::session_state::ready, proto::msg_type::switch_ctl).refusal,
              errc::ok);
    EXPECT_EQ(
        proto::session_transition(proto::session_state::awaiting_hello, proto::msg_type::switch_ctl).refusal,
        errc::hello_required);
    // The reply type is not a request.
    EXPECT_EQ(
        proto::check_request_header(proto::make_header(proto::msg_type::switch_ctl_reply, 136, 1)).err().code,
        make_error_code(errc::unknown_message));
}

TEST(SwitchCtlRequest, FieldsSurvive)
{
    auto d = decode(request(proto::switch_op::attach, "vale0", "netmap:eth0*"));
    ASSERT_TRUE(d.ok()) << d.err().describe();
    EXPECT_EQ(d->type, proto::msg_type::switch_ctl);
    EXPECT_EQ(d->seq, 9u);
    const auto &m = std::get<proto::switch_ctl>(d->body);
    EXPECT_EQ(m.op, static_cast<uint32_t>(proto::switch_op::attach));
    EXPECT_STREQ(m.switch_name, "vale0");
    EXPECT_STREQ(m.arg, "netmap:eth0*");
}

TEST(SwitchCtlRequest, OperationRange)
{
    for (uint32_t op = 1; op <= 8; op++) {
        auto m = request(proto::switch_op::list, "", "");
        m.op = op;
        EXPECT_TRUE(decode(m).ok()) << op;
    }
    for (uint32_t op : {0u, 9u, 0xffffffffu}) {
        auto m = request(proto::switch_op::list, "", "");
        m.op = op;
        auto d = decode(m);
        ASSERT_FALSE(d.ok()) << op;
        EXPECT_EQ(d.err().code, make_error_code(errc::bad_message));
    }
}

TEST(SwitchCtlRequest, StringsMustBeTerminated)
{
    auto m = request(proto::switch_op::create, "vale0", "");
    std::memset(m.switch_name, 'v', sizeof m.switch_name);
    auto d = decode(m);
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.err().code, make_error_code(errc::bad_message));
    EXPECT_NE(d.err().message.find("switch_name"), std::string::npos);

    m = request(proto::switch_op::add_port, "vale0", "p1");
    std::memset(m.arg, 'p', sizeof m.arg);
    d = decode(m);
    ASSERT_FALSE(d.ok());
    EXPECT_NE(d.err().message.find("arg"), std::string::npos);
}

TEST(SwitchCtlRequest, ExactSize)
{
    std::vector<std::byte> p;
    append(p, request(proto::switch_op::list, "", ""));
    p.pop_back();
    auto d = proto::decode_request(proto::make_header(proto::msg_type::switch_ctl, p.size(), 1), p);
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.err().code, make_error_code(errc::bad_message));
    p.resize(sizeof(proto::switch_ctl) + 1);
    d = proto::decode_request(proto::make_header(proto::msg_type::switch_ctl, p.size(), 1), p);
    EXPECT_FALSE(d.ok());
}

// ---- reply ----

struct port_spec {
    uint32_t sw;
    const char *name;
    const char *kind;
    uint64_t rx_packets;
};

// A list reply: switches named "vale<i>" announcing `announced[i]` ports, then `ports` in order.
std::vector<std::byte> list_payload(const std::vector<uint32_t> &announced,
                                    const std::vector<port_spec> &ports)
{
    proto::switch_ctl_reply top{};
    proto::set_ok(top.status);
    top.n_switches = static_cast<uint32_t>(announced.size());
    top.n_ports = static_cast<uint32_t>(ports.size());
    std::vector<std::byte> out;
    append(out, top);
    for (uint32_t i = 0; i < announced.size(); i++) {
        proto::switch_record r{};
        proto::set_text(r.name, sizeof r.name, "vale" + std::to_string(i));
        r.persistent = i == 0;
        r.mac_entries = 10 + i;
        r.n_ports = announced[i];
        append(out, r);
    }
    for (const port_spec &s : ports) {
        proto::switch_port_record r{};
        proto::set_text(r.name, sizeof r.name, s.name);
        proto::set_text(r.kind, sizeof r.kind, s.kind);
        r.switch_index = s.sw;
        r.clients = 2;
        r.rx_packets = s.rx_packets;
        r.rx_bytes = s.rx_packets * 60;
        r.tx_packets = s.rx_packets + 1;
        r.tx_bytes = 7;
        r.drops = 3;
        append(out, r);
    }
    return out;
}

netring::result<std::vector<netring::switches::switch_entry>>
decode_reply(const std::vector<std::byte> &p, proto::msg_type t = proto::msg_type::switch_ctl_reply)
{
    return proto::decode_switch_ctl_reply(proto::make_header(t, p.size(), 4), p);
}

TEST(SwitchCtlReply, RecordsGroupedUnderTheirSwitch)
{
    // Ports of switch 1 arrive before and after one of switch 0: order within a switch is kept.
    auto p = list_payload(
        {1, 2},
        {{1, "p1", "persistent", 100}, {0, "netmap:eth0", "nic", 200}, {1, "netmap:eth0^", "host", 300}});
    auto r = decode_reply(p);
    ASSERT_TRUE(r.ok()) << r.err().describe();
    ASSERT_EQ(r->size(), 2u);
    const auto &s0 = r.value()[0], &s1 = r.value()[1];
    EXPECT_EQ(s0.name, "vale0");
    EXPECT_TRUE(s0.persistent);
    EXPECT_EQ(s0.mac_entries, 10u);
    EXPECT_EQ(s1.name, "vale1");
    EXPECT_FALSE(s1.persistent);
    ASSERT_EQ(s0.ports.size(), 1u);
    EXPECT_EQ(s0.ports[0].name, "netmap:eth0");
    EXPECT_EQ(s0.ports[0].kind, "nic");
    EXPECT_EQ(s0.ports[0].rx_packets, 200u);
    ASSERT_EQ(s1.ports.size(), 2u);
    EXPECT_EQ(s1.ports[0].name, "p1");
    EXPECT_EQ(s1.ports[0].kind, "persistent");
    EXPECT_EQ(s1.ports[1].name, "netmap:eth0^");
    const auto &q = s1.ports[1];
    EXPECT_EQ(q.clients, 2u);
    EXPECT_EQ(q.rx_packets, 300u);
    EXPECT_EQ(q.rx_bytes, 18000u);
    EXPECT_EQ(q.tx_packets, 301u);
    EXPECT_EQ(q.tx_bytes, 7u);
    EXPECT_EQ(q.drops, 3u);
}

TEST(SwitchCtlReply, NoRecordsIsAnEmptyList)
{
    auto r = decode_reply(list_payload({}, {}));
    ASSERT_TRUE(r.ok()) << r.err().describe();
    EXPECT_TRUE(r->empty());
    r = decode_reply(list_payload({0}, {})); // a switch without ports
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->size(), 1u);
    EXPECT_TRUE(r.value()[0].ports.empty());
}

TEST(SwitchCtlReply, DaemonRefusalCarriesCodeAndSentence)
{
    proto::switch_ctl_reply top{};
    proto::set_status(top.status, netring::error::from(errc::already_exists, "switch vale0 already exists"));
    std::vector<std::byte> p;
    append(p, top);
    auto r = decode_reply(p);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.err().code, make_error_code(errc::already_exists));
    EXPECT_EQ(r.err().message, "switch vale0 already exists");
    EXPECT_EQ(r.err().describe(), "switch vale0 already exists (already exists)");

    proto::reply_status st{}; // an ERROR_REPLY (the request did not decode)
    proto::set_status(st, netring::error::from(errc::bad_message, "SWITCH_CTL: unknown operation 9"));
    p.clear();
    append(p, st);
    r = decode_reply(p, proto::msg_type::error_reply);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.err().code, make_error_code(errc::bad_message));
    EXPECT_EQ(r.err().message, "SWITCH_CTL: unknown operation 9");
}

void expect_malformed(const std::vector<std::byte> &p, const char *why)
{
    auto r = decode_reply(p);
    ASSERT_FALSE(r.ok()) << why;
    EXPECT_EQ(r.err().code, make_error_code(errc::bad_message)) << why;
}

TEST(SwitchCtlReply, SizesMustAddUp)
{
    const std::vector<port_spec> ports = {{0, "p1", "persistent", 1}, {0, "p2", "ephemeral", 2}};
    auto p = list_payload({2}, ports);
    p.pop_back();
    expect_malformed(p, "one byte short");
    p = list_payload({2}, ports);
    p.push_back(std::byte{0});
    expect_malformed(p, "one byte too many");

    p = list_payload({2}, ports);
    proto::switch_ctl_reply top;
    std::memcpy(&top, p.data(), sizeof top);
    top.n_ports = 0xffffffffu; // counts that would overflow 32-bit arithmetic
    top.n_switches = 0xffffffffu;
    std::memcpy(p.data(), &top, sizeof top);
    expect_malformed(p, "huge counts");

    expect_malformed(std::vector<std::byte>(sizeof(proto::reply_status)), "shorter than switch_ctl_reply");
    expect_malformed(std::vector<std::byte>(10), "shorter than a status");
}

TEST(SwitchCtlReply, PortsMustMatchTheirSwitch)
{
    expect_malformed(list_payload({1}, {{1, "p1", "persistent", 1}}), "port names switch 1 of 1");
    expect_malformed(list_payload({1}, {{0, "p1", "persistent", 1}, {0, "p2", "persistent", 1}}),
                     "more ports than announced");
    expect_malformed(list_payload({2, 0}, {{0, "p1", "persistent", 1}}), "fewer ports than announced");
}

TEST(SwitchCtlReply, NamesMustBeTerminated)
{
    auto p = list_payload({1}, {{0, "p1", "persistent", 1}});
    const size_t sw_off = sizeof(proto::switch_ctl_reply);
    const size_t port_off = sw_off + sizeof(proto::switch_record);
    auto q = p;
    std::memset(q.data() + sw_off + offsetof(proto::switch_record, name), 'x', proto::port_name_max);
    expect_malformed(q, "switch name");
    q = p;
    std::memset(q.data() + port_off + offsetof(proto::switch_port_record, name), 'x', proto::port_name_max);
    expect_malformed(q, "port name");
    q = p;
    std::memset(q.data() + port_off + offsetof(proto::switch_port_record, kind), 'x', 16);
    expect_malformed(q, "port kind");
}

TEST(SwitchCtlReply, WrongType)
{
    auto p = list_payload({}, {});
    expect_malformed({}, "empty");
    auto r = decode_reply(p, proto::msg_type::stats_reply);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.err().code, make_error_code(errc::bad_message));
}

} // namespace
