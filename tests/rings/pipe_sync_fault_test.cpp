// rings/pipe_sync under corrupt ring state: application indices outside their window, kernel-side
// indices that are not slot numbers, slots pointing outside the region or overflowing their
// buffer. Each must fail the sync with a fault (never touch memory outside the region), leave the
// ring usable for the next sync, and keep every buffer the rings held in circulation.
#include "pipe_traffic.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace nr = netring::rings;
using netring::test::all_ring_buffers;
using netring::test::initial_sender_buffers;
using netring::test::sender_buffers;
using netring::test::pipe_pair;
using netring::test::read_seq;
using netring::test::rx_drain;
using netring::test::tx_fill;

namespace {

// Moves `rounds` bursts across the pair with every sync required to succeed; every packet sent
// must arrive in order (`expect` follows `seq`) and the buffer set must stay what it was.
void traffic_flows(pipe_pair &p, uint64_t &seq, uint64_t &expect, int rounds = 20)
{
    for (int round = 0; round < rounds; round++) {
        tx_fill(p, 5, seq);
        auto o = p.txsync();
        ASSERT_TRUE(o.ok()) << "round " << round << ": " << nr::describe(o, "tx0");
        o = p.rxsync();
        ASSERT_TRUE(o.ok()) << "round " << round << ": " << nr::describe(o, "rx0");
        rx_drain(p, p.n, expect);
        o = p.rxsync();
        ASSERT_TRUE(o.ok()) << "round " << round << ": " << nr::describe(o, "rx0");
    }
    ASSERT_TRUE(p.txsync().ok());
    ASSERT_TRUE(p.rxsync().ok());
    rx_drain(p, p.n, expect);
    EXPECT_EQ(expect, seq) << "every packet sent after the recovery arrived";
    EXPECT_EQ(sender_buffers(p), initial_sender_buffers(p));
}

bool holds_dummy(pipe_pair &p)
{
    const auto v = all_ring_buffers(p);
    return std::find(v.begin(), v.end(), NR_DUMMY_BUFFER) != v.end();
}

} // namespace

TEST(PipeSyncFault, TxHeadOutsideWindowResetsRing)
{
    const uint32_t n = 16;
    pipe_pair p(n);
    uint64_t seq = 0;
    tx_fill(p, 4, seq);
    ASSERT_TRUE(p.txsync().ok());
    // hwcur 4, hwtail 15: head 2 is behind hwcur.
    p.tx.ring->head = 2;
    p.tx.ring->cur = 3;
    auto o = p.txsync();
    EXPECT_EQ(o.fault, nr::sync_fault::head);
    EXPECT_EQ(o.value, 2u);
    EXPECT_EQ(o.lo, 4u);
    EXPECT_EQ(o.hi, 15u);
    EXPECT_EQ(o.moved, 0u);
    EXPECT_EQ(nr::fault_errc(o.fault), netring::errc::ring_reset);
    EXPECT_EQ(p.tx.ring->head, 4u);
    EXPECT_EQ(p.tx.ring->cur, 4u);
    EXPECT_EQ(p.tx.ring->tail, 15u);
    EXPECT_EQ(p.tx.sync->kern.errors, 1u);
    EXPECT_EQ(p.rx.sync->kern.hwtail, 4u) << "nothing leaked to the peer";
    EXPECT_NE(nr::describe(o, "tx0").find("head 2"), std::string::npos) << nr::describe(o, "tx0");

    // The ring works again after the reset.
    tx_fill(p, 2, seq);
    o = p.txsync();
    EXPECT_TRUE(o.ok());
    EXPECT_EQ(o.moved, 2u);
}

TEST(PipeSyncFault, TxHeadPastTailAndNonSlotHeadReset)
{
    const uint32_t n = 16;
    pipe_pair p(n);
    p.tx.ring->head = p.tx.ring->cur = 0; // hwtail is 15: head 15 is fine, cur beyond is not
    p.tx.ring->cur = 16;
    EXPECT_EQ(p.txsync().fault, nr::sync_fault::cur);
    p.tx.ring->head = 0xfffffff0u;
    EXPECT_EQ(p.txsync().fault, nr::sync_fault::head);
    EXPECT_EQ(p.tx.ring->head, 0u);
    EXPECT_EQ(p.tx.ring->cur, 0u);
    EXPECT_EQ(p.tx.sync->kern.errors, 2u);
}

