// The NIC worker against an in-memory queue I/O: frames move both ways intact and in order, bad
// indices and slots written by the "application" (this test) are caught, counted and repaired, and
// the wake-up protocol writes the notify eventfd only for a waiting application.
#include "ports/nic/nic_worker.hpp"
#include "region.hpp"

#include <rings/region_format.hpp>

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/eventfd.h>

#include <chrono>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

using namespace netring;
using namespace netring::netringd;

namespace {

constexpr uint32_t slots = 64;
constexpr uint32_t buf_size = 2048;

uint8_t pattern(uint64_t seq, uint32_t i) { return static_cast<uint8_t>(seq * 31 + i * 7 + 1); }

// A queue I/O in memory. The worker thread calls receive/transmit/reclaim; the test thread feeds
// frames and reads what was sent, under a lock (test code, not the data path).
class fake_io final : public nic_queue_io {
public:
    explicit fake_io(const nic_buffers &mem) : mem_(mem)
    {
        wait_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    }
    ~fake_io() override { ::close(wait_fd_); }

    uint32_t receive(io_slot *s, uint32_t n) override
    {
        std::lock_guard<std::mutex> g(m_);
        uint32_t k = 0;
        for (; k < n && !pending_.empty(); k++) {
            const auto [seq, len] = pending_.front();
            pending_.pop_front();
            s[k].offset = rx_offset;
            s[k].len = static_cast<uint16_t>(len);
            if (s[k].buf_idx < 2) // the worker substituted the dummy buffer: do not fill it
                continue;
            uint8_t *d = mem_.data(s[k]);
            std::memcpy(d, &seq, sizeof seq);
            for (uint32_t i = sizeof seq; i < len; i++)
                d[i] = pattern(seq, i);
        }
        counters_.rx_packets += k;
        return k;
    }
    uint32_t transmit(const io_slot *s, uint32_t n) override
    {
        std::lock_guard<std::mutex> g(m_);
        const uint32_t k = std::min(n, tx_room);
        for (uint32_t j = 0; j < k; j++) {
            const uint8_t *d = mem_.data(s[j]);
            sent_.emplace_back(d, d + s[j].len);
        }
        tx_room -= k;
        taken_ += k;
        return k;
    }
    uint32_t reclaim() override
    {
        std::lock_guard<std::mutex> g(m_);
        const uint32_t k = hold_completions ? std::min(taken_, released_) : taken_;
        taken_ -= k;
        released_ -= hold_completions ? k : 0;
        tx_room += k;
        return k;
    }
    int rx_wait_fd() const override { return wait_fd_; }
    const io_counters &counters() const override { return counters_; }

    void feed(uint64_t seq, uint32_t len)
    {
        std::lock_guard<std::mutex> g(m_);
        pending_.emplace_back(seq, len);
        const uint64_t one = 1;
        (void)!::write(wait_fd_, &one, sizeof one); // wakes a sleeping worker
    }
    // With hold_completions: lets k more taken frames complete, and wakes a sleeping worker.
    void complete(uint32_t k)
    {
        std::lock_guard<std::mutex> g(m_);
        released_ += k;
        const uint64_t one = 1;
        (void)!::write(wait_fd_, &one, sizeof one);
    }
    std::vector<std::vector<uint8_t>> sent()
    {
        std::lock_guard<std::mutex> g(m_);
        return sent_;
    }

    uint16_t rx_offset = 256;
    uint32_t tx_room = 1u << 30;
    bool hold_completions = false; // set before start(): frames complete only through complete()

private:
    nic_buffers mem_;
    int wait_fd_ = -1;
    std::mutex m_;
    std::deque<std::pair<uint64_t, uint32_t>> pending_;
    std::vector<std::vector<uint8_t>> sent_;
    uint32_t taken_ = 0;
    uint32_t released_ = 0;
    io_counters counters_;
};

class nic_worker_test : public ::testing::Test {
protected:
    void SetUp() override
    {
        auto r = region::create("nic:test", {buf_size, 1024, 1u << 20, false});
        ASSERT_TRUE(r.ok()) << r.err().message;
        mem = std::move(r.value());
        q.tx.num_slots = q.rx.num_slots = slots;
        make_ring(q.tx, NR_RING_DIR_TX);
        make_ring(q.rx, NR_RING_DIR_RX);
        const auto &g = mem->geometry();
        auto io = std::make_unique<fake_io>(nic_buffers{
            mem->base() + g.buffers_offset, uint64_t{g.num_buffers} * g.buf_size, g.buf_size, g.num_buffers});
        fio = io.get();
        q.io = std::move(io);
        lim = mem->limits();
        lim.offset_mask = buf_size - 1;
    }
    void TearDown() override { worker.stop(); }

