// Objective: one ring-reset rule for every port the daemon serves, on both sync paths. A client of a
// switch port (valeR:a) or of a NIC port (netmap:<veth>) that writes a head out of range, a cur
// before its head, or a tx slot whose buffer index is outside the region gets errc::ring_reset with
// a sentence, finds its ring reset (head and cur back at the previous hwcur, the bad slot
// repaired), and its next good syncs work. Pipes follow the same rule in adversarial_ring_test.
// Steps (as root, in-process with libnetring), for each port kind, sync mode and kind of garbage:
// move 30 good frames, queue the garbage, txsync. Socket sync answers ring_reset to that very sync;
// shm sync publishes it and reports ring_reset on a following sync, once the daemon's thread has
// reset the ring. Then 50 good frames cross the port: on the switch they reach the other port in
// sequence, on the NIC the tx ring drains and STATS counts them sent.
#include "harness.hpp"
#include "nic_fixture.hpp"

#include <netring/error.hpp>

#include <cstring>
#include <optional>
#include <thread>

namespace netring::itest {
namespace {

using namespace std::chrono_literals;

enum class garbage { head_out_of_range, cur_before_head, slot_bad_buf_idx };

const char *garbage_name(garbage g)
{
    switch (g) {
    case garbage::head_out_of_range: return "head out of range";
    case garbage::cur_before_head: return "cur before head";
    case garbage::slot_bad_buf_idx: return "slot buf_idx 0xffffffff";
    }
    return "?";
}

constexpr garbage all_garbage[] = {garbage::head_out_of_range, garbage::cur_before_head,
                                   garbage::slot_bad_buf_idx};

// A broadcast frame carrying `seq` (its length is 60 bytes on every port kind).
void write_frame(port &p, nr_slot &slot, uint64_t seq)
{
    static const uint8_t header[14] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
                                       0,    0,    0,    0x5b, 0x0a, 0x88, 0xb5};
    char *data = p.buffer(slot.buf_idx);
    std::memcpy(data, header, sizeof header);
    std::memcpy(data + sizeof header, &seq, sizeof seq);
    std::memset(data + sizeof header + sizeof seq, static_cast<int>(seq & 0xff),
                60 - sizeof header - sizeof seq);
    slot.len = 60;
    slot.ptr = 0;
}

// Queues up to `n` frames from `next` on tx ring 0 and syncs once; returns how many were queued.
uint32_t send_some(port &p, uint32_t n, uint64_t &next)
{
    nr_ring *tx = p.tx_ring(0);
    uint32_t done = 0;
    while (done < n && nr_ring_space(tx) > 0) {
        write_frame(p, tx->slot[tx->cur], next++);
        tx->head = tx->cur = nr_ring_next(tx, tx->cur);
        done++;
    }
    EXPECT_EQ(p.txsync(0), std::error_code()) << p.last_error();
    return done;
}

class ring_reset_rule {
public:
    // Writes `g` into tx ring 0 of `p` and syncs until the daemon reports the reset; checks the ring
    // afterwards. `hwcur` is where the daemon stands (head after a sync with everything sent).
    static void corrupt(port &p, garbage g, sync_mode mode)
    {
        nr_ring *tx = p.tx_ring(0);
        const uint32_t n = tx->num_slots;
        const uint32_t hwcur = tx->head;
        ASSERT_EQ(tx->cur, hwcur);
        switch (g) {
        case garbage::head_out_of_range: tx->head = tx->cur = n + 7; break;
        case garbage::cur_before_head:
            tx->head = (hwcur + 10) % n;
            tx->cur = (hwcur + 5) % n;
            break;
        case garbage::slot_bad_buf_idx:
            tx->slot[hwcur].buf_idx = 0xffffffffu;
            tx->slot[hwcur].len = 60;
            tx->head = tx->cur = (hwcur + 1) % n;
            break;
        }
        std::error_code ec = p.txsync(0);
        if (mode == sync_mode::shm) {
            // The daemon's thread checks what was published; the client hears of it on a later sync.
            for (int i = 0; i < 1000 && ec != make_error_code(errc::ring_reset); i++) {
                std::this_thread::sleep_for(5ms);
                ec = p.txsync(0);
            }
        }
        EXPECT_EQ(ec, make_error_code(errc::ring_reset)) << ec.message() << ": " << p.last_error();
        EXPECT_FALSE(p.last_error().empty()) << "a reset ring must come with a sentence";
        EXPECT_NE(tx->slot[hwcur].buf_idx, 0xffffffffu) << "the bad slot was not repaired";
        if (g != garbage::slot_bad_buf_idx || mode == sync_mode::socket) {
            EXPECT_EQ(tx->head, hwcur) << "head not reset to the previous hwcur";
            EXPECT_EQ(tx->cur, hwcur) << "cur not reset to the previous hwcur";
        }
    }
};

// ---- switch ports ----

class switch_ring_reset : public daemon_test {
protected:
    // Receives on `b` until `want` frames came (or nothing more comes); checks their sequence.
    uint32_t receive(port &b, uint32_t want, uint64_t &next)
    {
        nr_ring *rx = b.rx_ring(0);
        uint32_t got = 0;
        eventually(
            [&] {
                EXPECT_EQ(b.rxsync(0), std::error_code()) << b.last_error();
                while (!nr_ring_empty(rx)) {
                    const nr_slot &slot = rx->slot[rx->cur];
                    uint64_t seq = 0;
                    std::memcpy(&seq, nr_slot_data(rx, &slot) + 14, sizeof seq);
                    EXPECT_EQ(seq, next) << "frame out of sequence";
                    next = seq + 1;
                    rx->head = rx->cur = nr_ring_next(rx, rx->cur);
                    got++;
                }
                return got >= want;
            },
            10s);
        EXPECT_EQ(b.rxsync(0), std::error_code()) << b.last_error();
        return got;
    }

