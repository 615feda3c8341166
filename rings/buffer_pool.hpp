// The free-buffer pool of one region. It lives in daemon memory, never in the shared region, so
// nothing a client writes can corrupt it: what a registration owns is recorded here and returned
// from this record, whatever the client left in its slots.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace netring::rings {

class buffer_pool {
public:
    // Buffers [first, first + count) are allocatable; indices below `first` are reserved.
    buffer_pool(uint32_t first, uint32_t count);

    uint32_t total() const { return total_; }
    uint32_t available() const { return static_cast<uint32_t>(free_.size()); }

    // Takes `n` buffers into `out` (appended), all or nothing. False when fewer are free.
    bool take(uint32_t n, std::vector<uint32_t> &out);
    // Partner of take(): gives back buffers this pool handed out. Indices it never handed out, or
    // already holds, are ignored and counted (a daemon bug, not client input).
    void give(std::span<const uint32_t> bufs);
    uint64_t rejected_returns() const { return rejected_; }

    // The free buffers as ranges (first, count), ascending: what a successor process needs.
    std::vector<std::pair<uint32_t, uint32_t>> free_ranges() const;
    // Makes exactly the buffers of `ranges` free and every other one in use (a successor adopting
    // the region). Refused, changing nothing, unless the ranges are inside the pool, ascending and
    // not overlapping.
    bool restore(const std::vector<std::pair<uint32_t, uint32_t>> &ranges);

private:
    uint32_t first_;
    uint32_t total_;
    std::vector<uint32_t> free_;   // LIFO: recently used buffers are cache-warm
    std::vector<uint8_t> in_use_;  // per buffer, to catch double returns
    uint64_t rejected_ = 0;
};

} // namespace netring::rings
