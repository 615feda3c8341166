// tools/common/json_writer.hpp and netring-ctl's formatting: strings are escaped, commas and
// nesting come out right, and the status object has the documented shape.
#include "ctl_format.hpp"
#include "tools/common/json_writer.hpp"

#include <gtest/gtest.h>

using namespace netring;
using netring::tools::json_escape;
using netring::tools::json_writer;

TEST(Json, Escape)
{
    EXPECT_EQ(json_escape("plain"), "plain");
    EXPECT_EQ(json_escape("a\"b\\c"), "a\\\"b\\\\c");
    EXPECT_EQ(json_escape("l1\nl2\t\r"), "l1\\nl2\\t\\r");
    EXPECT_EQ(json_escape(std::string_view("\x01\x1f\x7f", 3)), "\\u0001\\u001f\\u007f");
    EXPECT_EQ(json_escape(std::string_view("a\0b", 3)), "a\\u0000b");
    EXPECT_EQ(json_escape("caf\xc3\xa9"), "caf\xc3\xa9"); // UTF-8 passes through
    EXPECT_EQ(json_escape("netmap:pipeA{1}"), "netmap:pipeA{1}");
}

TEST(Json, Nesting)
{
    json_writer j;
    j.begin_object();
    j.field("a", 1);
    j.key("list");
    j.begin_array();
    j.value(uint64_t{2});
    j.begin_object();
    j.field("s", "x\"y");
    j.end_object();
    j.begin_array();
    j.end_array();
    j.end_array();
    j.field("b", true);
    j.field("d", 1.0 / 3, 3);
    j.field("neg", int64_t{-4});
    j.end_object();
    EXPECT_EQ(j.str(), R"({"a":1,"list":[2,{"s":"x\"y"},[]],"b":true,"d":0.333,"neg":-4})");
}

TEST(CtlFormat, StatsJsonShape)
{
    daemon_stats s;
    s.version = 1;
    s.uptime_ms = 1234;
    s.clients = 2;
    s.regions.push_back({"pipe:pipeA", 1 << 20, 2048, 500, 100, 2});
    registration_stats a;
    a.port_name = "netmap:pipeA{1";
    a.reg_id = 7;
    a.uid = 65534;
    a.gid = 65534;
    a.pid = 42;
    a.tx_rings = a.rx_rings = 1;
    registration_stats b = a;
    b.port_name = "netmap:pipeA}1";
    b.reg_id = 8;
    s.registrations = {a, b};
    ring_stats r;
    r.registration = 1;
    r.dir = NR_RING_DIR_TX;
    r.num_slots = 1024;
    r.status = NR_SYNC_PEER_GONE;
    r.packets = 10;
    r.bytes = 640;
    r.occupied = 3;
    s.rings.push_back(r);
    s.uids.push_back({65534, false, 1, 2, 1, 600, 64, 256, 16, 1048576});

    const std::string j = ctl::stats_json(s);
    EXPECT_EQ(j, "{\"version\":1,\"uptime_ms\":1234,\"clients\":2,"
                 "\"regions\":[{\"name\":\"pipe:pipeA\",\"size\":1048576,\"buf_size\":2048,\"buffers_total\":500,"
                 "\"buffers_free\":100,\"users\":2,\"hugepages\":false,\"hugepage_faults\":0}],"
                 "\"registrations\":["
                 "{\"port\":\"netmap:pipeA{1\",\"reg_id\":7,\"uid\":65534,\"gid\":65534,\"pid\":42,\"rings\":[]},"
                 "{\"port\":\"netmap:pipeA}1\",\"reg_id\":8,\"uid\":65534,\"gid\":65534,\"pid\":42,\"rings\":["
                 "{\"dir\":\"tx\",\"id\":0,\"slots\":1024,\"occupied\":3,\"status\":\"peer_gone\",\"packets\":10,\"bytes\":640,"
                 "\"drops\":0,\"kicks\":0,\"errors\":0,\"copies\":0}]}],\"monitors\":[],"
                 "\"uids\":[{\"uid\":65534,\"unlimited\":false,\"connections\":1,\"registrations\":2,"
                 "\"regions\":1,\"buffers\":600,\"max_connections\":64,\"max_registrations\":256,"
                 "\"max_regions\":16,\"max_buffers\":1048576}]}");

    const std::string t = ctl::stats_text(s);
    EXPECT_NE(t.find("netmap:pipeA}1  reg_id 8"), std::string::npos) << t;
    EXPECT_NE(t.find("peer_gone"), std::string::npos) << t;
}

