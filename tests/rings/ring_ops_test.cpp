// rings/ring_ops.hpp: circular distance and windows, netmap's sync prologue, slot bounds,
// ring occupancy.
#include "rings/ring_ops.hpp"

#include <gtest/gtest.h>

namespace nr = netring::rings;

TEST(RingOps, NextIndexWraps)
{
    EXPECT_EQ(nr::next_index(0, 8), 1u);
    EXPECT_EQ(nr::next_index(6, 8), 7u);
    EXPECT_EQ(nr::next_index(7, 8), 0u);
}

TEST(RingOps, DistanceForwardAndAcrossWrap)
{
    EXPECT_EQ(nr::distance(0, 0, 8), 0u);
    EXPECT_EQ(nr::distance(2, 5, 8), 3u);
    EXPECT_EQ(nr::distance(5, 2, 8), 5u);
    EXPECT_EQ(nr::distance(7, 0, 8), 1u);
    EXPECT_EQ(nr::distance(0, 7, 8), 7u);
    EXPECT_EQ(nr::distance(1, 0, 8), 7u); // the longest forward distance is n-1
}

TEST(RingOps, OccupancyForwardAndAcrossWrap)
{
    EXPECT_EQ(nr::ring_occupancy(3, 3, 8), 0u);
    EXPECT_EQ(nr::ring_occupancy(2, 5, 8), 3u);
    EXPECT_EQ(nr::ring_occupancy(6, 1, 8), 3u); // across the wrap
    EXPECT_EQ(nr::ring_occupancy(0, 63, 64), 63u); // a full ring holds n-1
    EXPECT_EQ(nr::ring_occupancy(1, 0, 64), 63u);
}

TEST(RingOps, OccupancyTreatsAnIndexOutsideTheRingAsZero)
{
    EXPECT_EQ(nr::ring_occupancy(8, 5, 8), 5u); // from 0
    EXPECT_EQ(nr::ring_occupancy(3, 0xffffffffu, 8), 5u); // to 0: 3 -> 0 across the wrap
    EXPECT_EQ(nr::ring_occupancy(9, 9, 8), 0u);
    EXPECT_EQ(nr::ring_occupancy(0, 0, 0), 0u); // no ring, nothing in it
    EXPECT_LT(nr::ring_occupancy(0, 0xffffffffu - 1, 8), 8u);
}

TEST(RingOps, OccupiedReadsTheRightIndicesPerDirection)
{
    nr_sync sync{};
    sync.app.head = 2;
    sync.kern.hwcur = 6;
    sync.kern.hwtail = 5;
    EXPECT_EQ(nr::ring_occupied(sync, true, 8), 3u);  // rx: head 2 to hwtail 5
    EXPECT_EQ(nr::ring_occupied(sync, false, 8), 4u); // tx: hwcur 6 to head 2, across the wrap
    sync.app.head = 1000;                             // garbage a client wrote: index 0
    EXPECT_EQ(nr::ring_occupied(sync, true, 8), 5u);
    EXPECT_EQ(nr::ring_occupied(sync, false, 8), 2u);
    EXPECT_EQ(nr::ring_occupied(sync, false, 0), 0u);
}

TEST(RingOps, OccupiedTxHeadOutsideItsWindowIsNothingQueued)
{
    // A client syncing over the socket left head 0 in the sync block while the ring moved on.
    nr_sync sync{};
    sync.app.head = 0;
    sync.kern.hwcur = 5;
    sync.kern.hwtail = 3; // owned by the client: 5..3 across the wrap, so 0 is inside
    EXPECT_EQ(nr::ring_occupied(sync, false, 8), 3u);
    sync.kern.hwtail = 7; // 5..7: head 0 is outside, stale
    EXPECT_EQ(nr::ring_occupied(sync, false, 8), 0u);
    sync.kern.hwcur = 99; // garbage hwcur: index 0, head 0 right at it
    EXPECT_EQ(nr::ring_occupied(sync, false, 8), 0u);
}

