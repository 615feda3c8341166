// Objective: with `nic_mode afxdp` netringd moves frames between a NIC (one end of a veth pair) and an
// unprivileged client's rings through AF_XDP, both ways, intact; and it leaves nothing behind: no XDP
// program or XSK after SIGTERM, every buffer back after a client's SIGKILL, and after its own SIGKILL
// a new daemon binds the same interface again.
// Steps: the fixture makes netns nrt<pid><tag> holding the veth's peer end and starts netringd with
// `nic_mode afxdp` and `allow uid=65534 netmap:<veth>*`.
//  - RX/TX at 60 and 1500 bytes as in nic_afpacket_test (netring-pktgen as uid 65534, nic_peer in the
//    namespace checking or sending netring-pktgen frames).
//  - SIGTERM: with a receiver registered, the veth has an XDP program; after SIGTERM (exit 0) it has
//    none, `ss --xdp` lists no socket on it (where the kernel has xsk_diag), the receiver ends, and a
//    second netringd binds the queue again (a leftover XSK would keep it busy).
//  - client SIGKILL (2 queues): a root holder keeps queue 1 open, buffers_free is read; a receiver on
//    queue 0 is SIGKILLed while flows arrive; buffers_free returns to the value read. The same when
//    the receiver exits on its own, and after 16 in-process opens and closes of queue 0.
//  - daemon SIGKILL: the kernel drops the program with the daemon's bpf_link; a second netringd on a
//    new socket binds the veth and a receiver gets N intact frames through it.
#include "nic_fixture.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

