// Objective: the daemon's policy decides, by the peer's credentials, which ports an unprivileged
// process may open; refusals are clean (exit 2, "access denied") and root is always allowed.
// Steps: start netringd with rules, first match wins:
//   deny uid=65534 netmap:secret*    deny uid=65534 netmap:pipeX*
//   allow uid=65534 netmap:pipe*     allow gid=65534 netmap:grp*     allow gid=4242 netmap:sup*
// As uid/gid 65534, pktgen on netmap:secret{1 and netmap:pipeX{1 exits 2 with "access denied" on
// stderr; on netmap:pipeZ (pipe* after the deny of pipeX*) and netmap:grpA (by gid) a receiver and a
// sender move one packet and exit 0. Root opens netmap:secret{1 in-process. A daemon with no rules
// refuses uid 65534 everything and still serves root. uid 65534 with supplementary group 4242
// (setpriv --groups) opens netmap:supA; without it, access denied. A pipe of interface lo lives
// in lo's region ("nic:lo"): uid 65534, allowed netmap:lo{* but not netmap:lo, is refused it.
#include "harness.hpp"

namespace netring::itest {
namespace {

using namespace std::chrono_literals;

class access_policy : public daemon_test {
protected:
    std::string config_text() const override
    {
        return default_limits() + "deny uid=65534 netmap:secret*\n"
                                  "deny uid=65534 netmap:pipeX*\n"
                                  "allow uid=65534 netmap:pipe*\n"
                                  "allow gid=65534 netmap:grp*\n"
                                  "allow gid=4242 netmap:sup*\n"
                                  "allow uid=65534 netmap:lo[{}]*\n";
    }

    // pktgen as uid/gid 65534 with `groups` ("4242,100") as its supplementary groups, or none.
    std::unique_ptr<child> nobody_pktgen(const std::string &groups, std::vector<std::string> args)
    {
        std::vector<std::string> cmd = {"setpriv",
                                        "--reuid=65534",
                                        "--regid=65534",
                                        groups.empty() ? "--clear-groups" : "--groups=" + groups,
                                        "--",
                                        binary_path("/tools/netring-pktgen")};
        cmd.insert(cmd.end(), args.begin(), args.end());
        cmd.insert(cmd.end(), {"--socket", socket_path()});
        return spawn(cmd, false);
    }

    void expect_denied(const std::string &port, const std::string &groups = "")
    {
        auto p = nobody_pktgen(groups, {"-i", port, "-f", "rx", "-n", "1", "-T", "20", "--json"});
        ASSERT_TRUE(p);
        const child_result r = p->wait(60s);
        EXPECT_TRUE(r.exited && r.exit_code == 2) << port << ": " << r.describe();
        EXPECT_NE(r.err.find("access denied"), std::string::npos) << port << ": " << r.describe();
    }

    void expect_one_packet(const std::string &parent, const std::string &groups = "")
    {
        auto rx = nobody_pktgen(
            groups, {"-i", "netmap:" + parent + "}1", "-f", "rx", "-n", "1", "-T", "60", "--json"});
        ASSERT_TRUE(rx);
        ASSERT_TRUE(wait_registered(rx->pid())) << parent << ": receiver not admitted: " << rx->read_err();
        auto tx = nobody_pktgen(
            groups, {"-i", "netmap:" + parent + "{1", "-f", "tx", "-n", "1", "-l", "60", "--json"});
        ASSERT_TRUE(tx);
        const child_result t = tx->wait(60s);
        const child_result r = rx->wait(90s);
        EXPECT_TRUE(t.exited && t.exit_code == 0) << parent << " tx: " << t.describe();
        EXPECT_TRUE(r.exited && r.exit_code == 0) << parent << " rx: " << r.describe();
        EXPECT_EQ(json_number(r.out, "packets"), 1.0) << r.out;
    }
};

TEST_F(access_policy, deny_rule_refuses_nobody_with_access_denied)
{
    expect_denied("netmap:secret{1");
    expect_denied("netmap:pipeX{1"); // the deny comes before the broader allow of pipe*
}

TEST_F(access_policy, allow_rules_admit_nobody_by_uid_and_by_gid)
{
    expect_one_packet("pipeZ");
    expect_one_packet("grpA");
}

// gid=N matches a supplementary group too (the daemon reads them with SO_PEERGROUPS), not only the
// primary one: uid 65534 in group 4242 may open netmap:sup*, the same uid without it may not.
TEST_F(access_policy, gid_rule_matches_a_supplementary_group)
{
    expect_denied("netmap:supA{1");
    expect_one_packet("supA", "100,4242");
}

TEST_F(access_policy, root_is_always_allowed)
{
    auto p = port::open("netmap:secret{1", options());
    EXPECT_TRUE(p.ok()) << p.err().describe();
}

class access_policy_no_rules : public access_policy {
protected:
    std::string config_text() const override { return default_limits(); }
};

TEST_F(access_policy_no_rules, nobody_is_refused_everything)
{
    expect_denied("netmap:pipeZ{1");
    expect_denied("netmap:secret}1");
}

TEST_F(access_policy_no_rules, root_still_opens_ports)
{
    auto p = port::open("netmap:pipeZ{1", options());
    EXPECT_TRUE(p.ok()) << p.err().describe();
}

TEST_F(access_policy, pipe_of_an_interface_needs_the_interface)
{
    expect_denied("netmap:lo{1");
    auto d = query_port_info("netmap:lo{1", socket_path());
    ASSERT_TRUE(d) << d.err().message;
    EXPECT_EQ(d->region_name, "nic:lo");
    auto other = query_port_info("netmap:pipeQ{1", socket_path());
    ASSERT_TRUE(other) << other.err().message;
    EXPECT_EQ(other->region_name, "pipe:pipeQ");
}

} // namespace
} // namespace netring::itest
