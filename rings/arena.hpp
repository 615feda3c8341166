// First-fit allocator of byte ranges inside a region's metadata area (if blocks, rings, sync
// blocks). Offsets only; it never touches the memory it hands out. Daemon memory, not shared.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace netring::rings {

class arena {
public:
    static constexpr uint64_t alignment = 128; // a ring's sem[] and every sync group need 128

    arena(uint64_t offset, uint64_t size);

    // A range of at least `size` bytes, 128-byte aligned, or nullopt when no free range fits.
    std::optional<uint64_t> reserve(uint64_t size);
    // Partner of reserve(): the same offset and size.
    void release(uint64_t offset, uint64_t size);
    uint64_t free_bytes() const;

    // The free ranges (offset, size), ascending and coalesced: what a successor process needs to
    // carry on with the same metadata area.
    std::vector<std::pair<uint64_t, uint64_t>> free_ranges() const;
    // Replaces the free ranges by `ranges` (a successor adopting the area). Refused, changing
    // nothing, unless every range is aligned, inside the area this arena was made for, ascending
    // and not overlapping.
    bool restore(const std::vector<std::pair<uint64_t, uint64_t>> &ranges);

private:
    static uint64_t round_up(uint64_t v) { return (v + alignment - 1) & ~(alignment - 1); }
    std::map<uint64_t, uint64_t> free_; // offset -> size, coalesced
    uint64_t begin_ = 0, end_ = 0;      // the area: [begin_, end_)
};

} // namespace netring::rings