    void run(sync_mode mode)
    {
        auto a = open_port("valeR:a", options(mode));
        auto b = open_port("valeR:b", options(sync_mode::shm));
        ASSERT_TRUE(a && b);
        uint64_t sent = 0, expected = 0;
        ASSERT_EQ(send_some(*a, 30, sent), 30u);
        ASSERT_EQ(receive(*b, 30, expected), 30u);
        for (const garbage g : all_garbage) {
            SCOPED_TRACE(garbage_name(g));
            // Everything sent so far has left the ring: head is where the switch stands.
            ASSERT_TRUE(eventually(
                [&] {
                    (void)a->txsync(0);
                    return nr_ring_space(a->tx_ring(0)) == a->tx_ring(0)->num_slots - 1;
                },
                10s));
            ring_reset_rule::corrupt(*a, g, mode);
            const uint64_t first = sent;
            EXPECT_EQ(send_some(*a, 50, sent), 50u);
            expected = first;
            EXPECT_EQ(receive(*b, 50, expected), 50u) << "good frames after the reset did not arrive";
        }
        EXPECT_TRUE(daemon_alive());
    }
};

TEST_F(switch_ring_reset, shm_sync_reports_the_reset_and_recovers) { run(sync_mode::shm); }

TEST_F(switch_ring_reset, socket_sync_answers_ring_reset_and_recovers) { run(sync_mode::socket); }

// ---- NIC ports ----

class nic_ring_reset : public nic_test {
protected:
    // Frames STATS counts as sent on tx ring 0 of this process's registration.
    uint64_t tx_packets()
    {
        const daemon_stats s = stats();
        for (const ring_stats &r : s.rings)
            if (r.dir == NR_RING_DIR_TX && r.registration < s.registrations.size() &&
                s.registrations[r.registration].pid == static_cast<uint32_t>(::getpid()))
                return r.packets;
        return 0;
    }

    // Syncs until every frame given to tx ring 0 has been sent and its slot returned.
    bool drained(port &p)
    {
        return eventually(
            [&] {
                (void)p.txsync(0);
                return nr_ring_space(p.tx_ring(0)) == p.tx_ring(0)->num_slots - 1;
            },
            10s);
    }

    void run(sync_mode mode)
    {
        auto a = open_port(nic_port(), options(mode));
        ASSERT_TRUE(a);
        uint64_t seq = 0;
        ASSERT_EQ(send_some(*a, 30, seq), 30u);
        ASSERT_TRUE(drained(*a));
        for (const garbage g : all_garbage) {
            SCOPED_TRACE(garbage_name(g));
            ASSERT_TRUE(drained(*a));
            ring_reset_rule::corrupt(*a, g, mode);
            ASSERT_TRUE(drained(*a));
            const uint64_t before = tx_packets();
            EXPECT_EQ(send_some(*a, 50, seq), 50u);
            EXPECT_TRUE(drained(*a)) << "good frames after the reset were not sent: " << ring_summary();
            EXPECT_TRUE(eventually([&] { return tx_packets() >= before + 50; }, 10s))
                << "STATS counts " << tx_packets() - before << " of 50 frames sent";
        }
        EXPECT_TRUE(daemon_alive());
    }
};

TEST_F(nic_ring_reset, shm_sync_reports_the_reset_and_recovers) { run(sync_mode::shm); }

TEST_F(nic_ring_reset, socket_sync_answers_ring_reset_and_recovers) { run(sync_mode::socket); }

} // namespace
} // namespace netring::itest
