// registry.hpp: the resource limits one registration table enforces across ports, namely
// max_regs_per_client (registrations one connection may hold) and max_regions (regions alive at
// once). A refusal is errc::limit_exceeded with a message naming the directive to raise, leaves no
// port or region behind, and the limit frees up again when registrations go.
#include "policy.hpp"
#include "registry.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <string>

namespace netring::netringd {
namespace {

config limited_config(uint32_t regs_per_client, uint32_t regions)
{
    config c;
    c.buf_size = 2048;
    c.region_buffers = 1024;
    c.region_meta_bytes = 1u << 20;
    c.default_slots = 64;
    c.max_regs_per_client = regs_per_client;
    c.max_regions = regions;
    return c;
}

proto::regif request(const char *name)
{
    proto::regif r{};
    proto::set_text(r.port_name, sizeof r.port_name, name);
    return r;
}

// uid 0 is always admitted: the policy plays no part in these refusals.
client_info on_session(uint64_t session) { return {session, 0, 0, ::getpid()}; }

TEST(registry_test, a_connection_holds_at_most_max_regs_per_client)
{
    const config cfg = limited_config(2, 64);
    const policy pol(cfg, ::getuid());
    registry reg(cfg, pol);
    auto a = reg.register_port(on_session(7), request("netmap:pa{1"));
    ASSERT_TRUE(a.ok()) << a.err().describe();
    auto b = reg.register_port(on_session(7), request("netmap:pa}1"));
    ASSERT_TRUE(b.ok()) << b.err().describe();

    auto third = reg.register_port(on_session(7), request("netmap:pb{1"));
    ASSERT_FALSE(third.ok());
    EXPECT_EQ(third.err().code, make_error_code(errc::limit_exceeded));
    EXPECT_NE(third.err().message.find("max_regs_per_client 2"), std::string::npos) << third.err().message;
    EXPECT_EQ(reg.registrations(), 2u);
    EXPECT_EQ(reg.ports(), 1u) << "the refused port was not created";
    EXPECT_EQ(reg.regions(), 1u);

    // The limit is per connection: another session may still register.
    auto other = reg.register_port(on_session(8), request("netmap:pb{1"));
    EXPECT_TRUE(other.ok()) << other.err().describe();

    // Giving one registration back makes room again.
    ASSERT_TRUE(reg.unregister(7, a->reg_id).ok());
    auto again = reg.register_port(on_session(7), request("netmap:pb}1"));
    EXPECT_TRUE(again.ok()) << again.err().describe();
    auto over = reg.register_port(on_session(7), request("netmap:pc{1"));
    ASSERT_FALSE(over.ok());
    EXPECT_EQ(over.err().code, make_error_code(errc::limit_exceeded));
}

TEST(registry_test, at_most_max_regions_regions_exist)
{
    const config cfg = limited_config(64, 1);
    const policy pol(cfg, ::getuid());
    registry reg(cfg, pol);
    auto a = reg.register_port(on_session(7), request("netmap:pa{1"));
    ASSERT_TRUE(a.ok()) << a.err().describe();
    // The same parent name shares its region: no new region needed.
    auto b = reg.register_port(on_session(7), request("netmap:pa}2"));
    ASSERT_TRUE(b.ok()) << b.err().describe();
    EXPECT_EQ(reg.regions(), 1u);

    auto second = reg.register_port(on_session(8), request("netmap:pb{1"));
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.err().code, make_error_code(errc::limit_exceeded));
    EXPECT_NE(second.err().message.find("max_regions 1"), std::string::npos) << second.err().message;
    EXPECT_NE(second.err().message.find("pipe:pb"), std::string::npos) << second.err().message;
    EXPECT_EQ(reg.regions(), 1u);
    EXPECT_EQ(reg.ports(), 2u) << "the refused pipe was dropped with its region";
    EXPECT_EQ(reg.registrations(), 2u);
    EXPECT_FALSE(reg.find_region("pipe:pb"));

    // Once pipe:pa is gone, the other parent name gets its region.
    EXPECT_EQ(reg.unregister_session(7), 2u);
    EXPECT_EQ(reg.regions(), 0u);
    auto now = reg.register_port(on_session(8), request("netmap:pb{1"));
    EXPECT_TRUE(now.ok()) << now.err().describe();
    EXPECT_TRUE(reg.find_region("pipe:pb"));
}

} // namespace
} // namespace netring::netringd
