// rings/buffer_pool: all-or-nothing takes, returns checked against the pool's own record.
#include "rings/buffer_pool.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

using netring::rings::buffer_pool;

TEST(BufferPool, TakeAllHandsOutEachBufferOnce)
{
    buffer_pool pool(2, 10);
    EXPECT_EQ(pool.total(), 10u);
    EXPECT_EQ(pool.available(), 10u);
    std::vector<uint32_t> got;
    ASSERT_TRUE(pool.take(10, got));
    EXPECT_EQ(pool.available(), 0u);
    std::vector<uint32_t> sorted = got;
    std::sort(sorted.begin(), sorted.end());
    std::vector<uint32_t> want{2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    EXPECT_EQ(sorted, want) << "reserved buffers 0 and 1 are never handed out";
}

TEST(BufferPool, TakeAppendsToTheCallersVector)
{
    buffer_pool pool(2, 4);
    std::vector<uint32_t> got{777};
    ASSERT_TRUE(pool.take(2, got));
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0], 777u);
}

TEST(BufferPool, OverTakeFailsAtomically)
{
    buffer_pool pool(2, 5);
    std::vector<uint32_t> got;
    ASSERT_TRUE(pool.take(3, got));
    std::vector<uint32_t> more;
    EXPECT_FALSE(pool.take(3, more));
    EXPECT_TRUE(more.empty()) << "nothing taken on failure";
    EXPECT_EQ(pool.available(), 2u);
    EXPECT_TRUE(pool.take(2, more));
    EXPECT_FALSE(pool.take(1, more));
    EXPECT_TRUE(pool.take(0, more));
}

TEST(BufferPool, GiveBackMakesBuffersAvailableAgain)
{
    buffer_pool pool(2, 6);
    std::vector<uint32_t> got;
    ASSERT_TRUE(pool.take(6, got));
    pool.give(got);
    EXPECT_EQ(pool.available(), 6u);
    EXPECT_EQ(pool.rejected_returns(), 0u);
    std::vector<uint32_t> again;
    ASSERT_TRUE(pool.take(6, again));
    std::sort(got.begin(), got.end());
    std::sort(again.begin(), again.end());
    EXPECT_EQ(got, again);
}

TEST(BufferPool, DoubleGiveIsIgnoredAndCounted)
{
    buffer_pool pool(2, 4);
    std::vector<uint32_t> got;
    ASSERT_TRUE(pool.take(2, got));
    pool.give(std::vector<uint32_t>{got[0]});
    pool.give(std::vector<uint32_t>{got[0]});
    EXPECT_EQ(pool.available(), 3u);
    EXPECT_EQ(pool.rejected_returns(), 1u);

    // The buffer went back once, so it can be handed out only once.
    std::vector<uint32_t> all;
    ASSERT_TRUE(pool.take(3, all));
    EXPECT_EQ(std::count(all.begin(), all.end(), got[0]), 1);
    EXPECT_FALSE(pool.take(1, all));
}

TEST(BufferPool, GiveOfForeignIndicesIsRejected)
{
    buffer_pool pool(2, 4);
    std::vector<uint32_t> got;
    ASSERT_TRUE(pool.take(1, got));
    // Reserved, past the end, far past the end, and a free buffer never handed out.
    pool.give(std::vector<uint32_t>{0, 1, 6, 0xffffffffu, 5});
    EXPECT_EQ(pool.rejected_returns(), 5u);
    EXPECT_EQ(pool.available(), 3u);
}
