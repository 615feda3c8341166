// tools/pktgen/options.hpp: every option lands in its field, defaults hold, bad input is refused
// with a message (netring-pktgen exits 2 on it).
#include "options.hpp"

#include <gtest/gtest.h>

using namespace netring;
using namespace netring::pktgen;

namespace {

parse_outcome parse(std::vector<std::string> args) { return parse_options(args); }

} // namespace

TEST(PktgenOptions, Defaults)
{
    const auto p = parse({"-i", "netmap:pipeA{1", "-f", "rx"});
    ASSERT_TRUE(p.error.empty()) << p.error;
    EXPECT_EQ(p.opts.port, "netmap:pipeA{1");
    EXPECT_EQ(p.opts.mode, run_mode::rx);
    EXPECT_EQ(p.opts.len, 60u);
    EXPECT_EQ(p.opts.count, 0u);
    EXPECT_EQ(p.opts.batch, default_batch);
    EXPECT_EQ(p.opts.sync, sync_mode::shm);
    EXPECT_EQ(p.opts.wait, wait_kind::poll);
    EXPECT_EQ(p.opts.payload, payload_kind::full);
    EXPECT_EQ(p.opts.dst, broadcast_mac);
    EXPECT_EQ(p.opts.src, default_src_mac);
    EXPECT_FALSE(p.opts.json);
    EXPECT_EQ(p.opts.spin, -1);
}

TEST(PktgenOptions, EveryOption)
{
    const auto p = parse({"-i", "netmap:pipeA}1", "-f", "tx", "-l", "1500", "-n", "1000", "-b", "64", "-T", "2.5",
                          "-R", "100000", "-S", "02:00:00:00:00:02", "-D", "02:00:00:00:00:03", "--sync", "socket",
                          "--wait", "busy", "--payload", "header", "--slots", "256", "--spin", "0", "--json",
                          "--socket", "/tmp/s"});
    ASSERT_TRUE(p.error.empty()) << p.error;
    const pktgen_options &o = p.opts;
    EXPECT_EQ(o.mode, run_mode::tx);
    EXPECT_EQ(o.len, 1500u);
    EXPECT_EQ(o.count, 1000u);
    EXPECT_EQ(o.batch, 64u);
    EXPECT_DOUBLE_EQ(o.seconds, 2.5);
    EXPECT_EQ(o.rate, 100000u);
    EXPECT_EQ(o.src.b[5], 2);
    EXPECT_EQ(o.dst.b[5], 3);
    EXPECT_EQ(o.sync, sync_mode::socket);
    EXPECT_EQ(o.wait, wait_kind::busy);
    EXPECT_EQ(o.payload, payload_kind::header);
    EXPECT_EQ(o.slots, 256u);
    EXPECT_EQ(o.spin, 0);
    EXPECT_TRUE(o.json);
    EXPECT_EQ(o.socket_path, "/tmp/s");
}

TEST(PktgenOptions, JoinedForms)
{
    const auto p = parse({"-inetmap:pipeB{2", "-fpong", "-l128", "--sync=socket", "--slots=64"});
    ASSERT_TRUE(p.error.empty()) << p.error;
    EXPECT_EQ(p.opts.port, "netmap:pipeB{2");
    EXPECT_EQ(p.opts.mode, run_mode::pong);
    EXPECT_EQ(p.opts.len, 128u);
    EXPECT_EQ(p.opts.sync, sync_mode::socket);
    EXPECT_EQ(p.opts.slots, 64u);
}

TEST(PktgenOptions, PingCountDefault)
{
    EXPECT_EQ(parse({"-i", "p", "-f", "ping"}).opts.count, default_ping_count);
    EXPECT_EQ(parse({"-i", "p", "-f", "ping", "-n", "7"}).opts.count, 7u);
    EXPECT_EQ(parse({"-i", "p", "-f", "ping", "-T", "1"}).opts.count, 0u); // until -T
    EXPECT_EQ(parse({"-i", "p", "-f", "tx"}).opts.count, 0u);
}

TEST(PktgenOptions, Help)
{
    EXPECT_TRUE(parse({"-h"}).help);
    EXPECT_TRUE(parse({"-i", "p", "--help"}).help);
    EXPECT_NE(usage_text().find("--payload"), std::string::npos);
}

TEST(PktgenOptions, Refusals)
{
    const std::vector<std::vector<std::string>> bad = {
        {},
        {"-f", "rx"},                               // no port
        {"-i", "p"},                                // no mode
        {"-i", "p", "-f", "sideways"},
        {"-i", "p", "-f", "rx", "-l", "59"},        // below the Ethernet minimum
        {"-i", "p", "-f", "rx", "-l", "70000"},
        {"-i", "p", "-f", "rx", "-l", "6O"},
        {"-i", "p", "-f", "rx", "-n", "0"},
        {"-i", "p", "-f", "rx", "-n", "-5"},
        {"-i", "p", "-f", "rx", "-b", "0"},
        {"-i", "p", "-f", "rx", "-T", "0"},
        {"-i", "p", "-f", "rx", "-T", "abc"},
        {"-i", "p", "-f", "rx", "-R", "0"},
        {"-i", "p", "-f", "rx", "-S", "02:00"},
        {"-i", "p", "-f", "rx", "--sync", "pipe"},
        {"-i", "p", "-f", "rx", "--wait", "nap"},
        {"-i", "p", "-f", "rx", "--payload", "some"},
        {"-i", "p", "-f", "rx", "--slots", "100"},  // not a power of two
        {"-i", "p", "-f", "rx", "--spin", "-1"},
        {"-i", "p", "-f", "rx", "--json=yes"},
        {"-i", "p", "-f", "rx", "--colour"},
        {"-i", "p", "-f", "rx", "-l"},              // value missing
    };
    for (const auto &args : bad) {
        const auto p = parse(args);
        std::string joined;
        for (const auto &a : args)
            joined += a + " ";
        EXPECT_FALSE(p.error.empty()) << joined;
        EXPECT_FALSE(p.help) << joined;
    }
}