    void make_ring(served_ring &r, uint16_t dir)
    {
        const uint64_t a = rings::arena::alignment;
        const uint64_t ring_bytes = (nr_ring_block_size(slots) + a - 1) / a * a;
        const auto off = mem->meta().reserve(ring_bytes + sizeof(nr_sync));
        ASSERT_TRUE(off.has_value());
        r.ring_off = *off;
        r.sync_off = *off + ring_bytes;
        std::vector<uint32_t> bufs;
        ASSERT_TRUE(mem->pool().take(slots, bufs));
        rings::init_ring(mem->base(), r.ring_off, mem->geometry(), slots, 0, dir, bufs);
        rings::init_sync(mem->base(), r.sync_off);
        ring(r)->offset_mask = buf_size - 1;
        r.hwtail = dir == NR_RING_DIR_TX ? slots - 1 : 0;
        ring(r)->tail = r.hwtail;
        sync(r)->kern.hwtail = r.hwtail;
        r.kick.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
        r.notify.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    }
    nr_ring *ring(const served_ring &r) { return reinterpret_cast<nr_ring *>(mem->base() + r.ring_off); }
    nr_sync *sync(const served_ring &r) { return reinterpret_cast<nr_sync *>(mem->base() + r.sync_off); }

    void start(uint32_t spin = 100) { ASSERT_TRUE(worker.start(mem->base(), lim, {&q}, spin).ok()); }

    // The application side of a sync (what libnetring's daemon_sync does), then a bounded wait for
    // `until` to hold. Never a timing assertion: a generous bound only ends a hung test.
    template <class F>
    bool publish_and_wait(served_ring &r, uint32_t head, F until)
    {
        rings::store_relaxed(sync(r)->app.cur, head);
        rings::store_release(sync(r)->app.head, head);
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (rings::load_relaxed(sync(r)->flags.kern_need_kick)) {
            const uint64_t one = 1;
            (void)!::write(r.kick.get(), &one, sizeof one);
        }
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!until()) {
            if (std::chrono::steady_clock::now() > end)
                return false;
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
        return true;
    }
    uint32_t hwtail(const served_ring &r) { return rings::load_acquire(sync(r)->kern.hwtail); }
    uint64_t errors(const served_ring &r) { return rings::load_relaxed(sync(r)->kern.errors); }

