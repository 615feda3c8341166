// Objective: a client that writes garbage into its own rings gets its ring reset and an error, and
// nothing else breaks: not its later traffic, not another pipe of the same region, not the daemon,
// not the region's buffer accounting.
// Steps (as root, in-process with libnetring): open pipe 2 of pipeR (both ends) and keep traffic
// flowing on it throughout; note the region's free buffers; open pipe 1 with the sender in shm
// sync mode (then pipe 3 with the sender in socket sync mode). For each kind of garbage -- head
// beyond tail, head out of range, cur before head, a slot with buf_idx 0xffffffff, a slot with
// len beyond the buffer -- first queue 100 valid packets, then write the garbage and txsync: expect
// errc::ring_reset with a message and head == cur == the previous hwcur; then the 100 queued
// packets and 500 more arrive intact (sequence and payload checked), and pipe 2 still carries
// traffic. Finally close the pipe: the daemon answers STATS and the region's free buffers are back
// to the starting count.
#include "harness.hpp"

#include <netring/error.hpp>

#include <cstring>
#include <optional>

namespace netring::itest {
namespace {

using namespace std::chrono_literals;

// Packet `seq`: length 60..199, the sequence number, then bytes derived from it.
uint16_t packet_len(uint64_t seq) { return static_cast<uint16_t>(60 + seq % 140); }
uint8_t packet_byte(uint64_t seq, size_t i) { return static_cast<uint8_t>(seq * 31 + i * 7 + 1); }

struct stream {
    uint64_t next_tx = 0;
    uint64_t next_rx = 0;
};

// Fills up to `n` free tx slots with the next packets (without syncing); returns how many.
uint32_t fill(port &p, uint32_t n, stream &s)
{
    nr_ring *ring = p.tx_ring(0);
    uint32_t done = 0;
    while (done < n && nr_ring_space(ring) > 0) {
        nr_slot &slot = ring->slot[ring->cur];
        const uint64_t seq = s.next_tx++;
        const uint16_t len = packet_len(seq);
        slot.ptr = 0;
        char *data = nr_buf(ring, slot.buf_idx);
        std::memcpy(data, &seq, sizeof seq);
        for (size_t i = sizeof seq; i < len; i++)
            data[i] = static_cast<char>(packet_byte(seq, i));
        slot.len = len;
        ring->cur = nr_ring_next(ring, ring->cur);
        ring->head = ring->cur;
        done++;
    }
    return done;
}

// Receives and checks everything waiting on `p`'s rx ring; returns the packet count.
uint32_t drain(port &p, stream &s)
{
    EXPECT_EQ(p.rxsync(0), std::error_code()) << p.last_error();
    nr_ring *ring = p.rx_ring(0);
    uint32_t got = 0;
    while (!nr_ring_empty(ring)) {
        const nr_slot &slot = ring->slot[ring->cur];
        const uint64_t want = s.next_rx++;
        const char *data = nr_slot_data(ring, &slot);
        uint64_t seq = 0;
        std::memcpy(&seq, data, sizeof seq);
        EXPECT_EQ(seq, want) << "packet out of sequence";
        EXPECT_EQ(slot.len, packet_len(want)) << "packet " << want;
        size_t bad = 0;
        for (size_t i = sizeof seq; i < slot.len && i < packet_len(want); i++)
            bad += static_cast<uint8_t>(data[i]) != packet_byte(want, i);
        EXPECT_EQ(bad, 0u) << "payload bytes differ in packet " << want;
        ring->cur = nr_ring_next(ring, ring->cur);
        ring->head = ring->cur;
        got++;
    }
    EXPECT_EQ(p.rxsync(0), std::error_code()) << p.last_error(); // releases the slots to the sender
    return got;
}

// Moves `n` checked packets from `tx` to `rx`. False (with failures recorded) if they do not arrive.
bool transfer(port &tx, port &rx, uint32_t n, stream &s)
{
    uint32_t sent = 0, received = 0;
    for (int round = 0; round < 100000 && received < n; round++) {
        sent += fill(tx, n - sent, s);
        const std::error_code ec = tx.txsync(0);
        EXPECT_EQ(ec, std::error_code()) << tx.last_error();
        if (ec)
            return false;
        received += drain(rx, s);
    }
    EXPECT_EQ(received, n);
    return received == n;
}

enum class garbage { head_past_tail, head_out_of_range, cur_before_head, slot_bad_buf_idx, slot_len_too_big };

const char *garbage_name(garbage g)
{
    switch (g) {
    case garbage::head_past_tail: return "head beyond tail";
    case garbage::head_out_of_range: return "head out of range";
    case garbage::cur_before_head: return "cur before head";
    case garbage::slot_bad_buf_idx: return "slot buf_idx 0xffffffff";
    case garbage::slot_len_too_big: return "slot len beyond the buffer";
    }
    return "?";
}

class adversarial_ring : public daemon_test {
protected:
    // One garbage case on the sender `a` (pipe a->b); `c`->`d` is the bystander pipe.
    void attack(garbage g, port &a, port &b, stream &s, port &c, port &d, stream &s2)
    {
        SCOPED_TRACE(garbage_name(g));
        nr_ring *tx = a.tx_ring(0);
        const uint32_t n = tx->num_slots;
        // Queue packets the receiver does not take yet, so the free window is smaller than the ring
        // and there are indices "beyond tail".
        ASSERT_EQ(fill(a, 100, s), 100u);
        ASSERT_EQ(a.txsync(0), std::error_code()) << a.last_error();
        const uint32_t hwcur = tx->head;
        const uint32_t tail = tx->tail;
        ASSERT_EQ(tx->cur, hwcur);

        switch (g) {
        case garbage::head_past_tail:
            tx->head = tx->cur = (tail + 50) % n;
            break;
        case garbage::head_out_of_range:
            tx->head = tx->cur = n + 7;
            break;
        case garbage::cur_before_head:
            tx->head = (hwcur + 10) % n;
            tx->cur = (hwcur + 5) % n;
            break;
        case garbage::slot_bad_buf_idx:
            tx->slot[hwcur].buf_idx = 0xffffffffu;
            tx->slot[hwcur].len = 60;
            tx->head = tx->cur = (hwcur + 1) % n;
            break;
        case garbage::slot_len_too_big:
            tx->slot[hwcur].len = static_cast<uint16_t>(a.buf_size() + 100);
            tx->head = tx->cur = (hwcur + 1) % n;
            break;
        }
        const std::error_code ec = a.txsync(0);
        EXPECT_EQ(ec, make_error_code(errc::ring_reset)) << ec.message() << ": " << a.last_error();
        EXPECT_FALSE(a.last_error().empty()) << "a reset ring must come with a sentence";
        EXPECT_EQ(tx->head, hwcur) << "head not reset to the previous hwcur";
        EXPECT_EQ(tx->cur, hwcur) << "cur not reset to the previous hwcur";

        // The packets queued before the garbage are intact, and traffic flows again.
        EXPECT_EQ(drain(b, s), 100u);
        EXPECT_TRUE(transfer(a, b, 500, s));
        EXPECT_TRUE(transfer(c, d, 200, s2)) << "the bystander pipe stopped working";
    }

