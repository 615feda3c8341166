// Test fixture: a formatted region holding one pipe (two ends, one tx and one rx ring each),
// laid out with rings/region_format exactly as netringd lays out a pipe region. The memory is the
// caller's (a malloc'd buffer or a memfd mapping).
#pragma once

#include <rings/pipe_sync.hpp>
#include <rings/region_format.hpp>

#include <cstdint>

namespace netring::test {

struct fake_pipe_region {
    // Ring order: 0 = A.tx, 1 = A.rx, 2 = B.tx, 3 = B.rx. End A is '{', end B is '}'.
    rings::region_geometry geo;
    uint64_t if_off[2] = {};
    uint64_t ring_off[4] = {};
    uint64_t sync_off[4] = {};
    uint32_t num_slots = 0;

    static fake_pipe_region plan(uint32_t num_slots, uint32_t buf_size = 2048);
    // Writes header, if blocks, rings (each slot with its own buffer) and sync blocks.
    void format(uint8_t *base) const;
    rings::ring_ref ref(uint8_t *base, int ring) const;
    rings::buffer_limits limits() const { return {geo.num_buffers, geo.buf_size, 0}; }
};

} // namespace netring::test
