// Objective: a receiver waiting with --wait poll on an idle pipe sleeps (it does not burn a CPU),
// and still wakes up for the first packet.
// Steps: as uid 65534 start `netring-pktgen -f rx --wait poll -n 1` on netmap:pipeI}1 and wait until
// it is registered; read its CPU time (utime + stime, /proc/PID/stat), let 5 s pass with no traffic,
// read it again: it must have grown by less than 10% of the elapsed clock ticks (a resource bound;
// a sleeping process uses almost none). Then send one packet from netmap:pipeI{1: the receiver
// exits 0 having received exactly 1 packet.
#include "harness.hpp"

#include <unistd.h>

#include <thread>

namespace netring::itest {
namespace {

using namespace std::chrono_literals;

class poll_idle : public daemon_test {};

TEST_F(poll_idle, idle_receiver_sleeps_and_wakes_for_one_packet)
{
    auto rx = pktgen({"-i", "netmap:pipeI}1", "-f", "rx", "--wait", "poll", "-n", "1", "-T", "120", "--json"});
    ASSERT_TRUE(rx);
    ASSERT_TRUE(wait_registered(rx->pid())) << "receiver never registered: " << rx->read_err();
    std::this_thread::sleep_for(200ms); // past the spin phase before the first sleep

    const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
    const auto cpu_before = cpu_ticks(rx->pid());
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(cpu_before);
    std::this_thread::sleep_for(5s);
    const auto cpu_after = cpu_ticks(rx->pid());
    const auto elapsed = std::chrono::steady_clock::now() - t0;
    ASSERT_TRUE(cpu_after) << "receiver exited while idle: " << rx->read_err();
    ASSERT_TRUE(rx->running()) << "receiver exited while idle: " << rx->read_err();

    const double elapsed_ticks = std::chrono::duration<double>(elapsed).count() * static_cast<double>(ticks_per_second);
    const uint64_t used = *cpu_after - *cpu_before;
    EXPECT_LT(static_cast<double>(used), 0.10 * elapsed_ticks)
        << "an idle --wait poll receiver used " << used << " of " << elapsed_ticks << " clock ticks";

    auto tx = pktgen({"-i", "netmap:pipeI{1", "-f", "tx", "-n", "1", "-l", "60", "--json"});
    ASSERT_TRUE(tx);
    const child_result t = tx->wait(60s);
    const child_result r = rx->wait(60s);
    EXPECT_TRUE(t.exited && t.exit_code == 0) << "tx: " << t.describe();
    ASSERT_TRUE(r.exited && r.exit_code == 0) << "rx: " << r.describe();
    EXPECT_EQ(json_number(r.out, "packets"), 1.0) << r.out;
    EXPECT_EQ(json_number(r.out, "corrupt"), 0.0) << r.out;
}

} // namespace
} // namespace netring::itest