    void attack_all(sync_mode sender_mode, const std::string &pipe_id, port &c, port &d, stream &s2)
    {
        auto a = open_port("netmap:pipeR{" + pipe_id, options(sender_mode));
        auto b = open_port("netmap:pipeR}" + pipe_id, options(sync_mode::shm));
        ASSERT_TRUE(a && b);
        stream s;
        ASSERT_TRUE(transfer(*a, *b, 300, s));
        for (garbage g : {garbage::head_past_tail, garbage::head_out_of_range, garbage::cur_before_head,
                          garbage::slot_bad_buf_idx, garbage::slot_len_too_big})
            attack(g, *a, *b, s, c, d, s2);
    }

    // Pipe 2 of pipeR: the bystander, and what keeps the region alive for the accounting check.
    void run(sync_mode sender_mode, const std::string &pipe_id)
    {
        auto c = open_port("netmap:pipeR{2", options(sync_mode::shm));
        auto d = open_port("netmap:pipeR}2", options(sync_mode::shm));
        ASSERT_TRUE(c && d);
        stream s2;
        ASSERT_TRUE(transfer(*c, *d, 100, s2));
        const auto before = find_region(stats(), "pipe:pipeR");
        ASSERT_TRUE(before) << "STATS lists no region pipe:pipeR";

        attack_all(sender_mode, pipe_id, *c, *d, s2); // opens and closes the attacked pipe

        EXPECT_TRUE(daemon_alive());
        EXPECT_TRUE(transfer(*c, *d, 100, s2));
        uint32_t free_now = 0;
        EXPECT_TRUE(eventually(
            [&] {
                auto r = find_region(stats(), "pipe:pipeR");
                free_now = r ? r->buffers_free : 0;
                return r && r->buffers_free == before->buffers_free;
            },
            10s))
            << "buffers_free " << free_now << ", was " << before->buffers_free << " before the pipe opened";
    }
};

TEST_F(adversarial_ring, shm_sync_resets_a_corrupt_tx_ring_and_recovers) { run(sync_mode::shm, "1"); }

TEST_F(adversarial_ring, socket_sync_resets_a_corrupt_tx_ring_and_recovers) { run(sync_mode::socket, "3"); }

TEST_F(adversarial_ring, corrupt_rx_head_is_reset_and_receiving_recovers)
{
    auto a = open_port("netmap:pipeQ{1", options());
    auto b = open_port("netmap:pipeQ}1", options());
    ASSERT_TRUE(a && b);
    stream s;
    ASSERT_TRUE(transfer(*a, *b, 300, s));
    ASSERT_EQ(fill(*a, 20, s), 20u);
    ASSERT_EQ(a->txsync(0), std::error_code()) << a->last_error();

    nr_ring *rx = b->rx_ring(0);
    const uint32_t head = rx->head;
    rx->head = rx->cur = rx->num_slots + 3; // not a slot at all
    EXPECT_EQ(b->rxsync(0), make_error_code(errc::ring_reset)) << b->last_error();
    EXPECT_FALSE(b->last_error().empty());
    EXPECT_EQ(rx->head, head);
    EXPECT_EQ(rx->cur, head);
    EXPECT_EQ(drain(*b, s), 20u);
    EXPECT_TRUE(transfer(*a, *b, 300, s));
}

} // namespace
} // namespace netring::itest
