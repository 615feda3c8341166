// Objective: a planned restart of netringd (netring-ctl restart) keeps a NIC port in AF_XDP mode:
// its XDP program, its AF_XDP socket (UMEM and kernel rings), its region, rings and registrations
// go to the new process, whose worker carries on where the old one stopped. Frames that arrive or
// leave while no worker runs wait in the kernel's or the client's rings: none is lost, corrupted
// or delivered twice, and the client re-attaches to the same memory.
// Steps: the fixture makes the veth pair (peer end in a namespace of the test's own) and starts
// netringd with `nic_mode afxdp`.
//  - RX: netring-pktgen -f rx (uid 65534) on the NIC; nic_peer sends N paced, sequence-numbered
//    frames from the peer end while `netring-ctl restart` replaces the daemon twice. The receiver
//    gets all N, in order and intact; the registration is listed with the receiver's pid again; the
//    NIC region's free buffers are what they were before the first restart; the veth keeps an XDP
//    program throughout.
//  - TX: nic_peer captures on the peer end while netring-pktgen -f tx sends N paced frames through
//    the NIC and the daemon is replaced twice; the capture sees all N, each once and intact.
//  - monitor: the RX scenario with a /r monitor of the NIC (netring-pktgen, 8192 slots) as well:
//    it re-attaches and sees every frame once, in order and intact.
//  - the same two with `nic_mode afpacket`: the packet socket and its RX ring are kept instead.
//  - four queues (veth with 4 RX/TX queues): nic_flow_rx on netmap:<veth> (one registration, four
//    AF_XDP sockets) gets 64 UDP flows of 500 checked frames while the daemon is replaced twice;
//    every flow arrives whole, once, in order.
//  - host rings: netring-pktgen -f rx on netmap:<veth>^ gets N frames nic_peer sends out through
//    the TAP while the daemon is replaced twice; all arrive, and the TAP keeps its ifindex.
//  - a crash (AF_XDP): the same RX and TX scenarios, but netringd runs with a service manager's
//    fd store (notify_store) and is SIGKILLed twice under the traffic, each time replaced by a
//    netringd started with the store's fds; the worker's journal gives the successor the cursors
//    the saved records cannot have. Each successor's log says it adopted the NIC, and STATS then
//    shows the same registration and the NIC region's free buffers as before the first kill.
// The rate keeps what arrives during a restart inside the socket's rings (AF_XDP: 4096 deep;
// AF_PACKET: 128 blocks, each retired after 1 ms with whatever it holds, hence a slower stream):
// the test checks integrity, not the length of the gap.
#include "nic_fixture.hpp"
#include "notify_store.hpp"

#include <net/if.h>

#include <fstream>
#include <thread>

namespace netring::itest {
namespace {

using namespace std::chrono_literals;

class restart_nic : public nic_test {
protected:
    std::string nic_mode() const override { return "afxdp"; }
    // 8 s of traffic: both restarts happen while it flows.
    virtual uint64_t frames() const { return 40000; }
    virtual uint64_t rate() const { return 5000; }

    // Whether the port attaches the XDP program (host rings alone do not).
    virtual bool expects_xdp() const { return true; }
    // `watched`: a /r monitor of the NIC must see every frame too.
    void expect_rx_across_restarts(bool watched = false);
    void expect_tx_across_restarts();