TEST(PipeSyncFault, TxCurBeforeHeadResets)
{
    pipe_pair p(16);
    p.tx.ring->head = 5;
    p.tx.ring->cur = 3;
    auto o = p.txsync();
    EXPECT_EQ(o.fault, nr::sync_fault::cur);
    EXPECT_EQ(p.tx.ring->head, 0u);
    EXPECT_EQ(p.tx.ring->cur, 0u);
    EXPECT_EQ(p.rx.sync->kern.hwtail, 0u);
}

TEST(PipeSyncFault, RxHeadOutsideWindowResetsRing)
{
    pipe_pair p(16);
    uint64_t seq = 0;
    tx_fill(p, 3, seq);
    ASSERT_TRUE(p.txsync().ok());
    ASSERT_TRUE(p.rxsync().ok());
    p.rx.ring->head = p.rx.ring->cur = 9; // only [0, 3] is the application's
    auto o = p.rxsync();
    EXPECT_EQ(o.fault, nr::sync_fault::head);
    EXPECT_EQ(p.rx.ring->head, 0u);
    EXPECT_EQ(p.rx.ring->cur, 0u);
    EXPECT_EQ(p.rx.ring->tail, 3u) << "packets already seen stay visible";
    EXPECT_EQ(p.rx.sync->app.head, 0u) << "nothing released to the sender";
    uint64_t expect = 0;
    EXPECT_EQ(rx_drain(p, 10, expect), 3u);
}

TEST(PipeSyncFault, CorruptHwIndicesFaultWithoutTouchingOutsideTheRing)
{
    const uint32_t n = 16;
    {
        pipe_pair p(n);
        p.tx.sync->kern.hwcur = n + 5;
        auto o = p.txsync();
        EXPECT_EQ(o.fault, nr::sync_fault::hw_index);
        EXPECT_EQ(o.value, n + 5);
        EXPECT_LT(p.tx.ring->head, n);
        EXPECT_LT(p.tx.ring->cur, n);
        EXPECT_LT(p.tx.ring->tail, n);
        EXPECT_EQ(p.tx.sync->kern.errors, 1u);
        EXPECT_EQ(p.rx.sync->kern.hwtail, 0u);
    }
    {
        pipe_pair p(n);
        p.tx.sync->kern.hwtail = 0xffffffffu;
        EXPECT_EQ(p.txsync().fault, nr::sync_fault::hw_index);
    }
    {
        pipe_pair p(n);
        p.rx.sync->kern.hwtail = n;
        auto o = p.rxsync();
        EXPECT_EQ(o.fault, nr::sync_fault::hw_index);
        EXPECT_EQ(o.value, n);
        EXPECT_LT(p.rx.ring->tail, n);
    }
    {
        pipe_pair p(n);
        p.rx.sync->app.head = 1u << 31;
        EXPECT_EQ(p.rxsync().fault, nr::sync_fault::hw_index);
    }
}

TEST(PipeSyncFault, TxSlotOutsideRegionStopsAndResets)
{
    pipe_pair p(16);
    uint64_t seq = 0;
    tx_fill(p, 4, seq);
    const uint32_t bad = p.region.geo.num_buffers; // one past the last buffer
    p.tx.ring->slot[2].buf_idx = bad;
    auto o = p.txsync();
    EXPECT_EQ(o.fault, nr::sync_fault::slot_buf);
    EXPECT_EQ(o.value, bad);
    EXPECT_EQ(o.moved, 2u) << "slots before the bad one were handed over";
    EXPECT_EQ(p.rx.sync->kern.hwtail, 2u);
    EXPECT_EQ(p.tx.ring->head, 2u);
    EXPECT_EQ(p.tx.ring->cur, 2u);
    EXPECT_EQ(p.tx.ring->slot[2].buf_idx, NR_DUMMY_BUFFER) << "the bad slot was repaired";
    EXPECT_EQ(p.tx.ring->slot[2].len, 0u);
    ASSERT_TRUE(p.rxsync().ok());
    uint64_t expect = 0;
    EXPECT_EQ(rx_drain(p, 10, expect), 2u);
}

