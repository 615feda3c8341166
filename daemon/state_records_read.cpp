// Reading a state back from a half: every pointer Boost follows is checked to stay inside the
// half, every string and list against the limits, before a record is trusted with anything.
#include "state_records.hpp"
#include "state_shm.hpp"

#include <algorithm>
#include <cstring>

namespace netring::netringd {
namespace {

using namespace state_shm;

error bad(const std::string &msg) { return error::from(errc::bad_message, "state segment: " + msg); }

kept_served_ring get(const shm_served_ring &r)
{
    return {r.ring_off,     r.sync_off, r.meta_bytes, r.num_slots, r.kick_fd_id,
            r.notify_fd_id, r.hwcur,    r.hwtail,     r.reclaim};
}

class half_reader {
public:
    half_reader(const uint8_t *base, uint64_t bytes) : base_(base), bytes_(bytes) {}

    bool inside(const void *p, uint64_t n) const
    {
        const auto at = reinterpret_cast<uintptr_t>(p), from = reinterpret_cast<uintptr_t>(base_);
        return at >= from && n <= bytes_ && at - from <= bytes_ - n;
    }

    result<std::string> text(const shm_string &s, const std::string &what) const
    {
        if (s.size() > kept_name_max)
            return bad(what + " is " + std::to_string(s.size()) + " bytes long, over the limit of " +
                       std::to_string(kept_name_max));
        if (!inside(s.data(), s.size() + 1))
            return bad(what + " lies outside its half");
        if (s.data()[s.size()] != '\0')
            return bad(what + " has no terminator");
        if (std::memchr(s.data(), '\0', s.size()))
            return bad(what + " holds a NUL byte");
        return std::string(s.data(), s.size());
    }

    template <class T>
    status list(const shm_vector<T> &v, size_t max, const std::string &what) const
    {
        if (v.size() > max)
            return bad(what + ": " + std::to_string(v.size()) + " entries, over the limit of " +
                       std::to_string(max));
        if (!v.empty() && !inside(v.data(), v.size() * sizeof(T)))
            return bad(what + " lies outside its half");
        return ok_status();
    }

    result<std::vector<kept_ring>> rings(const shm_vector<shm_ring> &v, const std::string &what) const
    {
        if (auto ok = list(v, kept_rings_max, what); !ok)
            return ok.err();
        std::vector<kept_ring> out;
        for (const auto &r : v)
            out.push_back({r.ring_off, r.sync_off, r.meta_bytes, r.num_slots, r.notify_fd_id});
        return out;
    }

    result<kept_pipe_end> end(const shm_end &m, const std::string &what) const
    {
        kept_pipe_end e;
        auto name = text(m.name, what + " name");
        if (!name)
            return name.err();
        auto tx = rings(m.tx, what + " tx rings");
        if (!tx)
            return tx.err();
        auto rx = rings(m.rx, what + " rx rings");
        if (!rx)
            return rx.err();
        e.name = std::move(*name), e.tx = std::move(*tx), e.rx = std::move(*rx);
        e.if_off = m.if_off, e.if_bytes = m.if_bytes, e.reg_id = m.reg_id, e.extra_bufs = m.extra_bufs;
        e.pid = m.pid, e.open = m.open, e.exclusive = m.exclusive;
        return e;
    }

    // One top-level list: its length and place checked, then each entry read by `read` (its
    // position in the list is the second argument) and appended to `out`.
    template <class M, class K>
    status records(const shm_vector<M> &v, const std::string &what, std::vector<K> &out,
                   result<K> (half_reader::*read)(const M &, size_t) const) const
    {
        if (auto ok = list(v, kept_records_max, what); !ok)
            return ok;
        for (const M &m : v) {
            auto k = (this->*read)(m, out.size());
            if (!k)
                return k.err();
            out.push_back(std::move(*k));
        }
        return ok_status();
    }