TEST(RingOps, InWindowWithoutWrap)
{
    EXPECT_TRUE(nr::in_window(2, 2, 5, 8));
    EXPECT_TRUE(nr::in_window(4, 2, 5, 8));
    EXPECT_TRUE(nr::in_window(5, 2, 5, 8));
    EXPECT_FALSE(nr::in_window(1, 2, 5, 8));
    EXPECT_FALSE(nr::in_window(6, 2, 5, 8));
    EXPECT_FALSE(nr::in_window(0, 2, 5, 8));
}

TEST(RingOps, InWindowAcrossWrap)
{
    // [6, 1] on 8 slots: 6, 7, 0, 1
    for (uint32_t x : {6u, 7u, 0u, 1u})
        EXPECT_TRUE(nr::in_window(x, 6, 1, 8)) << x;
    for (uint32_t x : {2u, 3u, 4u, 5u})
        EXPECT_FALSE(nr::in_window(x, 6, 1, 8)) << x;
}

TEST(RingOps, InWindowSingleSlotAndFullEdges)
{
    EXPECT_TRUE(nr::in_window(3, 3, 3, 8));
    EXPECT_FALSE(nr::in_window(4, 3, 3, 8));
    EXPECT_FALSE(nr::in_window(2, 3, 3, 8));
    // The widest window a ring can express: n-1 slots apart; everything but nothing is outside.
    for (uint32_t x = 0; x < 8; x++)
        EXPECT_TRUE(nr::in_window(x, 4, 3, 8)) << x;
    EXPECT_TRUE(nr::in_window(7, 0, 7, 8));
    EXPECT_TRUE(nr::in_window(0, 0, 7, 8));
}

TEST(RingOps, InWindowRejectsNonSlots)
{
    EXPECT_FALSE(nr::in_window(8, 0, 7, 8));
    EXPECT_FALSE(nr::in_window(9, 4, 3, 8));
    EXPECT_FALSE(nr::in_window(0xffffffffu, 0, 7, 8));
}

// netmap's prologue: hwcur <= head <= cur <= hwtail, circularly.
TEST(RingOps, IndicesValidAcceptsTheOwnedWindow)
{
    const uint32_t n = 16;
    EXPECT_TRUE(nr::indices_valid(3, 3, 3, 10, n));   // nothing consumed yet
    EXPECT_TRUE(nr::indices_valid(5, 7, 3, 10, n));   // head and cur inside
    EXPECT_TRUE(nr::indices_valid(10, 10, 3, 10, n)); // everything consumed
    EXPECT_TRUE(nr::indices_valid(3, 10, 3, 10, n));  // cur at the end, head at the start
    EXPECT_TRUE(nr::indices_valid(0, 0, 0, 0, n));    // empty window
}

TEST(RingOps, IndicesValidAcrossWrap)
{
    const uint32_t n = 16;
    EXPECT_TRUE(nr::indices_valid(14, 1, 12, 3, n));
    EXPECT_TRUE(nr::indices_valid(2, 3, 12, 3, n));
    EXPECT_TRUE(nr::indices_valid(15, 15, 15, 14, n)); // n-1 free slots, nothing used
    EXPECT_TRUE(nr::indices_valid(14, 14, 15, 14, n)); // n-1 slots used
    EXPECT_FALSE(nr::indices_valid(11, 12, 12, 3, n)); // head behind hwcur
    EXPECT_FALSE(nr::indices_valid(4, 4, 12, 3, n));   // head past hwtail
    EXPECT_FALSE(nr::indices_valid(1, 14, 12, 3, n));  // cur behind head (wrapped)
}

TEST(RingOps, IndicesValidRejectsEachBrokenRule)
{
    const uint32_t n = 16;
    EXPECT_FALSE(nr::indices_valid(2, 5, 3, 10, n));   // head before hwcur
    EXPECT_FALSE(nr::indices_valid(11, 11, 3, 10, n)); // head after hwtail
    EXPECT_FALSE(nr::indices_valid(6, 5, 3, 10, n));   // cur before head
    EXPECT_FALSE(nr::indices_valid(5, 11, 3, 10, n));  // cur after hwtail
    EXPECT_FALSE(nr::indices_valid(16, 16, 3, 10, n)); // head not a slot
    EXPECT_FALSE(nr::indices_valid(5, 16, 3, 10, n));  // cur not a slot
    EXPECT_FALSE(nr::indices_valid(1, 1, 0, 0, n));    // empty window: only hwcur allowed
    EXPECT_FALSE(nr::indices_valid(0, 1, 0, 0, n));
}