TEST(PipeSyncFault, TxSlotLengthOverBufferStops)
{
    pipe_pair p(16);
    uint64_t seq = 0;
    tx_fill(p, 2, seq);
    p.tx.ring->slot[0].len = 4000;
    auto o = p.txsync();
    EXPECT_EQ(o.fault, nr::sync_fault::slot_len);
    EXPECT_EQ(o.value, 4000u);
    EXPECT_EQ(o.moved, 0u);
    EXPECT_EQ(p.rx.sync->kern.hwtail, 0u);
    EXPECT_EQ(p.tx.ring->slot[0].len, 0u);
    EXPECT_NE(nr::describe(o, "tx0").find("4000"), std::string::npos);
}

TEST(PipeSyncFault, BadSlotFromPeerIsRepairedOnRx)
{
    pipe_pair p(16);
    uint64_t seq = 0;
    tx_fill(p, 3, seq);
    ASSERT_TRUE(p.txsync().ok());
    // The sender's process writes into the shared rx slot after the handoff.
    p.rx.ring->slot[1].buf_idx = 0xdeadbeefu;
    p.rx.ring->slot[1].len = 60;
    auto o = p.rxsync();
    EXPECT_EQ(o.fault, nr::sync_fault::slot_buf);
    EXPECT_EQ(o.moved, 3u);
    EXPECT_EQ(p.rx.ring->slot[1].buf_idx, NR_DUMMY_BUFFER);
    EXPECT_EQ(p.rx.ring->slot[1].len, 0u);
    EXPECT_EQ(p.rx.sync->kern.errors, 1u);
    EXPECT_EQ(p.rx.ring->tail, 3u);
    EXPECT_EQ(read_seq(p, p.rx.ring->slot[0]), 0u);
    EXPECT_EQ(read_seq(p, p.rx.ring->slot[2]), 2u);
}

TEST(PipeSyncFault, BadSwappedInIndexNeverReachesSender)
{
    pipe_pair p(16);
    uint64_t seq = 0, expect = 0;
    tx_fill(p, 1, seq);
    const uint32_t kept = p.tx.ring->slot[0].buf_idx;
    ASSERT_TRUE(p.txsync().ok());
    ASSERT_TRUE(p.rxsync().ok());
    EXPECT_EQ(rx_drain(p, 1, expect), 1u);
    // The receiver's application "swaps in" an index outside the region.
    p.rx.ring->slot[0].buf_idx = 0x7fffffffu;
    p.rx.ring->slot[0].flags |= NS_BUF_CHANGED;
    auto o = p.rxsync();
    EXPECT_EQ(o.fault, nr::sync_fault::slot_buf);
    EXPECT_EQ(p.rx.sync->kern.errors, 1u);
    ASSERT_TRUE(p.txsync().ok());
    EXPECT_EQ(p.tx.ring->slot[0].buf_idx, kept) << "the sender keeps the buffer it lent";
    EXPECT_FALSE(p.tx.ring->slot[0].flags & NS_BUF_CHANGED);
}

TEST(PipeSyncFault, TxHwcurRestoredFromPartner)
{
    const uint32_t n = 16;
    pipe_pair p(n);
    uint64_t seq = 0, expect = 0;
    tx_fill(p, 5, seq);
    ASSERT_TRUE(p.txsync().ok());
    ASSERT_TRUE(p.rxsync().ok());
    rx_drain(p, 3, expect);
    ASSERT_TRUE(p.rxsync().ok()); // rx head 3: tx may refill up to slot 2

    p.tx.sync->kern.hwcur = 0xdead;
    auto o = p.txsync();
    EXPECT_EQ(o.fault, nr::sync_fault::hw_index);
    EXPECT_EQ(o.value, 0xdeadu);
    EXPECT_EQ(nr::fault_errc(o.fault), netring::errc::ring_reset);
    EXPECT_EQ(p.tx.sync->kern.hwcur, 5u) << "A.tx.hwcur == B.rx.hwtail";
    EXPECT_EQ(p.tx.sync->kern.hwtail, 2u) << "A.tx.hwtail == B.rx.head - 1";
    EXPECT_EQ(p.tx.ring->head, 5u);
    EXPECT_EQ(p.tx.ring->cur, 5u);
    EXPECT_EQ(p.tx.ring->tail, 2u);

    o = p.txsync();
    EXPECT_TRUE(o.ok()) << "the next shm-path sync succeeds: " << nr::describe(o, "tx0");
    EXPECT_EQ(o.moved, 0u);
    traffic_flows(p, seq, expect);
    EXPECT_EQ(p.tx.sync->kern.errors, 1u);
}

