#include "fake_region.hpp"

#include <vector>

namespace netring::test {
namespace {

uint64_t round128(uint64_t v) { return (v + 127) / 128 * 128; }

} // namespace

fake_pipe_region fake_pipe_region::plan(uint32_t num_slots, uint32_t buf_size)
{
    fake_pipe_region r;
    r.num_slots = num_slots;
    const uint64_t if_size = round128(nr_if_block_size(2));
    const uint64_t ring_size = round128(nr_ring_block_size(num_slots));
    const uint64_t meta = 2 * if_size + 4 * ring_size + 4 * sizeof(nr_sync);
    r.geo = *rings::plan_region(buf_size, NR_RESERVED_BUFFERS + 4 * num_slots + 8, meta);
    uint64_t off = r.geo.meta_offset;
    for (auto &o : r.if_off) {
        o = off;
        off += if_size;
    }
    for (auto &o : r.ring_off) {
        o = off;
        off += ring_size;
    }
    for (auto &o : r.sync_off) {
        o = off;
        off += sizeof(nr_sync);
    }
    return r;
}

void fake_pipe_region::format(uint8_t *base) const
{
    rings::write_region_header(base, geo);
    uint32_t next_buf = NR_RESERVED_BUFFERS;
    for (int i = 0; i < 4; i++) {
        std::vector<uint32_t> bufs(num_slots);
        for (auto &b : bufs)
            b = next_buf++;
        const bool tx = i % 2 == 0;
        rings::init_ring(base, ring_off[i], geo, num_slots, 0, tx ? NR_RING_DIR_TX : NR_RING_DIR_RX, bufs);
        rings::init_sync(base, sync_off[i]);
    }
    // A.tx feeds B.rx, B.tx feeds A.rx.
    rings::pipe_pair_init(ref(base, 0), ref(base, 3));
    rings::pipe_pair_init(ref(base, 2), ref(base, 1));
    for (int end = 0; end < 2; end++) {
        const int tx = 2 * end, rx = 2 * end + 1;
        const int peer_rx = 3 - 2 * end, peer_tx = 2 - 2 * end;
        const rings::if_ring_entry entries[2] = {
            {ring_off[tx], sync_off[tx], ring_off[peer_rx], sync_off[peer_rx]},
            {ring_off[rx], sync_off[rx], ring_off[peer_tx], sync_off[peer_tx]},
        };
        rings::init_if(base, if_off[end], end == 0 ? "pipeA{1" : "pipeA}1", 1, 1, NR_PORT_KIND_PIPE, entries, 0);
    }
}

rings::ring_ref fake_pipe_region::ref(uint8_t *base, int ring) const
{
    return {reinterpret_cast<nr_ring *>(base + ring_off[ring]), reinterpret_cast<nr_sync *>(base + sync_off[ring]),
            num_slots};
}

} // namespace netring::test
