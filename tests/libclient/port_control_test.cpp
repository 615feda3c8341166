// The control connection across a daemon restart (libclient/port_control.cpp), against
// fake_daemon stopped and started again on the same socket: a port whose daemon goes away keeps
// its pipe moving and reports control_lost rather than failing; a daemon that comes back and
// accepts REATTACH gives control_back and carries socket-mode syncs again; a refused REATTACH, or
// a reply naming other memory (never mapped), gives registration_lost and the pipe still moves.
// Waits loop on short timeouts until an event shows: no test asserts how long anything takes.
#include "port_traffic.hpp"

#include <netring/netring.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>

#include <fstream>
#include <sstream>

using netring::errc;
using netring::make_error_code;
using netring::port;
using netring::test::fake_daemon;
using netring::test::must_open;
using netring::test::opts_for;
using netring::test::reattach_answer;
using netring::test::receive_packets;
using netring::test::send_packets;

namespace {

// Waits on `p`'s (empty) rx ring until the events in `want` have all been reported, or about
// 10 s of 20 ms waits have passed. A wait that fails is a test failure: the daemon's absence must
// not be an error. Returns every event seen.
unsigned wait_for_events(port &p, unsigned want)
{
    unsigned seen = 0;
    for (int i = 0; i < 500 && (seen & want) != want; i++) {
        std::error_code ec;
        EXPECT_GE(p.wait(netring::wait_rx, 20, ec), 0) << ec.message() << ": " << p.last_error();
        seen |= p.control_events();
    }
    return seen;
}

// Sends `count` packets from `a` starting at *next_tx and checks that `b` receives them in order.
void move_packets(port &a, port &b, uint32_t *next_tx, uint32_t *next_rx, uint32_t count)
{
    const uint32_t end = *next_tx + count;
    while (*next_rx < end) {
        ASSERT_FALSE(a.txsync()) << a.last_error(); // takes back the slots b released
        *next_tx += send_packets(a, *next_tx, end - *next_tx);
        ASSERT_FALSE(a.txsync()) << a.last_error();
        std::error_code ec;
        ASSERT_GT(b.wait(netring::wait_rx, 5000, ec), 0) << ec.message() << ": " << b.last_error();
        receive_packets(b, next_rx);
        ASSERT_FALSE(b.rxsync()) << b.last_error();
    }
}

bool fd_open(int fd) { return fd >= 0 && ::fcntl(fd, F_GETFD) != -1; }

TEST(PortControl, PortSurvivesDaemonStop)
{
    fake_daemon d(8);
    auto a = must_open("netmap:pipeA{1", opts_for(d));
    auto b = must_open("netmap:pipeA}1", opts_for(d));
    const int control = b.control_fd();
    uint32_t next_tx = 0, next_rx = 0;
    move_packets(a, b, &next_tx, &next_rx, 5);
    EXPECT_TRUE(b.daemon_present());
    EXPECT_EQ(b.control_events(), 0u);

    d.stop();
    const unsigned seen = wait_for_events(b, netring::control_lost);
    EXPECT_EQ(seen, netring::control_lost) << b.last_error();
    EXPECT_FALSE(b.daemon_present());
    EXPECT_EQ(wait_for_events(a, netring::control_lost), netring::control_lost);

    // The pipe needs no daemon: frames keep crossing, in order.
    move_packets(a, b, &next_tx, &next_rx, 20);
    EXPECT_EQ(next_rx, 25u);
    // The control fd number is still an open descriptor (the retry timer), not a closed one.
    EXPECT_EQ(b.control_fd(), control);
    EXPECT_TRUE(fd_open(b.control_fd()));
    EXPECT_EQ(b.poll_fds(netring::wait_rx | netring::wait_tx).back(), control);
}

TEST(PortControl, ReattachCarriesSocketSyncsAgain)
{
    fake_daemon d(8);
    const auto opts = opts_for(d, netring::sync_mode::socket);
    auto a = must_open("netmap:pipeA{1", opts);
    auto b = must_open("netmap:pipeA}1", opts);
    const int control = a.control_fd();
    uint32_t next_tx = 0, next_rx = 0;
    move_packets(a, b, &next_tx, &next_rx, 5);

    d.stop();
    EXPECT_EQ(wait_for_events(a, netring::control_lost), netring::control_lost) << a.last_error();
    EXPECT_EQ(wait_for_events(b, netring::control_lost), netring::control_lost) << b.last_error();
    // Away, a socket-mode pipe syncs in shared memory: the sync the daemon would have run.
    move_packets(a, b, &next_tx, &next_rx, 10);

    d.set_reattach(reattach_answer::accept);
    d.restart();
    EXPECT_EQ(wait_for_events(a, netring::control_back), netring::control_back) << a.last_error();
    EXPECT_EQ(wait_for_events(b, netring::control_back), netring::control_back) << b.last_error();
    EXPECT_TRUE(a.daemon_present());
    EXPECT_TRUE(b.daemon_present());
    EXPECT_EQ(d.reattaches_accepted(), 2);
    EXPECT_EQ(a.control_fd(), control); // the new socket took the old number

    // Each sync is now one request to the restarted fake again.
    const int before = d.requests_served();
    ASSERT_EQ(send_packets(a, next_tx, 3), 3u);
    next_tx += 3;
    ASSERT_FALSE(a.txsync()) << a.last_error();
    ASSERT_FALSE(b.rxsync()) << b.last_error();
    EXPECT_EQ(d.requests_served(), before + 2);
    EXPECT_EQ(receive_packets(b, &next_rx), 3u);
    EXPECT_EQ(next_rx, 18u);
    EXPECT_EQ(a.control_events() | b.control_events(), 0u);
}

TEST(PortControl, RefusedReattachLosesRegistration)
{
    fake_daemon d(8);
    auto a = must_open("netmap:pipeA{1", opts_for(d));
    auto b = must_open("netmap:pipeA}1", opts_for(d));
    uint32_t next_tx = 0, next_rx = 0;
    d.stop();
    d.set_reattach(reattach_answer::refuse);
    d.restart();
    const unsigned seen = wait_for_events(b, netring::registration_lost);
    EXPECT_EQ(seen & netring::registration_lost, netring::registration_lost) << b.last_error();
    EXPECT_EQ(seen & netring::control_back, 0u);
    EXPECT_FALSE(b.daemon_present());
    EXPECT_NE(b.last_error().find("no such registration"), std::string::npos) << b.last_error();
    wait_for_events(a, netring::registration_lost);

    // The pipe still moves frames, and waiting is neither an error nor a busy loop: once lost, the
    // control fd never becomes readable.
    move_packets(a, b, &next_tx, &next_rx, 20);
    EXPECT_TRUE(fd_open(b.control_fd()));
    b.disarm_wait();
    pollfd control{b.control_fd(), POLLIN, 0};
    EXPECT_EQ(::poll(&control, 1, 0), 0);
    std::error_code ec;
    EXPECT_EQ(b.wait(netring::wait_rx, 0, ec), 0);
    EXPECT_FALSE(ec);
    EXPECT_EQ(b.control_events(), 0u);

    // With no daemon to tell it, closing A tells B itself.
    { auto gone = std::move(a); }
    EXPECT_EQ(b.wait(netring::wait_rx, 5000, ec), -1);
    EXPECT_EQ(ec, make_error_code(errc::peer_gone)) << ec.message();
}

TEST(PortControl, ReattachReplyWithOtherRegionIsRefused)
{
    fake_daemon d(8);
    auto a = must_open("netmap:pipeA{1", opts_for(d));
    auto b = must_open("netmap:pipeA}1", opts_for(d));
    nr_if *const nifp = b.nifp();
    const int region = b.region_fd();
    d.stop();
    d.set_reattach(reattach_answer::other_region);
    d.restart();
    const unsigned seen = wait_for_events(b, netring::registration_lost);
    EXPECT_EQ(seen & netring::registration_lost, netring::registration_lost) << b.last_error();
    EXPECT_EQ(seen & netring::control_back, 0u);
    EXPECT_NE(b.last_error().find("other than the one mapped"), std::string::npos) << b.last_error();
    EXPECT_EQ(d.reattaches_accepted(), 0);
    EXPECT_EQ(b.nifp(), nifp);
    EXPECT_EQ(b.region_fd(), region);

    // The decoy was never mapped (the fake does not map it either).
    std::ifstream maps("/proc/self/maps");
    std::stringstream text;
    text << maps.rdbuf();
    EXPECT_EQ(text.str().find(fake_daemon::decoy_name), std::string::npos);

    uint32_t next_tx = 0, next_rx = 0;
    move_packets(a, b, &next_tx, &next_rx, 20);
}

} // namespace
