// rings/pipe_sync: the zero-copy handoff between a pipe's tx ring and its peer's rx ring, played
// in one process on a region formatted as the daemon formats one. Checks data integrity with
// sequence numbers, that nothing is copied (buffer indices move), the n-1 refill rule, wake-up
// suppression and the peer going away. Corrupt indices and slots: pipe_sync_fault_test.cpp.
#include "pipe_traffic.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace nr = netring::rings;
using netring::test::all_ring_buffers;
using netring::test::initial_sender_buffers;
using netring::test::sender_buffers;
using netring::test::pipe_pair;
using netring::test::rx_drain;
using netring::test::tx_fill;

TEST(PipeSync, InitialStateLeavesOneSlotEmpty)
{
    pipe_pair p(16);
    EXPECT_EQ(p.tx.ring->head, 0u);
    EXPECT_EQ(p.tx.ring->tail, 15u);
    EXPECT_EQ(nr_ring_space(p.tx.ring), 15u);
    EXPECT_EQ(p.tx.sync->kern.hwtail, 15u);
    EXPECT_TRUE(nr_ring_empty(p.rx.ring));
    EXPECT_EQ(p.rx.sync->kern.hwtail, 0u);
    EXPECT_EQ(p.tx.sync->flags.status, NR_SYNC_OK);
}

TEST(PipeSync, PacketsMoveByLendingBuffers)
{
    pipe_pair p(16);
    uint64_t seq = 100;
    ASSERT_EQ(tx_fill(p, 3, seq, 99), 3u);
    p.tx.ring->slot[1].flags = NS_BUF_CHANGED; // the sender may leave it set: the sync clears it
    std::vector<uint32_t> sent;
    for (uint32_t i = 0; i < 3; i++)
        sent.push_back(p.tx.ring->slot[i].buf_idx);

    auto o = p.txsync();
    ASSERT_TRUE(o.ok()) << nr::describe(o, "tx0");
    EXPECT_EQ(o.moved, 3u);
    EXPECT_EQ(p.rx.sync->kern.hwtail, 3u);
    EXPECT_EQ(p.tx.sync->kern.hwcur, 3u);
    for (uint32_t i = 0; i < 3; i++) {
        EXPECT_EQ(p.rx.ring->slot[i].buf_idx, sent[i]) << "rx slot holds the tx buffer: no copy";
        EXPECT_EQ(p.tx.ring->slot[i].buf_idx, sent[i]) << "the tx slot keeps the buffer it lent";
        EXPECT_EQ(p.rx.ring->slot[i].len, 99u);
        EXPECT_FALSE(p.rx.ring->slot[i].flags & NS_BUF_CHANGED);
        EXPECT_FALSE(p.tx.ring->slot[i].flags & NS_BUF_CHANGED);
    }
    EXPECT_TRUE(nr_ring_empty(p.rx.ring)) << "rx sees nothing before its own rxsync";

    o = p.rxsync();
    ASSERT_TRUE(o.ok()) << nr::describe(o, "rx0");
    EXPECT_EQ(o.moved, 3u);
    EXPECT_EQ(nr_ring_space(p.rx.ring), 3u);
    uint64_t expect = 100;
    EXPECT_EQ(rx_drain(p, 10, expect), 3u);
    ASSERT_TRUE(p.rxsync().ok()); // releases the three slots
    ASSERT_TRUE(p.txsync().ok());
    EXPECT_EQ(nr_ring_space(p.tx.ring), 15u);
    for (uint32_t i = 0; i < 3; i++) {
        EXPECT_EQ(p.tx.ring->slot[i].buf_idx, sent[i]) << "back to the sender unchanged";
        EXPECT_FALSE(p.tx.ring->slot[i].flags & NS_BUF_CHANGED) << "its frame is still there";
    }
    EXPECT_EQ(p.tx.sync->kern.packets, 3u);
    EXPECT_EQ(p.tx.sync->kern.bytes, 3u * 99);
    EXPECT_EQ(p.rx.sync->kern.packets, 3u);
    EXPECT_EQ(sender_buffers(p), initial_sender_buffers(p));
}

