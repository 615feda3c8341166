// netring::port against a stand-in daemon (fake_daemon.hpp): open and its refusals, the pipe
// handoff through txsync/rxsync in both sync modes with payload checks, and the errors a user
// sees when the peer or the daemon goes away. No fd survives a failed open. wait() and its
// wake-ups: port_wait_test.cpp.
#include "port_traffic.hpp"

#include <netring/netring.hpp>

#include <gtest/gtest.h>

#include <dirent.h>

#include <algorithm>
#include <thread>

using netring::errc;
using netring::make_error_code;
using netring::port;
using netring::test::fake_daemon;
using netring::test::must_open;
using netring::test::opts_for;
using netring::test::receive_packets;
using netring::test::regif_flaw;
using netring::test::send_packets;

namespace {

int open_fd_count()
{
    int n = 0;
    DIR *d = ::opendir("/proc/self/fd");
    while (const dirent *e = ::readdir(d))
        if (e->d_name[0] != '.')
            n++;
    ::closedir(d);
    return n - 1;
}

TEST(Port, OpenMapsTheRegistration)
{
    fake_daemon d(8);
    auto a = must_open("netmap:pipeA{1", opts_for(d));
    EXPECT_EQ(a.tx_rings(), 1u);
    EXPECT_EQ(a.rx_rings(), 1u);
    EXPECT_EQ(a.buf_size(), 2048u);
    EXPECT_EQ(a.name(), "netmap:pipeA{1");
    ASSERT_NE(a.nifp(), nullptr);
    EXPECT_EQ(nr_txring(a.nifp(), 0), a.tx_ring(0));
    EXPECT_EQ(nr_rxring(a.nifp(), 0), a.rx_ring(0));
    EXPECT_EQ(a.tx_ring(0)->num_slots, 8u);
    EXPECT_EQ(a.tx_ring(1), nullptr);
    EXPECT_EQ(nr_ring_space(a.tx_ring(0)), 7u); // one slot stays empty
    EXPECT_EQ(a.buffer(NR_DUMMY_BUFFER), nr_buf(a.tx_ring(0), NR_DUMMY_BUFFER));
    EXPECT_EQ(a.buffer(1u << 30), nullptr);
    EXPECT_GE(a.control_fd(), 0);
    EXPECT_EQ(a.poll_fds(netring::wait_rx | netring::wait_tx).size(), 3u);
}

TEST(Port, PipeTransferShm)
{
    fake_daemon d(8);
    auto a = must_open("netmap:pipeA{1", opts_for(d));
    auto b = must_open("netmap:pipeA}1", opts_for(d));
    uint32_t sent = 0, next = 0;
    // Freed tx slots show up at the sender's next txsync, so some rounds send fewer than 5.
    for (int round = 0; round < 200 && sent < 100; round++) {
        sent += send_packets(a, sent, std::min(5u, 100 - sent));
        ASSERT_FALSE(a.txsync()) << a.last_error();
        ASSERT_FALSE(b.rxsync(0)) << b.last_error();
        receive_packets(b, &next);
        ASSERT_FALSE(b.rxsync()) << b.last_error(); // release the slots
    }
    EXPECT_EQ(sent, 100u);
    EXPECT_EQ(next, 100u);
    EXPECT_EQ(d.requests_served(), 4); // two HELLOs, two REGIFs: the data path used no socket
}

TEST(Port, PipeTransferSocketMode)
{
    fake_daemon d(8);
    auto a = must_open("netmap:pipeA{1", opts_for(d, netring::sync_mode::socket));
    auto b = must_open("netmap:pipeA}1", opts_for(d, netring::sync_mode::shm));
    EXPECT_EQ(a.mode(), netring::sync_mode::socket);
    uint32_t sent = 0, next = 0;
    for (int round = 0; round < 10; round++) {
        sent += send_packets(a, sent, 7);
        ASSERT_FALSE(a.txsync(0)) << a.last_error();
        ASSERT_FALSE(b.rxsync()) << b.last_error();
        receive_packets(b, &next);
        ASSERT_FALSE(b.rxsync()) << b.last_error();
    }
    EXPECT_EQ(next, sent);
    EXPECT_EQ(d.requests_served(), 4 + 10);
}

TEST(Port, BadRingIndex)
{
    fake_daemon d;
    auto a = must_open("netmap:pipeA{1", opts_for(d));
    EXPECT_EQ(a.txsync(1), make_error_code(errc::bad_ring));
    EXPECT_NE(a.last_error().find("tx ring 1"), std::string::npos) << a.last_error();
}

TEST(Port, InvalidHeadResetsTheRing)
{
    fake_daemon d(8);
    auto a = must_open("netmap:pipeA{1", opts_for(d));
    nr_ring *tx = a.tx_ring(0);
    tx->head = 3; // fresh ring: hwcur 0, hwtail 7
    tx->cur = 2;  // cur behind head
    EXPECT_EQ(a.txsync(), make_error_code(errc::ring_reset));
    EXPECT_NE(a.last_error().find("cur 2"), std::string::npos) << a.last_error();
    EXPECT_EQ(tx->head, 0u); // reset to hwcur
    EXPECT_EQ(tx->cur, 0u);
    EXPECT_FALSE(a.txsync()); // usable again
}

TEST(Port, InvalidHeadSocketModeCarriesDaemonMessage)
{
    fake_daemon d(8);
    auto a = must_open("netmap:pipeA{1", opts_for(d, netring::sync_mode::socket));
    a.tx_ring(0)->head = 100;
    EXPECT_EQ(a.txsync(), make_error_code(errc::ring_reset));
    EXPECT_NE(a.last_error().find("head 100"), std::string::npos) << a.last_error();
}

TEST(Port, PacketsBeforePeerGoneAreStillDelivered)
{
    fake_daemon d(8);
    auto b = must_open("netmap:pipeA}1", opts_for(d));
    {
        auto a = must_open("netmap:pipeA{1", opts_for(d));
        ASSERT_EQ(send_packets(a, 0, 3), 3u);
        ASSERT_FALSE(a.txsync());
    }
    std::error_code ec;
    for (int i = 0; i < 1000 && b.wait(netring::wait_rx, 0, ec) == 0; i++) // EOF handling is asynchronous
        std::this_thread::yield();
    uint32_t next = 0;
    EXPECT_EQ(receive_packets(b, &next), 3u);
    std::error_code last;
    for (int i = 0; i < 1000 && !last; i++) {
        last = b.rxsync();
        std::this_thread::yield();
    }
    EXPECT_EQ(last, make_error_code(errc::peer_gone));
}

TEST(Port, SocketModeDaemonGone)
{
    fake_daemon d(8);
    auto opts = opts_for(d, netring::sync_mode::socket);
    opts.survive_restart = false; // surviving it: port_control_test.cpp
    auto a = must_open("netmap:pipeA{1", opts);
    d.stop();
    EXPECT_EQ(a.txsync(), make_error_code(errc::daemon_gone));
}

TEST(Port, NoDaemon)
{
    netring::open_options o;
    o.socket_path = "/tmp/netring-no-such-dir/sock";
    auto p = port::open("netmap:pipeA{1", o);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.err().code, make_error_code(errc::daemon_gone));
    EXPECT_NE(p.err().message.find("/tmp/netring-no-such-dir/sock"), std::string::npos);
}

