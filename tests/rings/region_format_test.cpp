// rings/region_format: region geometry, the header a client checks first, if blocks and the
// extra-buffer list, and that check_if_block refuses every offset that would lead outside.
#include "fake_region.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstring>

namespace nr = netring::rings;
using netring::test::fake_region;
using netring::test::pipe_pair;

TEST(RegionFormat, PlanRejectsBadGeometry)
{
    for (uint32_t bs : {0u, 256u, 511u, 1000u, 3000u, 131072u})
        EXPECT_FALSE(nr::plan_region(bs, 1024, 65536)) << bs;
    EXPECT_FALSE(nr::plan_region(2048, 0, 65536));
    EXPECT_FALSE(nr::plan_region(2048, NR_RESERVED_BUFFERS, 65536));
    EXPECT_FALSE(nr::plan_region(2048, 1024, 0));
}

TEST(RegionFormat, PlanAlignsEverySize)
{
    for (uint32_t bs = 512; bs <= 65536; bs *= 2) {
        auto g = nr::plan_region(bs, 1000, 5000);
        ASSERT_TRUE(g) << bs;
        EXPECT_EQ(g->buf_size, bs);
        EXPECT_EQ(g->num_buffers, 1000u);
        EXPECT_EQ(g->meta_offset, 128u);
        EXPECT_GE(g->meta_size, 5000u);
        EXPECT_EQ(g->meta_size % 128, 0u);
        EXPECT_GE(g->buffers_offset, g->meta_offset + g->meta_size) << "buffers after metadata";
        EXPECT_EQ(g->buffers_offset % 4096, 0u) << "page aligned";
        EXPECT_EQ(g->buffers_offset % bs, 0u) << "chunk aligned (AF_XDP UMEM)";
        EXPECT_GE(g->region_size, g->buffers_offset + uint64_t{1000} * bs);
        EXPECT_EQ(g->region_size % 4096, 0u);
    }
}

TEST(RegionFormat, PlanDefaultSizes)
{
    auto g = nr::plan_region(2048, 65536, 1 << 20);
    ASSERT_TRUE(g);
    EXPECT_EQ(g->buffers_offset, 128u + (1u << 20) + 4096 - 128);
    EXPECT_EQ(g->region_size, g->buffers_offset + 65536ull * 2048);
}

TEST(RegionFormat, HeaderRoundTrip)
{
    fake_region r(2048, 64, 8192);
    const auto *h = reinterpret_cast<const nr_region_header *>(r.base);
    EXPECT_EQ(h->magic, NR_REGION_MAGIC);
    EXPECT_EQ(h->layout_version, NR_LAYOUT_VERSION);
    EXPECT_EQ(h->header_size, sizeof(nr_region_header));
    std::string why;
    auto g = nr::read_region_header(r.base, r.geo.region_size, &why);
    ASSERT_TRUE(g) << why;
    EXPECT_EQ(g->region_size, r.geo.region_size);
    EXPECT_EQ(g->meta_offset, r.geo.meta_offset);
    EXPECT_EQ(g->meta_size, r.geo.meta_size);
    EXPECT_EQ(g->buffers_offset, r.geo.buffers_offset);
    EXPECT_EQ(g->buf_size, 2048u);
    EXPECT_EQ(g->num_buffers, 64u);
    EXPECT_TRUE(nr::read_region_header(r.base, r.geo.region_size + 4096, nullptr))
        << "a larger mapping is fine";
}

namespace {

// Corrupts one header field of a fresh region and returns read_region_header's reason.
template <class F>
std::string reject_reason(F corrupt, uint64_t mapped_delta = 0)
{
    fake_region r(2048, 64, 8192);
    auto *h = reinterpret_cast<nr_region_header *>(r.base);
    corrupt(*h);
    std::string why;
    auto g = nr::read_region_header(r.base, r.geo.region_size - mapped_delta, &why);
    EXPECT_FALSE(g);
    return why;
}

} // namespace

