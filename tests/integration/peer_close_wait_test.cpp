// Objective: a receiver blocked in port::wait() learns at once that the pipe is broken, even when
// it still holds packets (read but not released) or when a peer scribbled over its ring status:
// wait() returns -1 with errc::peer_gone instead of spinning until its timeout.
// Steps (as root, in-process with libnetring, in shm and socket sync mode): open both ends of
// netmap:pipeW; A sends 3 packets; B receives them and keeps them held (cur advanced to tail,
// head left at 0); A closes its port; B.wait(wait_rx, 2000 ms) must return -1 with peer_gone, and
// the held packets must still be intact. Then, on a fresh pipe, a value of 77 written into B's rx
// ring status (what a hostile peer in the same region could do) must end B.wait the same way.
#include "harness.hpp"

#include <netring/error.hpp>

#include <atomic>
#include <cstring>
#include <optional>

namespace netring::itest {
namespace {

// Queues `count` packets carrying their sequence number on tx ring 0 and publishes them.
void send(port &p, uint32_t count)
{
    nr_ring *tx = p.tx_ring(0);
    for (uint32_t seq = 0; seq < count; seq++) {
        nr_slot &s = tx->slot[tx->cur];
        std::memcpy(nr_buf(tx, s.buf_idx), &seq, sizeof seq);
        s.len = 60;
        tx->head = tx->cur = nr_ring_next(tx, tx->cur);
    }
    EXPECT_EQ(p.txsync(), std::error_code()) << p.last_error();
}

// The sync block of rx ring 0, found as any process mapping the region finds it.
nr_sync *rx_sync(const port &p)
{
    nr_if *nifp = p.nifp();
    const int64_t ofs = nr_get_ring_ext(nifp, p.tx_rings())->sync_ofs;
    return reinterpret_cast<nr_sync *>(reinterpret_cast<char *>(nifp) + ofs);
}

class peer_close_wait : public daemon_test {
protected:
    void holding_receiver_sees_peer_gone(sync_mode mode, const std::string &pipe)
    {
        auto b = open_port("netmap:" + pipe + "}1", options(mode));
        auto a = open_port("netmap:" + pipe + "{1", options(mode));
        ASSERT_TRUE(a && b);
        send(*a, 3);
        ASSERT_EQ(b->rxsync(), std::error_code()) << b->last_error();
        nr_ring *rx = b->rx_ring(0);
        ASSERT_EQ(nr_ring_space(rx), 3u);
        rx->cur = rx->tail; // read, not released
        ASSERT_EQ(b->rxsync(), std::error_code()) << b->last_error();

        a.reset();
        std::error_code ec;
        EXPECT_EQ(b->wait(wait_rx, 2000, ec), -1) << "wait ran into its timeout";
        EXPECT_EQ(ec, make_error_code(errc::peer_gone)) << ec.message();
        EXPECT_EQ(rx->head, 0u);
        for (uint32_t i = 0; i < 3; i++) {
            uint32_t seq = ~0u;
            std::memcpy(&seq, nr_buf(rx, rx->slot[i].buf_idx), sizeof seq);
            EXPECT_EQ(seq, i) << "held packet " << i;
        }
    }

    void garbage_status_ends_wait(sync_mode mode, const std::string &pipe)
    {
        auto a = open_port("netmap:" + pipe + "{1", options(mode));
        auto b = open_port("netmap:" + pipe + "}1", options(mode));
        ASSERT_TRUE(a && b);
        std::atomic_ref<uint32_t>(rx_sync(*b)->flags.status).store(77);
        std::error_code ec;
        EXPECT_EQ(b->wait(wait_rx, 2000, ec), -1) << "wait ran into its timeout";
        EXPECT_EQ(ec, make_error_code(errc::peer_gone)) << ec.message();
        // The daemon is unaffected and still answers.
        EXPECT_TRUE(find_region(stats(), "pipe:" + pipe));
    }
};

TEST_F(peer_close_wait, held_packets_shm_sync) { holding_receiver_sees_peer_gone(sync_mode::shm, "pipeW"); }

TEST_F(peer_close_wait, held_packets_socket_sync)
{
    holding_receiver_sees_peer_gone(sync_mode::socket, "pipeW");
}

TEST_F(peer_close_wait, garbage_status_shm_sync) { garbage_status_ends_wait(sync_mode::shm, "pipeG"); }

TEST_F(peer_close_wait, garbage_status_socket_sync) { garbage_status_ends_wait(sync_mode::socket, "pipeG"); }

} // namespace
} // namespace netring::itest
