// Objective: when netringd dies, clients that turned survive_restart off get errc::daemon_gone
// from the calls that need it instead of hanging, and a new open fails with a clear error.
// (Surviving the loss, the default: restart_survival_test.cpp.)
// Steps: as root in-process open both ends of a pipe (the sender in socket sync mode, the receiver
// in shm mode), both with survive_restart off, and move a packet; SIGKILL the daemon this fixture started (teardown then expects
// no clean exit); the socket-mode txsync and rxsync return daemon_gone; wait(wait_rx, 5000) on the
// shm end and on the socket end returns -1 with daemon_gone (it must not sleep through a dead
// control socket; the time it takes is not asserted); port::open and query_stats on the dead socket
// fail with a sentence. An alarm guards against hangs: a hang kills the test process.
#include "harness.hpp"

#include <unistd.h>

#include <cstring>
#include <optional>

namespace netring::itest {
namespace {

using namespace std::chrono_literals;

class daemon_loss : public daemon_test {
protected:
    void TearDown() override
    {
        ::alarm(0);
        daemon_test::TearDown();
    }
};

// Puts one 60-byte packet on tx ring 0 (without syncing).
void put_packet(port &p)
{
    nr_ring *ring = p.tx_ring(0);
    ASSERT_GT(nr_ring_space(ring), 0u);
    nr_slot &slot = ring->slot[ring->cur];
    slot.ptr = 0;
    std::memset(nr_buf(ring, slot.buf_idx), 0x5a, 60);
    slot.len = 60;
    ring->head = ring->cur = nr_ring_next(ring, ring->cur);
}

// This test's ports: daemon_gone as soon as the connection breaks.
open_options fatal_loss(open_options o)
{
    o.survive_restart = false;
    return o;
}

TEST_F(daemon_loss, clients_see_daemon_gone_instead_of_hanging)
{
    auto a = open_port("netmap:pipeD{1", fatal_loss(options(sync_mode::socket)));
    auto b = open_port("netmap:pipeD}1", fatal_loss(options(sync_mode::shm)));
    ASSERT_TRUE(a && b);
    put_packet(*a);
    ASSERT_EQ(a->txsync(0), std::error_code()) << a->last_error();
    std::error_code ec;
    ASSERT_GT(b->wait(wait_rx, 5000, ec), 0) << ec.message() << ": " << b->last_error();
    ASSERT_EQ(nr_ring_space(b->rx_ring(0)), 1u);
    nr_ring *rx = b->rx_ring(0);
    rx->head = rx->cur = rx->tail; // consume it
    ASSERT_EQ(b->rxsync(0), std::error_code()) << b->last_error();

    kill_daemon();
    ::alarm(120); // a hang from here on ends the process, failing the test

    put_packet(*a);
    EXPECT_EQ(a->txsync(0), make_error_code(errc::daemon_gone)) << a->last_error();
    EXPECT_FALSE(a->last_error().empty());
    EXPECT_EQ(a->rxsync(0), make_error_code(errc::daemon_gone)) << a->last_error();

    ec.clear();
    EXPECT_EQ(b->wait(wait_rx, 5000, ec), -1) << "wait on the shm end";
    EXPECT_EQ(ec, make_error_code(errc::daemon_gone)) << ec.message() << ": " << b->last_error();

    ec.clear();
    EXPECT_EQ(a->wait(wait_rx, 5000, ec), -1) << "wait on the socket end";
    EXPECT_EQ(ec, make_error_code(errc::daemon_gone)) << ec.message() << ": " << a->last_error();

    // The socket file is still there but nobody listens.
    auto again = port::open("netmap:pipeD{2", options(sync_mode::shm));
    ASSERT_FALSE(again.ok()) << "open succeeded with the daemon dead";
    EXPECT_FALSE(again.err().message.empty());
    EXPECT_TRUE(again.err().code) << again.err().describe();

    auto st = query_stats(socket_path());
    ASSERT_FALSE(st.ok());
    EXPECT_FALSE(st.err().message.empty());

    open_options nowhere = options();
    nowhere.socket_path = dir() + "/no-such.sock";
    auto missing = port::open("netmap:pipeD{3", nowhere);
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.err().describe().find("no-such.sock"), std::string::npos)
        << "the error should name the socket: " << missing.err().describe();
    ::alarm(0);
}

} // namespace
} // namespace netring::itest
