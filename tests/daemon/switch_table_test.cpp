// The switch's MAC table, and the switch table's administration and registration rules, in-process
// (no forwarding traffic here: the integration tests move frames).
#include "ports/vale/mac_table.hpp"
#include "registry.hpp"

#include <gtest/gtest.h>

#include <cstring>

using namespace netring;
using namespace netring::netringd;

namespace {

uint64_t mac(uint32_t i)
{
    const uint8_t m[6] = {0x02,
                          0,
                          static_cast<uint8_t>(i >> 24),
                          static_cast<uint8_t>(i >> 16),
                          static_cast<uint8_t>(i >> 8),
                          static_cast<uint8_t>(i)};
    return mac_key(m);
}

TEST(mac_table, learns_moves_and_ages)
{
    mac_table t(64, 300);
    EXPECT_EQ(t.lookup(mac(1), 10), -1);
    t.learn(mac(1), 3, 10);
    EXPECT_EQ(t.lookup(mac(1), 10), 3);
    t.learn(mac(1), 5, 20); // moved
    EXPECT_EQ(t.lookup(mac(1), 20), 5);
    EXPECT_EQ(t.size(), 1u);
    EXPECT_EQ(t.lookup(mac(1), 20 + 300), 5);
    EXPECT_EQ(t.lookup(mac(1), 20 + 301), -1); // aged out
    t.forget_port(5);
    EXPECT_EQ(t.lookup(mac(1), 21), -1);
    EXPECT_EQ(t.size(), 0u);
}

TEST(mac_table, stays_bounded_and_keeps_recent_addresses)
{
    mac_table t(64, 300);
    for (uint32_t i = 0; i < 10000; i++)
        t.learn(mac(i), static_cast<uint16_t>(i % 7), i / 100);
    EXPECT_LE(t.size(), 64u);
    // The most recent one is always there (a full window evicts its oldest entry, never the new one).
    EXPECT_EQ(t.lookup(mac(9999), 100), static_cast<int>(9999 % 7));
    t.clear();
    EXPECT_EQ(t.size(), 0u);
    EXPECT_EQ(t.lookup(mac(9999), 100), -1);
}

class switch_table_test : public ::testing::Test {
protected:
    switch_table_test() : pol(cfg, 0), reg(cfg, pol) {}

    proto::regif request(const std::string &name)
    {
        proto::regif r{};
        proto::set_text(r.port_name, sizeof r.port_name, name);
        return r;
    }

    config cfg = [] {
        config c;
        c.region_buffers = 4096;
        c.default_slots = 256;
        return c;
    }();
    policy pol;
    registry reg;
    switch_table &t = reg.switches();
};

TEST_F(switch_table_test, administration_errors_say_what_is_wrong)
{
    ASSERT_TRUE(t.create_switch("vale0").ok());
    EXPECT_EQ(t.create_switch("vale0").err().code, make_error_code(errc::already_exists));
    EXPECT_EQ(t.create_switch("bridge0").err().code, make_error_code(errc::bad_port_name));
    EXPECT_EQ(t.destroy_switch("vale9").err().code, make_error_code(errc::not_found));
    EXPECT_EQ(t.add_port("vale9", "p1").err().code, make_error_code(errc::not_found));
    ASSERT_TRUE(t.add_port("vale0", "p1").ok());
    EXPECT_EQ(t.add_port("vale0", "p1").err().code, make_error_code(errc::already_exists));
    EXPECT_EQ(t.destroy_switch("vale0").err().code, make_error_code(errc::port_busy));
    EXPECT_EQ(t.delete_port("vale0", "p2").err().code, make_error_code(errc::not_found));
    EXPECT_EQ(t.attach_nic("vale9", "netmap:lo").err().code, make_error_code(errc::not_found));
    EXPECT_EQ(t.attach_nic("vale0", "netmap:pipeA{1").err().code, make_error_code(errc::bad_port_name));
    EXPECT_EQ(t.detach_nic("vale0", "netmap:nrtnone0").err().code, make_error_code(errc::not_found));

    auto l = t.list();
    ASSERT_EQ(l.size(), 1u);
    EXPECT_EQ(l[0].name, "vale0");
    EXPECT_TRUE(l[0].persistent);
    ASSERT_EQ(l[0].ports.size(), 1u);
    EXPECT_EQ(l[0].ports[0].name, "p1");
    EXPECT_EQ(l[0].ports[0].kind, "persistent");

    ASSERT_TRUE(t.delete_port("vale0", "p1").ok());
    ASSERT_TRUE(t.destroy_switch("vale0").ok());
    EXPECT_TRUE(t.list().empty());
    EXPECT_EQ(reg.regions(), 0u); // the port's region went with it
}

TEST_F(switch_table_test, ephemeral_port_and_switch_go_with_the_last_registration)
{
    const uint64_t session = 1;
    auto a = reg.register_port({session, 0, 0, 1}, request("vale3:a"));
    ASSERT_TRUE(a.ok()) << a.err().message;
    auto b = reg.register_port({session, 0, 0, 1}, request("vale3:a"));
    ASSERT_TRUE(b.ok()) << b.err().message; // non-exclusive: shares the port
    auto x = reg.register_port({session, 0, 0, 1}, request("vale3:a/x"));
    EXPECT_EQ(x.err().code, make_error_code(errc::port_busy));
    auto l = t.list();
    ASSERT_EQ(l.size(), 1u);
    EXPECT_FALSE(l[0].persistent);
    ASSERT_EQ(l[0].ports.size(), 1u);
    EXPECT_EQ(l[0].ports[0].kind, "ephemeral");
    EXPECT_EQ(l[0].ports[0].clients, 2u);
    EXPECT_EQ(t.delete_port("vale3", "a").err().code, make_error_code(errc::port_busy));

    ASSERT_TRUE(reg.unregister(session, a->reg_id).ok());
    EXPECT_EQ(t.list().size(), 1u);
    ASSERT_TRUE(reg.unregister(session, b->reg_id).ok());
    EXPECT_TRUE(t.list().empty());
    EXPECT_EQ(reg.regions(), 0u);
}

TEST_F(switch_table_test, persistent_port_survives_its_clients_and_returns_its_buffers)
{
    ASSERT_TRUE(t.create_switch("vale1").ok());
    ASSERT_TRUE(t.add_port("vale1", "p").ok());
    const auto region = reg.find_region("vale1:p");
    ASSERT_NE(region, nullptr);
    const uint32_t free_before = region->pool().available();
    auto r = reg.register_port({7, 0, 0, 1}, request("vale1:p"));
    ASSERT_TRUE(r.ok()) << r.err().message;
    auto extra = request("vale1:p");
    extra.extra_bufs = 10;
    auto r2 = reg.register_port({7, 0, 0, 1}, extra);
    ASSERT_TRUE(r2.ok()) << r2.err().message;
    EXPECT_EQ(region->pool().available(), free_before - 10);
    EXPECT_EQ(reg.unregister_session(7), 2u);
    auto l = t.list();
    ASSERT_EQ(l.size(), 1u);
    ASSERT_EQ(l[0].ports.size(), 1u);
    EXPECT_EQ(l[0].ports[0].clients, 0u);
    ASSERT_TRUE(t.delete_port("vale1", "p").ok());
    EXPECT_EQ(region->pool().available(), region->pool().total()); // every buffer back
}

} // namespace
