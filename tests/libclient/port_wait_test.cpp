// port::wait() (libclient/port_wait.cpp) against fake_daemon: timeouts, wake-ups by a packet,
// by released tx space, by the peer or the daemon going away, arming for an application's own
// event loop, and the cases where arming cannot succeed because a ring's status says nothing more
// will come (the peer closed while the receiver holds packets, or a peer wrote garbage into the
// status): wait() must return -1 with peer_gone rather than spin until its timeout.
#include "port_traffic.hpp"

#include <netring/netring.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

using netring::errc;
using netring::make_error_code;
using netring::port;
using netring::test::fake_daemon;
using netring::test::must_open;
using netring::test::opts_for;
using netring::test::receive_packets;
using netring::test::send_packets;

namespace {

// Ring `i` of the port's if block (tx rings first, then rx rings): its sync block, reached the way
// any process mapping the region can reach it.
nr_sync *sync_of(const port &p, uint32_t i)
{
    nr_if *nifp = p.nifp();
    return reinterpret_cast<nr_sync *>(reinterpret_cast<char *>(nifp) + nr_get_ring_ext(nifp, i)->sync_ofs);
}

uint32_t status_of(nr_sync *s) { return std::atomic_ref<uint32_t>(s->flags.status).load(); }

// The fake handles a client's EOF on its own thread: wait until it has marked the ring.
bool becomes_peer_gone(nr_sync *s)
{
    for (int i = 0; i < 10000 && status_of(s) != NR_SYNC_PEER_GONE; i++)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return status_of(s) == NR_SYNC_PEER_GONE;
}

const char *mode_name(netring::sync_mode m) { return m == netring::sync_mode::shm ? "shm" : "socket"; }

TEST(PortWait, WaitTimesOutAndSeesSpace)
{
    fake_daemon d(8);
    auto opts = opts_for(d);
    opts.spin_before_sleep = 10;
    auto a = must_open("netmap:pipeA{1", opts);
    std::error_code ec;
    EXPECT_EQ(a.wait(netring::wait_rx, 0, ec), 0);
    EXPECT_FALSE(ec);
    EXPECT_EQ(a.wait(netring::wait_rx, 20, ec), 0);
    EXPECT_FALSE(ec);
    EXPECT_EQ(a.wait(netring::wait_tx, 20, ec), 1); // an empty tx ring has space
    EXPECT_EQ(a.wait(0, 20, ec), -1);
    EXPECT_EQ(ec, std::make_error_code(std::errc::invalid_argument));
}

TEST(PortWait, WaitWakesOnPacket)
{
    for (auto mode : {netring::sync_mode::shm, netring::sync_mode::socket}) {
        fake_daemon d(8);
        auto opts = opts_for(d, mode);
        opts.spin_before_sleep = 0; // go straight to sleep: the eventfd path is what is tested
        auto a = must_open("netmap:pipeA{1", opts);
        auto b = must_open("netmap:pipeA}1", opts);
        int result = -2;
        std::error_code ec;
        std::thread waiter([&] { result = b.wait(netring::wait_rx, -1, ec); });
        // Whether the waiter already sleeps or not, the packet must wake it exactly once.
        ASSERT_EQ(send_packets(a, 0, 1), 1u);
        ASSERT_FALSE(a.txsync());
        waiter.join();
        EXPECT_EQ(result, 1) << ec.message();
        uint32_t next = 0;
        EXPECT_EQ(receive_packets(b, &next), 1u);
    }
}

TEST(PortWait, WaitWakesWhenTxSpaceReturns)
{
    fake_daemon d(4);
    auto opts = opts_for(d);
    opts.spin_before_sleep = 0;
    auto a = must_open("netmap:pipeA{1", opts);
    auto b = must_open("netmap:pipeA}1", opts);
    ASSERT_EQ(send_packets(a, 0, 10), 3u); // ring full
    ASSERT_FALSE(a.txsync());
    int result = -2;
    std::error_code ec;
    std::thread waiter([&] { result = a.wait(netring::wait_tx, -1, ec); });
    ASSERT_FALSE(b.rxsync());
    uint32_t next = 0;
    EXPECT_EQ(receive_packets(b, &next), 3u);
    ASSERT_FALSE(b.rxsync()); // releases the slots: must kick the sleeping sender
    waiter.join();
    EXPECT_EQ(result, 1) << ec.message();
    EXPECT_GT(nr_ring_space(a.tx_ring(0)), 0u);
}

TEST(PortWait, PeerGoneWakesWaiter)
{
    fake_daemon d(8);
    auto opts = opts_for(d);
    opts.spin_before_sleep = 0;
    auto b = must_open("netmap:pipeA}1", opts);
    std::error_code ec;
    int result = -2;
    {
        auto a = must_open("netmap:pipeA{1", opts);
        std::thread waiter([&] { result = b.wait(netring::wait_rx, -1, ec); });
        std::this_thread::yield();
        { auto gone = std::move(a); } // closing A's connection unregisters it
        waiter.join();
    }
    EXPECT_EQ(result, -1);
    EXPECT_EQ(ec, make_error_code(errc::peer_gone));
    EXPECT_EQ(b.rxsync(), make_error_code(errc::peer_gone));
}

TEST(PortWait, DaemonGoneWakesWaiter)
{
    fake_daemon d(8);
    auto opts = opts_for(d);
    opts.spin_before_sleep = 0;
    opts.survive_restart = false; // surviving it: port_control_test.cpp
    auto b = must_open("netmap:pipeA}1", opts);
    std::error_code ec;
    int result = -2;
    std::thread waiter([&] { result = b.wait(netring::wait_rx, -1, ec); });
    d.stop();
    waiter.join();
    EXPECT_EQ(result, -1);
    EXPECT_EQ(ec, make_error_code(errc::daemon_gone));
}

TEST(PortWait, ArmWaitForExternalLoops)
{
    fake_daemon d(8);
    auto a = must_open("netmap:pipeA{1", opts_for(d));
    auto b = must_open("netmap:pipeA}1", opts_for(d));
    ASSERT_TRUE(b.arm_wait(netring::wait_rx)); // nothing there: may sleep
    send_packets(a, 0, 1);
    ASSERT_FALSE(a.txsync());
    b.disarm_wait();
    ASSERT_FALSE(b.rxsync());
    EXPECT_FALSE(b.arm_wait(netring::wait_rx)); // a packet waits: must not sleep
}

TEST(PortWait, PeerGoneWhileHoldingPacketsEndsWait)
{
    for (auto mode : {netring::sync_mode::shm, netring::sync_mode::socket}) {
        SCOPED_TRACE(mode_name(mode));
        fake_daemon d(8);
        auto opts = opts_for(d, mode);
        auto b = must_open("netmap:pipeA}1", opts);
        std::optional<port> a(must_open("netmap:pipeA{1", opts));
        ASSERT_EQ(send_packets(*a, 0, 3), 3u);
        ASSERT_FALSE(a->txsync()) << a->last_error();
        ASSERT_FALSE(b.rxsync()) << b.last_error();
        nr_ring *rx = b.rx_ring(0);
        ASSERT_EQ(nr_ring_space(rx), 3u);
        rx->cur = rx->tail; // read all three, release none: head stays behind
        ASSERT_FALSE(b.rxsync()) << b.last_error();

        a.reset(); // closing A's connection breaks the pipe
        ASSERT_TRUE(becomes_peer_gone(sync_of(b, b.tx_rings() + 0)));
        std::error_code ec;
        EXPECT_EQ(b.wait(netring::wait_rx, 2000, ec), -1) << "must not wait out the timeout";
        EXPECT_EQ(ec, make_error_code(errc::peer_gone)) << ec.message();

        // The held packets are still the application's, intact.
        EXPECT_EQ(rx->head, 0u);
        rx->cur = rx->head;
        uint32_t next = 0;
        EXPECT_EQ(receive_packets(b, &next), 3u);
    }
}

TEST(PortWait, PeerGoneWakesSleeperHoldingPackets)
{
    fake_daemon d(8);
    auto opts = opts_for(d);
    opts.spin_before_sleep = 0;
    auto b = must_open("netmap:pipeA}1", opts);
    std::optional<port> a(must_open("netmap:pipeA{1", opts));
    ASSERT_EQ(send_packets(*a, 0, 2), 2u);
    ASSERT_FALSE(a->txsync());
    ASSERT_FALSE(b.rxsync());
    b.rx_ring(0)->cur = b.rx_ring(0)->tail;
    int result = -2;
    std::error_code ec;
    std::thread waiter([&] { result = b.wait(netring::wait_rx, 10000, ec); });
    // Whether the waiter already sleeps or not, the peer's close must end the wait.
    a.reset();
    waiter.join();
    EXPECT_EQ(result, -1);
    EXPECT_EQ(ec, make_error_code(errc::peer_gone)) << ec.message();
}

TEST(PortWait, GarbageRingStatusEndsWait)
{
    for (auto mode : {netring::sync_mode::shm, netring::sync_mode::socket}) {
        SCOPED_TRACE(mode_name(mode));
        fake_daemon d(8);
        auto opts = opts_for(d, mode);
        auto a = must_open("netmap:pipeA{1", opts);
        auto b = must_open("netmap:pipeA}1", opts);

        // A peer in the same region writes a value no side ever writes into B.rx's status.
        nr_sync *rx_sync = sync_of(b, b.tx_rings() + 0);
        std::atomic_ref<uint32_t>(rx_sync->flags.status).store(77);
        std::error_code ec;
        EXPECT_EQ(b.wait(netring::wait_rx, 2000, ec), -1);
        EXPECT_EQ(ec, make_error_code(errc::peer_gone)) << ec.message();
        EXPECT_FALSE(b.last_error().empty());

        // The same for a full tx ring waiting for space.
        ASSERT_EQ(send_packets(b, 0, 100), 7u);
        ASSERT_FALSE(b.txsync()) << b.last_error();
        std::atomic_ref<uint32_t>(sync_of(b, 0)->flags.status).store(77);
        ec.clear();
        EXPECT_EQ(b.wait(netring::wait_tx, 2000, ec), -1);
        EXPECT_EQ(ec, make_error_code(errc::peer_gone)) << ec.message();

        // A's rings were not touched: its waits behave as before.
        EXPECT_EQ(a.wait(netring::wait_tx, 0, ec), 1);
        EXPECT_FALSE(ec);
    }
}

} // namespace