    std::unique_ptr<region> mem;
    nic_queue q;
    fake_io *fio = nullptr;
    rings::buffer_limits lim;
    nic_worker worker;
};

TEST_F(nic_worker_test, received_frames_arrive_in_order_with_their_offset)
{
    start();
    uint64_t next = 0;
    uint32_t head = 0;
    for (uint64_t seq = 0; seq < 1000; seq++)
        fio->feed(seq, 60 + static_cast<uint32_t>(seq % 900));
    while (next < 1000) {
        ASSERT_TRUE(publish_and_wait(q.rx, head, [&] { return hwtail(q.rx) != head; }));
        const uint32_t tail = hwtail(q.rx);
        for (; head != tail; head = (head + 1) % slots, next++) {
            nr_slot &s = ring(q.rx)->slot[head];
            ASSERT_EQ(s.ptr & ring(q.rx)->offset_mask, 256u);
            const auto *d = reinterpret_cast<const uint8_t *>(nr_slot_data(ring(q.rx), &s));
            uint64_t seq;
            std::memcpy(&seq, d, sizeof seq);
            ASSERT_EQ(seq, next);
            ASSERT_EQ(s.len, 60 + seq % 900);
            for (uint32_t i = sizeof seq; i < s.len; i++)
                ASSERT_EQ(d[i], pattern(seq, i)) << "seq " << seq << " byte " << i;
        }
    }
    EXPECT_EQ(rings::load_relaxed(sync(q.rx)->kern.packets), 1000u);
    EXPECT_EQ(errors(q.rx), 0u);
}

TEST_F(nic_worker_test, transmitted_slots_leave_intact_and_come_back)
{
    fio->tx_room = 10; // the I/O takes a few at a time: hwcur must follow what it took
    start();
    uint32_t head = 0;
    for (uint64_t seq = 0; seq < 500; seq++) {
        nr_slot &s = ring(q.tx)->slot[head];
        s.ptr = seq % 3 * 64; // a data offset, as an application may set
        s.len = static_cast<uint16_t>(60 + seq % 200);
        auto *d = reinterpret_cast<uint8_t *>(nr_slot_data(ring(q.tx), &s));
        std::memcpy(d, &seq, sizeof seq);
        head = (head + 1) % slots;
        if (seq % 16 == 15 || seq == 499) {
            const uint32_t want = (head + slots - 1) % slots;
            ASSERT_TRUE(publish_and_wait(q.tx, head, [&] { return hwtail(q.tx) == want; }));
        }
    }
    const auto sent = fio->sent();
    ASSERT_EQ(sent.size(), 500u);
    for (uint64_t seq = 0; seq < 500; seq++) {
        ASSERT_EQ(sent[seq].size(), 60 + seq % 200);
        uint64_t got;
        std::memcpy(&got, sent[seq].data(), sizeof got);
        EXPECT_EQ(got, seq);
    }
    EXPECT_EQ(rings::load_relaxed(sync(q.tx)->kern.packets), 500u);
}

TEST_F(nic_worker_test, head_outside_the_window_resets_the_ring)
{
    start();
    const uint64_t before = errors(q.tx);
    ASSERT_TRUE(publish_and_wait(q.tx, slots + 5, [&] { return errors(q.tx) != before; }));
    EXPECT_EQ(rings::load_relaxed(ring(q.tx)->head), 0u); // back at hwcur
    EXPECT_EQ(rings::load_relaxed(sync(q.tx)->app.head), 0u);
    EXPECT_TRUE(fio->sent().empty());

    // rx: releasing past what was received is just as invalid.
    const uint64_t rx_before = errors(q.rx);
    ASSERT_TRUE(publish_and_wait(q.rx, 7, [&] { return errors(q.rx) != rx_before; }));
    EXPECT_EQ(rings::load_relaxed(sync(q.rx)->app.head), 0u);

    // The ring still works afterwards. The worker may still be scanning the slots of the rings it
    // reset (it counts the error first), so the slot is written as the worker reads it: atomically.
    rings::store_relaxed(ring(q.tx)->slot[0].len, uint16_t{60});
    ASSERT_TRUE(publish_and_wait(q.tx, 1, [&] { return fio->sent().size() == 1; }));
}

TEST_F(nic_worker_test, bad_tx_slots_are_repaired_not_sent)
{
    start();
    ring(q.tx)->slot[0].len = 60;
    ring(q.tx)->slot[1].buf_idx = 1u << 30; // outside the region
    ring(q.tx)->slot[1].len = 60;
    ring(q.tx)->slot[2].len = 3000; // longer than a buffer
    ring(q.tx)->slot[3].len = 2000;
    ring(q.tx)->slot[3].ptr = 100; // offset + len past the buffer
    ring(q.tx)->slot[4].len = 70;
    ASSERT_TRUE(publish_and_wait(q.tx, 5, [&] { return hwtail(q.tx) == 4; }));
    const auto sent = fio->sent();
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(sent[0].size(), 60u);
    EXPECT_EQ(sent[1].size(), 70u);
    EXPECT_EQ(errors(q.tx), 3u);
    EXPECT_EQ(ring(q.tx)->slot[1].buf_idx, NR_DUMMY_BUFFER);
    EXPECT_EQ(ring(q.tx)->slot[2].len, 0u);
}

TEST_F(nic_worker_test, released_rx_slot_with_a_bad_buffer_gets_the_dummy)
{
    start();
    // Fill the ring (63 of 64 slots: one stays empty) so every slot but 63 belongs to the application.
    for (uint64_t seq = 0; seq < slots - 1; seq++)
        fio->feed(seq, 60);
    ASSERT_TRUE(publish_and_wait(q.rx, 0, [&] { return hwtail(q.rx) == slots - 1; }));
    // Scribble an impossible buffer index into slot 0, which the application owns, then release all.
    ring(q.rx)->slot[0].buf_idx = 0xffffffffu;
    fio->feed(100, 60); // lands in slot 63
    fio->feed(101, 60); // lands in slot 0: the dummy buffer, counted
    ASSERT_TRUE(publish_and_wait(q.rx, slots - 1, [&] { return hwtail(q.rx) == 1; }));
    EXPECT_EQ(ring(q.rx)->slot[0].buf_idx, NR_DUMMY_BUFFER);
    EXPECT_NE(ring(q.rx)->slot[63].buf_idx, NR_DUMMY_BUFFER);
    EXPECT_EQ(errors(q.rx), 1u);
}

TEST_F(nic_worker_test, waiting_application_is_notified_and_only_then)
{
    start(10);
    fio->feed(0, 60);
    ASSERT_TRUE(publish_and_wait(q.rx, 0, [&] { return hwtail(q.rx) == 1; }));
    uint64_t v = 0;
    EXPECT_LT(::read(q.rx.notify.get(), &v, sizeof v), 0); // nobody waited: no eventfd write

    rings::store_relaxed(sync(q.rx)->flags.appl_need_kick, 1u);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    fio->feed(1, 60);
    pollfd p{q.rx.notify.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 10000), 1);
    EXPECT_EQ(::read(q.rx.notify.get(), &v, sizeof v), static_cast<ssize_t>(sizeof v));
    EXPECT_EQ(rings::load_relaxed(sync(q.rx)->flags.appl_need_kick), 0u); // taken by the worker
}

