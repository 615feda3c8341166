// The STATS reply: regions, registrations with their rings' counters, and what each uid holds,
// encoded as docs/PROTOCOL.md describes.
#include "registry.hpp"

#include <cstring>

namespace netring::netringd {
namespace {

proto::stats_ring stats_record_of(const ring_counters &c, uint32_t registration)
{
    proto::stats_ring s{};
    s.registration = registration;
    s.dir = c.dir;
    s.ringid = c.ringid;
    s.num_slots = c.num_slots;
    s.status = c.status;
    s.packets = c.packets;
    s.bytes = c.bytes;
    s.drops = c.drops;
    s.kicks = c.kicks;
    s.errors = c.errors;
    s.copies = c.copies;
    s.occupied = c.occupied;
    return s;
}

} // namespace

stats_snapshot registry::snapshot() const
{
    stats_snapshot out;
    for (const auto &[name, r] : regions_) {
        region_snapshot s;
        s.name = name;
        s.size = r->size();
        s.buf_size = r->geometry().buf_size;
        s.buffers_total = r->pool().total();
        s.buffers_free = r->pool().available();
        s.users = r->users();
        s.hugepages = r->hugepages();
        s.hugepage_faults = static_cast<uint32_t>(r->hugepage_faults());
        out.regions.push_back(std::move(s));
    }
    for (const auto &[id, r] : regs_) {
        registration_snapshot s;
        s.port_name = r.name;
        s.reg_id = id;
        s.uid = r.uid;
        s.gid = r.gid;
        s.pid = r.pid;
        s.tx_rings = r.answer.a.tx_rings;
        s.rx_rings = r.answer.a.rx_rings;
        r.owner->collect_stats(id, s.rings);
        out.registrations.push_back(std::move(s));
    }
    return out;
}

std::vector<std::byte> registry::build_stats(uint64_t uptime_ms, uint32_t n_clients, uint16_t version) const
{
    const bool with_uids = version >= 2;
    const size_t ring_size = proto::stats_ring_size(version); // older sessions: without occupancy
    const stats_snapshot snap = snapshot();
    std::vector<proto::stats_region> regions;
    for (const region_snapshot &r : snap.regions) {
        proto::stats_region s{};
        proto::set_text(s.name, sizeof s.name, r.name);
        s.size = r.size;
        s.buf_size = r.buf_size;
        s.buffers_total = r.buffers_total;
        s.buffers_free = r.buffers_free;
        s.users = r.users;
        s.hugepages = r.hugepages ? 1 : 0;
        s.hugepage_faults = r.hugepage_faults;
        regions.push_back(s);
    }
    std::vector<proto::stats_registration> regs;
    std::vector<proto::stats_ring> rings;
    for (const registration_snapshot &r : snap.registrations) {
        proto::stats_registration s{};
        proto::set_text(s.port_name, sizeof s.port_name, r.port_name);
        s.reg_id = r.reg_id;
        s.uid = r.uid;
        s.gid = r.gid;
        s.pid = static_cast<uint32_t>(r.pid);
        s.tx_rings = r.tx_rings;
        s.rx_rings = r.rx_rings;
        for (const ring_counters &c : r.rings)
            rings.push_back(stats_record_of(c, static_cast<uint32_t>(regs.size())));
        regs.push_back(s);
    }

    std::vector<proto::stats_uid> uids;
    if (with_uids) {
        for (const quota_book::entry &e : quotas_.entries()) {
            proto::stats_uid u{};
            u.uid = e.uid;
            u.unlimited = e.unlimited ? 1 : 0;
            u.connections = e.used.connections;
            u.registrations = e.used.registrations;
            u.regions = e.used.regions;
            u.buffers = e.used.buffers;
            u.max_connections = e.limits.connections;
            u.max_registrations = e.limits.registrations;
            u.max_regions = e.limits.regions;
            u.max_buffers = e.limits.buffers;
            uids.push_back(u);
        }
    }

    // The reply is bounded: with absurdly many registrations the tail of the ring list goes.
    size_t fixed = sizeof(proto::stats_reply) + regions.size() * sizeof(proto::stats_region) +
                   regs.size() * sizeof(proto::stats_registration) + uids.size() * sizeof(proto::stats_uid);
    if (fixed > proto::max_reply_payload) {
        fixed -= uids.size() * sizeof(proto::stats_uid); // what cannot fit goes, uids first
        uids.clear();
    }
    if (fixed > proto::max_reply_payload)
        rings.clear();
    else if (fixed + rings.size() * ring_size > proto::max_reply_payload)
        rings.resize((proto::max_reply_payload - fixed) / ring_size);

    proto::stats_reply head{};
    proto::set_ok(head.status);
    head.version = proto::version;
    head.n_regions = static_cast<uint32_t>(regions.size());
    head.n_regs = static_cast<uint32_t>(regs.size());
    head.n_rings = static_cast<uint32_t>(rings.size());
    head.n_clients = n_clients;
    head.n_uids = static_cast<uint32_t>(uids.size());
    head.uptime_ms = uptime_ms;

    // Sized once, then filled: growing an empty vector with insert() here trips GCC 12's
    // -Wstringop-overflow false positive at -O3.
    std::vector<std::byte> out(fixed + rings.size() * ring_size);
    size_t at = 0;
    auto put = [&out, &at](const auto *data, size_t count) {
        if (count)
            std::memcpy(out.data() + at, data, count * sizeof(*data));
        at += count * sizeof(*data);
    };
    put(&head, 1);
    put(regions.data(), regions.size());
    put(regs.data(), regs.size());
    for (const proto::stats_ring &r : rings) { // each record cut to the session's layout
        std::memcpy(out.data() + at, &r, ring_size);
        at += ring_size;
    }
    put(uids.data(), uids.size());
    return out;
}

} // namespace netring::netringd