TEST(PipeSync, BufferSwappedInByTheReceiverGoesToTheSender)
{
    pipe_pair p(16);
    uint64_t seq = 0, expect = 0;
    ASSERT_EQ(tx_fill(p, 2, seq), 2u);
    const uint32_t lent = p.tx.ring->slot[1].buf_idx;
    ASSERT_TRUE(p.txsync().ok());
    ASSERT_TRUE(p.rxsync().ok());
    EXPECT_EQ(rx_drain(p, 2, expect), 2u);
    // The receiver keeps the lent buffer (say, to forward it) and puts one of its own in the slot,
    // marking it as netmap requires.
    const uint32_t own = p.rx_bufs[5];
    p.rx.ring->slot[1].buf_idx = own;
    p.rx.ring->slot[1].flags |= NS_BUF_CHANGED;
    ASSERT_TRUE(p.rxsync().ok());
    EXPECT_FALSE(p.rx.ring->slot[1].flags & NS_BUF_CHANGED) << "consumed by the handover";
    ASSERT_TRUE(p.txsync().ok());
    EXPECT_EQ(p.tx.ring->slot[1].buf_idx, own);
    EXPECT_TRUE(p.tx.ring->slot[1].flags & NS_BUF_CHANGED) << "the sender must rewrite this slot";
    EXPECT_NE(p.tx.ring->slot[1].buf_idx, lent);
    EXPECT_FALSE(p.tx.ring->slot[0].flags & NS_BUF_CHANGED);
}

TEST(PipeSync, FillToNMinusOneThenRefillFromPeerHead)
{
    const uint32_t n = 8;
    pipe_pair p(n);
    uint64_t seq = 0, expect = 0;
    EXPECT_EQ(tx_fill(p, 100, seq), n - 1) << "one slot always stays empty";
    ASSERT_TRUE(p.txsync().ok());
    EXPECT_EQ(nr_ring_space(p.tx.ring), 0u) << "full until the peer releases";
    EXPECT_EQ(tx_fill(p, 1, seq), 0u);

    ASSERT_TRUE(p.rxsync().ok());
    EXPECT_EQ(rx_drain(p, 5, expect), 5u);
    ASSERT_TRUE(p.txsync().ok());
    EXPECT_EQ(nr_ring_space(p.tx.ring), 0u) << "consumed but not yet released by rxsync";

    ASSERT_TRUE(p.rxsync().ok()); // publishes head = 5
    EXPECT_EQ(p.rx.sync->app.head, 5u);
    auto o = p.txsync();
    ASSERT_TRUE(o.ok());
    EXPECT_EQ(o.moved, 0u);
    EXPECT_EQ(p.tx.ring->tail, 4u) << "tail = peer head - 1";
    EXPECT_EQ(nr_ring_space(p.tx.ring), 5u);
    EXPECT_EQ(tx_fill(p, 100, seq), 5u);
    ASSERT_TRUE(p.txsync().ok());
    ASSERT_TRUE(p.rxsync().ok());
    EXPECT_EQ(rx_drain(p, 100, expect), 7u);
    EXPECT_EQ(expect, seq);
}

TEST(PipeSync, ManyWrapsKeepOrderAndBuffers)
{
    const uint32_t n = 8;
    pipe_pair p(n);
    uint64_t seq = 0, expect = 0;
    uint32_t rnd = 12345;
    auto next = [&rnd] { return (rnd = rnd * 1103515245u + 12345u) >> 16; };
    for (int round = 0; round < 5000; round++) {
        tx_fill(p, next() % n, seq);
        auto o = p.txsync();
        ASSERT_TRUE(o.ok()) << nr::describe(o, "tx0");
        o = p.rxsync();
        ASSERT_TRUE(o.ok()) << nr::describe(o, "rx0");
        rx_drain(p, next() % n, expect);
        o = p.rxsync();
        ASSERT_TRUE(o.ok()) << nr::describe(o, "rx0");
        ASSERT_EQ(sender_buffers(p), initial_sender_buffers(p)) << "round " << round;
    }
    EXPECT_GT(seq, 5000u) << "the ring wrapped many times";
    ASSERT_TRUE(p.txsync().ok());
    ASSERT_TRUE(p.rxsync().ok());
    rx_drain(p, n, expect);
    EXPECT_EQ(expect, seq) << "every packet arrived, in order";
    EXPECT_EQ(p.tx.sync->kern.packets, seq);
    EXPECT_EQ(p.tx.sync->kern.errors, 0u);
}

