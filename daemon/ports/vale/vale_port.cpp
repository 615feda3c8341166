#include "vale_port.hpp"

#include <algorithm>

namespace netring::netringd {

vale_port::~vale_port()
{
    for (const uint32_t r : regs_)
        switches_.release_port(r, name_);
}

result<attach_result> vale_port::attach(const reg_context &ctx, const port_name &name,
                                        const ring_request &req)
{
    auto a = switches_.acquire_port(ctx.reg_id, ctx.pid, name, req);
    if (a)
        regs_.push_back(ctx.reg_id);
    return a;
}

bool vale_port::detach(uint32_t reg_id)
{
    const auto it = std::find(regs_.begin(), regs_.end(), reg_id);
    if (it != regs_.end()) {
        regs_.erase(it);
        switches_.release_port(reg_id, name_);
    }
    return regs_.empty();
}

sync_result vale_port::sync(uint32_t reg_id, ring_dir dir, uint32_t ring)
{
    return switches_.socket_sync(reg_id, name_, ring, dir == ring_dir::tx);
}

port_details vale_port::info(const port_name &name) const { return switches_.port_info(name); }

void vale_port::collect_stats(uint32_t reg_id, std::vector<ring_counters> &out) const
{
    switches_.collect_stats(reg_id, name_, out);
}

} // namespace netring::netringd
