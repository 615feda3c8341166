// Port-name grammar: every valid form parses to the right fields and prints back canonically;
// invalid names fail with errc::bad_port_name and a message naming the name and the position.
#include <netring/port_name.hpp>

#include <gtest/gtest.h>

#include <string>

using netring::errc;
using netring::parse_port_name;
using netring::port_role;

namespace {

netring::port_name must_parse(const std::string &text)
{
    auto p = parse_port_name(text);
    EXPECT_TRUE(p.ok()) << text << ": " << (p.ok() ? "" : p.err().message);
    return p.ok() ? p.value() : netring::port_name{};
}

TEST(PortName, NicForms)
{
    auto all = must_parse("netmap:eth0");
    EXPECT_EQ(all.role, port_role::nic_all);
    EXPECT_EQ(all.base, "eth0");

    auto ring = must_parse("netmap:eth0-2");
    EXPECT_EQ(ring.role, port_role::nic_ring);
    EXPECT_EQ(ring.ring, 2u);
    EXPECT_EQ(must_parse("netmap:eth0-0").ring, 0u);
    EXPECT_EQ(must_parse("netmap:eth0-1023").ring, 1023u);

    EXPECT_EQ(must_parse("netmap:eth0^").role, port_role::host);
    EXPECT_EQ(must_parse("netmap:eth0*").role, port_role::nic_host);
    EXPECT_EQ(must_parse("netmap:enp3s0f1.100").base, "enp3s0f1.100");
    EXPECT_EQ(must_parse("netmap:abcdefghijklmno").base, "abcdefghijklmno"); // 15 characters
}

TEST(PortName, PipeForms)
{
    auto m = must_parse("netmap:pipeA{1");
    EXPECT_EQ(m.role, port_role::pipe_master);
    EXPECT_EQ(m.base, "pipeA");
    EXPECT_EQ(m.port, "1");
    EXPECT_TRUE(m.is_pipe());
    auto s = must_parse("netmap:pipeA}1");
    EXPECT_EQ(s.role, port_role::pipe_slave);
    EXPECT_TRUE(s.is_pipe());
    EXPECT_EQ(must_parse("netmap:p}a_B9").port, "a_B9");
    EXPECT_FALSE(must_parse("netmap:eth0").is_pipe());
}

TEST(PortName, SwitchForms)
{
    auto v = must_parse("vale0:p1");
    EXPECT_EQ(v.role, port_role::switch_port);
    EXPECT_EQ(v.base, "vale0");
    EXPECT_EQ(v.port, "p1");
    EXPECT_EQ(must_parse("vale:x.y").base, "vale");
    EXPECT_EQ(must_parse("valeBig_1:port").base, "valeBig_1");
}

TEST(PortName, Flags)
{
    auto x = must_parse("netmap:pipeA{1/x");
    EXPECT_TRUE(x.exclusive);
    EXPECT_FALSE(x.tx_only);
    auto t = must_parse("netmap:eth0/T");
    EXPECT_TRUE(t.tx_only);
    auto rx = must_parse("vale0:p1/Rx");
    EXPECT_TRUE(rx.rx_only);
    EXPECT_TRUE(rx.exclusive);
    EXPECT_FALSE(rx.tx_only);
}

TEST(PortName, CanonicalString)
{
    for (const char *name : {"netmap:eth0", "netmap:eth0-7", "netmap:eth0^", "netmap:eth0*", "netmap:pipeA{1",
                             "netmap:pipeA}1/x", "vale0:p1/xT", "netmap:eth0/R"})
        EXPECT_EQ(must_parse(name).str(), name);
    EXPECT_EQ(must_parse("vale0:p1/Tx").str(), "vale0:p1/xT"); // flags print in one order
    EXPECT_EQ(must_parse("netmap:eth0-007").str(), "netmap:eth0-7");
}

TEST(PortName, PortKeys)
{
    EXPECT_EQ(must_parse("netmap:pipeA{1").port_key(), "pipe:pipeA{1}");
    EXPECT_EQ(must_parse("netmap:pipeA}1/x").port_key(), "pipe:pipeA{1}"); // both ends share it
    EXPECT_NE(must_parse("netmap:pipeA{2").port_key(), must_parse("netmap:pipeA{1").port_key());
    EXPECT_EQ(must_parse("netmap:eth0").port_key(), "nic:eth0");
    EXPECT_EQ(must_parse("netmap:eth0-3").port_key(), "nic:eth0");
    EXPECT_EQ(must_parse("netmap:eth0^").port_key(), "nic:eth0");
    EXPECT_EQ(must_parse("vale0:p1/T").port_key(), "vale0:p1");
}

struct bad_case {
    const char *name;
    size_t position;
    const char *words; // part of the message
};

class PortNameInvalid : public ::testing::TestWithParam<bad_case> {};

TEST_P(PortNameInvalid, FailsWithPosition)
{
    const bad_case &c = GetParam();
    auto p = parse_port_name(c.name);
    ASSERT_FALSE(p.ok()) << c.name << " parsed";
    EXPECT_EQ(p.err().code, netring::make_error_code(errc::bad_port_name));
    const std::string &msg = p.err().message;
    EXPECT_NE(msg.find("at position " + std::to_string(c.position)), std::string::npos) << msg;
    EXPECT_NE(msg.find(c.words), std::string::npos) << msg;
    EXPECT_NE(msg.find("bad port name '"), std::string::npos) << msg;
}

INSTANTIATE_TEST_SUITE_P(
    Names, PortNameInvalid,
    ::testing::Values(bad_case{"", 0, "'netmap:' or 'vale...:' expected"},
                      bad_case{"eth0", 0, "expected"},
                      bad_case{"netmap", 0, "expected"},
                      bad_case{"netmap:", 7, "interface name expected"},
                      bad_case{"netmap:eth0-x", 12, "ring number expected"},
                      bad_case{"netmap:eth0-", 12, "ring number expected"},
                      bad_case{"netmap:eth0-1024", 12, "above 1023"},
                      bad_case{"netmap:eth0-99999999999", 12, "above 1023"},
                      bad_case{"netmap:eth0-1x", 13, "'/' or end of name expected"},
                      bad_case{"netmap:eth0^^", 12, "expected"},
                      bad_case{"netmap:pipeA{", 13, "pipe id expected"},
                      bad_case{"netmap:pipeA}", 13, "pipe id expected"},
                      bad_case{"netmap:pipeA{1.2", 14, "expected"},
                      bad_case{"netmap:pipeA{0123456789abcdef", 28, "longer than 15"},
                      bad_case{"netmap:abcdefghijklmnop", 22, "longer than 15"},
                      bad_case{"netmap:eth 0", 10, "expected"},
                      bad_case{"netmap:eth0/", 12, "flag (x, T, R, r or t) expected"},
                      bad_case{"netmap:eth0/q", 12, "flag (x, T, R, r or t) expected"},
                      bad_case{"netmap:eth0/xx", 13, "repeated"},
                      bad_case{"netmap:eth0/TR", 13, "exclude each other"},
                      bad_case{"netmap:eth0/x/", 13, "flag (x, T, R, r or t) expected"},
                      bad_case{"netmap:eth0/rr", 13, "repeated"},
                      bad_case{"netmap:eth0/rx", 13, "do not combine"},
                      bad_case{"netmap:eth0/Tt", 13, "do not combine"},
                      bad_case{"netmap:eth0/z", 12, "zero-copy monitors"},
                      bad_case{"vale0", 5, "':' after the switch name expected"},
                      bad_case{"vale-0:p", 4, "':' after the switch name expected"},
                      bad_case{"vale0:", 6, "switch port name expected"},
                      bad_case{"vale0:p1-1", 8, "'/' or end of name expected"},
                      bad_case{"vale0:p1{2", 8, "'/' or end of name expected"},
                      bad_case{"netmap:eth0\x01", 11, "expected"},
                      bad_case{"netmap:aaaaaaaaaaaaaaa{bbbbbbbbbbbbbbb/xxxxxxxxxxxxxxxxxxxxxxxxxxx", 63,
                               "longer than 63"}));

TEST(PortName, MonitorFlags)
{
    struct {
        const char *text;
        bool rx, tx;
        const char *canonical, *watched, *key;
    } cases[] = {
        {"netmap:eth0/r", true, false, "netmap:eth0/r", "netmap:eth0", "nic:eth0"},
        {"netmap:eth0-1/t", false, true, "netmap:eth0-1/t", "netmap:eth0-1", "nic:eth0"},
        {"netmap:eth0^/tr", true, true, "netmap:eth0^/rt", "netmap:eth0^", "nic:eth0"},
        {"netmap:p{1/rt", true, true, "netmap:p{1/rt", "netmap:p{1", "pipe:p{1}"},
        {"vale0:a/rt", true, true, "vale0:a/rt", "vale0:a", "vale0:a"},
    };
    for (const auto &c : cases) {
        auto p = parse_port_name(c.text);
        ASSERT_TRUE(p.ok()) << c.text << ": " << p.err().message;
        EXPECT_TRUE(p->is_monitor()) << c.text;
        EXPECT_EQ(p->monitor_rx, c.rx) << c.text;
        EXPECT_EQ(p->monitor_tx, c.tx) << c.text;
        EXPECT_EQ(p->str(), c.canonical);
        EXPECT_EQ(p->monitored().str(), c.watched);
        EXPECT_FALSE(p->monitored().is_monitor());
        EXPECT_EQ(p->port_key(), c.key) << "a monitor shares the key of the port it watches";
    }
    EXPECT_FALSE(parse_port_name("netmap:eth0/x")->is_monitor());
}

TEST(PortName, MessageIsPrintable)
{
    auto p = parse_port_name(std::string("netmap:\x01\x02", 9));
    ASSERT_FALSE(p.ok());
    for (char c : p.err().message)
        EXPECT_TRUE(c >= 0x20 && c < 0x7f) << int(c);
}

TEST(PortName, EmbeddedNulIsRejected)
{
    auto p = parse_port_name(std::string("netmap:eth0\0x", 13));
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.err().message.find("position 11"), std::string::npos) << p.err().message;
}

TEST(PortName, ExampleMessage)
{
    auto p = parse_port_name("netmap:eth0-x");
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.err().message, "bad port name 'netmap:eth0-x': ring number expected at position 12");
}

} // namespace