TEST(RegionFormat, ReadHeaderRejectsBadMagicAndVersion)
{
    EXPECT_EQ(reject_reason([](nr_region_header &h) { h.magic ^= 1; }), "bad region magic");
    EXPECT_EQ(reject_reason([](nr_region_header &h) { h.layout_version = NR_LAYOUT_VERSION + 1; }),
              "unsupported region layout version");
}

TEST(RegionFormat, ReadHeaderRejectsInconsistentSizes)
{
    const std::string bad = "inconsistent region header";
    EXPECT_EQ(reject_reason([](nr_region_header &h) { h.region_size += 4096; }), bad);
    EXPECT_EQ(reject_reason([](nr_region_header &h) { h.region_size -= 4096; }), bad);
    EXPECT_EQ(reject_reason([](nr_region_header &h) { h.buffers_offset -= 4096; }), bad);
    EXPECT_EQ(reject_reason([](nr_region_header &h) { h.meta_offset = 0; }), bad);
    EXPECT_EQ(reject_reason([](nr_region_header &h) { h.buf_size = 1000; }), bad);
    EXPECT_EQ(reject_reason([](nr_region_header &h) { h.num_buffers = 1; }), bad);
    EXPECT_EQ(reject_reason([](nr_region_header &h) { h.num_buffers += 1000; }), bad);
    EXPECT_EQ(reject_reason([](nr_region_header &h) { h.meta_size = 0; }), bad);
}

TEST(RegionFormat, ReadHeaderRejectsShortMapping)
{
    EXPECT_EQ(reject_reason([](nr_region_header &) {}, 1), "region header claims more than was mapped");
    fake_region r(2048, 64, 8192);
    std::string why;
    EXPECT_FALSE(nr::read_region_header(r.base, sizeof(nr_region_header) - 1, &why));
    EXPECT_EQ(why, "region smaller than its header");
}

TEST(RegionFormat, InitRingUsesNetmapBufferArithmetic)
{
    pipe_pair p(8);
    nr_ring *tx = p.tx.ring;
    EXPECT_EQ(tx->num_slots, 8u);
    EXPECT_EQ(tx->nr_buf_size, 2048u);
    EXPECT_EQ(tx->dir, NR_RING_DIR_TX);
    EXPECT_EQ(p.rx.ring->dir, NR_RING_DIR_RX);
    for (uint32_t i = 0; i < 8; i++) {
        EXPECT_EQ(tx->slot[i].buf_idx, p.tx_bufs[i]);
        EXPECT_EQ(reinterpret_cast<uint8_t *>(nr_buf(tx, tx->slot[i].buf_idx)),
                  p.region.buffer(tx->slot[i].buf_idx));
    }
    // Slots without a buffer point at the dummy.
    const uint64_t off = p.reserve(nr_ring_block_size(4));
    const std::array<uint32_t, 2> two{10, 11};
    nr::init_ring(p.region.base, off, p.region.geo, 4, 1, NR_RING_DIR_TX, two);
    nr_ring *r = p.ring_at(off);
    EXPECT_EQ(r->slot[1].buf_idx, 11u);
    EXPECT_EQ(r->slot[2].buf_idx, NR_DUMMY_BUFFER);
    EXPECT_EQ(r->slot[3].buf_idx, NR_DUMMY_BUFFER);
}

namespace {

// An if block naming the pair's tx ring (partner: rx) and rx ring (partner: tx).
uint64_t make_if(pipe_pair &p, uint32_t bufs_head = 0)
{
    const uint64_t if_off = p.reserve(nr_if_block_size(2));
    const std::array<nr::if_ring_entry, 2> rings{{
        {p.tx_off, p.tx_sync_off, p.rx_off, p.rx_sync_off},
        {p.rx_off, p.rx_sync_off, p.tx_off, p.tx_sync_off},
    }};
    nr::init_if(p.region.base, if_off, "pipeA{1", 1, 1, NR_PORT_KIND_PIPE, rings, bufs_head);
    return if_off;
}

nr_if *if_at(pipe_pair &p, uint64_t off) { return reinterpret_cast<nr_if *>(p.region.base + off); }

} // namespace

