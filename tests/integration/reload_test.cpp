// Objective: SIGHUP makes netringd read its configuration again: a rule added to the file admits a
// new client without a restart, a client that was already running keeps running, and a broken file
// is refused with its line named while the rules in force stay.
// Steps: the daemon starts allowing uid 65534 netmap:keep* only. A receiver on netmap:keep}1 (uid
// 65534) is started and registered. uid 65534 is refused netmap:new{1. The file gains "allow
// uid=65534 netmap:new*"; SIGHUP; the daemon logs the reload; uid 65534 now moves a packet over
// netmap:new{1/}1. The keep receiver, registered before the reload, then gets its 20000 frames.
// The file is replaced by one with a bad directive on line 2; SIGHUP; the daemon logs the refusal
// naming line 2, and netmap:new* and netmap:keep* are both still allowed (the old rules stay). A
// changed buf_size is reported as taking effect at the next start.
#include "harness.hpp"

#include <csignal>
#include <fstream>

namespace netring::itest {
namespace {

using namespace std::chrono_literals;

class reload_test : public daemon_test {
protected:
    std::string config_text() const override { return default_limits() + "allow uid=65534 netmap:keep*\n"; }

    void write_config(const std::string &text)
    {
        std::ofstream(dir() + "/netringd.conf") << text;
    }

    std::string daemon_err() const
    {
        std::ifstream in(dir() + "/netringd.err");
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

    // Sends SIGHUP and waits until the daemon's log has grown by a line containing `words`.
    bool hangup_and_wait_for(const std::string &words)
    {
        const size_t before = daemon_err().size();
        if (::kill(daemon_pid(), SIGHUP) != 0)
            return false;
        return eventually([&] { return daemon_err().find(words, before) != std::string::npos; }, 10s);
    }

    bool allowed(const std::string &parent)
    {
        auto rx = pktgen({"-i", "netmap:" + parent + "}1", "-f", "rx", "-n", "1", "-T", "30", "--json"});
        if (!wait_registered(rx->pid())) {
            const child_result r = rx->wait(30s);
            ADD_FAILURE() << parent << ": the receiver was not admitted: " << r.describe();
            return false;
        }
        auto tx = pktgen({"-i", "netmap:" + parent + "{1", "-f", "tx", "-n", "1", "--json"});
        const child_result t = tx->wait(30s);
        const child_result r = rx->wait(30s);
        return t.exited && t.exit_code == 0 && r.exited && r.exit_code == 0 && json_number(r.out, "packets") == 1.0;
    }

    void expect_denied(const std::string &port)
    {
        auto p = pktgen({"-i", port, "-f", "rx", "-n", "1", "-T", "5"});
        const child_result r = p->wait(30s);
        EXPECT_TRUE(r.exited && r.exit_code == 2) << r.describe();
        EXPECT_NE(r.err.find("access denied"), std::string::npos) << r.describe();
    }
};

TEST_F(reload_test, new_rules_apply_running_clients_stay_bad_file_refused)
{
    auto keep = pktgen({"-i", "netmap:keep}1", "-f", "rx", "-n", "20000", "-T", "60", "--json"});
    ASSERT_TRUE(wait_registered(keep->pid())) << keep->read_err();
    expect_denied("netmap:new{1");

    write_config(default_limits() + "allow uid=65534 netmap:keep*\nallow uid=65534 netmap:new*\n");
    ASSERT_TRUE(hangup_and_wait_for("read again: 2 rules")) << daemon_err();
    EXPECT_TRUE(allowed("new")) << "the added rule admits uid 65534";

    auto tx = pktgen({"-i", "netmap:keep{1", "-f", "tx", "-n", "20000", "--json"});
    const child_result t = tx->wait(60s);
    const child_result r = keep->wait(60s);
    EXPECT_TRUE(t.exited && t.exit_code == 0) << t.describe();
    EXPECT_TRUE(r.exited && r.exit_code == 0) << r.describe();
    EXPECT_EQ(json_number(r.out, "packets"), 20000.0) << "the receiver registered before the reload kept going";
    EXPECT_EQ(json_number(r.out, "lost"), 0.0);

    write_config(default_limits() + "deny uid=65534 *\nbogus_directive 3\n");
    ASSERT_TRUE(hangup_and_wait_for("configuration refused")) << daemon_err();
    const std::string log = daemon_err();
    EXPECT_NE(log.find("line "), std::string::npos) << log;
    EXPECT_NE(log.find("bogus_directive"), std::string::npos) << log;
    EXPECT_TRUE(allowed("new")) << "a refused file leaves the rules in force";
    EXPECT_TRUE(allowed("keep2"));
    EXPECT_TRUE(daemon_alive());

    // A directive that shaped memory at startup is reported, not applied.
    write_config("buf_size 4096\nallow uid=65534 netmap:keep*\n");
    ASSERT_TRUE(hangup_and_wait_for("buf_size changed")) << daemon_err();
    expect_denied("netmap:new{1"); // the rules of the new file did apply
}

} // namespace
} // namespace netring::itest
