#include "buffer_pool.hpp"

#include <algorithm>

namespace netring::rings {

buffer_pool::buffer_pool(uint32_t first, uint32_t count)
    : first_(first), total_(count), in_use_(static_cast<size_t>(first) + count, 0)
{
    free_.reserve(count);
    for (uint32_t i = first + count; i > first; i--)
        free_.push_back(i - 1); // lowest index on top
}

bool buffer_pool::take(uint32_t n, std::vector<uint32_t> &out)
{
    if (n > free_.size())
        return false;
    for (uint32_t k = 0; k < n; k++) {
        const uint32_t idx = free_.back();
        free_.pop_back();
        in_use_[idx] = 1;
        out.push_back(idx);
    }
    return true;
}

void buffer_pool::give(std::span<const uint32_t> bufs)
{
    for (uint32_t idx : bufs) {
        if (idx < first_ || idx >= in_use_.size() || !in_use_[idx]) {
            rejected_++;
            continue;
        }
        in_use_[idx] = 0;
        free_.push_back(idx);
    }
}

std::vector<std::pair<uint32_t, uint32_t>> buffer_pool::free_ranges() const
{
    std::vector<std::pair<uint32_t, uint32_t>> out;
    for (uint32_t i = first_; i < in_use_.size(); i++) {
        if (in_use_[i])
            continue;
        if (!out.empty() && out.back().first + out.back().second == i)
            out.back().second++;
        else
            out.emplace_back(i, 1);
    }
    return out;
}

bool buffer_pool::restore(const std::vector<std::pair<uint32_t, uint32_t>> &ranges)
{
    uint64_t at = first_;
    for (const auto &[first, count] : ranges) {
        if (first < at || count == 0 || uint64_t{first} + count > in_use_.size())
            return false;
        at = uint64_t{first} + count;
    }
    free_.clear();
    std::fill(in_use_.begin() + first_, in_use_.end(), uint8_t{1});
    for (auto r = ranges.rbegin(); r != ranges.rend(); ++r) // lowest index on top, as at the start
        for (uint32_t i = r->first + r->second; i > r->first; i--) {
            in_use_[i - 1] = 0;
            free_.push_back(i - 1);
        }
    return true;
}

} // namespace netring::rings