TEST(RegionFormat, InitIfIsFoundByNetmapArithmetic)
{
    pipe_pair p(8);
    const uint64_t off = make_if(p, 0);
    nr_if *nifp = if_at(p, off);
    EXPECT_STREQ(nifp->ni_name, "pipeA{1");
    EXPECT_EQ(nifp->ni_version, NR_API_VERSION);
    EXPECT_EQ(nifp->ni_tx_rings, 1u);
    EXPECT_EQ(nifp->ni_rx_rings, 1u);
    EXPECT_EQ(nr_txring(nifp, 0), p.tx.ring);
    EXPECT_EQ(nr_rxring(nifp, 0), p.rx.ring);
    nr_if_ext *ext = nr_get_if_ext(nifp);
    EXPECT_EQ(ext->magic, NR_IF_EXT_MAGIC);
    EXPECT_EQ(ext->port_kind, NR_PORT_KIND_PIPE);
    EXPECT_EQ(ext->total_rings, 2u);
    nr_ring_ext *re = nr_get_ring_ext(nifp, 0);
    EXPECT_EQ(reinterpret_cast<char *>(nifp) + re->sync_ofs, reinterpret_cast<char *>(p.tx.sync));
    EXPECT_EQ(reinterpret_cast<char *>(nifp) + re->partner_ring_ofs, reinterpret_cast<char *>(p.rx.ring));
    EXPECT_EQ(reinterpret_cast<char *>(nifp) + re->partner_sync_ofs, reinterpret_cast<char *>(p.rx.sync));
    EXPECT_EQ(nr::check_if_block(p.region.base, p.region.geo, off), "");
}

TEST(RegionFormat, InitIfTruncatesLongNames)
{
    pipe_pair p(4);
    const uint64_t if_off = p.reserve(nr_if_block_size(1));
    const std::array<nr::if_ring_entry, 1> rings{{{p.tx_off, p.tx_sync_off, 0, 0}}};
    nr::init_if(p.region.base, if_off, "a-name-much-longer-than-sixteen", 1, 0, NR_PORT_KIND_DAEMON, rings,
                0);
    EXPECT_EQ(std::strlen(if_at(p, if_off)->ni_name), size_t{NR_IFNAMSIZ - 1});
    EXPECT_EQ(nr_get_ring_ext(if_at(p, if_off), 0)->partner_ring_ofs, 0);
    EXPECT_EQ(nr::check_if_block(p.region.base, p.region.geo, if_off), "");
}