    // netring-ctl restart, and its verdict.
    void restart_daemon()
    {
        auto c = ctl({"restart", "--timeout", "30"});
        ASSERT_TRUE(c);
        const child_result r = c->wait(60s);
        ASSERT_TRUE(r.exited && r.exit_code == 0) << r.describe() << "\n" << daemon_log();
        EXPECT_NE(r.out.find("netringd restarted"), std::string::npos) << r.out;
        if (nic_mode() == "afxdp" && expects_xdp()) {
            EXPECT_TRUE(xdp_attached()) << "the XDP program went with the old process";
        }
    }
    // How the daemon is replaced twice under the client `c`'s traffic.
    virtual void replace_twice(child &c) { restart_twice(c); }
    // Two restarts a second apart, then the client `c` must have re-attached (or be done).
    void restart_twice(child &c)
    {
        restart_daemon();
        std::this_thread::sleep_for(1s);
        restart_daemon();
        EXPECT_TRUE(eventually([&] { return !c.running() || has_registration_of(stats(), c.pid()); }, 20s))
            << "the client did not re-attach\n"
            << daemon_log();
    }
    // The sender ends, and the receiver (netring-pktgen -f rx --json) got all `frames`, each once,
    // in order and intact.
    void expect_all_received(child &tx, child &rx, uint64_t frames)
    {
        const child_result t = tx.wait(120s);
        EXPECT_TRUE(t.exited && t.exit_code == 0) << "nic_peer send: " << t.describe();
        expect_received_whole(rx.wait(120s), frames, daemon_log());
    }
    // What netringd wrote to stderr (every process of it: the restarts keep the file).
    std::string daemon_log() const { return detail::read_file(dir() + "/netringd.err"); }
    // Both successors adopted the NIC rather than starting cold.
    virtual void expect_nic_adopted_twice() const
    {
        const std::string log = daemon_log();
        size_t adopted = 0;
        for (size_t at = log.find(", 1 NIC, "); at != std::string::npos; at = log.find(", 1 NIC, ", at + 1))
            adopted++;
        EXPECT_EQ(adopted, 2u) << log;
        EXPECT_EQ(log.find("cold start"), std::string::npos) << log;
    }
};

class restart_nic_afpacket : public restart_nic {
protected:
    std::string nic_mode() const override { return "afpacket"; }
    // One frame per block at most (a block retires 1 ms after its first frame): 128 blocks hold
    // half a second of this stream.
    uint64_t frames() const override { return 2000; }
    uint64_t rate() const override { return 250; }
};

void restart_nic::expect_rx_across_restarts(bool watched)
{
    const uint64_t frames = this->frames();
    const std::string n = std::to_string(frames);
    auto rx = pktgen({"-i", nic_port(), "-f", "rx", "-n", n, "-T", "90", "--json"});
    ASSERT_TRUE(rx);
    ASSERT_TRUE(wait_registered(rx->pid(), 20s)) << rx->read_err();
    std::unique_ptr<child> watch;
    if (watched) { // 8192 slots hold 1.6 s of the stream: the burst a successor's worker delivers fits
        watch = pktgen({"-i", nic_port() + "/r", "-f", "rx", "-n", n, "-T", "90", "--slots", "8192", "--json"});
        ASSERT_TRUE(watch);
        ASSERT_TRUE(wait_registered(watch->pid(), 20s)) << watch->read_err();
    }
    const auto before = nic_region(stats());
    ASSERT_TRUE(before);
    auto tx = peer_send({"--count", n, "--len", "60", "--rate", std::to_string(rate())});
    ASSERT_TRUE(tx);
    std::this_thread::sleep_for(1s);

    replace_twice(*rx);
    if (watch) {
        EXPECT_TRUE(eventually([&] { return !watch->running() || has_registration_of(stats(), watch->pid()); }, 20s))
            << "the monitor did not re-attach\n"
            << daemon_log();
    }
    const auto after = nic_region(stats());
    ASSERT_TRUE(after);
    EXPECT_EQ(after->buffers_free, before->buffers_free);
    expect_all_received(*tx, *rx, frames);
    if (watch)
        expect_received_whole(watch->wait(120s), frames, daemon_log());
    expect_nic_adopted_twice();
}

void restart_nic::expect_tx_across_restarts()
{
    const uint64_t frames = this->frames();
    const std::string n = std::to_string(frames);
    auto cap = peer_capture({"--count", n, "--timeout-s", "90"});
    ASSERT_TRUE(cap);
    ASSERT_TRUE(wait_ready(*cap, 20s)) << "nic_peer capture did not start: " << cap->read_err();
    auto tx =
        pktgen({"-i", nic_port(), "-f", "tx", "-n", n, "-l", "60", "-R", std::to_string(rate()), "--json"});
    ASSERT_TRUE(tx);
    ASSERT_TRUE(wait_registered(tx->pid(), 20s)) << tx->read_err();
    std::this_thread::sleep_for(1s);

    replace_twice(*tx);

    const child_result t = tx->wait(120s);
    ASSERT_TRUE(t.exited && t.exit_code == 0) << "tx: " << t.describe() << "\n" << daemon_log();
    EXPECT_EQ(json_number(t.out, "packets"), static_cast<double>(frames)) << t.out;
    const child_result c = cap->wait(120s);
    EXPECT_TRUE(c.exited && c.exit_code == 0) << "nic_peer capture: " << c.describe();
    EXPECT_EQ(json_number(c.out, "received"), static_cast<double>(frames)) << c.out;
    EXPECT_EQ(json_number(c.out, "lost"), 0.0) << c.out;
    EXPECT_EQ(json_number(c.out, "corrupt"), 0.0) << c.out;
    EXPECT_EQ(json_number(c.out, "duplicate"), 0.0) << c.out;
    expect_nic_adopted_twice();
}

class crash_nic : public restart_nic {
protected:
    void SetUp() override
    {
        ASSERT_TRUE(store.ok()) << "cannot bind the notify socket";
        daemon_env.push_back(store.env());
        restart_nic::SetUp();
    }
    // SIGKILL, 100 ms without a daemon, a successor from the store's fds; twice, a second apart.
    // Each successor must adopt the NIC, and the client `c` must be listed again, as before.
    void replace_twice(child &c) override
    {
        ASSERT_TRUE(eventually([&] { return has_registration_of(stats(), c.pid()); }, 10s));
        ASSERT_TRUE(eventually([&] { return store.status().starts_with("1 registration,"); }, 10s))
            << store.status();
        const daemon_stats before = stats();
        for (int round = 1; round <= 2; round++) {
            SCOPED_TRACE("SIGKILL " + std::to_string(round));
            kill_daemon();
            std::this_thread::sleep_for(100ms);
            ASSERT_TRUE(daemon_test::restart_daemon(store.fds())) << daemon_test::daemon_log();
            // The listening socket came from the store: it accepted before the successor ran.
            EXPECT_TRUE(eventually([&] { return daemon_test::daemon_log().find("restart: ") != std::string::npos; }, 20s));
            const std::string log = daemon_test::daemon_log(); // the successor's alone
            EXPECT_NE(log.find(", 1 NIC, "), std::string::npos) << log;
            EXPECT_EQ(log.find("cold start"), std::string::npos) << log;
            EXPECT_TRUE(xdp_attached()) << "the XDP program went with the killed process";
            EXPECT_TRUE(eventually([&] { return !c.running() || has_registration_of(stats(), c.pid()); }, 20s))
                << "the client did not re-attach\n"
                << log;
            const daemon_stats after = stats();
            ASSERT_EQ(after.registrations.size(), before.registrations.size());
            EXPECT_EQ(after.registrations[0].reg_id, before.registrations[0].reg_id);
            EXPECT_EQ(after.registrations[0].pid, before.registrations[0].pid);
            EXPECT_EQ(nic_region(after)->buffers_free, nic_region(before)->buffers_free);
            std::this_thread::sleep_for(1s);
        }
    }
    void expect_nic_adopted_twice() const override {} // checked after each kill: the log starts anew

