#include "buffer_pool.hpp"

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

} // namespace netring::rings