TEST(Port, BadNameFailsBeforeConnecting)
{
    fake_daemon d;
    auto p = port::open("netmap:pipeA{", opts_for(d));
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.err().code, make_error_code(errc::bad_port_name));
    EXPECT_EQ(d.requests_served(), 0);
}

TEST(Port, SocketPathFromEnvironment)
{
    fake_daemon d;
    ::setenv("NETRING_SOCKET", d.socket_path().c_str(), 1);
    EXPECT_EQ(netring::resolve_socket_path(""), d.socket_path());
    EXPECT_EQ(netring::resolve_socket_path("/x"), "/x");
    auto p = port::open("netmap:pipeA{1");
    ::unsetenv("NETRING_SOCKET");
    EXPECT_TRUE(p.ok()) << p.err().describe();
    EXPECT_EQ(netring::resolve_socket_path(""), netring::default_socket_path);
}

class PortBrokenReply : public ::testing::TestWithParam<regif_flaw> {};

TEST_P(PortBrokenReply, RefusedWithoutLeaks)
{
    fake_daemon d(8, GetParam());
    const int before = open_fd_count();
    {
        auto p = port::open("netmap:pipeA{1", opts_for(d));
        ASSERT_FALSE(p.ok());
        const errc want = GetParam() == regif_flaw::error_status ? errc::access_denied : errc::bad_message;
        EXPECT_EQ(p.err().code, make_error_code(want)) << p.err().describe();
    }
    // The failed open must have closed the socket, the region fd and every eventfd it received.
    // The fake's session (same process) closes its end of the socket when it sees our EOF.
    d.wait_idle();
    EXPECT_EQ(open_fd_count(), before);
}

INSTANTIATE_TEST_SUITE_P(Flaws, PortBrokenReply,
                         ::testing::Values(regif_flaw::missing_fd, regif_flaw::wrong_num_fds,
                                           regif_flaw::region_too_large, regif_flaw::bad_if_offset,
                                           regif_flaw::corrupt_ring_ofs, regif_flaw::wrong_slot_count,
                                           regif_flaw::error_status));

TEST(Stats, QueryAgainstFake)
{
    fake_daemon d;
    auto s = netring::query_stats(d.socket_path());
    ASSERT_TRUE(s.ok()) << s.err().describe();
    ASSERT_EQ(s->regions.size(), 1u);
    EXPECT_EQ(s->regions[0].name, "pipe:pipeA");
    EXPECT_EQ(s->clients, 1u);
    auto info = netring::query_port_info("netmap:pipeA{1", d.socket_path());
    ASSERT_FALSE(info.ok()); // the fake does not serve PORT_INFO: its error reply comes through
    EXPECT_EQ(info.err().code, make_error_code(errc::unknown_message));
    EXPECT_EQ(info.err().message, "not served here");
}

} // namespace
