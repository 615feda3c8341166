// top_view.hpp: rates from counter deltas, the order of the rows, and the screen's text.
#include "top_view.hpp"

#include <gtest/gtest.h>

namespace netring::ctl {
namespace {

// One registration with one tx and one rx ring.
void add_registration(daemon_stats &s, uint32_t reg_id, const std::string &port, uint64_t tx_packets,
                      uint64_t tx_bytes, uint64_t rx_packets, uint64_t rx_drops)
{
    registration_stats r;
    r.reg_id = reg_id;
    r.pid = 100 + reg_id;
    r.port_name = port;
    const auto index = static_cast<uint32_t>(s.registrations.size());
    s.registrations.push_back(r);
    ring_stats tx;
    tx.registration = index;
    tx.dir = NR_RING_DIR_TX;
    tx.num_slots = 1024;
    tx.packets = tx_packets;
    tx.bytes = tx_bytes;
    ring_stats rx = tx;
    rx.dir = NR_RING_DIR_RX;
    rx.num_slots = 512;
    rx.packets = rx_packets;
    rx.bytes = rx_packets * 60;
    rx.drops = rx_drops;
    rx.occupied = 100 + reg_id;
    s.rings.push_back(tx);
    s.rings.push_back(rx);
}

TEST(TopView, RatesAreDeltasOverTheInterval)
{
    daemon_stats before, after;
    add_registration(before, 1, "netmap:pA{1", 1000, 60000, 0, 0);
    add_registration(after, 1, "netmap:pA{1", 3000, 180000, 0, 0);
    add_registration(before, 2, "netmap:pA}1", 0, 0, 1000, 10);
    add_registration(after, 2, "netmap:pA}1", 0, 0, 2000, 30);
    const auto rows = top_rates(before, after, 2.0);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].reg_id, 1u); // 1000 pkt/s before 500
    EXPECT_DOUBLE_EQ(rows[0].tx.packets_per_s, 1000);
    EXPECT_DOUBLE_EQ(rows[0].tx.bits_per_s, 60000.0 * 8);
    EXPECT_DOUBLE_EQ(rows[0].rx.packets_per_s, 0);
    EXPECT_EQ(rows[0].tx.slots, 1024u);
    EXPECT_EQ(rows[0].rx.slots, 512u);
    EXPECT_EQ(rows[0].tx.occupied, 0u);
    EXPECT_EQ(rows[0].rx.occupied, 101u);
    EXPECT_EQ(rows[1].reg_id, 2u);
    EXPECT_DOUBLE_EQ(rows[1].rx.packets_per_s, 500);
    EXPECT_DOUBLE_EQ(rows[1].rx.drops_per_s, 10);
    EXPECT_EQ(rows[1].pid, 102u);
}

TEST(TopView, NewRegistrationsCountFromZeroAndLowerCountersFromNothing)
{
    daemon_stats before, after;
    add_registration(before, 5, "netmap:old{1", 9000, 9000, 0, 0);
    add_registration(after, 5, "netmap:old{1", 100, 100, 0, 0); // id reused by another port
    add_registration(after, 6, "netmap:new{1", 400, 400, 0, 0);
    const auto rows = top_rates(before, after, 1.0);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].reg_id, 6u);
    EXPECT_DOUBLE_EQ(rows[0].tx.packets_per_s, 400);
    EXPECT_DOUBLE_EQ(rows[1].tx.packets_per_s, 0);
}

TEST(TopView, QuietRegistrationsKeepTheirIdOrder)
{
    daemon_stats s;
    add_registration(s, 9, "netmap:b{1", 0, 0, 0, 0);
    add_registration(s, 3, "netmap:a{1", 0, 0, 0, 0);
    const auto rows = top_rates(s, s, 1.0);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].reg_id, 3u);
    EXPECT_EQ(rows[1].reg_id, 9u);
}

TEST(TopView, SiRatesAndUptime)
{
    EXPECT_EQ(si_rate(0), "0");
    EXPECT_EQ(si_rate(950), "950");
    EXPECT_EQ(si_rate(12345), "12.3k");
    EXPECT_EQ(si_rate(4560000), "4.56M");
    EXPECT_EQ(si_rate(1.2e9), "1.20G");
    EXPECT_EQ(si_rate(999.9), "1.00k");
    EXPECT_EQ(uptime_text(12'000), "12s");
    EXPECT_EQ(uptime_text(247'000), "4m07s");
    EXPECT_EQ(uptime_text(7'500'000), "2h05m");
    EXPECT_EQ(uptime_text(273'600'000), "3d04h");
}

TEST(TopView, ScreenHasHeaderTotalsAndOneLinePerRow)
{
    daemon_stats before, after;
    after.uptime_ms = 65'000;
    after.clients = 2;
    add_registration(before, 1, "netmap:pA{1", 0, 0, 0, 0);
    add_registration(after, 1, "netmap:pA{1", 100000, 6000000, 0, 0);
    add_registration(after, 2, "netmap:a-very-long-port-name-indeed{1", 0, 0, 0, 0);
    const auto rows = top_rates(before, after, 1.0);
    const std::string screen = top_screen(after, rows, 1.0);
    EXPECT_EQ(screen.find("netringd up 1m05s, 2 clients, 2 registrations, 0 regions; every 1.0 s\n"), 0u) << screen;
    EXPECT_NE(screen.find("total  tx 100k pkt/s 48.0Mbit/s 0 drop/s   rx 0 pkt/s 0bit/s 0 drop/s\n"),
              std::string::npos)
        << screen;
    EXPECT_NE(screen.find("     1     101 netmap:pA{1                  100k    48.0M       0"), std::string::npos)
        << screen;
    EXPECT_NE(screen.find("RX drop      TX occ      RX occ\n"), std::string::npos) << screen;
    EXPECT_NE(screen.find("      0      0/1024     101/512\n"), std::string::npos) << screen; // used/slots
    EXPECT_NE(screen.find("netmap:a-very-long-port~"), std::string::npos) << screen; // cut to its column
    EXPECT_EQ(screen.find('\x1b'), std::string::npos);
    // A short terminal gets the header and as many rows as fit.
    const std::string small = top_screen(after, rows, 1.0, 5);
    EXPECT_NE(small.find("netmap:pA{1"), std::string::npos);
    EXPECT_EQ(small.find("a-very-long"), std::string::npos);
}

TEST(TopView, ScreenSaysWhenNothingIsRegistered)
{
    const daemon_stats s;
    EXPECT_NE(top_screen(s, {}, 1.0).find("(no registrations)"), std::string::npos);
}

} // namespace
} // namespace netring::ctl