TEST(PipeSyncFault, TxHwtailRestoredFromPartner)
{
    const uint32_t n = 8;
    pipe_pair p(n);
    uint64_t seq = 0, expect = 0;
    tx_fill(p, 3, seq);
    ASSERT_TRUE(p.txsync().ok());
    p.tx.sync->kern.hwtail = n;
    EXPECT_EQ(p.txsync().fault, nr::sync_fault::hw_index);
    EXPECT_EQ(p.tx.sync->kern.hwcur, 3u);
    EXPECT_EQ(p.tx.sync->kern.hwtail, n - 1) << "rx head 0: everything but one slot is free";
    ASSERT_TRUE(p.txsync().ok());
    // The three packets handed over before the fault are still delivered.
    traffic_flows(p, seq, expect);
}

TEST(PipeSyncFault, RxHwtailRestoredFromPartner)
{
    const uint32_t n = 16;
    pipe_pair p(n);
    uint64_t seq = 0, expect = 0;
    tx_fill(p, 3, seq);
    ASSERT_TRUE(p.txsync().ok());
    p.rx.sync->kern.hwtail = n + 7;
    auto o = p.rxsync();
    EXPECT_EQ(o.fault, nr::sync_fault::hw_index);
    EXPECT_EQ(o.value, n + 7);
    EXPECT_EQ(p.rx.sync->kern.hwtail, 3u) << "B.rx.hwtail == A.tx.hwcur";
    EXPECT_EQ(p.rx.sync->kern.errors, 1u);

    o = p.rxsync();
    EXPECT_TRUE(o.ok()) << nr::describe(o, "rx0");
    EXPECT_EQ(rx_drain(p, n, expect), 3u) << "packets in flight survive the fault";
    traffic_flows(p, seq, expect);
}

TEST(PipeSyncFault, RxPublishedHeadRestored)
{
    const uint32_t n = 16;
    pipe_pair p(n);
    uint64_t seq = 0, expect = 0;
    tx_fill(p, 3, seq);
    ASSERT_TRUE(p.txsync().ok());
    ASSERT_TRUE(p.rxsync().ok());
    rx_drain(p, 1, expect);
    ASSERT_TRUE(p.rxsync().ok());
    p.rx.sync->app.head = 1u << 31;
    EXPECT_EQ(p.rxsync().fault, nr::sync_fault::hw_index);
    // No trustworthy record of what was released: the unread packets are given up, nothing else.
    EXPECT_EQ(p.rx.sync->app.head, 3u);
    EXPECT_EQ(p.rx.ring->head, 3u);
    EXPECT_EQ(p.rx.ring->cur, 3u);
    EXPECT_EQ(p.rx.ring->tail, 3u);

    ASSERT_TRUE(p.rxsync().ok());
    ASSERT_TRUE(p.txsync().ok());
    EXPECT_EQ(p.tx.ring->tail, 2u) << "the sender gets the dropped slots back";
    expect = seq;
    traffic_flows(p, seq, expect);
}

TEST(PipeSyncFault, TxSlotLengthOverBufferKeepsItsBuffer)
{
    pipe_pair p(16);
    uint64_t seq = 0, expect = 0;
    tx_fill(p, 4, seq);
    const uint32_t kept = p.tx.ring->slot[1].buf_idx;
    p.tx.ring->slot[1].len = 4000; // a valid buffer index, a length beyond the 2048-byte buffer
    auto o = p.txsync();
    EXPECT_EQ(o.fault, nr::sync_fault::slot_len);
    EXPECT_EQ(nr::fault_errc(o.fault), netring::errc::ring_reset);
    EXPECT_EQ(o.moved, 1u);
    EXPECT_EQ(p.tx.ring->head, 1u);
    EXPECT_EQ(p.tx.ring->slot[1].buf_idx, kept) << "only len and ptr are reset";
    EXPECT_EQ(p.tx.ring->slot[1].len, 0u);
    EXPECT_FALSE(holds_dummy(p)) << "no buffer was replaced by the dummy";
    EXPECT_EQ(sender_buffers(p), initial_sender_buffers(p)) << "the same distinct buffers, none lost";

    // The sender retries from the reset head; packet 0 went before the fault.
    seq = 1;
    traffic_flows(p, seq, expect);
}