TEST(RingOps, IndicesValidTwoSlotRing)
{
    EXPECT_TRUE(nr::indices_valid(0, 1, 0, 1, 2));
    EXPECT_TRUE(nr::indices_valid(1, 1, 0, 1, 2));
    EXPECT_TRUE(nr::indices_valid(1, 0, 1, 0, 2));
    EXPECT_FALSE(nr::indices_valid(1, 0, 0, 1, 2));
    EXPECT_FALSE(nr::indices_valid(2, 2, 0, 1, 2));
}

TEST(RingOps, SlotValidChecksIndexAndLength)
{
    const nr::buffer_limits lim{100, 2048, 0};
    EXPECT_TRUE(nr::slot_valid(nr_slot{2, 60, 0, 0}, lim));
    EXPECT_TRUE(nr::slot_valid(nr_slot{99, 2048, 0, 0}, lim)); // last buffer, full length
    EXPECT_TRUE(nr::slot_valid(nr_slot{0, 0, 0, 0}, lim));
    EXPECT_FALSE(nr::slot_valid(nr_slot{100, 60, 0, 0}, lim));
    EXPECT_FALSE(nr::slot_valid(nr_slot{0xffffffffu, 60, 0, 0}, lim));
    EXPECT_FALSE(nr::slot_valid(nr_slot{5, 2049, 0, 0}, lim));
}

TEST(RingOps, SlotValidIgnoresPtrWithoutOffsetMask)
{
    const nr::buffer_limits lim{100, 2048, 0};
    EXPECT_TRUE(nr::slot_valid(nr_slot{5, 2048, 0, 0xffffffffffffffffull}, lim));
}

TEST(RingOps, SlotValidCountsTheDataOffset)
{
    const nr::buffer_limits lim{100, 2048, 0xfff};
    EXPECT_TRUE(nr::slot_valid(nr_slot{5, 1792, 0, 256}, lim));  // AF_XDP headroom + data = buffer
    EXPECT_FALSE(nr::slot_valid(nr_slot{5, 1793, 0, 256}, lim)); // one byte over
    EXPECT_FALSE(nr::slot_valid(nr_slot{5, 1, 0, 2048}, lim));   // offset at the end
    EXPECT_FALSE(nr::slot_valid(nr_slot{5, 0, 0, 4095}, lim));   // offset past the buffer
    // Bits above the mask are a user pointer or flags, not an offset.
    EXPECT_TRUE(nr::slot_valid(nr_slot{5, 2048 - 16, 0, 0xabcd0000ull | 16}, lim));
}

TEST(RingOps, SlotSnapshotAndRepair)
{
    nr_slot s{12345, 77, NS_MOREFRAG, 99};
    const nr_slot copy = nr::slot_snapshot(s);
    EXPECT_EQ(copy.buf_idx, 12345u);
    EXPECT_EQ(copy.len, 77u);
    EXPECT_EQ(copy.flags, NS_MOREFRAG);
    EXPECT_EQ(copy.ptr, 99u);
    const nr::buffer_limits lim{2, 2048, 0xfff};
    nr::slot_repair(s, copy, lim); // index out of range: the dummy buffer
    EXPECT_EQ(s.buf_idx, NR_DUMMY_BUFFER);
    EXPECT_EQ(s.len, 0u);
    EXPECT_EQ(s.ptr, 0u);
    EXPECT_TRUE(nr::slot_valid(s, lim));

    // A valid index with a bad length keeps its buffer: only the data is dropped.
    const nr::buffer_limits big{4096, 2048, 0xfff};
    nr_slot t{3000, 4000, 0, 5};
    nr::slot_repair(t, nr::slot_snapshot(t), big);
    EXPECT_EQ(t.buf_idx, 3000u);
    EXPECT_EQ(t.len, 0u);
    EXPECT_EQ(t.ptr, 0u);

    // An offset the mask lets through may not wrap the bounds check around.
    nr_slot wrap{5, 20, 0, ~uint64_t{0} - 9};
    EXPECT_FALSE(nr::slot_valid(wrap, nr::buffer_limits{4096, 2048, ~uint64_t{0}}));
}
