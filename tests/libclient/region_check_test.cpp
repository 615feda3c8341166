// The client-side region checks on a formatted region in plain memory: a region netringd would
// write passes read_region_header and check_if_block; each corrupted header field or offset is
// rejected before the client would follow it.
#include "fake_region.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <memory>

namespace rings = netring::rings;
using netring::test::fake_pipe_region;

namespace {

struct region_buffer {
    fake_pipe_region layout = fake_pipe_region::plan(16);
    std::unique_ptr<uint8_t, decltype(&std::free)> mem{nullptr, &std::free};

    region_buffer()
    {
        mem.reset(static_cast<uint8_t *>(std::aligned_alloc(4096, layout.geo.region_size)));
        std::memset(mem.get(), 0, layout.geo.region_size);
        layout.format(mem.get());
    }
    uint8_t *base() { return mem.get(); }
    nr_if *nifp(int end) { return reinterpret_cast<nr_if *>(base() + layout.if_off[end]); }
    std::string check(int end) { return rings::check_if_block(base(), layout.geo, layout.if_off[end]); }
};

TEST(RegionCheck, FormattedRegionIsAccepted)
{
    region_buffer r;
    std::string why;
    auto g = rings::read_region_header(r.base(), r.layout.geo.region_size, &why);
    ASSERT_TRUE(g.has_value()) << why;
    EXPECT_EQ(g->num_buffers, r.layout.geo.num_buffers);
    EXPECT_EQ(r.check(0), "");
    EXPECT_EQ(r.check(1), "");
    // The netmap accessors and the extension agree with the layout.
    EXPECT_EQ(reinterpret_cast<uint8_t *>(nr_txring(r.nifp(0), 0)), r.base() + r.layout.ring_off[0]);
    EXPECT_EQ(reinterpret_cast<uint8_t *>(nr_rxring(r.nifp(1), 0)), r.base() + r.layout.ring_off[3]);
    EXPECT_EQ(nr_get_if_ext(r.nifp(0))->port_kind, NR_PORT_KIND_PIPE);
}

TEST(RegionCheck, HeaderCorruption)
{
    region_buffer r;
    auto *h = reinterpret_cast<nr_region_header *>(r.base());
    std::string why;
    EXPECT_FALSE(rings::read_region_header(r.base(), r.layout.geo.region_size - 4096, &why)); // mapped less
    h->magic ^= 1;
    EXPECT_FALSE(rings::read_region_header(r.base(), r.layout.geo.region_size, &why));
    h->magic ^= 1;
    h->buffers_offset += 4096;
    EXPECT_FALSE(rings::read_region_header(r.base(), r.layout.geo.region_size, &why));
    EXPECT_FALSE(why.empty());
}

TEST(RegionCheck, RingOffsetOutsideRegion)
{
    region_buffer r;
    r.nifp(0)->ring_ofs[0] = static_cast<int64_t>(r.layout.geo.region_size);
    EXPECT_NE(r.check(0), "");
    EXPECT_EQ(r.check(1), "");
}

TEST(RegionCheck, NegativeRingOffset)
{
    region_buffer r;
    r.nifp(0)->ring_ofs[1] = -static_cast<int64_t>(r.layout.if_off[0]) - 4096;
    EXPECT_NE(r.check(0), "");
}

TEST(RegionCheck, SyncOffsetOutsideMetadata)
{
    region_buffer r;
    nr_get_ring_ext(r.nifp(1), 0)->sync_ofs = static_cast<int64_t>(r.layout.geo.buffers_offset);
    EXPECT_NE(r.check(1), "");
}

TEST(RegionCheck, PartnerOutsideRegion)
{
    region_buffer r;
    nr_get_ring_ext(r.nifp(0), 1)->partner_ring_ofs = 1 << 30;
    EXPECT_NE(r.check(0), "");
}

TEST(RegionCheck, RingCountsAndSizes)
{
    region_buffer r;
    r.nifp(0)->ni_rx_rings = 5000;
    EXPECT_NE(r.check(0), "");
    r.nifp(0)->ni_rx_rings = 1;
    nr_txring(r.nifp(0), 0)->num_slots = 1u << 24; // slots would run past the metadata
    EXPECT_NE(r.check(0), "");
    nr_txring(r.nifp(0), 0)->num_slots = 16;
    nr_txring(r.nifp(0), 0)->buf_ofs += 2048; // buffers not where the header says
    EXPECT_NE(r.check(0), "");
}

TEST(RegionCheck, IfBlockOutsideMetadata)
{
    region_buffer r;
    EXPECT_NE(rings::check_if_block(r.base(), r.layout.geo, r.layout.geo.buffers_offset), "");
    EXPECT_NE(rings::check_if_block(r.base(), r.layout.geo, 0), "");
    nr_get_if_ext(r.nifp(0))->magic = 0;
    EXPECT_NE(r.check(0), "");
}

} // namespace