    notify_store store;
};

TEST_F(crash_nic, received_frames_survive_two_sigkills) { expect_rx_across_restarts(); }

TEST_F(crash_nic, transmitted_frames_survive_two_sigkills) { expect_tx_across_restarts(); }

class restart_nic_four_queues : public restart_nic {
protected:
    unsigned queues() const override { return 4; }
};

TEST_F(restart_nic_four_queues, every_queue_carries_on_across_two_restarts)
{
    constexpr uint32_t flows = 64;
    constexpr uint64_t per_flow = 500;
    auto rx = flow_rx(nic_port(),
                      {"--count", std::to_string(flows * per_flow), "--idle-ms", "5000", "--max-s", "90"});
    ASSERT_TRUE(rx);
    ASSERT_TRUE(wait_registered(rx->pid(), 20s)) << rx->read_err();
    auto tx =
        peer_send({"--count", std::to_string(flows * per_flow), "--format", "udp", "--flows",
                   std::to_string(flows), "--len", "128", "--dst-mac", net().bound_mac(), "--rate", "4000"});
    ASSERT_TRUE(tx);
    std::this_thread::sleep_for(1s);

    restart_twice(*rx);

    const child_result t = tx->wait(120s);
    EXPECT_TRUE(t.exited && t.exit_code == 0) << "nic_peer send: " << t.describe();
    const child_result r = rx->wait(120s);
    ASSERT_TRUE(r.exited && r.exit_code == 0) << "rx: " << r.describe() << "\n" << daemon_log();
    EXPECT_EQ(json_number(r.out, "corrupt"), 0.0) << r.out;
    EXPECT_EQ(json_number(r.out, "duplicate"), 0.0) << r.out;
    EXPECT_EQ(json_number(r.out, "lost"), 0.0) << r.out;
    const auto counts = per_flow_counts(r.out);
    EXPECT_EQ(counts.size(), flows) << r.out;
    for (const auto &[flow, n] : counts)
        EXPECT_EQ(n, per_flow) << "flow " << flow;
    expect_nic_adopted_twice();
}

// Host rings: netring-pktgen -f rx on netmap:<veth>^ receives what nic_peer sends out through the
// TAP nr-<veth> (in the root namespace, IPv6 off for the TAPs made meanwhile, so the kernel sends
// nothing of its own) while the daemon is replaced twice: every frame arrives once, in order,
// intact, and the TAP is the same device (same ifindex) after both restarts.
class restart_nic_host : public restart_nic {
protected:
    void SetUp() override
    {
        std::ifstream("/proc/sys/net/ipv6/conf/default/disable_ipv6") >> ipv6_default_;
        std::ofstream("/proc/sys/net/ipv6/conf/default/disable_ipv6") << "1";
        restart_nic::SetUp();
    }
    void TearDown() override
    {
        restart_nic::TearDown();
        if (!ipv6_default_.empty())
            std::ofstream("/proc/sys/net/ipv6/conf/default/disable_ipv6") << ipv6_default_;
    }
    bool expects_xdp() const override { return false; }
    std::string ipv6_default_;
};

TEST_F(restart_nic_host, frames_through_the_tap_survive_two_restarts)
{
    constexpr uint64_t frames = 20000;
    const std::string n = std::to_string(frames);
    auto rx = pktgen({"-i", nic_port("^"), "-f", "rx", "-n", n, "-T", "90", "--json"});
    ASSERT_TRUE(rx);
    ASSERT_TRUE(wait_registered(rx->pid(), 20s)) << rx->read_err();
    const std::string tap = "nr-" + net().bound_if();
    const unsigned index = ::if_nametoindex(tap.c_str());
    ASSERT_NE(index, 0u) << "no TAP " << tap;
    // While no worker reads the TAP, what the kernel sends waits in its queue: 10000 frames hold
    // 2 s of this stream, ample for a restart on a slow (sanitizer) build.
    std::string out;
    ASSERT_EQ(run_command({"ip", "link", "set", "dev", tap, "txqueuelen", "10000"}, &out), 0) << out;
    auto tx = spawn({binary_path("/tests/integration/nic_peer"), "send", "--if", tap, "--count", n, "--len",
                     "60", "--rate", "5000"},
                    false);
    ASSERT_TRUE(tx);
    std::this_thread::sleep_for(1s);

    restart_twice(*rx);
    EXPECT_EQ(::if_nametoindex(tap.c_str()), index) << "the TAP is not the same device";
    expect_all_received(*tx, *rx, frames);
    expect_nic_adopted_twice();
}

TEST_F(restart_nic, received_frames_survive_two_restarts) { expect_rx_across_restarts(); }

TEST_F(restart_nic, a_monitor_sees_every_received_frame_across_two_restarts) { expect_rx_across_restarts(true); }

TEST_F(restart_nic, transmitted_frames_survive_two_restarts) { expect_tx_across_restarts(); }

TEST_F(restart_nic_afpacket, received_frames_survive_two_restarts) { expect_rx_across_restarts(); }

TEST_F(restart_nic_afpacket, transmitted_frames_survive_two_restarts) { expect_tx_across_restarts(); }

} // namespace
} // namespace netring::itest
