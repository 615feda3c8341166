#include "monitor_rings.hpp"

#include <rings/region_format.hpp>

#include <sys/eventfd.h>

#include <cstring>

namespace netring::netringd {

void monitor_sources(const port_name &name, uint32_t first, uint32_t count, bool host,
                     std::vector<nr_mon_source> &out)
{
    for (const bool tx : {true, false}) {
        if (!(tx ? name.monitor_tx : name.monitor_rx))
            continue;
        for (uint32_t i = first; i < first + count; i++) {
            nr_mon_source s{};
            s.magic = NR_MON_SOURCE_MAGIC;
            s.flags = (tx ? NR_MON_SRC_TX : 0u) | (host ? NR_MON_SRC_HOST : 0u);
            s.ringid = i;
            out.push_back(s);
        }
    }
}

rings::mon_env monitor_env_of(const region &mem)
{
    rings::mon_env env;
    env.base = mem.base();
    env.size = mem.size();
    env.buffers_offset = mem.geometry().buffers_offset;
    env.lim = mem.limits();
    return env;
}

result<attach_result> monitor_build(region &mem, monitor_reg &m, const monitor_plan &plan)
{
    m.name = plan.name;
    m.src = plan.src;
    const auto n = static_cast<uint32_t>(plan.src.size());
    if (n == 0 || n > 1024)
        return error::from(errc::limit_exceeded, plan.name + ": " + std::to_string(n) + " rings to watch");
    const uint64_t needed = uint64_t{n} * plan.slots;
    if (needed > mem.pool().available())
        return error::from(errc::out_of_buffers, "region " + mem.name() + " has " +
                                                     std::to_string(mem.pool().available()) +
                                                     " free buffers, the monitor " + plan.name + " needs " +
                                                     std::to_string(needed) + "; raise region_buffers");
    m.rings = std::vector<served_ring>(n);
    auto fail = [&](const error &e) -> result<attach_result> {
        monitor_release(mem, m);
        return e;
    };
    for (served_ring &r : m.rings)
        if (auto s = served_ring_reserve(mem, r, plan.slots, mem.name()); !s)
            return fail(s.err());
    m.if_bytes = nr_if_block_size(n);
    const auto off = mem.meta().reserve(m.if_bytes);
    if (!off) {
        m.if_bytes = 0;
        return fail(error::from(errc::out_of_buffers,
                                "region " + mem.name() + " metadata area is full; raise region_meta_bytes"));
    }
    m.if_off = *off;
    if (!mem.pool().take(static_cast<uint32_t>(needed), m.bufs))
        return fail(error::from(errc::out_of_buffers, "region " + mem.name() + " ran out of buffers"));

    std::vector<rings::if_ring_entry> entries;
    for (uint32_t i = 0; i < n; i++) {
        served_ring &r = m.rings[i];
        served_ring_format(mem, r, static_cast<uint16_t>(i), NR_RING_DIR_RX,
                           std::span<const uint32_t>(m.bufs).subspan(uint64_t{i} * plan.slots, plan.slots), false);
        nr_ring *ring = ring_ref_of(mem.base(), r).ring;
        std::memcpy(ring->sem, &plan.src[i], sizeof plan.src[i]);
        entries.push_back({r.ring_off, r.sync_off, 0, 0});
    }
    const std::string label = plan.name.substr(plan.name.find(':') + 1);
    rings::init_if(mem.base(), m.if_off, label, 0, n, NR_PORT_KIND_MONITOR, entries, 0,
                   plan.polled ? NR_IF_POLLED : 0u);
    return monitor_answer(mem, m);
}

attach_result monitor_answer(region &mem, const monitor_reg &m)
{
    attach_result a;
    const auto n = static_cast<uint32_t>(m.rings.size());
    a.mem = &mem;
    a.if_offset = m.if_off;
    a.port_kind = NR_PORT_KIND_MONITOR;
    a.rx_rings = n;
    a.rx_slots = n ? m.rings[0].num_slots : 0;
    a.fds.push_back(mem.fd());
    for (const served_ring &r : m.rings) {
        a.fds.push_back(r.kick.get());
        a.fds.push_back(r.notify.get());
    }
    // netmap shows a monitor as rx rings only: copies of NIC rings first, then of host rings, so
    // a netmap program that registered host rings (NR_REG_SW) finds them after the NIC rings.
    for (const nr_mon_source &src : m.src)
        ((src.flags & NR_MON_SRC_HOST) ? a.view.host_rx : a.view.nic_rx)++;
    uint32_t nic = 0, host = 0;
    for (const nr_mon_source &src : m.src)
        a.view.pos.push_back((src.flags & NR_MON_SRC_HOST) ? a.view.nic_rx + host++ : nic++);
    return a;
}

kept_monitor monitor_keep(const monitor_reg &m, const std::string &port_key,
                          const std::function<uint32_t(int)> &fd_id)
{
    kept_monitor k;
    k.port = port_key;
    k.name = m.name;
    k.reg_id = m.reg_id;
    k.if_off = m.if_off;
    k.if_bytes = m.if_bytes;
    for (const served_ring &r : m.rings)
        k.rings.push_back({r.ring_off, r.sync_off, r.meta_bytes, r.num_slots, fd_id(r.kick.get()),
                           fd_id(r.notify.get()), 0, 0, 0});
    for (const nr_mon_source &src : m.src)
        k.src.emplace_back(src.flags, src.ringid);
    k.bufs = m.bufs;
    return k;
}

result<monitor_reg> monitor_adopt(region &mem, const kept_monitor &k,
                                  const std::function<unique_fd(uint32_t)> &take_fd)
{
    auto refused = [&](const std::string &why) {
        return error::from(errc::bad_message, "kept monitor " + k.name + ": " + why);
    };
    const auto n = static_cast<uint32_t>(k.rings.size());
    if (n == 0 || n > kept_monitor_rings_max || k.src.size() != n)
        return refused(std::to_string(n) + " rings and " + std::to_string(k.src.size()) + " sources");
    const uint32_t slots = k.rings[0].num_slots;
    if (slots < 2 || slots > (1u << 20) || !rings::is_pow2(slots))
        return refused("rings of " + std::to_string(slots) + " slots");
    if (k.if_bytes != nr_if_block_size(n) || !mem.holds_meta(k.if_off, k.if_bytes))
        return refused("its if block lies outside its place in the region");
    if (k.bufs.size() != uint64_t{n} * slots)
        return refused(std::to_string(k.bufs.size()) + " buffers for " + std::to_string(n) + " rings of " +
                       std::to_string(slots) + " slots");
    const uint32_t num_buffers = mem.geometry().num_buffers;
    for (uint32_t b : k.bufs)
        if (b < NR_RESERVED_BUFFERS || b >= num_buffers)
            return refused("buffer " + std::to_string(b) + " is not in the region");
    monitor_reg m;
    m.reg_id = k.reg_id;
    m.name = k.name;
    m.if_off = k.if_off;
    m.if_bytes = k.if_bytes;
    m.bufs = k.bufs;
    m.rings = std::vector<served_ring>(n);
    for (uint32_t i = 0; i < n; i++) {
        const kept_served_ring &kr = k.rings[i];
        const auto [flags, ringid] = k.src[i];
        if (kr.num_slots != slots || !ring_in_place(mem, kr.ring_off, kr.sync_off, kr.meta_bytes, slots))
            return refused("ring " + std::to_string(i) + " lies outside its place in the region");
        if ((flags & ~(NR_MON_SRC_TX | NR_MON_SRC_HOST)) != 0)
            return refused("ring " + std::to_string(i) + " watches with unknown flags " + std::to_string(flags));
        served_ring &r = m.rings[i];
        r.ring_off = kr.ring_off;
        r.sync_off = kr.sync_off;
        r.meta_bytes = kr.meta_bytes;
        r.num_slots = slots;
        r.kick = take_fd(kr.kick_fd_id);
        r.notify = take_fd(kr.notify_fd_id);
        if (!r.kick.valid() || !r.notify.valid())
            return refused("an eventfd of ring " + std::to_string(i) + " was not kept");
        nr_mon_source src{};
        src.magic = NR_MON_SOURCE_MAGIC;
        src.flags = flags;
        src.ringid = ringid;
        m.src.push_back(src);
    }
    // The producers read where to copy from the records, never from the ring header; the header's
    // source record is what the monitor's client reads, so it is put back as it was built.
    for (uint32_t i = 0; i < n; i++)
        std::memcpy(ring_ref_of(mem.base(), m.rings[i]).ring->sem, &m.src[i], sizeof m.src[i]);
    return m;
}

void monitor_release(region &mem, monitor_reg &m)
{
    for (served_ring &r : m.rings)
        if (r.meta_bytes)
            mem.meta().release(r.ring_off, r.meta_bytes);
    m.rings.clear();
    if (m.if_bytes)
        mem.meta().release(m.if_off, m.if_bytes);
    m.if_bytes = 0;
    mem.pool().give(m.bufs);
    m.bufs.clear();
}

void monitor_mark_gone(region &mem, const monitor_reg &m)
{
    for (const served_ring &r : m.rings) {
        rings::mark_peer_gone(ring_ref_of(mem.base(), r));
        if (r.notify.valid())
            (void)::eventfd_write(r.notify.get(), 1);
    }
}

void monitor_collect(const region &mem, const monitor_reg &m, std::vector<ring_counters> &out)
{
    for (size_t i = 0; i < m.rings.size(); i++) {
        const rings::ring_ref r = ring_ref_of(mem.base(), m.rings[i]);
        out.push_back(counters_of(*r.sync, r.num_slots, NR_RING_DIR_RX, static_cast<uint16_t>(i)));
    }
}

} // namespace netring::netringd