TEST(PipeSync, KickOnlyWhenReceiverArmed)
{
    pipe_pair p(16);
    uint64_t seq = 0;
    tx_fill(p, 2, seq);
    EXPECT_FALSE(p.txsync().kick) << "nobody waits: no eventfd write";

    ASSERT_TRUE(p.rxsync().ok());
    uint64_t expect = 0;
    rx_drain(p, 2, expect);
    ASSERT_TRUE(p.rxsync().ok());
    EXPECT_TRUE(nr::pipe_arm_wait(p.rx, p.tx, true)) << "empty rx: may sleep";
    tx_fill(p, 1, seq);
    auto o = p.txsync();
    EXPECT_TRUE(o.kick);
    EXPECT_EQ(p.rx.sync->flags.appl_need_kick, 0u) << "the kicker clears the flag";
    EXPECT_EQ(p.tx.sync->kern.kicks, 1u);
    tx_fill(p, 1, seq);
    EXPECT_FALSE(p.txsync().kick) << "one kick per sleep";
}

TEST(PipeSync, NoKickWhenNothingMoved)
{
    pipe_pair p(16);
    EXPECT_TRUE(nr::pipe_arm_wait(p.rx, p.tx, true));
    EXPECT_FALSE(p.txsync().kick);
    EXPECT_EQ(p.rx.sync->flags.appl_need_kick, 1u);
    nr::disarm_wait(p.rx);
    EXPECT_EQ(p.rx.sync->flags.appl_need_kick, 0u);
}

TEST(PipeSync, ReceiverReleaseKicksArmedSender)
{
    const uint32_t n = 8;
    pipe_pair p(n);
    uint64_t seq = 0, expect = 0;
    tx_fill(p, n, seq);
    ASSERT_TRUE(p.txsync().ok());
    EXPECT_TRUE(nr::pipe_arm_wait(p.tx, p.rx, false)) << "full tx: may sleep";
    ASSERT_TRUE(p.rxsync().ok());
    rx_drain(p, 3, expect);
    EXPECT_TRUE(p.rxsync().kick);
    EXPECT_EQ(p.tx.sync->flags.appl_need_kick, 0u);
    EXPECT_FALSE(p.rxsync().kick) << "nothing new released";
}

TEST(PipeSync, ArmWaitReturnsFalseWhenWorkIsThere)
{
    const uint32_t n = 8;
    pipe_pair p(n);
    uint64_t seq = 0, expect = 0;
    EXPECT_FALSE(nr::pipe_arm_wait(p.tx, p.rx, false)) << "tx has free slots";
    tx_fill(p, 2, seq);
    ASSERT_TRUE(p.txsync().ok());
    EXPECT_FALSE(nr::pipe_arm_wait(p.rx, p.tx, true)) << "packets arrived but not yet synced";
    ASSERT_TRUE(p.rxsync().ok());
    EXPECT_FALSE(nr::pipe_arm_wait(p.rx, p.tx, true)) << "packets visible, not consumed";
    rx_drain(p, 2, expect);
    ASSERT_TRUE(p.rxsync().ok());
    EXPECT_TRUE(nr::pipe_arm_wait(p.rx, p.tx, true));

    while (tx_fill(p, n, seq) > 0)
        ASSERT_TRUE(p.txsync().ok());
    EXPECT_TRUE(nr::pipe_arm_wait(p.tx, p.rx, false)) << "tx full, nothing released";
    ASSERT_TRUE(p.rxsync().ok());
    rx_drain(p, 1, expect);
    ASSERT_TRUE(p.rxsync().ok());
    EXPECT_FALSE(nr::pipe_arm_wait(p.tx, p.rx, false)) << "space released since the last txsync";
}

