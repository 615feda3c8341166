// A pipe across a daemon restart: its records out (keep) and back in (adopt). The memory and the
// eventfds are the same objects before and after; only the daemon's bookkeeping is rebuilt, and
// every number of it is checked against the region before the pipe is trusted again.
#include "pipe_port.hpp"

#include <netring/port_name.hpp>
#include <rings/bits.hpp>

namespace netring::netringd {
namespace {

error refused(const std::string &key, const std::string &why)
{
    return error::from(errc::bad_message, "kept pipe " + key + ": " + why);
}

constexpr uint32_t max_kept_rings = 1024; // far above any max_rings; a bound for garbage

} // namespace

kept_pipe pipe_port::keep(const std::function<uint32_t(int)> &fd_id) const
{
    kept_pipe k;
    k.key = key_;
    k.parent = parent_;
    for (int d = 0; d < 2; d++) {
        k.dir_rings[d] = dirs_[d].rings;
        k.dir_slots[d] = dirs_[d].slots;
        for (const table_rec &t : tables_[d])
            k.tables[d].emplace_back(t.off, t.bytes);
    }
    for (int e = 0; e < 2; e++) {
        const end_rec &src = ends_[e];
        kept_pipe_end &dst = k.ends[e];
        dst.name = src.name;
        dst.open = src.open;
        dst.exclusive = src.exclusive;
        dst.reg_id = src.reg_id;
        dst.pid = src.pid;
        dst.extra_bufs = src.extra_bufs;
        dst.if_off = src.if_off;
        dst.if_bytes = src.if_bytes;
        for (const auto *group : {&src.tx, &src.rx}) {
            auto &out = group == &src.tx ? dst.tx : dst.rx;
            for (const ring_rec &r : *group)
                out.push_back({r.ring_off, r.sync_off, r.meta_bytes, r.num_slots, fd_id(r.notify.get())});
        }
    }
    k.bufs = bufs_;
    k.broken = broken_;
    return k;
}

result<std::shared_ptr<pipe_port>> pipe_port::adopt(const kept_pipe &k, const config &cfg,
                                                    std::shared_ptr<region> mem,
                                                    const std::function<unique_fd(uint32_t)> &take_fd)
{
    auto name = parse_port_name(k.ends[0].name);
    if (!name || name->role != port_role::pipe_master || name->port_key() != k.key)
        return refused(k.key, "end A is named '" + k.ends[0].name + "'");
    auto p = std::make_shared<pipe_port>(*name, cfg);
    if (p->parent_ != k.parent || !mem || mem->name() != k.parent)
        return refused(k.key, "its region " + k.parent + " is not the one it lives in");
    if (p->ends_[1].name != k.ends[1].name)
        return refused(k.key, "end B is named '" + k.ends[1].name + "'");
    const rings::region_geometry &g = mem->geometry();
    for (int d = 0; d < 2; d++) {
        if (k.dir_rings[d] == 0 || k.dir_rings[d] > max_kept_rings || k.dir_slots[d] < 2 ||
            k.dir_slots[d] > (1u << 20) || !rings::is_pow2(k.dir_slots[d]))
            return refused(k.key, "direction " + std::to_string(d) + " has " + std::to_string(k.dir_rings[d]) +
                                      " rings of " + std::to_string(k.dir_slots[d]) + " slots");
        p->dirs_[d] = {k.dir_rings[d], k.dir_slots[d]};
    }
    // p gets the region last: a refusal before that destroys p without touching the region (the
    // caller discards the region too).
    for (int e = 0; e < 2; e++) {
        const kept_pipe_end &src = k.ends[e];
        end_rec &dst = p->ends_[e];
        if (src.tx.size() != k.dir_rings[e] || src.rx.size() != k.dir_rings[1 - e])
            return refused(k.key, dst.name + " has rings of another geometry");
        for (const auto *group : {&src.tx, &src.rx}) {
            const uint32_t slots = group == &src.tx ? k.dir_slots[e] : k.dir_slots[1 - e];
            auto &out = group == &src.tx ? dst.tx : dst.rx;
            for (const kept_ring &r : *group) {
                if (r.num_slots != slots || !ring_in_place(*mem, r.ring_off, r.sync_off, r.meta_bytes, slots))
                    return refused(k.key, "a ring of " + dst.name + " lies outside its place in the region");
                ring_rec rec;
                rec.ring_off = r.ring_off;
                rec.sync_off = r.sync_off;
                rec.meta_bytes = r.meta_bytes;
                rec.num_slots = r.num_slots;
                rec.notify = take_fd(r.notify_fd_id);
                if (!rec.notify.valid())
                    return refused(k.key, "the eventfd of a ring of " + dst.name + " was not kept");
                out.push_back(std::move(rec));
            }
        }
        const uint64_t if_bytes = nr_if_block_size(static_cast<uint32_t>(src.tx.size() + src.rx.size()));
        if (src.if_bytes != if_bytes || !mem->holds_meta(src.if_off, if_bytes))
            return refused(k.key, "the if block of " + dst.name + " lies outside its place in the region");
        dst.if_off = src.if_off;
        dst.if_bytes = src.if_bytes;
        if (src.open && src.reg_id == 0)
            return refused(k.key, dst.name + " is open with no registration");
        dst.open = src.open;
        dst.exclusive = src.exclusive;
        dst.reg_id = src.reg_id;
        dst.pid = src.pid;
        dst.extra_bufs = src.extra_bufs;
        if (dst.open)
            mem->add_user();
    }
    for (uint32_t b : k.bufs)
        if (b < NR_RESERVED_BUFFERS || b >= g.num_buffers)
            return refused(k.key, "buffer " + std::to_string(b) + " is not in the region");
    p->bufs_ = k.bufs;
    for (int d = 0; d < 2; d++) {
        if (k.tables[d].size() != p->ends_[d].tx.size())
            return refused(k.key, "its monitor tables do not match its rings");
        for (const auto &[off, bytes] : k.tables[d]) {
            if (bytes < sizeof(nr_mon_table) || !mem->holds_meta(off, bytes))
                return refused(k.key, "a monitor table lies outside the region's metadata");
            p->tables_[d].push_back({off, bytes, 0, 0});
        }
    }
    p->broken_ = k.broken;
    p->mem_ = std::move(mem);
    return p;
}

} // namespace netring::netringd
