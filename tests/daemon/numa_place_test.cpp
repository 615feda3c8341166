// NUMA placement: the calls run on every machine; what they report depends on the node count.
#include "numa_place.hpp"

#include <gtest/gtest.h>

#include <sys/mman.h>

#include <cstring>

using namespace netring::netringd;

TEST(numa_place, interface_without_device_has_no_node)
{
    EXPECT_EQ(interface_node("lo"), -1); // a virtual device: no device/numa_node in sysfs
    EXPECT_EQ(interface_node("nrt-no-such-if"), -1);
}

TEST(numa_place, memory_placement_follows_the_node_count)
{
    const size_t bytes = 1 << 20;
    void *p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(p, MAP_FAILED);
    auto none = place_memory(p, bytes, -1);
    ASSERT_TRUE(none.ok());
    EXPECT_EQ(*none, placement::no_node);
    auto zero = place_memory(p, bytes, 0);
    ASSERT_TRUE(zero.ok()) << zero.err().message;
    EXPECT_EQ(*zero, numa_nodes() > 1 ? placement::done : placement::single_node);
    if (numa_nodes() > 1) {
        auto bad = place_memory(p, bytes, 4096);
        EXPECT_FALSE(bad.ok());
    }
    std::memset(p, 0xa5, bytes); // still ordinary memory
    EXPECT_EQ(static_cast<unsigned char *>(p)[bytes - 1], 0xa5);
    ::munmap(p, bytes);
}

TEST(numa_place, thread_pinning_follows_the_node_count)
{
    auto none = pin_to_node(-1);
    ASSERT_TRUE(none.ok());
    EXPECT_EQ(*none, placement::no_node);
    auto zero = pin_to_node(0);
    ASSERT_TRUE(zero.ok()) << zero.err().message;
    EXPECT_EQ(*zero, numa_nodes() > 1 ? placement::done : placement::single_node);
}