TEST(RegionFormat, CheckIfBlockReturnsWhatInitIfWrote)
{
    pipe_pair p(8);
    // Two tx rings (the pair's tx ring, partnered, and a 4-slot ring without a partner), one rx.
    const uint64_t lone_off = p.reserve(nr_ring_block_size(4));
    const uint64_t lone_sync = p.reserve(sizeof(nr_sync));
    nr::init_ring(p.region.base, lone_off, p.region.geo, 4, 1, NR_RING_DIR_TX, std::span<const uint32_t>{});
    nr::init_sync(p.region.base, lone_sync);
    const uint64_t if_off = p.reserve(nr_if_block_size(3));
    const std::array<nr::if_ring_entry, 3> rings{{
        {p.tx_off, p.tx_sync_off, p.rx_off, p.rx_sync_off},
        {lone_off, lone_sync, 0, 0},
        {p.rx_off, p.rx_sync_off, p.tx_off, p.tx_sync_off},
    }};
    nr::init_if(p.region.base, if_off, "port0", 2, 1, NR_PORT_KIND_DAEMON, rings, 0);

    nr::checked_if out;
    ASSERT_EQ(nr::check_if_block(p.region.base, p.region.geo, if_off, &out), "");
    EXPECT_EQ(out.tx_rings, 2u);
    EXPECT_EQ(out.rx_rings, 1u);
    EXPECT_EQ(out.port_kind, uint32_t{NR_PORT_KIND_DAEMON});
    ASSERT_EQ(out.rings.size(), 3u);
    const nr::checked_ring &tx = out.rings[0], &lone = out.rings[1], &rx = out.rings[2];
    EXPECT_EQ(tx.ring_off, p.tx_off);
    EXPECT_EQ(tx.sync_off, p.tx_sync_off);
    EXPECT_EQ(tx.partner_ring_off, p.rx_off);
    EXPECT_EQ(tx.partner_sync_off, p.rx_sync_off);
    EXPECT_EQ(tx.num_slots, 8u);
    EXPECT_EQ(tx.partner_slots, 8u);
    EXPECT_EQ(tx.dir, NR_RING_DIR_TX);
    EXPECT_EQ(lone.ring_off, lone_off);
    EXPECT_EQ(lone.sync_off, lone_sync);
    EXPECT_EQ(lone.partner_ring_off, 0u);
    EXPECT_EQ(lone.partner_sync_off, 0u);
    EXPECT_EQ(lone.num_slots, 4u);
    EXPECT_EQ(lone.partner_slots, 0u);
    EXPECT_EQ(lone.dir, NR_RING_DIR_TX);
    EXPECT_EQ(rx.ring_off, p.rx_off);
    EXPECT_EQ(rx.sync_off, p.rx_sync_off);
    EXPECT_EQ(rx.partner_ring_off, p.tx_off);
    EXPECT_EQ(rx.partner_sync_off, p.tx_sync_off);
    EXPECT_EQ(rx.num_slots, 8u);
    EXPECT_EQ(rx.partner_slots, 8u);
    EXPECT_EQ(rx.dir, NR_RING_DIR_RX);
}

TEST(RegionFormat, CheckIfBlockLeavesOutAloneWhenItRefuses)
{
    pipe_pair p(8);
    const uint64_t off = make_if(p);
    nr_get_ring_ext(if_at(p, off), 1)->partner_sync_ofs = 1ll << 40;
    nr::checked_if out;
    out.tx_rings = 77;
    EXPECT_NE(nr::check_if_block(p.region.base, p.region.geo, off, &out), "");
    EXPECT_EQ(out.tx_rings, 77u) << "a refused block hands out no half-checked offsets";
    EXPECT_TRUE(out.rings.empty());
}

namespace {

template <class F>
std::string check_after(F corrupt)
{
    pipe_pair p(8);
    const uint64_t off = make_if(p);
    corrupt(p, if_at(p, off));
    return nr::check_if_block(p.region.base, p.region.geo, off);
}

} // namespace

TEST(RegionFormat, CheckIfBlockRejectsBadRingOffsets)
{
    EXPECT_NE(check_after([](pipe_pair &, nr_if *n) { n->ring_ofs[0] += 8; }), "") << "misaligned ring";
    EXPECT_NE(check_after([](pipe_pair &, nr_if *n) { n->ring_ofs[0] += 128; }), "")
        << "buf_ofs no longer matches";
    EXPECT_NE(check_after([](pipe_pair &, nr_if *n) { n->ring_ofs[1] = 1ll << 40; }), "");
    EXPECT_NE(check_after([](pipe_pair &, nr_if *n) { n->ring_ofs[0] = -(1ll << 20); }), "");
    EXPECT_NE(check_after([](pipe_pair &p, nr_if *n) {
                  n->ring_ofs[0] = static_cast<int64_t>(p.region.geo.buffers_offset) -
                                   (reinterpret_cast<uint8_t *>(n) - p.region.base);
              }),
              "")
        << "a ring in the buffer area";
}

