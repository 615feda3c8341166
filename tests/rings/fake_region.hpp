// A region formatted in ordinary process memory, as the daemon formats a memfd: header, arena-carved
// metadata (one pipe ring pair: A.tx and B.rx, with their sync blocks), buffers from a pool.
// The tests then play both pipe ends in one process, which is what the shm fast path does anyway.
#pragma once

#include "rings/arena.hpp"
#include "rings/buffer_pool.hpp"
#include "rings/pipe_sync.hpp"
#include "rings/region_format.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace netring::test {

// Owns an anonymous mapping of one formatted region.
class fake_region {
public:
    fake_region(uint32_t buf_size, uint32_t num_buffers, uint64_t meta_size)
    {
        auto g = rings::plan_region(buf_size, num_buffers, meta_size);
        if (!g)
            throw std::runtime_error("plan_region refused the test geometry");
        geo = *g;
        void *p =
            ::mmap(nullptr, geo.region_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            throw std::runtime_error("mmap failed");
        base = static_cast<uint8_t *>(p);
        rings::write_region_header(base, geo);
    }
    fake_region(const fake_region &) = delete;
    fake_region &operator=(const fake_region &) = delete;
    ~fake_region() { ::munmap(base, geo.region_size); }

    rings::buffer_limits limits() const { return {geo.num_buffers, geo.buf_size, 0}; }
    uint8_t *buffer(uint32_t idx) const { return base + geo.buffers_offset + uint64_t{idx} * geo.buf_size; }

    rings::region_geometry geo;
    uint8_t *base = nullptr;
};

// One pipe ring pair (A.tx -> B.rx) inside a fake_region, set up as the daemon does at REGIF.
struct pipe_pair {
    pipe_pair(uint32_t slots, uint32_t extra_buffers = 0)
        : region(2048, NR_RESERVED_BUFFERS + 2 * slots + extra_buffers, 64 * 1024),
          meta(region.geo.meta_offset, region.geo.meta_size),
          pool(NR_RESERVED_BUFFERS, 2 * slots + extra_buffers), n(slots)
    {
        tx_off = reserve(nr_ring_block_size(n));
        rx_off = reserve(nr_ring_block_size(n));
        tx_sync_off = reserve(sizeof(nr_sync));
        rx_sync_off = reserve(sizeof(nr_sync));
        if (!pool.take(n, tx_bufs) || !pool.take(n, rx_bufs))
            throw std::runtime_error("pool too small");
        rings::init_ring(region.base, tx_off, region.geo, n, 0, NR_RING_DIR_TX, tx_bufs);
        rings::init_ring(region.base, rx_off, region.geo, n, 0, NR_RING_DIR_RX, rx_bufs);
        rings::init_sync(region.base, tx_sync_off);
        rings::init_sync(region.base, rx_sync_off);
        tx = {ring_at(tx_off), sync_at(tx_sync_off), n};
        rx = {ring_at(rx_off), sync_at(rx_sync_off), n};
        rings::pipe_pair_init(tx, rx);
    }

    uint64_t reserve(uint64_t size)
    {
        auto off = meta.reserve(size);
        if (!off)
            throw std::runtime_error("arena too small");
        return *off;
    }
    nr_ring *ring_at(uint64_t off) const { return reinterpret_cast<nr_ring *>(region.base + off); }
    nr_sync *sync_at(uint64_t off) const { return reinterpret_cast<nr_sync *>(region.base + off); }

    rings::sync_outcome txsync() { return rings::pipe_txsync(tx, rx, region.limits()); }
    rings::sync_outcome rxsync() { return rings::pipe_rxsync(rx, tx, region.limits()); }

    fake_region region;
    rings::arena meta;
    rings::buffer_pool pool;
    uint32_t n;
    uint64_t tx_off = 0, rx_off = 0, tx_sync_off = 0, rx_sync_off = 0;
    std::vector<uint32_t> tx_bufs, rx_bufs;
    rings::ring_ref tx, rx;
};

} // namespace netring::test
