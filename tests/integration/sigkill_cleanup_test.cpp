// Objective: a client killed with SIGKILL in the middle of a transfer is cleaned up completely: its
// peer notices and exits on its own, its registration disappears, and every buffer it held returns
// to the region's pool.
// Steps: a holder (in-process, root) opens netmap:pipeK{9 so region pipe:pipeK outlives the test
// pipe; read the region's buffers_free; as uid 65534 start pktgen rx on netmap:pipeK}1 and pktgen
// tx on netmap:pipeK{1, both with -T 60; after about a second of traffic SIGKILL one of them (by
// its PID). The survivor must exit by itself well before its 60 s limit (peer gone), having seen no
// corrupt or duplicate packets; then STATS must show buffers_free back at the starting value and no
// registration of either process. Two cases: kill the sender, kill the receiver.
#include "harness.hpp"

#include <signal.h>

#include <optional>
#include <thread>

namespace netring::itest {
namespace {

using namespace std::chrono_literals;

class sigkill_cleanup : public daemon_test {
protected:
    void run(bool kill_sender)
    {
        auto holder = port::open("netmap:pipeK{9", options());
        ASSERT_TRUE(holder) << holder.err().describe();
        const auto start = find_region(stats(), "pipe:pipeK");
        ASSERT_TRUE(start) << "STATS lists no region pipe:pipeK";

        auto rx = pktgen({"-i", "netmap:pipeK}1", "-f", "rx", "-T", "60", "--json"});
        ASSERT_TRUE(rx);
        ASSERT_TRUE(wait_registered(rx->pid())) << "receiver never registered: " << rx->read_err();
        auto tx = pktgen({"-i", "netmap:pipeK{1", "-f", "tx", "-l", "60", "-T", "60", "--json"});
        ASSERT_TRUE(tx);
        ASSERT_TRUE(wait_registered(tx->pid())) << "sender never registered: " << tx->read_err();
        std::this_thread::sleep_for(1s); // let traffic run, so the victim holds buffers in flight
        ASSERT_TRUE(rx->running() && tx->running()) << "rx: " << rx->read_err() << " tx: " << tx->read_err();

        child &victim = kill_sender ? *tx : *rx;
        child &survivor = kill_sender ? *rx : *tx;
        const pid_t victim_pid = victim.pid(), survivor_pid = survivor.pid();
        victim.signal(SIGKILL);
        const child_result v = victim.wait(10s);
        EXPECT_EQ(v.signal, SIGKILL);

        // Well inside the survivor's own 60 s limit: it must have noticed the peer is gone.
        const child_result s = survivor.wait(30s);
        EXPECT_TRUE(s.exited) << s.describe();
        EXPECT_NE(s.exit_code, 2) << s.describe();
        EXPECT_TRUE(json_number(s.out, "packets").value_or(0) > 0) << s.describe();
        if (kill_sender) { // what arrived before the kill arrived intact
            EXPECT_EQ(json_number(s.out, "corrupt"), 0.0) << s.out;
            EXPECT_EQ(json_number(s.out, "duplicate"), 0.0) << s.out;
        }

        daemon_stats now;
        EXPECT_TRUE(eventually(
            [&] {
                now = stats();
                auto r = find_region(now, "pipe:pipeK");
                return r && r->buffers_free == start->buffers_free && !has_registration_of(now, victim_pid) &&
                       !has_registration_of(now, survivor_pid);
            },
            10s));
        const auto end = find_region(now, "pipe:pipeK");
        ASSERT_TRUE(end);
        EXPECT_EQ(end->buffers_free, start->buffers_free) << "buffers leaked by the killed client";
        EXPECT_FALSE(has_registration_of(now, victim_pid)) << "the killed client is still registered";
        EXPECT_FALSE(has_registration_of(now, survivor_pid));
        EXPECT_TRUE(daemon_alive());
    }
};

TEST_F(sigkill_cleanup, killing_the_sender_frees_its_buffers_and_ends_the_receiver) { run(true); }

TEST_F(sigkill_cleanup, killing_the_receiver_frees_its_buffers_and_ends_the_sender) { run(false); }

} // namespace
} // namespace netring::itest