TEST(RegionFormat, CheckIfBlockRejectsBadSyncOffsets)
{
    EXPECT_NE(check_after([](pipe_pair &, nr_if *n) { nr_get_ring_ext(n, 0)->sync_ofs = 1ll << 40; }), "");
    EXPECT_NE(check_after([](pipe_pair &p, nr_if *n) {
                  nr_get_ring_ext(n, 1)->sync_ofs =
                      static_cast<int64_t>(p.region.geo.meta_offset + p.region.geo.meta_size) -
                      (reinterpret_cast<uint8_t *>(n) - p.region.base) - 128;
              }),
              "")
        << "a sync block straddling the end of the metadata";
    EXPECT_NE(check_after([](pipe_pair &, nr_if *n) { nr_get_ring_ext(n, 0)->sync_ofs += 64; }), "")
        << "misaligned";
    EXPECT_NE(check_after([](pipe_pair &, nr_if *n) { nr_get_ring_ext(n, 0)->partner_ring_ofs = 1ll << 33; }),
              "");
    EXPECT_NE(check_after([](pipe_pair &, nr_if *n) { nr_get_ring_ext(n, 1)->partner_ring_ofs += 8; }), "");
    EXPECT_NE(
        check_after([](pipe_pair &, nr_if *n) { nr_get_ring_ext(n, 1)->partner_sync_ofs = -(1ll << 33); }),
        "");
}

TEST(RegionFormat, CheckIfBlockRejectsBadCounts)
{
    EXPECT_NE(check_after([](pipe_pair &p, nr_if *) { p.tx.ring->num_slots = 1u << 30; }), "");
    EXPECT_NE(check_after([](pipe_pair &p, nr_if *) { p.rx.ring->num_slots = 1; }), "");
    EXPECT_NE(check_after([](pipe_pair &p, nr_if *) { p.rx.ring->nr_buf_size = 4096; }), "");
    EXPECT_NE(check_after([](pipe_pair &, nr_if *n) { n->ni_tx_rings = 0xffffffffu; }), "");
    EXPECT_NE(check_after([](pipe_pair &, nr_if *n) { n->ni_rx_rings = 2; }), "")
        << "ext total_rings disagrees";
    EXPECT_NE(check_after([](pipe_pair &, nr_if *n) { n->ni_tx_rings = n->ni_rx_rings = 0; }), "");
    EXPECT_NE(check_after([](pipe_pair &, nr_if *n) { nr_get_if_ext(n)->magic = 0; }), "");
}

TEST(RegionFormat, CheckIfBlockRejectsIfOutsideMetadata)
{
    pipe_pair p(8);
    make_if(p);
    const auto &g = p.region.geo;
    EXPECT_NE(nr::check_if_block(p.region.base, g, 0), "") << "the region header is not an if block";
    EXPECT_NE(nr::check_if_block(p.region.base, g, g.buffers_offset), "");
    EXPECT_NE(nr::check_if_block(p.region.base, g, g.meta_offset + g.meta_size - 8), "");
    EXPECT_NE(nr::check_if_block(p.region.base, g, ~uint64_t{0} - 15), "");
    EXPECT_NE(nr::check_if_block(p.region.base, g, g.meta_offset + 4), "") << "misaligned";
}

TEST(RegionFormat, LinkBuffersBuildsANullTerminatedList)
{
    fake_region r(2048, 16, 4096);
    const std::array<uint32_t, 3> bufs{5, 9, 3};
    const uint32_t head = nr::link_buffers(r.base, r.geo, bufs);
    EXPECT_EQ(head, 5u);
    std::vector<uint32_t> walked;
    for (uint32_t idx = head; idx != 0 && walked.size() < 16;) {
        walked.push_back(idx);
        std::memcpy(&idx, r.buffer(idx), sizeof idx);
    }
    EXPECT_EQ(walked, (std::vector<uint32_t>{5, 9, 3}));
    EXPECT_EQ(nr::link_buffers(r.base, r.geo, std::span<const uint32_t>{}), 0u);
}