TEST_F(nic_worker_test, sleeping_sender_is_woken_once_half_its_ring_is_free)
{
    fio->hold_completions = true;
    start();
    const uint32_t full = slots - 1;
    for (uint32_t i = 0; i < full; i++) {
        ring(q.tx)->slot[i].ptr = 0;
        ring(q.tx)->slot[i].len = 60;
    }
    const auto all_taken = [&] { return rings::load_acquire(sync(q.tx)->kern.hwcur) == full; };
    ASSERT_TRUE(publish_and_wait(q.tx, full, all_taken));
    // The application found its ring full and sleeps (what libnetring's wait arms).
    rings::store_relaxed(sync(q.tx)->flags.appl_need_kick, 1u);
    uint64_t v = 0;
    for (uint32_t done = 1; done <= full; done++) {
        fio->complete(1);
        const uint32_t want = (done + slots - 1) % slots;
        ASSERT_TRUE(publish_and_wait(q.tx, full, [&] { return hwtail(q.tx) == want; })) << done;
        const uint32_t in_flight = full - done;
        if (in_flight > slots / 2) {
            // Not for a few free slots: the worker must not have written the eventfd yet.
            ASSERT_LT(::read(q.tx.notify.get(), &v, sizeof v), 0)
                << "woken with " << in_flight << " in flight";
            continue;
        }
        pollfd p{q.tx.notify.get(), POLLIN, 0};
        ASSERT_EQ(::poll(&p, 1, 10000), 1) << "not woken with half the ring free";
        EXPECT_EQ(::read(q.tx.notify.get(), &v, sizeof v), static_cast<ssize_t>(sizeof v));
        EXPECT_EQ(v, 1u); // once
        EXPECT_EQ(in_flight, slots / 2);
        EXPECT_EQ(rings::load_relaxed(sync(q.tx)->flags.appl_need_kick), 0u);
        return;
    }
    FAIL() << "never woken";
}

TEST_F(nic_worker_test, stop_leaves_no_kick_request_behind)
{
    start(1); // sleeps almost at once: sets kern_need_kick on every ring
    ASSERT_TRUE(publish_and_wait(q.tx, 0,
                                 [&] { return rings::load_relaxed(sync(q.tx)->flags.kern_need_kick) != 0; }));
    worker.stop();
    EXPECT_EQ(rings::load_relaxed(sync(q.tx)->flags.kern_need_kick), 0u);
    EXPECT_EQ(rings::load_relaxed(sync(q.rx)->flags.kern_need_kick), 0u);
}

} // namespace
