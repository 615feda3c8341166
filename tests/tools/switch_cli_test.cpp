// netring-switch's core: each command's operands, options anywhere, usage errors with a reason,
// and `list` as a table and as JSON.
#include "switch_cli.hpp"

#include <gtest/gtest.h>

using namespace netring;
using netring::swctl::parse_args;
using netring::swctl::verb;

namespace {

TEST(SwitchCli, Commands)
{
    auto c = parse_args({"create", "vale0"});
    EXPECT_TRUE(c.error.empty());
    EXPECT_EQ(c.what, verb::create);
    EXPECT_EQ(c.sw, "vale0");

    c = parse_args({"destroy", "vale0"});
    EXPECT_EQ(c.what, verb::destroy);
    EXPECT_EQ(c.sw, "vale0");

    c = parse_args({"add", "vale0:p1"});
    EXPECT_TRUE(c.error.empty());
    EXPECT_EQ(c.what, verb::add);
    EXPECT_EQ(c.sw, "vale0");
    EXPECT_EQ(c.arg, "p1");

    c = parse_args({"delete", "vale0", "p1"}); // the two-word form
    EXPECT_TRUE(c.error.empty());
    EXPECT_EQ(c.what, verb::remove);
    EXPECT_EQ(c.sw, "vale0");
    EXPECT_EQ(c.arg, "p1");

    c = parse_args({"attach", "vale0", "netmap:eth0*"});
    EXPECT_TRUE(c.error.empty());
    EXPECT_EQ(c.what, verb::attach);
    EXPECT_EQ(c.sw, "vale0");
    EXPECT_EQ(c.arg, "netmap:eth0*");

    c = parse_args({"detach", "vale0", "netmap:eth0"});
    EXPECT_EQ(c.what, verb::detach);
    EXPECT_EQ(c.arg, "netmap:eth0");

    c = parse_args({"list"});
    EXPECT_TRUE(c.error.empty());
    EXPECT_EQ(c.what, verb::list);
    EXPECT_TRUE(c.sw.empty());
    EXPECT_FALSE(c.json);
}

TEST(SwitchCli, OptionsAnywhere)
{
    auto c = parse_args({"list", "vale1", "--json", "--socket", "/tmp/s"});
    EXPECT_TRUE(c.error.empty()) << c.error;
    EXPECT_EQ(c.sw, "vale1");
    EXPECT_TRUE(c.json);
    EXPECT_EQ(c.socket_path, "/tmp/s");
    c = parse_args({"--socket=/tmp/t", "create", "vale2"});
    EXPECT_TRUE(c.error.empty()) << c.error;
    EXPECT_EQ(c.socket_path, "/tmp/t");
    EXPECT_EQ(c.sw, "vale2");
    c = parse_args({"create", "vale0", "--help"});
    EXPECT_TRUE(c.error.empty());
    EXPECT_EQ(c.what, verb::help);
}

TEST(SwitchCli, UsageErrors)
{
    const std::vector<std::vector<std::string>> bad = {
        {},                                    // no command
        {"frobnicate"},                        // unknown command
        {"create"},                            // no switch
        {"create", "vale0", "vale1"},          // two switches
        {"create", "vale0:p1"},                // a port where a switch goes
        {"add", "vale0"},                      // no port
        {"add", "vale0:"},                     // empty port
        {"add", ":p1"},                        // empty switch
        {"add", "vale0:p1:x"},                 // a colon in the port
        {"add", "vale0", "p1", "p2"},          // too many
        {"attach", "vale0"},                   // no NIC
        {"attach", "vale0:p1", "netmap:eth0"}, // a port where the switch goes
        {"list", "vale0", "vale1"},            // two switches
        {"create", "vale0", "--json"},         // --json outside list
        {"list", "--socket"},                  // --socket without a path
        {"list", "--socket="},
        {"list", "-x"}, // unknown option
    };
    for (const auto &args : bad) {
        auto c = parse_args(args);
        std::string joined;
        for (const auto &a : args)
            joined += a + " ";
        EXPECT_FALSE(c.error.empty()) << "accepted: " << joined;
    }
    EXPECT_EQ(parse_args({"frobnicate"}).error, "unknown command 'frobnicate'");
}

std::vector<switches::switch_entry> sample()
{
    switches::switch_entry a;
    a.name = "vale0";
    a.persistent = true;
    a.mac_entries = 2;
    a.ports.push_back({"p1", "persistent", 1, 10, 640, 11, 704, 0});
    a.ports.push_back({"netmap:eth0", "nic", 1, 12345678901ull, 2, 3, 4, 5});
    switches::switch_entry b;
    b.name = "vale\"x";
    b.mac_entries = 1;
    return {a, b};
}

TEST(SwitchCli, ListText)
{
    EXPECT_EQ(swctl::list_text({}), "no switches\n");
    const std::string t = swctl::list_text(sample());
    EXPECT_NE(t.find("vale0: persistent, 2 ports, 2 learned addresses\n"), std::string::npos) << t;
    EXPECT_NE(t.find("vale\"x: made on the fly, 0 ports, 1 learned address\n"), std::string::npos) << t;
    EXPECT_NE(t.find("rx_packets"), std::string::npos);
    // One row per port, with its counters.
    const auto row = t.find("netmap:eth0");
    ASSERT_NE(row, std::string::npos);
    const std::string line = t.substr(row, t.find('\n', row) - row);
    EXPECT_NE(line.find(" nic "), std::string::npos) << line;
    EXPECT_NE(line.find(" 12345678901 "), std::string::npos) << line;
    EXPECT_EQ(line.back(), '5') << line; // drops last
}

TEST(SwitchCli, ListJson)
{
    EXPECT_EQ(swctl::list_json({}), "{\"switches\":[]}");
    EXPECT_EQ(
        swctl::list_json(sample()),
        "{\"switches\":[{\"name\":\"vale0\",\"persistent\":true,\"mac_entries\":2,\"ports\":["
        "{\"name\":\"p1\",\"kind\":\"persistent\",\"clients\":1,\"rx_packets\":10,\"rx_bytes\":640,"
        "\"tx_packets\":11,\"tx_bytes\":704,\"drops\":0},"
        "{\"name\":\"netmap:eth0\",\"kind\":\"nic\",\"clients\":1,\"rx_packets\":12345678901,\"rx_bytes\":2,"
        "\"tx_packets\":3,\"tx_bytes\":4,\"drops\":5}]},"
        "{\"name\":\"vale\\\"x\",\"persistent\":false,\"mac_entries\":1,\"ports\":[]}]}");
}

} // namespace
