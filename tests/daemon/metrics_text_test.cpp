// metrics_text.hpp: family names and types, one HELP and TYPE per family before its samples,
// labels of rings, regions, switches and NICs, and label values escaped as the format says.
#include "metrics_text.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>

namespace netring::netringd {
namespace {

metrics_snapshot sample_snapshot()
{
    metrics_snapshot m;
    m.version = "1.2.3";
    m.uptime_seconds = 12.5;
    m.clients = 3;
    m.stats.regions.push_back({"pipe:pA", 1u << 20, 2048, 512, 100, 2, false, 0});
    registration_snapshot r;
    r.port_name = "netmap:pA{1";
    r.reg_id = 7;
    ring_counters tx;
    tx.dir = NR_RING_DIR_TX;
    tx.num_slots = 1024;
    tx.packets = 1000;
    tx.bytes = 60000;
    tx.drops = 2;
    tx.kicks = 5;
    tx.errors = 1;
    ring_counters rx = tx;
    rx.dir = NR_RING_DIR_RX;
    rx.packets = 999;
    rx.occupied = 17;
    r.rings = {tx, rx};
    m.stats.registrations.push_back(r);
    switch_info s;
    s.name = "vale0";
    s.mac_entries = 4;
    s.ports.push_back({"p1", "ephemeral", 1, 10, 600, 20, 1200, 3, 6});
    m.switches.push_back(s);
    nic_snapshot n;
    n.interface = "eth0";
    n.details.present = true;
    n.details.link_up = true;
    n.details.rx_packets = 77;
    n.details.tx_dropped = 9;
    m.nics.push_back(n);
    return m;
}

std::vector<std::string> lines_of(const std::string &text)
{
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        out.push_back(line);
    return out;
}

bool has_line(const std::string &text, const std::string &line)
{
    for (const std::string &l : lines_of(text))
        if (l == line)
            return true;
    return false;
}

TEST(metrics_text_test, every_family_has_help_and_type_once_before_its_samples)
{
    const std::string text = metrics_text(sample_snapshot());
    ASSERT_FALSE(text.empty());
    EXPECT_EQ(text.back(), '\n');
    std::map<std::string, int> help, type;
    std::set<std::string> finished; // families whose samples ended: none may come back
    std::string current;
    for (const std::string &l : lines_of(text)) {
        if (l.starts_with("# HELP ")) {
            const std::string name = l.substr(7, l.find(' ', 7) - 7);
            help[name]++;
            if (!current.empty())
                finished.insert(current);
            current = name;
        } else if (l.starts_with("# TYPE ")) {
            const std::string name = l.substr(7, l.find(' ', 7) - 7);
            type[name]++;
            EXPECT_EQ(name, current) << "TYPE follows its HELP";
            const std::string kind = l.substr(l.rfind(' ') + 1);
            EXPECT_EQ(kind, name.ends_with("_total") ? "counter" : "gauge") << l;
        } else {
            const std::string name = l.substr(0, l.find_first_of("{ "));
            EXPECT_EQ(name, current) << "sample outside its family: " << l;
            EXPECT_FALSE(finished.count(name)) << l;
            EXPECT_TRUE(name.starts_with("netring_")) << l;
        }
    }
    for (const auto &[name, n] : help) {
        EXPECT_EQ(n, 1) << name;
        EXPECT_EQ(type[name], 1) << name;
    }
    EXPECT_EQ(help.size(), type.size());
}

TEST(metrics_text_test, rings_regions_switches_and_nics_carry_their_labels)
{
    const std::string text = metrics_text(sample_snapshot());
    EXPECT_TRUE(has_line(text, "netring_up 1"));
    EXPECT_TRUE(has_line(text, "netring_build_info{version=\"1.2.3\"} 1"));
    EXPECT_TRUE(has_line(text, "netring_uptime_seconds 12.500"));
    EXPECT_TRUE(has_line(text, "netring_clients 3"));
    EXPECT_TRUE(has_line(text, "netring_registrations 1"));
    EXPECT_TRUE(has_line(text, "netring_ring_packets_total{port=\"netmap:pA{1\",dir=\"tx\",ring=\"0\",reg_id=\"7\"} 1000"));
    EXPECT_TRUE(has_line(text, "netring_ring_packets_total{port=\"netmap:pA{1\",dir=\"rx\",ring=\"0\",reg_id=\"7\"} 999"));
    EXPECT_TRUE(has_line(text, "netring_ring_bytes_total{port=\"netmap:pA{1\",dir=\"tx\",ring=\"0\",reg_id=\"7\"} 60000"));
    EXPECT_TRUE(has_line(text, "netring_ring_drops_total{port=\"netmap:pA{1\",dir=\"tx\",ring=\"0\",reg_id=\"7\"} 2"));
    EXPECT_TRUE(has_line(text, "netring_ring_kicks_total{port=\"netmap:pA{1\",dir=\"tx\",ring=\"0\",reg_id=\"7\"} 5"));
    EXPECT_TRUE(has_line(text, "netring_ring_errors_total{port=\"netmap:pA{1\",dir=\"tx\",ring=\"0\",reg_id=\"7\"} 1"));
    EXPECT_TRUE(has_line(text, "netring_ring_slots{port=\"netmap:pA{1\",dir=\"tx\",ring=\"0\",reg_id=\"7\"} 1024"));
    EXPECT_TRUE(has_line(text, "netring_ring_occupied_slots{port=\"netmap:pA{1\",dir=\"tx\",ring=\"0\",reg_id=\"7\"} 0"));
    EXPECT_TRUE(has_line(text, "netring_ring_occupied_slots{port=\"netmap:pA{1\",dir=\"rx\",ring=\"0\",reg_id=\"7\"} 17"));
    EXPECT_TRUE(has_line(text, "netring_region_buffers{region=\"pipe:pA\"} 512"));
    EXPECT_TRUE(has_line(text, "netring_region_buffers_free{region=\"pipe:pA\"} 100"));
    EXPECT_TRUE(has_line(text, "netring_region_size_bytes{region=\"pipe:pA\"} 1048576"));
    EXPECT_TRUE(has_line(text, "netring_switch_mac_entries{switch=\"vale0\"} 4"));
    EXPECT_TRUE(has_line(text, "netring_switch_port_rx_packets_total{switch=\"vale0\",port=\"p1\",kind=\"ephemeral\"} 10"));
    EXPECT_TRUE(has_line(text, "netring_switch_port_tx_bytes_total{switch=\"vale0\",port=\"p1\",kind=\"ephemeral\"} 1200"));
    EXPECT_TRUE(has_line(text, "netring_switch_port_drops_total{switch=\"vale0\",port=\"p1\",kind=\"ephemeral\"} 3"));
    EXPECT_TRUE(has_line(text, "netring_switch_port_flooded_total{switch=\"vale0\",port=\"p1\",kind=\"ephemeral\"} 6"));
    EXPECT_TRUE(has_line(text, "netring_nic_up{interface=\"eth0\"} 1"));
    EXPECT_TRUE(has_line(text, "netring_nic_rx_packets_total{interface=\"eth0\"} 77"));
    EXPECT_TRUE(has_line(text, "netring_nic_tx_dropped_total{interface=\"eth0\"} 9"));
}

TEST(metrics_text_test, an_empty_daemon_still_answers_every_family)
{
    const std::string text = metrics_text(metrics_snapshot{});
    EXPECT_TRUE(has_line(text, "netring_registrations 0"));
    EXPECT_TRUE(has_line(text, "# TYPE netring_ring_packets_total counter"));
    EXPECT_TRUE(has_line(text, "# TYPE netring_nic_up gauge"));
}

TEST(metrics_text_test, label_values_escape_backslash_quote_and_newline)
{
    EXPECT_EQ(escape_label_value("plain{1"), "plain{1");
    EXPECT_EQ(escape_label_value("a\\b"), "a\\\\b");
    EXPECT_EQ(escape_label_value("say \"hi\""), "say \\\"hi\\\"");
    EXPECT_EQ(escape_label_value("two\nlines"), "two\\nlines");
    metrics_snapshot m;
    m.stats.regions.push_back({"odd\"\\\nname", 0, 0, 0, 0, 0, false, 0});
    EXPECT_TRUE(has_line(metrics_text(m), "netring_region_buffers{region=\"odd\\\"\\\\\\nname\"} 0"));
}

TEST(metrics_text_test, nics_the_kernel_no_longer_shows_are_left_out)
{
    metrics_snapshot m;
    nic_snapshot gone;
    gone.interface = "veth9";
    m.nics.push_back(gone); // present == false
    EXPECT_EQ(metrics_text(m).find("veth9"), std::string::npos);
}

} // namespace
} // namespace netring::netringd
