// config.hpp: every directive, the defaults, and errors that name their line.
#include "config.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace netring::netringd {
namespace {

std::string error_of(const std::string &text)
{
    try {
        parse_config(text, "test");
    } catch (const config_error &e) {
        return e.what();
    }
    return "";
}

TEST(config_test, defaults_without_a_file)
{
    const config c = parse_config("", "empty");
    EXPECT_EQ(c.buf_size, 2048u);
    EXPECT_EQ(c.region_buffers, 65536u);
    EXPECT_EQ(c.region_meta_bytes, 8388608u);
    EXPECT_EQ(c.default_slots, 1024u);
    EXPECT_EQ(c.max_slots, 16384u);
    EXPECT_EQ(c.max_rings, 8u);
    EXPECT_EQ(c.max_extra_bufs, 4096u);
    EXPECT_EQ(c.max_regs_per_client, 64u);
    EXPECT_EQ(c.max_regions, 64u);
    EXPECT_FALSE(c.hugepages);
    EXPECT_EQ(c.switch_stall_ms, 20u);
    EXPECT_TRUE(c.rules.empty());
    EXPECT_TRUE(c.admins.empty());
}

TEST(config_test, every_directive)
{
    const config c = parse_config("# netringd test config\n"
                                  "buf_size 4096            # bigger buffers\n"
                                  "region_buffers 1000\n"
                                  "\n"
                                  "region_meta_bytes 65536\n"
                                  "default_slots 256\n"
                                  "max_slots 2048\n"
                                  "max_rings 4\n"
                                  "max_extra_bufs 10\n"
                                  "max_regs_per_client 3\n"
                                  "max_regions 2\n"
                                  "hugepages on\n"
                                  "  allow uid=65534 netmap:pipe*\n"
                                  "allow\tgid=100 *\n"
                                  "deny uid=1000 netmap:secret*\n"
                                  "allow * netmap:pipe*\n"
                                  "admin gid=0\n"
                                  "admin uid=12\n"
                                  "switch_stall_ms 250\n",
                                  "test");
    EXPECT_EQ(c.buf_size, 4096u);
    EXPECT_EQ(c.region_buffers, 1000u);
    EXPECT_EQ(c.region_meta_bytes, 65536u);
    EXPECT_EQ(c.default_slots, 256u);
    EXPECT_EQ(c.max_slots, 2048u);
    EXPECT_EQ(c.max_rings, 4u);
    EXPECT_EQ(c.max_extra_bufs, 10u);
    EXPECT_EQ(c.max_regs_per_client, 3u);
    EXPECT_EQ(c.max_regions, 2u);
    EXPECT_TRUE(c.hugepages);
    EXPECT_EQ(c.switch_stall_ms, 250u);
    ASSERT_EQ(c.rules.size(), 4u);
    EXPECT_TRUE(c.rules[0].allow);
    EXPECT_EQ(c.rules[0].who.str(), "uid=65534");
    EXPECT_EQ(c.rules[0].pattern, "netmap:pipe*");
    EXPECT_EQ(c.rules[0].line, 13u);
    EXPECT_EQ(c.rules[1].who.str(), "gid=100");
    EXPECT_EQ(c.rules[1].pattern, "*");
    EXPECT_FALSE(c.rules[2].allow);
    EXPECT_EQ(c.rules[2].line, 15u);
    EXPECT_EQ(c.rules[3].who.str(), "*");
    ASSERT_EQ(c.admins.size(), 2u);
    EXPECT_EQ(c.admins[0].str(), "gid=0");
    EXPECT_EQ(c.admins[1].str(), "uid=12");
}

TEST(config_test, errors_name_the_line)
{
    EXPECT_EQ(error_of("buf_size 2048\n\n\n\n\n\nfoo 1\n"), "config line 7: unknown directive 'foo'");
    EXPECT_EQ(error_of("buf_size 3000\n"), "config line 1: buf_size 3000 is not a power of two");
    EXPECT_EQ(error_of("buf_size 256\n"), "config line 1: buf_size 256 outside 512..65536");
    EXPECT_EQ(error_of("#\nmax_slots 1000\n"), "config line 2: max_slots 1000 is not a power of two");
    EXPECT_EQ(error_of("max_rings 0\n"), "config line 1: max_rings 0 outside 1..62");
    EXPECT_EQ(error_of("max_rings 8 9\n"), "config line 1: 'max_rings' takes 1 argument, got 2");
    EXPECT_EQ(error_of("region_buffers lots\n"), "config line 1: 'region_buffers' wants a number, got 'lots'");
    EXPECT_EQ(error_of("switch_stall_ms 0\n"), "config line 1: switch_stall_ms 0 outside 1..60000");
    EXPECT_EQ(error_of("switch_stall_ms 60001\n"), "config line 1: switch_stall_ms 60001 outside 1..60000");
    EXPECT_EQ(error_of("hugepages maybe\n"), "config line 1: 'hugepages' wants on or off, got 'maybe'");
    EXPECT_EQ(error_of("\nallow bob netmap:*\n"),
              "config line 2: expected '*', uid=N, gid=N (or a user or group name), got 'bob'");
    EXPECT_EQ(error_of("allow uid= netmap:*\n"), "config line 1: bad id in 'uid='");
    EXPECT_EQ(error_of("allow uid=no-such-user-here netmap:*\n"),
              "config line 1: no user named 'no-such-user-here' (in 'uid=no-such-user-here')");
    EXPECT_EQ(error_of("admin gid=no-such-group-here\n"),
              "config line 1: no group named 'no-such-group-here' (in 'gid=no-such-group-here')");
    EXPECT_EQ(error_of("deny uid=3\n"), "config line 1: 'deny' takes 2 arguments, got 1");
    EXPECT_EQ(error_of("admin\n"), "config line 1: 'admin' takes 1 argument, got 0");
    EXPECT_EQ(error_of("default_slots 4096\nmax_slots 2048\n"),
              "config test: default_slots 4096 exceeds max_slots 2048");
}

TEST(config_test, resource_limits_are_bounded_numbers)
{
    EXPECT_EQ(parse_config("max_regs_per_client 1\nmax_regions 65536\n", "test").max_regions, 65536u);
    EXPECT_EQ(parse_config("max_regs_per_client 1\n", "test").max_regs_per_client, 1u);
    EXPECT_EQ(error_of("max_regs_per_client 0\n"), "config line 1: max_regs_per_client 0 outside 1..65536");
    EXPECT_EQ(error_of("max_regions 0\n"), "config line 1: max_regions 0 outside 1..65536");
    EXPECT_EQ(error_of("max_regions 65537\n"), "config line 1: max_regions 65537 outside 1..65536");
    EXPECT_EQ(error_of("max_regs_per_client many\n"),
              "config line 1: 'max_regs_per_client' wants a number, got 'many'");
    EXPECT_EQ(error_of("max_regions -1\n"), "config line 1: 'max_regions' wants a number, got '-1'");
    EXPECT_EQ(error_of("max_regions 4x\n"), "config line 1: 'max_regions' wants a number, got '4x'");
    EXPECT_EQ(error_of("max_regions\n"), "config line 1: 'max_regions' takes 1 argument, got 0");
    EXPECT_EQ(error_of("max_regs_per_client 2 3\n"),
              "config line 1: 'max_regs_per_client' takes 1 argument, got 2");
}

// A subject may name its user or group: looked up when the file is read ("root" is uid 0 and gid
// 0 on every system the tests run on).
TEST(config_test, subjects_by_name)
{
    const config c =
        parse_config("allow uid=root netmap:*\nadmin gid=root\nquota gid=root registrations 3\n", "test");
    ASSERT_EQ(c.admins.size(), 1u);
    EXPECT_EQ(c.admins[0].str(), "gid=0");
    const config n = parse_config("admin uid=root\n", "test");
    ASSERT_EQ(n.admins.size(), 1u);
    EXPECT_EQ(n.admins[0].str(), "uid=0");
}

TEST(config_test, socket_group_and_mode)
{
    const config d = parse_config("", "test");
    EXPECT_EQ(d.socket_mode, 0666u);
    EXPECT_EQ(d.socket_gid, static_cast<gid_t>(-1));
    // "root" exists on every system the tests run on; a number is taken as a gid as it is.
    const config c = parse_config("socket_group root\nsocket_mode 0660\n", "test");
    EXPECT_EQ(c.socket_gid, 0u);
    EXPECT_EQ(c.socket_group, "root");
    EXPECT_EQ(c.socket_mode, 0660u);
    EXPECT_EQ(parse_config("socket_group 4242\nsocket_mode 600\n", "test").socket_gid, 4242u);
    EXPECT_EQ(parse_config("socket_mode 600\n", "test").socket_mode, 0600u);
    EXPECT_EQ(error_of("\nsocket_group no-such-group-here\n"),
              "config line 2: 'socket_group': no group named 'no-such-group-here'");
    EXPECT_EQ(error_of("socket_mode 0680\n"),
              "config line 1: 'socket_mode' wants octal permission bits (0000..0777), got '0680'");
    EXPECT_EQ(error_of("socket_mode 4660\n"),
              "config line 1: 'socket_mode' wants octal permission bits (0000..0777), got '4660'");
    EXPECT_EQ(error_of("socket_mode\n"), "config line 1: 'socket_mode' takes 1 argument, got 0");
}

TEST(config_test, load_reads_a_file_and_reports_a_missing_one)
{
    char path[] = "/tmp/netringd-config-XXXXXX";
    const int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    ::close(fd);
    {
        std::ofstream out(path);
        out << "max_rings 2\nallow * netmap:p*\n";
    }
    const config c = load_config(path);
    EXPECT_EQ(c.max_rings, 2u);
    EXPECT_EQ(c.rules.size(), 1u);
    EXPECT_EQ(c.origin, path);
    std::remove(path);
    EXPECT_THROW(load_config(path), config_error);
}

TEST(config_test, reload_applies_policy_and_quotas_and_names_what_waits_for_a_restart)
{
    config running = parse_config("max_rings 2\nallow uid=1 netmap:a*\nidle_timeout_s 30\n", "old");
    const config fresh = parse_config("max_rings 4\nbuf_size 4096\nallow uid=2 netmap:b*\ndeny * vale*\n"
                                      "admin gid=7\nuid_max_regions 3\nquota uid=5 buffers 10\n"
                                      "idle_timeout_s 5\n",
                                      "new");
    const reload_outcome r = apply_reload(running, fresh);
    EXPECT_EQ(r.kept, (std::vector<std::string>{"buf_size", "max_rings"}));
    EXPECT_EQ(running.max_rings, 2u) << "ring limits keep their running value";
    EXPECT_EQ(running.buf_size, 2048u);
    ASSERT_EQ(running.rules.size(), 2u);
    EXPECT_EQ(running.rules[0].pattern, "netmap:b*");
    EXPECT_FALSE(running.rules[1].allow);
    EXPECT_EQ(running.admins.size(), 1u);
    EXPECT_EQ(running.uid_quota.regions, 3u);
    EXPECT_EQ(running.quotas.size(), 1u);
    EXPECT_EQ(running.idle_timeout_s, 5u);
    EXPECT_EQ(running.origin, "new");
    EXPECT_TRUE(apply_reload(running, fresh).kept.size() == 2u) << "still differs: still reported";
}

TEST(config_test, metrics_listen_takes_ipv4_or_bracketed_ipv6_and_a_port)
{
    EXPECT_TRUE(parse_config("", "t").metrics_address.empty()); // off by default
    const config a = parse_config("metrics_listen 127.0.0.1:9108\n", "t");
    EXPECT_EQ(a.metrics_address, "127.0.0.1");
    EXPECT_EQ(a.metrics_port, 9108);
    const config b = parse_config("metrics_listen [::1]:9000\n", "t");
    EXPECT_EQ(b.metrics_address, "::1");
    EXPECT_EQ(b.metrics_port, 9000);
    EXPECT_EQ(error_of("\nmetrics_listen localhost:9108\n").rfind("config line 2: ", 0), 0u);
    EXPECT_NE(error_of("metrics_listen 127.0.0.1\n"), "");
    EXPECT_NE(error_of("metrics_listen 127.0.0.1:0\n"), "");
    EXPECT_NE(error_of("metrics_listen 127.0.0.1:65536\n"), "");
    EXPECT_NE(error_of("metrics_listen ::1:9108\n"), "");
    EXPECT_NE(error_of("metrics_listen [127.0.0.1]:9108\n"), "");
    EXPECT_NE(error_of("metrics_listen 127.0.0.1:9108 x\n"), "");
}

} // namespace
} // namespace netring::netringd