namespace netring::itest {
namespace {

using namespace std::chrono_literals;

class nic_afxdp : public nic_test {
protected:
    std::string nic_mode() const override { return "afxdp"; }
};

TEST_F(nic_afxdp, rx_60_byte_frames_arrive_intact) { expect_rx_intact(60, 20000); }

TEST_F(nic_afxdp, rx_1500_byte_frames_arrive_intact) { expect_rx_intact(1500, 20000); }

TEST_F(nic_afxdp, tx_60_byte_frames_leave_intact) { expect_tx_intact(60, 20000); }

TEST_F(nic_afxdp, tx_1500_byte_frames_leave_intact) { expect_tx_intact(1500, 20000); }

TEST_F(nic_afxdp, sigterm_detaches_the_xdp_program_and_closes_every_xsk)
{
    auto rx = pktgen({"-i", nic_port(), "-f", "rx", "-T", "60", "--json"});
    ASSERT_TRUE(rx);
    ASSERT_TRUE(wait_registered(rx->pid(), 20s)) << rx->read_err();
    EXPECT_TRUE(xdp_attached()) << "no XDP program on the bound veth while a client uses it:\n"
                                << net().bound_link_details();
    const bool ss_sees_xsks = xsk_count() >= 0; // not on kernels without xsk_diag
    if (ss_sees_xsks) {
        EXPECT_GT(xsk_count(), 0) << "ss --xdp lists no AF_XDP socket on " << net().bound_if();
    }

    // SIGTERM by hand, reading the exit without reaping; kill_daemon() then only reaps the zombie.
    ASSERT_EQ(::kill(daemon_pid(), SIGTERM), 0);
    siginfo_t info{};
    const bool exited = eventually(
        [&] {
            info = {};
            return ::waitid(P_PID, daemon_pid(), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
                   info.si_pid == daemon_pid();
        },
        15s);
    ASSERT_TRUE(exited) << "netringd did not exit within 15 s of SIGTERM";
    EXPECT_TRUE(info.si_code == CLD_EXITED && info.si_status == 0)
        << "netringd after SIGTERM: code " << info.si_code << " status " << info.si_status;
    kill_daemon();

    EXPECT_TRUE(eventually([&] { return !xdp_attached(); }, 5s)) << "XDP program left on the veth:\n"
                                                                 << net().bound_link_details();
    if (ss_sees_xsks) {
        EXPECT_TRUE(eventually([&] { return xsk_count() == 0; }, 5s)) << "AF_XDP sockets left on the veth";
    }
    const child_result r = rx->wait(30s);
    EXPECT_TRUE(r.exited) << "the client did not notice the daemon going: " << r.describe();
    // An XSK left bound to queue 0 would keep the next daemon from binding it.
    expect_second_daemon_receives(2000);
}

TEST_F(nic_afxdp, daemon_sigkill_then_a_new_daemon_binds_the_veth_again)
{
    auto rx = pktgen({"-i", nic_port(), "-f", "rx", "-T", "60", "--json"});
    ASSERT_TRUE(rx);
    ASSERT_TRUE(wait_registered(rx->pid(), 20s)) << rx->read_err();
    ASSERT_TRUE(xdp_attached()) << net().bound_link_details();
    kill_daemon();
    // The program hangs on the daemon's bpf_link: the kernel detaches it when the daemon dies.
    EXPECT_TRUE(eventually([&] { return !xdp_attached(); }, 5s)) << "XDP program left after SIGKILL:\n"
                                                                 << net().bound_link_details();
    // The receiver outlives its daemon: libnetring waits to re-attach to a successor on the same
    // socket (docs/RESTART.md). This test's second daemon listens elsewhere, so end it here.
    EXPECT_TRUE(rx->running()) << rx->read_err();
    rx->signal(SIGKILL);
    EXPECT_EQ(rx->wait(30s).signal, SIGKILL);

    expect_second_daemon_receives(2000);
}

class nic_afxdp_two_queues : public nic_afxdp {
protected:
    unsigned queues() const override { return 2; }

    // A holder keeps queue 1 (and so the region) open; a receiver on queue 0 leaves while flows
    // arrive, killed or on its own; every buffer its queue took must come back.
    void expect_buffers_back(bool kill)
    {
        auto holder = port::open(nic_port("-1"), options());
        ASSERT_TRUE(holder) << holder.err().describe();
        const auto start = nic_region(stats());
        ASSERT_TRUE(start) << "STATS lists no region for " << net().bound_if();

        // Killed: it never goes idle; else it ends 1 s after the flows stop.
        auto victim = flow_rx(nic_port("-0"), {"--max-s", "60", "--idle-ms", kill ? "60000" : "1000"});
        ASSERT_TRUE(victim);
        ASSERT_TRUE(wait_registered(victim->pid(), 20s)) << victim->read_err();
        auto tx = peer_send({"--count", "40000", "--format", "udp", "--flows", "16", "--dst-mac",
                             net().bound_mac(), "--rate", "20000"});
        ASSERT_TRUE(tx);
        if (kill) {
            std::this_thread::sleep_for(1s); // traffic in flight: the victim holds frames in its ring
            ASSERT_TRUE(victim->running()) << victim->read_err();
            victim->signal(SIGKILL);
            EXPECT_EQ(victim->wait(10s).signal, SIGKILL);
        }
        const child_result t = tx->wait(60s);
        EXPECT_TRUE(t.exited && t.exit_code == 0) << t.describe();
        if (!kill) {
            const child_result v = victim->wait(60s);
            EXPECT_TRUE(v.exited && v.exit_code == 0) << v.describe();
            EXPECT_GT(json_number(v.out, "received").value_or(0), 0.0) << "no flow hashed to queue 0: " << v.out;
        }

        std::optional<region_stats> now;
        EXPECT_TRUE(eventually(
            [&] {
                now = nic_region(stats());
                return now && now->buffers_free == start->buffers_free;
            },
            10s));
        ASSERT_TRUE(now) << "the region went away while the holder keeps it";
        EXPECT_EQ(now->buffers_free, start->buffers_free)
            << "buffers not returned after the queue 0 client " << (kill ? "was killed" : "exited") << " (of "
            << now->buffers_total << "; region " << now->name << ")";
        EXPECT_FALSE(has_registration_of(stats(), victim->pid()));
        EXPECT_TRUE(daemon_alive());
    }
};

TEST_F(nic_afxdp_two_queues, client_sigkill_returns_every_buffer) { expect_buffers_back(true); }

TEST_F(nic_afxdp_two_queues, client_exit_returns_every_buffer) { expect_buffers_back(false); }

// What a queue takes when it is bound must come back when it is unbound, or a port that lives on
// (queue 1 held) runs its region dry after a few opens of another queue.
TEST_F(nic_afxdp_two_queues, reopening_a_queue_does_not_drain_the_region)
{
    auto holder = port::open(nic_port("-1"), options());
    ASSERT_TRUE(holder) << holder.err().describe();
    const auto start = nic_region(stats());
    ASSERT_TRUE(start) << "STATS lists no region for " << net().bound_if();
    for (int i = 0; i < 16; i++) {
        auto p = port::open(nic_port("-0"), options());
        ASSERT_TRUE(p) << "open " << i + 1 << " of queue 0: " << p.err().describe();
    }
    const auto end = nic_region(stats());
    ASSERT_TRUE(end);
    EXPECT_EQ(end->buffers_free, start->buffers_free) << "after 16 opens and closes of queue 0";
}

} // namespace
} // namespace netring::itest
