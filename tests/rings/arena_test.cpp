// rings/arena: first-fit ranges of the metadata area, 128-byte aligned, coalesced on release.
#include "rings/arena.hpp"

#include <gtest/gtest.h>

#include <vector>

using netring::rings::arena;

TEST(Arena, ReservesAlignedRanges)
{
    arena a(128, 4096);
    EXPECT_EQ(a.free_bytes(), 4096u);
    auto x = a.reserve(1);
    auto y = a.reserve(200);
    auto z = a.reserve(384);
    ASSERT_TRUE(x && y && z);
    EXPECT_EQ(*x, 128u);
    EXPECT_EQ(*y, 256u) << "1 byte still takes a 128-byte unit";
    EXPECT_EQ(*z, 512u) << "200 bytes round up to 256";
    for (auto off : {*x, *y, *z})
        EXPECT_EQ(off % arena::alignment, 0u);
    EXPECT_EQ(a.free_bytes(), 4096u - 128 - 256 - 384);
}

TEST(Arena, UnalignedAreaIsTrimmedToAlignment)
{
    arena a(100, 1000); // [100, 1100): usable [128, 1024)
    EXPECT_EQ(a.free_bytes(), 896u);
    auto x = a.reserve(1);
    ASSERT_TRUE(x);
    EXPECT_EQ(*x, 128u);
    arena tiny(1, 100); // nothing aligned fits
    EXPECT_EQ(tiny.free_bytes(), 0u);
    EXPECT_FALSE(tiny.reserve(1));
}

TEST(Arena, ExhaustionReturnsNullopt)
{
    arena a(0, 1024);
    EXPECT_FALSE(a.reserve(1025));
    std::vector<uint64_t> got;
    while (auto off = a.reserve(128))
        got.push_back(*off);
    EXPECT_EQ(got.size(), 8u);
    EXPECT_EQ(a.free_bytes(), 0u);
    EXPECT_FALSE(a.reserve(1));
    a.release(got[3], 128);
    auto again = a.reserve(100);
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, got[3]);
}

TEST(Arena, ReleaseCoalescesNeighbours)
{
    arena a(0, 384);
    auto x = a.reserve(128), y = a.reserve(128), z = a.reserve(128);
    ASSERT_TRUE(x && y && z);
    a.release(*x, 128);
    a.release(*z, 128);
    EXPECT_EQ(a.free_bytes(), 256u);
    EXPECT_FALSE(a.reserve(256)) << "two separate 128-byte holes";
    a.release(*y, 128);
    EXPECT_EQ(a.free_bytes(), 384u);
    auto all = a.reserve(384);
    ASSERT_TRUE(all) << "the three ranges merged into one";
    EXPECT_EQ(*all, 0u);
}

TEST(Arena, FirstFitReusesTheLowestHole)
{
    arena a(0, 1024);
    auto x = a.reserve(256), y = a.reserve(128), z = a.reserve(256);
    ASSERT_TRUE(x && y && z);
    a.release(*x, 256);
    auto w = a.reserve(128);
    ASSERT_TRUE(w);
    EXPECT_EQ(*w, *x);
    auto v = a.reserve(256);
    ASSERT_TRUE(v);
    EXPECT_EQ(*v, *z + 256) << "the 128-byte rest of the first hole is too small";
}

TEST(Arena, DoubleReleaseIsIgnored)
{
    arena a(0, 512);
    auto x = a.reserve(128), y = a.reserve(128), z = a.reserve(128);
    ASSERT_TRUE(x && y && z);
    a.release(*x, 128);
    a.release(*x, 128); // same offset as a free range
    EXPECT_EQ(a.free_bytes(), 256u);
    a.release(*y, 128); // merges into [x, x+256)
    a.release(*y, 128); // now inside a free range: must not count twice
    EXPECT_EQ(a.free_bytes(), 384u);
    // Every byte is handed out once: after z and the 128-byte tail, nothing is left.
    auto big = a.reserve(256);
    ASSERT_TRUE(big);
    EXPECT_EQ(*big, *x);
    auto tail = a.reserve(128);
    ASSERT_TRUE(tail);
    EXPECT_EQ(*tail, *z + 128);
    EXPECT_FALSE(a.reserve(128));
    EXPECT_EQ(a.free_bytes(), 0u);
}