TEST(CtlFormat, StatsNamesHugepageRegionsAndTheirFaults)
{
    daemon_stats s;
    region_stats r;
    r.name = "pipe:pipeH";
    r.hugepages = true;
    r.hugepage_faults = 2;
    s.regions.push_back(r);
    r.name = "pipe:pipeS";
    r.hugepages = false;
    r.hugepage_faults = 0;
    s.regions.push_back(r);
    const std::string t = ctl::stats_text(s);
    EXPECT_NE(t.find("2M\n    2 huge pages punched out by a client"), std::string::npos) << t;
    EXPECT_NE(t.find("pipe:pipeS"), std::string::npos) << t;
    EXPECT_EQ(t.find("punched", t.find("pipe:pipeS")), std::string::npos) << t; // only for the faulted one
    EXPECT_NE(ctl::stats_json(s).find("\"hugepages\":true,\"hugepage_faults\":2"), std::string::npos);
}

TEST(CtlFormat, MonitorsAreListedWithTheirDrops)
{
    daemon_stats s;
    auto reg = [&](const char *name, uint32_t pid) {
        registration_stats g;
        g.port_name = name;
        g.pid = pid;
        s.registrations.push_back(g);
    };
    auto ring = [&](uint32_t registration, uint64_t packets, uint64_t drops) {
        ring_stats r;
        r.registration = registration;
        r.dir = NR_RING_DIR_RX;
        r.packets = packets;
        r.drops = drops;
        s.rings.push_back(r);
    };
    reg("netmap:pipeA{1", 10);     // 0: not a monitor
    reg("netmap:pipeA{1/rt", 11);  // 1
    reg("netmap:eth0-1/t", 12);    // 2: a ring of eth0
    reg("netmap:eth0^/r", 13);     // 3: eth0's host rings
    reg("netmap:eth01/r", 14);     // 4: another interface
    reg("netmap:pipeA{1/x", 15);   // 5: flags, but not a monitor's
    ring(0, 999, 999);
    ring(1, 300, 100);
    ring(1, 50, 0);
    ring(2, 7, 0);

    const auto all = ctl::monitors_of(s);
    ASSERT_EQ(all.size(), 4u);
    EXPECT_EQ(all[0].name, "netmap:pipeA{1/rt");
    EXPECT_EQ(all[0].watched, "netmap:pipeA{1");
    EXPECT_EQ(all[0].copied, 350u);
    EXPECT_EQ(all[0].dropped, 100u);
    EXPECT_EQ(all[0].pid, 11u);

    const auto pipe = ctl::monitors_of(s, "netmap:pipeA{1");
    ASSERT_EQ(pipe.size(), 1u);
    EXPECT_EQ(pipe[0].registration, 1u);
    const auto nic = ctl::monitors_of(s, "netmap:eth0");
    ASSERT_EQ(nic.size(), 2u) << "an interface's monitors include its rings and host rings";
    EXPECT_EQ(nic[0].name, "netmap:eth0-1/t");
    EXPECT_EQ(nic[1].name, "netmap:eth0^/r");
    EXPECT_EQ(ctl::monitors_of(s, "netmap:eth0-1").size(), 1u);
    EXPECT_TRUE(ctl::monitors_of(s, "netmap:pipeB{1").empty());

    const std::string t = ctl::stats_text(s);
    EXPECT_NE(t.find("monitors: 4"), std::string::npos) << t;
    EXPECT_NE(t.find("22.22%"), std::string::npos) << t; // 100 dropped of 350 + 100 frames
    const std::string j = ctl::stats_json(s);
    EXPECT_NE(j.find("\"monitors\":[{\"monitor\":\"netmap:pipeA{1/rt\",\"watches\":\"netmap:pipeA{1\""), std::string::npos)
        << j;
    port_details d;
    const std::string info = ctl::port_info_text("netmap:eth0", d, &s);
    EXPECT_NE(info.find("monitors: 2"), std::string::npos) << info;
}

TEST(CtlFormat, PortInfo)
{
    port_details d;
    d.port_kind = NR_PORT_KIND_PIPE;
    d.tx_rings = d.rx_rings = 1;
    d.tx_slots = d.rx_slots = 1024;
    d.buf_size = 2048;
    d.clients = 1;
    d.region_name = "pipe:\"q\"";
    EXPECT_EQ(ctl::port_info_json("netmap:pipeA{1", d),
              "{\"port\":\"netmap:pipeA{1\",\"kind\":\"pipe\",\"tx_rings\":1,\"rx_rings\":1,\"tx_slots\":1024,"
              "\"rx_slots\":1024,\"buf_size\":2048,\"clients\":1,\"exclusive\":false,\"region\":\"pipe:\\\"q\\\"\"}");
    EXPECT_NE(ctl::port_info_text("netmap:pipeA{1", d).find("pipe port"), std::string::npos);
}

TEST(CtlFormat, Names)
{
    EXPECT_STREQ(ctl::ring_dir_name(NR_RING_DIR_RX), "rx");
    EXPECT_STREQ(ctl::ring_status_name(NR_SYNC_RESET), "reset");
    EXPECT_STREQ(ctl::ring_status_name(99), "unknown");
    EXPECT_STREQ(ctl::port_kind_name(NR_PORT_KIND_DAEMON), "daemon");
}