TEST(PipeSyncFault, WrappingDataOffsetIsCaught)
{
    pipe_pair p(16);
    nr::buffer_limits lim = p.region.limits();
    lim.offset_mask = ~uint64_t{0}; // every ptr bit is offset: the widest window for a wrap
    uint64_t seq = 0;
    tx_fill(p, 2, seq);
    const uint32_t kept = p.tx.ring->slot[0].buf_idx;
    // offset + len wraps around to 10, which would pass a naive `offset + len <= buf_size`.
    p.tx.ring->slot[0].ptr = ~uint64_t{0} - 9;
    p.tx.ring->slot[0].len = 20;
    auto o = nr::pipe_txsync(p.tx, p.rx, lim);
    EXPECT_EQ(o.fault, nr::sync_fault::slot_len);
    EXPECT_EQ(o.moved, 0u);
    EXPECT_EQ(p.rx.sync->kern.hwtail, 0u) << "nothing reached the receiver";
    EXPECT_EQ(p.tx.ring->slot[0].buf_idx, kept);
    EXPECT_EQ(p.tx.ring->slot[0].ptr, 0u);
    EXPECT_EQ(sender_buffers(p), initial_sender_buffers(p));
    tx_fill(p, 1, seq = 0);
    o = nr::pipe_txsync(p.tx, p.rx, lim);
    EXPECT_TRUE(o.ok()) << nr::describe(o, "tx0");
    EXPECT_EQ(o.moved, 1u);
}

// A burst that wraps the ring; after the handoff the sender's process spoils one slot before the
// wrap (its length, or with data offsets its offset) and one after it (its buffer index): rxsync
// repairs exactly those two and leaves the good ones on both sides of the wrap alone.
void expect_wrapped_bad_slots_repaired(bool offsets)
{
    pipe_pair p(16);
    nr::buffer_limits lim = p.region.limits();
    lim.offset_mask = offsets ? 0xfff : 0; // with offsets, the low 12 bits of ptr are a data offset
    uint64_t seq = 0, expect = 0;
    // Move the rings to slot 12 so the next burst wraps.
    tx_fill(p, 12, seq);
    ASSERT_TRUE(nr::pipe_txsync(p.tx, p.rx, lim).ok());
    ASSERT_TRUE(nr::pipe_rxsync(p.rx, p.tx, lim).ok());
    rx_drain(p, 12, expect);
    ASSERT_TRUE(nr::pipe_rxsync(p.rx, p.tx, lim).ok());
    ASSERT_TRUE(nr::pipe_txsync(p.tx, p.rx, lim).ok());
    tx_fill(p, 8, seq); // slots 12..15 and 0..3
    ASSERT_TRUE(nr::pipe_txsync(p.tx, p.rx, lim).ok());
    const uint32_t kept = p.rx.ring->slot[13].buf_idx;
    if (offsets)
        p.rx.ring->slot[13].ptr = lim.buf_size - 10; // offset + len overflows the buffer
    else
        p.rx.ring->slot[13].len = static_cast<uint16_t>(lim.buf_size + 1);
    p.rx.ring->slot[2].buf_idx = lim.num_buffers;
    auto o = nr::pipe_rxsync(p.rx, p.tx, lim);
    EXPECT_EQ(o.fault, nr::sync_fault::slot_buf);
    EXPECT_EQ(o.moved, 8u);
    EXPECT_EQ(p.rx.sync->kern.errors, 2u);
    EXPECT_EQ(p.rx.ring->tail, 4u);
    EXPECT_EQ(p.rx.ring->slot[13].buf_idx, kept) << "a valid index stays in circulation";
    EXPECT_EQ(p.rx.ring->slot[13].len, 0u);
    EXPECT_EQ(p.rx.ring->slot[13].ptr, 0u);
    EXPECT_EQ(p.rx.ring->slot[2].buf_idx, NR_DUMMY_BUFFER);
    EXPECT_EQ(p.rx.ring->slot[2].len, 0u);
    EXPECT_EQ(read_seq(p, p.rx.ring->slot[12]), 12u);
    EXPECT_EQ(read_seq(p, p.rx.ring->slot[3]), 19u);
    for (uint32_t k : {12u, 14u, 15u, 0u, 1u, 3u})
        EXPECT_EQ(p.rx.ring->slot[k].len, 60u) << "slot " << k;
}

TEST(PipeSyncFault, BadSlotsFromPeerAcrossTheWrapAreRepairedOnRx)
{
    expect_wrapped_bad_slots_repaired(false);
}

TEST(PipeSyncFault, BadSlotsWithDataOffsetsAcrossTheWrapAreRepairedOnRx)
{
    expect_wrapped_bad_slots_repaired(true);
}
