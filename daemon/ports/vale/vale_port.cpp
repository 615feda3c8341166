#include "vale_port.hpp"

#include <algorithm>

namespace netring::netringd {

vale_port::~vale_port()
{
    if (!monitors_.empty())
        switches_.set_monitors(name_, {}, {}); // the forwarding thread lets go of their rings
    for (auto &[id, m] : monitors_)
        monitor_release(*m.mem, m.reg);
    for (const uint32_t r : regs_)
        switches_.release_port(r, name_);
}

result<attach_result> vale_port::attach_monitor(const reg_context &ctx, const port_name &name, uint32_t slots)
{
    auto mem = switches_.monitor_region(name);
    if (!mem)
        return mem.err();
    std::vector<nr_mon_source> src;
    monitor_sources(name, 0, 1, false, src);
    monitor m{mem.value(), {}};
    auto a = monitor_build(*m.mem, m.reg, {name.str(), src, slots, false});
    if (!a)
        return a.err();
    m.reg.reg_id = ctx.reg_id;
    m.mem->add_user(); // partner: drop_user in detach
    monitors_.emplace(ctx.reg_id, std::move(m));
    wire_monitors();
    return a;
}

std::vector<kept_monitor> vale_port::keep_monitors(const std::function<uint32_t(int)> &fd_id) const
{
    std::vector<kept_monitor> out;
    if (!keeps_monitors())
        return out;
    for (const auto &[id, m] : monitors_)
        out.push_back(monitor_keep(m.reg, name_.port_key(), fd_id));
    return out;
}

status vale_port::adopt_monitor(const kept_monitor &k, const std::function<unique_fd(uint32_t)> &take_fd)
{
    auto refused = [&](const std::string &why) {
        return error::from(errc::bad_message, "kept monitor " + k.name + ": " + why);
    };
    auto name = parse_port_name(k.name);
    if (!name || !name->is_monitor() || name->monitored().port_key() != name_.port_key() || k.reg_id == 0 ||
        monitors_.count(k.reg_id) || std::find(regs_.begin(), regs_.end(), k.reg_id) != regs_.end())
        return refused("it is not a monitor of " + name_.str() + ", or its registration is taken");
    auto mem = switches_.monitor_region(*name);
    if (!mem)
        return refused(mem.err().message);
    auto reg = monitor_adopt(**mem, k, take_fd);
    if (!reg)
        return reg.err();
    for (const nr_mon_source &src : reg->src)
        if (src.ringid != 0 || (src.flags & NR_MON_SRC_HOST))
            return refused("a switch port has one ring each way and no host rings");
    monitor m{mem.value(), std::move(*reg)};
    m.mem->add_user(); // partner: drop_user in detach
    monitors_.emplace(k.reg_id, std::move(m));
    wire_monitors(); // the adopted switch is held: its thread starts with them at resume()
    return ok_status();
}

result<attach_result> vale_port::monitor_answer_of(uint32_t reg_id) const
{
    const auto m = monitors_.find(reg_id);
    if (m == monitors_.end())
        return error::from(errc::not_registered, "no monitor of " + name_.str() + " is registration " +
                                                     std::to_string(reg_id));
    return monitor_answer(*m->second.mem, m->second.reg);
}

void vale_port::wire_monitors()
{
    std::vector<const served_ring *> tx, rx;
    for (const auto &[id, m] : monitors_)
        for (size_t i = 0; i < m.reg.rings.size(); i++)
            ((m.reg.src[i].flags & NR_MON_SRC_TX) ? tx : rx).push_back(&m.reg.rings[i]);
    switches_.set_monitors(name_, std::move(tx), std::move(rx));
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
    if (auto m = monitors_.find(reg_id); m != monitors_.end()) {
        monitor gone = std::move(m->second);
        monitors_.erase(m);
        wire_monitors(); // the forwarding thread is stopped and restarted without its rings
        monitor_release(*gone.mem, gone.reg);
        gone.mem->drop_user();
        return regs_.empty() && (monitors_.empty() || !switches_.has_port(name_));
    }
    const auto it = std::find(regs_.begin(), regs_.end(), reg_id);
    if (it != regs_.end()) {
        regs_.erase(it);
        switches_.release_port(reg_id, name_);
    }
    if (regs_.empty() && !switches_.has_port(name_)) {
        // An ephemeral port went with its last client: its monitors read what is left and stop.
        for (const auto &[id, m] : monitors_)
            monitor_mark_gone(*m.mem, m.reg);
        return true;
    }
    return regs_.empty() && monitors_.empty();
}

sync_result vale_port::sync(uint32_t reg_id, ring_dir dir, uint32_t ring)
{
    return switches_.socket_sync(reg_id, name_, ring, dir == ring_dir::tx);
}

port_details vale_port::info(const port_name &name) const { return switches_.port_info(name); }

void vale_port::collect_stats(uint32_t reg_id, std::vector<ring_counters> &out) const
{
    if (auto m = monitors_.find(reg_id); m != monitors_.end()) {
        monitor_collect(*m->second.mem, m->second.reg, out);
        return;
    }
    switches_.collect_stats(reg_id, name_, out);
}

} // namespace netring::netringd
