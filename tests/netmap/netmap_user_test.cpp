// netmap_user.h's ring helpers on a hand-built interface block: ring and buffer lookup, data
// offsets, index arithmetic through the wrap, tx pending, packet copy, CSB publication, and the
// two string constants api14_facts.h cannot check at compile time.
#define NETMAP_WITH_LIBS
#include <libnetmap.h>
#include <net/netmap_user.h>

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace {

constexpr uint32_t slots = 8;
constexpr uint32_t buf_size = 2048;

// Interface block at 0 with 2 hardware + 1 host ring per direction, rings every 1 KiB from 1 KiB,
// buffers from 16 KiB. Fields are const in netmap's structs, so they are written with memcpy.
struct fake_port {
    std::vector<char> mem = std::vector<char>(64 * 1024);
    netmap_if *nifp = NETMAP_IF(mem.data(), 0);

    template <typename T>
    void put(void *base, size_t offset, T value)
    {
        std::memcpy(static_cast<char *>(base) + offset, &value, sizeof value);
    }

    fake_port()
    {
        put<uint32_t>(nifp, offsetof(netmap_if, ni_tx_rings), 2);
        put<uint32_t>(nifp, offsetof(netmap_if, ni_rx_rings), 2);
        put<uint32_t>(nifp, offsetof(netmap_if, ni_host_tx_rings), 1);
        put<uint32_t>(nifp, offsetof(netmap_if, ni_host_rx_rings), 1);
        for (int i = 0; i < 6; i++) {
            ssize_t ring_at = 1024 * (i + 1);
            put<ssize_t>(nifp, offsetof(netmap_if, ring_ofs) + i * sizeof(ssize_t), ring_at);
            char *ring = mem.data() + ring_at;
            put<int64_t>(ring, offsetof(netmap_ring, buf_ofs), 16 * 1024 - ring_at);
            put<uint32_t>(ring, offsetof(netmap_ring, num_slots), slots);
            put<uint32_t>(ring, offsetof(netmap_ring, nr_buf_size), buf_size);
            put<uint64_t>(ring, offsetof(netmap_ring, offset_mask), 0xff);
        }
    }
    ptrdiff_t at(const void *p) const { return static_cast<const char *>(p) - mem.data(); }
};

TEST(netmap_user, RingsFollowTxThenRxOrder)
{
    fake_port port;
    EXPECT_EQ(port.at(NETMAP_TXRING(port.nifp, 0)), 1024);
    EXPECT_EQ(port.at(NETMAP_TXRING(port.nifp, 2)), 3 * 1024); // the host tx ring
    EXPECT_EQ(port.at(NETMAP_RXRING(port.nifp, 0)), 4 * 1024); // after all three tx rings
    EXPECT_EQ(port.at(NETMAP_RXRING(port.nifp, 2)), 6 * 1024); // the host rx ring
}

TEST(netmap_user, BuffersAreSharedByAllRings)
{
    fake_port port;
    netmap_ring *tx = NETMAP_TXRING(port.nifp, 0);
    netmap_ring *rx = NETMAP_RXRING(port.nifp, 1);
    EXPECT_EQ(NETMAP_BUF(tx, 3), NETMAP_BUF(rx, 3));
    EXPECT_EQ(port.at(NETMAP_BUF(rx, 3)), 16 * 1024 + 3 * buf_size);
    EXPECT_EQ(NETMAP_BUF_IDX(tx, NETMAP_BUF(rx, 7)), 7);
}

TEST(netmap_user, OffsetsUseOnlyTheMaskedBits)
{
    fake_port port;
    netmap_ring *ring = NETMAP_TXRING(port.nifp, 0);
    netmap_slot *slot = &ring->slot[0];
    slot->buf_idx = 2;
    slot->ptr = 0xab00;
    NETMAP_WOFFSET(ring, slot, 0x140); // bit 8 is outside the mask: dropped
    EXPECT_EQ(slot->ptr, 0xab40u);
    EXPECT_EQ(NETMAP_ROFFSET(ring, slot), 0x40u);
    EXPECT_EQ(NETMAP_BUF_OFFSET(ring, slot), NETMAP_BUF(ring, 2) + 0x40);
}

TEST(netmap_user, IndexArithmeticWraps)
{
    fake_port port;
    netmap_ring *ring = NETMAP_RXRING(port.nifp, 0);
    EXPECT_EQ(nm_ring_next(ring, 0), 1u);
    EXPECT_EQ(nm_ring_next(ring, slots - 1), 0u);
    for (uint32_t head = 0; head < slots; head++) {
        for (uint32_t tail = 0; tail < slots; tail++) {
            ring->head = ring->cur = head;
            ring->tail = tail;
            EXPECT_EQ(nm_ring_space(ring), (tail + slots - head) % slots) << head << " " << tail;
            EXPECT_EQ(nm_ring_empty(ring) != 0, head == tail);
            // everything sent: the kernel side holds only the slot before head
            EXPECT_EQ(nm_tx_pending(ring) != 0, (tail + 1) % slots != head);
        }
    }
}

TEST(netmap_user, SpaceCountsFromHeadNotCur)
{
    fake_port port;
    netmap_ring *ring = NETMAP_RXRING(port.nifp, 0);
    ring->head = 6;
    ring->cur = 1; // a program waiting for more than it holds
    ring->tail = 2;
    EXPECT_EQ(nm_ring_space(ring), 4u);
}

TEST(netmap_user, PacketCopyCopiesExactlyTheLength)
{
    std::vector<char> src(2048), dst(2048);
    for (size_t i = 0; i < src.size(); i++)
        src[i] = static_cast<char>(i * 7 + 1);
    for (int len : {0, 1, 63, 64, 128, 1000, 1024, 1500, 2048}) {
        std::fill(dst.begin(), dst.end(), 0);
        nm_pkt_copy(src.data(), dst.data(), len);
        EXPECT_EQ(std::memcmp(src.data(), dst.data(), len), 0) << len;
        if (len < 2048) {
            EXPECT_EQ(dst[len], 0) << len;
        }
    }
}

TEST(netmap_user, CsbWriteStoresBothIndices)
{
    nm_csb_atok atok{};
    nm_csb_ktoa ktoa{};
    ktoa.hwcur = 3;
    ktoa.hwtail = 6;
    nm_sync_kloop_appl_write(&atok, 5, 4);
    uint32_t hwtail = 0, hwcur = 0;
    nm_sync_kloop_appl_read(&ktoa, &hwtail, &hwcur);
    EXPECT_EQ(atok.cur, 5u);
    EXPECT_EQ(atok.head, 4u);
    EXPECT_EQ(hwcur, 3u);
    EXPECT_EQ(hwtail, 6u);
}

TEST(netmap_user, DescriptorChecksAndOptionWalk)
{
    // nm_desc has const members, so C++ cannot value-initialize one: netmap calloc()s it
    alignas(nm_desc) static unsigned char storage[sizeof(nm_desc)];
    nm_desc *desc = reinterpret_cast<nm_desc *>(storage);
    EXPECT_FALSE(IS_NETMAP_DESC(desc));
    desc->self = desc;
    desc->fd = 7;
    EXPECT_TRUE(IS_NETMAP_DESC(desc));
    EXPECT_EQ(NETMAP_FD(desc), 7);

    nmreq_header hdr{};
    nmreq_option opts[3]{};
    hdr.nr_options = reinterpret_cast<uintptr_t>(&opts[0]);
    opts[0].nro_next = reinterpret_cast<uintptr_t>(&opts[1]);
    opts[1].nro_next = reinterpret_cast<uintptr_t>(&opts[2]);
    int seen = 0;
    nmreq_option *o;
    nmreq_foreach_option(&hdr, o) seen++;
    EXPECT_EQ(seen, 3);
}

TEST(netmap_user, StringConstants)
{
    EXPECT_STREQ(NETMAP_DEVICE_NAME, "/dev/netmap");
    EXPECT_STREQ(NM_BDG_NAME, "vale");
}

} // namespace