    result<kept_region> region(const shm_region &m, size_t i) const;
    result<kept_pipe> pipe(const shm_pipe &m, size_t i) const;
    result<kept_registration> registration(const shm_registration &m, size_t i) const;
    result<kept_switch> switch_of(const shm_switch &m, size_t i) const;
    result<kept_nic> nic(const shm_nic &m, size_t i) const;
    result<kept_monitor> monitor(const shm_monitor &m, size_t i) const;
    result<kept_state> state(const shm_root &root) const;

private:
    const uint8_t *base_;
    uint64_t bytes_;
};

result<kept_switch> half_reader::switch_of(const shm_switch &m, size_t i) const
{
    kept_switch k;
    auto name = text(m.name, "switch " + std::to_string(i) + "'s name");
    if (!name)
        return name.err();
    k.name = std::move(*name);
    k.persistent = m.persistent;
    k.journal_fd_id = m.journal_fd_id;
    if (auto ok = list(m.ports, kept_records_max, k.name + "'s port list"); !ok)
        return ok.err();
    for (const auto &mp : m.ports) {
        kept_switch_port p;
        auto pname = text(mp.name, k.name + "'s port " + std::to_string(k.ports.size()) + " name");
        if (!pname)
            return pname.err();
        auto kind = text(mp.kind, k.name + ":" + *pname + "'s kind");
        if (!kind)
            return kind.err();
        p.name = std::move(*pname), p.kind = std::move(*kind);
        p.tx = get(mp.tx), p.rx = get(mp.rx);
        const std::string port = k.name + ":" + p.name;
        if (auto ok = list(mp.bufs, kept_bufs_max, port + "'s buffer list"); !ok)
            return ok.err();
        if (auto ok = list(mp.regs, kept_records_max, port + "'s registrations"); !ok)
            return ok.err();
        p.bufs.assign(mp.bufs.begin(), mp.bufs.end());
        for (const auto &r : mp.regs)
            p.regs.push_back({r.reg_id, r.pid, r.if_off, r.if_bytes, r.extra_bufs, r.exclusive != 0});
        std::copy(std::begin(mp.counters), std::end(mp.counters), p.counters.begin());
        p.journal_slot = mp.journal_slot, p.journal_tag = mp.journal_tag;
        k.ports.push_back(std::move(p));
    }
    if (auto ok = list(m.macs, kept_macs_max, k.name + "'s learned addresses"); !ok)
        return ok.err();
    for (const auto &mac : m.macs)
        k.macs.push_back({mac.mac, mac.port, mac.age_s});
    if (auto ok = list(m.attachments, kept_records_max, k.name + "'s NIC attachments"); !ok)
        return ok.err();
    for (const auto &ma : m.attachments) {
        auto nic = text(ma.nic, k.name + "'s attachment " + std::to_string(k.attachments.size()));
        if (!nic)
            return nic.err();
        if (auto ok = list(ma.heads, kept_fd_ids_max, k.name + "'s attachment " + *nic + " heads"); !ok)
            return ok.err();
        k.attachments.push_back({std::move(*nic), ma.reg_id, {ma.heads.begin(), ma.heads.end()}});
    }
    return k;
}

result<kept_region> half_reader::region(const shm_region &m, size_t i) const
{
    kept_region k;
    auto name = text(m.name, "region " + std::to_string(i) + "'s name");
    if (!name)
        return name.err();
    k.name = std::move(*name);
    k.meta_bytes = m.meta_bytes, k.region_size = m.region_size, k.fd_id = m.fd_id;
    k.buf_size = m.buf_size, k.num_buffers = m.num_buffers, k.payer = m.payer, k.mem_id = m.mem_id;
    k.hugepages = m.hugepages, k.has_payer = m.has_payer;
    if (auto ok = list(m.meta_free, kept_ranges_max, k.name + "'s metadata free list"); !ok)
        return ok.err();
    if (auto ok = list(m.bufs_free, kept_ranges_max, k.name + "'s buffer free list"); !ok)
        return ok.err();
    for (const shm_range64 &r : m.meta_free)
        k.meta_free.emplace_back(r.first, r.size);
    for (const shm_range32 &r : m.bufs_free)
        k.bufs_free.emplace_back(r.first, r.size);
    return k;
}

result<kept_pipe> half_reader::pipe(const shm_pipe &m, size_t i) const
{
    const std::string what = "pipe " + std::to_string(i);
    kept_pipe k;
    auto key = text(m.key, what + "'s key");
    if (!key)
        return key.err();
    auto parent = text(m.parent, what + "'s region name");
    if (!parent)
        return parent.err();
    k.key = std::move(*key), k.parent = std::move(*parent);
    for (int d = 0; d < 2; d++) {
        k.dir_rings[d] = m.dir_rings[d], k.dir_slots[d] = m.dir_slots[d];
        auto e = end(m.ends[d], k.key + (d == 0 ? " end A" : " end B"));
        if (!e)
            return e.err();
        k.ends[d] = std::move(*e);
        if (auto ok = list(m.tables[d], kept_rings_max, k.key + "'s monitor tables"); !ok)
            return ok.err();
        for (const shm_range64 &r : m.tables[d])
            k.tables[d].emplace_back(r.first, r.size);
    }
    if (auto ok = list(m.bufs, kept_bufs_max, k.key + "'s buffer list"); !ok)
        return ok.err();
    k.bufs.assign(m.bufs.begin(), m.bufs.end());
    k.broken = m.broken;
    return k;
}

result<kept_registration> half_reader::registration(const shm_registration &m, size_t) const
{
    const std::string what = "registration " + std::to_string(m.reg_id);
    kept_registration k;
    auto key = text(m.key, what + "'s port key");
    if (!key)
        return key.err();
    auto name = text(m.name, what + "'s port name");
    if (!name)
        return name.err();
    auto region = text(m.region, what + "'s region name");
    if (!region)
        return region.err();
    if (auto ok = list(m.fd_ids, kept_fd_ids_max, what + "'s fd list"); !ok)
        return ok.err();
    k.key = std::move(*key), k.name = std::move(*name), k.region = std::move(*region);
    k.reg_id = m.reg_id, k.uid = m.uid, k.gid = m.gid, k.pid = m.pid;
    k.buffers = m.buffers, k.netmap_if_offset = m.netmap_if_offset, k.view_bytes = m.view_bytes;
    k.if_offset = m.if_offset;
    std::copy(std::begin(m.token), std::end(m.token), k.token.begin());
    k.mem_id = m.mem_id, k.port_kind = m.port_kind, k.tx_rings = m.tx_rings, k.rx_rings = m.rx_rings;
    k.tx_slots = m.tx_slots, k.rx_slots = m.rx_slots, k.extra_bufs = m.extra_bufs;
    k.fd_ids.assign(m.fd_ids.begin(), m.fd_ids.end());
    return k;
}

result<kept_state> half_reader::state(const shm_root &root) const
{
    kept_state s;
    s.last_reg_id = root.last_reg_id;
    s.next_fd_id = root.next_fd_id;
    if (auto ok = records(root.regions, "the region list", s.regions, &half_reader::region); !ok)
        return ok.err();
    if (auto ok = records(root.pipes, "the pipe list", s.pipes, &half_reader::pipe); !ok)
        return ok.err();
    if (auto ok = records(root.registrations, "the registration list", s.registrations, &half_reader::registration);
        !ok)
        return ok.err();
    if (auto ok = records(root.switches, "the switch list", s.switches, &half_reader::switch_of); !ok)
        return ok.err();
    if (auto ok = records(root.nics, "the NIC list", s.nics, &half_reader::nic); !ok)
        return ok.err();
    if (auto ok = records(root.monitors, "the monitor list", s.monitors, &half_reader::monitor); !ok)
        return ok.err();
    return s;
}

result<kept_monitor> half_reader::monitor(const shm_monitor &m, size_t i) const
{
    kept_monitor k;
    auto port = text(m.port, "monitor " + std::to_string(i) + "'s port");
    if (!port)
        return port.err();
    auto name = text(m.name, "monitor " + std::to_string(i) + "'s name");
    if (!name)
        return name.err();
    k.port = std::move(*port), k.name = std::move(*name);
    k.reg_id = m.reg_id, k.if_off = m.if_off, k.if_bytes = m.if_bytes;
    if (auto ok = list(m.rings, kept_monitor_rings_max, k.name + "'s rings"); !ok)
        return ok.err();
    if (auto ok = list(m.src, kept_monitor_rings_max, k.name + "'s sources"); !ok)
        return ok.err();
    if (auto ok = list(m.bufs, kept_bufs_max, k.name + "'s buffer list"); !ok)
        return ok.err();
    if (auto ok = list(m.entries, kept_monitor_rings_max, k.name + "'s table entries"); !ok)
        return ok.err();
    for (const auto &r : m.rings)
        k.rings.push_back(get(r));
    for (const shm_range32 &r : m.src)
        k.src.emplace_back(r.first, r.size);
    k.bufs.assign(m.bufs.begin(), m.bufs.end());
    for (const shm_mon_entry &e : m.entries)
        k.entries.push_back({e.dir, e.ring, e.entry});
    return k;
}

result<kept_nic> half_reader::nic(const shm_nic &m, size_t i) const
{
    kept_nic k;
    auto key = text(m.key, "NIC " + std::to_string(i) + "'s key");
    if (!key)
        return key.err();
    auto ifname = text(m.ifname, *key + "'s interface name");
    if (!ifname)
        return ifname.err();
    auto region = text(m.region, *key + "'s region name");
    if (!region)
        return region.err();
    k.key = std::move(*key), k.ifname = std::move(*ifname), k.region = std::move(*region);
    k.hw_queues = m.hw_queues, k.xdp_map_fd_id = m.xdp_map_fd_id, k.xdp_prog_fd_id = m.xdp_prog_fd_id;
    k.xdp_link_fd_id = m.xdp_link_fd_id, k.journal_fd_id = m.journal_fd_id;
    k.afpacket = m.afpacket, k.running = m.running;
    if (auto ok = list(m.queues, kept_queues_max, k.key + "'s queue list"); !ok)
        return ok.err();
    for (const auto &mq : m.queues) {
        kept_nic_queue q;
        q.tx = get(mq.tx), q.rx = get(mq.rx), q.tx_in_kernel = mq.tx_in_kernel;
        q.index = mq.index, q.users = mq.users, q.xsk_fd_id = mq.xsk_fd_id;
        q.xsk_ring_size = mq.xsk_ring_size, q.fill_ring_size = mq.fill_ring_size,
        q.tx_credits = mq.tx_credits;
        q.exclusive = mq.exclusive;
        q.packet_blocks = mq.packet_blocks, q.packet_block = mq.packet_block, q.packet_left = mq.packet_left;
        q.packet_frame_off = mq.packet_frame_off, q.packet_skip_outgoing = mq.packet_skip_outgoing;
        q.journal_tag = mq.journal_tag;
        if (auto ok = list(mq.held, kept_bufs_max, k.key + "'s fill buffers"); !ok)
            return ok.err();
        q.held.assign(mq.held.begin(), mq.held.end());
        k.queues.push_back(std::move(q));
    }
    if (auto ok = list(m.registrations, kept_records_max, k.key + "'s registration list"); !ok)
        return ok.err();
    for (const auto &mr : m.registrations) {
        kept_nic_registration r;
        r.if_off = mr.if_off, r.if_bytes = mr.if_bytes, r.reg_id = mr.reg_id, r.extra_bufs = mr.extra_bufs;
        r.pid = mr.pid;
        if (auto ok = list(mr.queues, kept_queues_max, k.key + "'s registration queues"); !ok)
            return ok.err();
        r.queues.assign(mr.queues.begin(), mr.queues.end());
        k.registrations.push_back(std::move(r));
    }
    if (auto ok = list(m.owned, kept_bufs_max, k.key + "'s buffer list"); !ok)
        return ok.err();
    k.owned.assign(m.owned.begin(), m.owned.end());
    return k;
}

} // namespace

result<kept_state> read_records(uint8_t *half, uint64_t bytes)
{
    try {
        shm_buffer buf(bip::open_only, half, bytes);
        const auto found = buf.find<shm_root>(root_name);
        if (!found.first || found.second != 1)
            return bad("the root object '" + std::string(root_name) + "' is missing");
        const half_reader reader(half, bytes);
        if (!reader.inside(found.first, sizeof(shm_root)))
            return bad("the root object lies outside its half");
        auto s = reader.state(*found.first);
        if (!s)
            return s.err();
        if (auto ok = check_kept_state(*s); !ok)
            return bad(ok.err().message);
        return s;
    } catch (const std::exception &e) {
        return bad(std::string("the managed buffer does not open: ") + e.what());
    }
}

} // namespace netring::netringd
