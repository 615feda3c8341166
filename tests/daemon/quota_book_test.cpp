// quota_book.hpp and the quota directives: limits per uid and gid (first matching rule per key),
// refusals that name the quota and the use, the admins' connection and region reserves, refunds.
#include "config.hpp"
#include "policy.hpp"
#include "quota_book.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace netring::netringd {
namespace {

const std::vector<gid_t> staff = {100};

class quota_book_test : public ::testing::Test {
protected:
    config cfg = parse_config("uid_max_connections 3\n"
                              "uid_max_registrations 5\n"
                              "uid_max_regions 2\n"
                              "uid_max_buffers 1000\n"
                              "quota uid=1001 regions 7\n" // line 5
                              "quota gid=100 regions 4\n"  // line 6
                              "quota gid=100 buffers 50\n" // line 7
                              "max_connections 10\n"
                              "admin_connections 4\n"
                              "max_regions 32\n"
                              "admin gid=0\n",
                              "test");
    policy pol{cfg, 0};
    quota_book book{cfg, pol};
    credentials plain{1000, 1000, {}};
    credentials special{1001, 100, {}};
    credentials member{1002, 1002, staff};
    credentials admin{5, 0, {}};
};

TEST_F(quota_book_test, rules_apply_first_match_per_key_then_defaults)
{
    EXPECT_EQ(pol.limits(plain).regions, 2u);
    EXPECT_EQ(pol.limits(special).regions, 7u); // its uid rule comes before the gid rule
    EXPECT_EQ(pol.limits(special).buffers, 50u);
    EXPECT_EQ(pol.limits(member).regions, 4u); // a supplementary group matches
    EXPECT_EQ(pol.limits(member).buffers, 50u);
    EXPECT_EQ(pol.limits(member).connections, 3u);
    EXPECT_EQ(pol.limit_origin(member, quota_key::regions), "config line 6 allows");
    EXPECT_EQ(pol.limit_origin(plain, quota_key::regions), "uid_max_regions");
}

TEST_F(quota_book_test, a_refusal_names_the_quota_and_the_use)
{
    book.charge(plain, quota_key::regions, 2);
    const status s = book.check(plain, quota_key::regions, 1, 2);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.err().code, make_error_code(errc::limit_exceeded));
    EXPECT_EQ(s.err().message, "uid 1000 holds 2 regions (uid_max_regions 2)");
    book.charge(member, quota_key::buffers, 40);
    const status b = book.check(member, quota_key::buffers, 20);
    ASSERT_FALSE(b);
    EXPECT_EQ(b.err().message, "uid 1002 holds 40 buffers (config line 7 allows 50); this needs 20 more");
    EXPECT_TRUE(book.check(member, quota_key::buffers, 10));
    // Another uid is not affected by what this one holds.
    EXPECT_TRUE(book.check(special, quota_key::regions, 1, 2));
}

TEST_F(quota_book_test, connections_per_uid_and_the_admins_reserve)
{
    for (int i = 0; i < 3; i++)
        ASSERT_TRUE(book.admit_connection(plain));
    const status over = book.admit_connection(plain);
    ASSERT_FALSE(over);
    EXPECT_EQ(over.err().message, "uid 1000 holds 3 connections (uid_max_connections 3)");
    for (int i = 0; i < 3; i++)
        ASSERT_TRUE(book.admit_connection(member));
    // 6 of 10 taken, 4 kept for admins: nobody else gets one, an admin does, up to the total.
    EXPECT_FALSE(book.admit_connection(special));
    for (int i = 0; i < 4; i++)
        EXPECT_TRUE(book.admit_connection(admin)) << i;
    EXPECT_FALSE(book.admit_connection(admin));
    book.release_connection(plain.uid);
    EXPECT_FALSE(book.admit_connection(special)) << "9 of 10: still inside the admins' reserve";
    EXPECT_TRUE(book.admit_connection(admin));
}

TEST_F(quota_book_test, regions_keep_a_reserve_for_admins)
{
    ASSERT_EQ(book.region_reserve(), 2u); // max_regions 32 / 16
    EXPECT_TRUE(book.check(special, quota_key::regions, 1, 29));
    EXPECT_FALSE(book.check(special, quota_key::regions, 1, 30));
    EXPECT_TRUE(book.check(admin, quota_key::regions, 1, 31));
}

TEST_F(quota_book_test, refunds_return_use_and_forget_idle_uids)
{
    book.charge(plain, quota_key::registrations, 5);
    EXPECT_FALSE(book.check(plain, quota_key::registrations, 1));
    book.refund(plain.uid, quota_key::registrations, 1);
    EXPECT_TRUE(book.check(plain, quota_key::registrations, 1));
    ASSERT_EQ(book.entries().size(), 1u);
    EXPECT_EQ(book.entries()[0].used.registrations, 4u);
    EXPECT_EQ(book.entries()[0].limits.registrations, 5u);
    book.refund(plain.uid, quota_key::registrations, 10); // never below zero
    EXPECT_TRUE(book.entries().empty());
}

TEST(quota_config_test, directives_and_their_errors)
{
    auto error_of = [](const std::string &text) {
        try {
            parse_config(text, "test");
        } catch (const config_error &e) {
            return std::string(e.what());
        }
        return std::string();
    };
    EXPECT_EQ(error_of("quota * regions 3\n"),
              "config line 1: quota applies to uid=N or gid=N; uid_max_* set everyone's limits");
    EXPECT_EQ(
        error_of("quota uid=1 memory 3\n"),
        "config line 1: quota key must be connections, registrations, regions or buffers, not 'memory'");
    EXPECT_EQ(error_of("quota uid=1 regions\n"), "config line 1: 'quota' takes 3 arguments, got 2");
    EXPECT_EQ(error_of("idle_timeout_s 0\n"), "config line 1: idle_timeout_s 0 outside 1..86400");
    EXPECT_NE(error_of("max_connections 10\nadmin_connections 10\n").find("leaves no connection"),
              std::string::npos);
    const config c = parse_config("", "defaults");
    EXPECT_EQ(c.uid_quota.connections, 64u);
    EXPECT_EQ(c.uid_quota.regions, 16u);
    EXPECT_EQ(c.max_connections, 4096u);
    EXPECT_EQ(c.idle_timeout_s, 30u);
}

} // namespace
} // namespace netring::netringd
