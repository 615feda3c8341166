#include "arena.hpp"

#include <iterator>

namespace netring::rings {

arena::arena(uint64_t offset, uint64_t size)
{
    const uint64_t start = round_up(offset);
    if (offset + size > start)
        free_.emplace(start, (offset + size - start) & ~(alignment - 1));
    begin_ = start;
    end_ = free_.empty() ? start : start + free_.begin()->second;
}

std::vector<std::pair<uint64_t, uint64_t>> arena::free_ranges() const
{
    return {free_.begin(), free_.end()};
}

bool arena::restore(const std::vector<std::pair<uint64_t, uint64_t>> &ranges)
{
    uint64_t at = begin_;
    for (const auto &[off, size] : ranges) {
        if (off < at || size == 0 || off % alignment || size % alignment || size > end_ - off)
            return false;
        at = off + size;
    }
    free_.clear();
    for (const auto &[off, size] : ranges)
        release(off, size); // coalesces neighbours
    return true;
}

std::optional<uint64_t> arena::reserve(uint64_t size)
{
    size = round_up(size == 0 ? 1 : size);
    for (auto it = free_.begin(); it != free_.end(); ++it) {
        if (it->second < size)
            continue;
        const uint64_t off = it->first;
        const uint64_t left = it->second - size;
        free_.erase(it);
        if (left)
            free_.emplace(off + size, left);
        return off;
    }
    return std::nullopt;
}

void arena::release(uint64_t offset, uint64_t size)
{
    size = round_up(size == 0 ? 1 : size);
    // A range overlapping a free one is a double release (possibly after coalescing): ignore it
    // rather than let the map hand the same bytes out twice.
    auto after = free_.lower_bound(offset);
    if (after != free_.end() && after->first < offset + size)
        return;
    if (after != free_.begin() && std::prev(after)->first + std::prev(after)->second > offset)
        return;
    auto it = free_.emplace_hint(after, offset, size);
    auto next = std::next(it);
    if (next != free_.end() && it->first + it->second == next->first) {
        it->second += next->second;
        free_.erase(next);
    }
    if (it != free_.begin()) {
        auto prev = std::prev(it);
        if (prev->first + prev->second == it->first) {
            prev->second += it->second;
            free_.erase(it);
        }
    }
}

uint64_t arena::free_bytes() const
{
    uint64_t total = 0;
    for (const auto &[off, size] : free_)
        total += size;
    return total;
}

} // namespace netring::rings
