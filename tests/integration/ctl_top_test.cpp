// Objective: `netring-ctl top` works in a real terminal: while a pipe carries traffic it shows the
// sender's rate, and `q` ends it with exit status 0.
// Steps: a pipe between two netring-pktgen processes (uid 65534) at 100000 frames/s; netring-ctl
// top in a detached tmux session (130x30, a private tmux socket in the test's directory) whose
// shell writes top's exit status to a file; the pane is read with `tmux capture-pane` until the
// sender's line shows a transmit rate other than 0 and the frame is whole (its last line, the
// "(q quits)" hint, is there); `q` is sent; the exit status file must say 0.
// Skips without tmux. The test's tmux server is ended with `kill-server` on its own socket.
#include "harness.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace netring::itest {
namespace {

using namespace std::chrono_literals;

constexpr const char *tmux_bin = "/usr/bin/tmux";

class ctl_top_test : public daemon_test {
protected:
    void TearDown() override
    {
        if (started_)
            (void)tmux({"kill-server"});
        daemon_test::TearDown();
    }

    child_result tmux(std::vector<std::string> args)
    {
        args.insert(args.begin(), {tmux_bin, "-S", dir() + "/tmux.sock"});
        auto c = spawn(args, false);
        return c ? c->wait(30s) : child_result{};
    }

    std::string screen() { return tmux({"capture-pane", "-p", "-t", "top"}).out; }

    bool started_ = false;
};

// The TX pkt/s column of `port`'s line on a top screen ("   REG     PID PORT  TX pkt/s ..."), or "".
std::string tx_rate_of(const std::string &screen, const std::string &port)
{
    std::istringstream lines(screen);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::string reg, pid, name, tx;
        if (words >> reg >> pid >> name >> tx && name == port)
            return tx;
    }
    return "";
}

TEST_F(ctl_top_test, shows_a_pipe_rate_and_quits_on_q)
{
    if (::access(tmux_bin, X_OK) != 0)
        GTEST_SKIP() << "tmux is not installed (scripts/deps.sh installs it)";
    auto rx = pktgen({"-i", "netmap:pipeT}1", "-f", "rx", "-T", "60", "--json"});
    ASSERT_TRUE(wait_registered(rx->pid())) << rx->read_err();
    auto tx = pktgen({"-i", "netmap:pipeT{1", "-f", "tx", "-R", "100000", "-T", "60", "--json"});
    ASSERT_TRUE(wait_registered(tx->pid())) << tx->read_err();

    const std::string status_file = dir() + "/top.exit";
    const std::string command = binary_path("/tools/netring-ctl") + " --socket " + socket_path() + " top; echo $? > " +
                                status_file;
    started_ = true;
    const child_result made = tmux({"new-session", "-d", "-s", "top", "-x", "130", "-y", "30", command});
    ASSERT_TRUE(made.exited && made.exit_code == 0) << made.describe();

    std::string last;
    const bool shown = eventually(
        [&] {
            // A capture can catch a frame half drawn; wait for a whole one (its last line is the hint).
            last = screen();
            const std::string rate = tx_rate_of(last, "netmap:pipeT{1");
            return !rate.empty() && rate != "0" && last.find("(q quits)") != std::string::npos;
        },
        20s);
    EXPECT_TRUE(shown) << "no whole frame with a transmit rate for netmap:pipeT{1 on the screen:\n" << last;

    const child_result sent = tmux({"send-keys", "-t", "top", "q"});
    ASSERT_TRUE(sent.exited && sent.exit_code == 0) << sent.describe();
    std::string status;
    EXPECT_TRUE(eventually(
        [&] {
            std::ifstream in(status_file);
            return static_cast<bool>(std::getline(in, status));
        },
        20s))
        << "netring-ctl top did not end on q; screen:\n"
        << screen();
    EXPECT_EQ(status, "0");
}

} // namespace
} // namespace netring::itest