TEST(PipeSync, ArmWaitReturnsFalseWhenPeerGone)
{
    pipe_pair p(8);
    nr::mark_peer_gone(p.rx);
    EXPECT_FALSE(nr::pipe_arm_wait(p.rx, p.tx, true));
}

TEST(PipeSync, PeerGoneReportedAfterDrain)
{
    pipe_pair p(16);
    uint64_t seq = 0, expect = 0;
    tx_fill(p, 4, seq);
    ASSERT_TRUE(p.txsync().ok());
    nr::mark_peer_gone(p.rx); // the sender closed after sending
    nr::mark_peer_gone(p.tx);

    auto o = p.rxsync();
    EXPECT_TRUE(o.ok()) << "packets already sent are still delivered";
    EXPECT_EQ(o.moved, 4u);
    rx_drain(p, 2, expect);
    EXPECT_TRUE(p.rxsync().ok());
    rx_drain(p, 2, expect);
    o = p.rxsync();
    EXPECT_EQ(o.fault, nr::sync_fault::peer_gone);
    EXPECT_EQ(nr::fault_errc(o.fault), netring::errc::peer_gone);
    EXPECT_EQ(expect, 4u);

    o = p.txsync();
    EXPECT_EQ(o.fault, nr::sync_fault::peer_gone);
    EXPECT_EQ(o.moved, 0u);
}

TEST(PipeSync, PeerGoneReportedWhileReceiverHoldsPackets)
{
    pipe_pair p(16);
    uint64_t seq = 0;
    tx_fill(p, 4, seq);
    ASSERT_TRUE(p.txsync().ok());
    ASSERT_TRUE(p.rxsync().ok());
    // The receiver reads every packet but keeps the buffers: cur reaches tail, head stays at 0.
    p.rx.ring->cur = p.rx.ring->tail;
    EXPECT_TRUE(p.rxsync().ok()) << "peer still there: holding packets is fine";
    EXPECT_EQ(p.rx.sync->app.head, 0u);

    nr::mark_peer_gone(p.rx);
    nr::mark_peer_gone(p.tx);
    auto o = p.rxsync();
    EXPECT_EQ(o.fault, nr::sync_fault::peer_gone) << "nothing more can arrive, head behind or not";
    EXPECT_EQ(o.moved, 0u);
    EXPECT_EQ(p.rx.ring->head, 0u) << "the held packets stay the application's";
    EXPECT_EQ(p.rx.ring->tail, 4u);
    EXPECT_EQ(p.rx.sync->kern.errors, 0u) << "peer_gone is no ring reset";
    EXPECT_FALSE(nr::pipe_arm_wait(p.rx, p.tx, true)) << "a waiter must not sleep on a dead pipe";
}

TEST(PipeSync, PeerGoneNotReportedWhileUnreadPacketsRemain)
{
    pipe_pair p(16);
    uint64_t seq = 0, expect = 0;
    tx_fill(p, 4, seq);
    ASSERT_TRUE(p.txsync().ok());
    nr::mark_peer_gone(p.rx);
    ASSERT_TRUE(p.rxsync().ok());
    p.rx.ring->cur = 2; // two read and held, two not read yet
    EXPECT_TRUE(p.rxsync().ok()) << "packets 2 and 3 can still be read";
    expect = 2;
    EXPECT_EQ(rx_drain(p, 10, expect), 2u);
    EXPECT_EQ(p.rxsync().fault, nr::sync_fault::peer_gone);
}

TEST(PipeSync, DescribeNamesEveryFault)
{
    for (auto f : {nr::sync_fault::hw_index, nr::sync_fault::head, nr::sync_fault::cur,
                   nr::sync_fault::slot_buf, nr::sync_fault::slot_len, nr::sync_fault::peer_gone}) {
        nr::sync_outcome o;
        o.fault = f;
        const std::string text = nr::describe(o, "ring7");
        EXPECT_EQ(text.rfind("ring7:", 0), 0u) << text;
        EXPECT_NE(nr::fault_errc(f), netring::errc::ok);
    }
    EXPECT_EQ(nr::describe(nr::sync_outcome{}, "x"), "ok");
}
