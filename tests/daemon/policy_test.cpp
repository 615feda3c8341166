// policy.hpp: first match wins, uid 0 always, the no-rules default, reasons naming the line.
#include "policy.hpp"

#include <gtest/gtest.h>

namespace netring::netringd {
namespace {

const char *rules = "allow uid=65534 netmap:pipe*\n" // line 1
                    "allow gid=100 *\n"              // line 2
                    "deny uid=1000 netmap:secret*\n" // line 3
                    "allow * netmap:pipe*\n"         // line 4
                    "admin gid=10\n";

TEST(policy_test, first_matching_rule_decides)
{
    const config c = parse_config(rules, "test");
    const policy p(c, 4242);
    EXPECT_TRUE(p.check({65534, 65534, {}}, "netmap:pipeA{1").allowed);
    const decision d = p.check({65534, 65534, {}}, "netmap:secret{1");
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.reason, "uid 65534 may not open netmap:secret{1 (no rule allows it)");
    // gid 100 is allowed everything by line 2, before the deny of line 3.
    EXPECT_TRUE(p.check({1000, 100, {}}, "netmap:secret{1").allowed);
    const decision denied = p.check({1000, 1000, {}}, "netmap:secret{1");
    EXPECT_FALSE(denied.allowed);
    EXPECT_EQ(denied.reason, "uid 1000 may not open netmap:secret{1 (config line 3)");
    const decision any = p.check({1000, 1000, {}}, "netmap:pipeZ}3");
    EXPECT_TRUE(any.allowed);
    EXPECT_EQ(any.reason, "allowed by config line 4");
    // Rules exist, so the daemon's uid gets no special treatment.
    EXPECT_FALSE(p.check({4242, 4242, {}}, "netmap:eth0").allowed);
}

TEST(policy_test, supplementary_groups_match_gid_rules)
{
    const config c = parse_config(rules, "test");
    const policy p(c, 4242);
    const gid_t groups[] = {5, 100};
    EXPECT_TRUE(p.check({1000, 1000, groups}, "netmap:secret{1").allowed);
    EXPECT_FALSE(p.is_admin({1000, 1000, groups}));
    const gid_t wheel[] = {10};
    EXPECT_TRUE(p.is_admin({1000, 1000, wheel}));
    EXPECT_TRUE(p.is_admin({0, 0, {}}));
}

TEST(policy_test, uid_0_is_always_allowed)
{
    const config c = parse_config("deny * *\n", "test");
    const policy p(c, 4242);
    EXPECT_TRUE(p.check({0, 0, {}}, "netmap:anything{1").allowed);
    EXPECT_FALSE(p.check({1, 1, {}}, "netmap:anything{1").allowed);
}

TEST(policy_test, without_rules_only_root_and_the_daemon_uid)
{
    const config c = parse_config("buf_size 2048\n", "test");
    const policy p(c, 4242);
    EXPECT_TRUE(p.check({0, 0, {}}, "netmap:p{1").allowed);
    EXPECT_TRUE(p.check({4242, 1, {}}, "netmap:p{1").allowed);
    const decision d = p.check({65534, 65534, {}}, "netmap:p{1");
    EXPECT_FALSE(d.allowed);
    EXPECT_NE(d.reason.find("uid 65534 may not open netmap:p{1"), std::string::npos);
}

TEST(policy_test, names_are_matched_without_flags)
{
    EXPECT_EQ(policy_name("netmap:pipeA{1/xT"), "netmap:pipeA{1");
    EXPECT_EQ(policy_name("vale0:p1"), "vale0:p1");
}

} // namespace
} // namespace netring::netringd
