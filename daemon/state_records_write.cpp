// Writing a state into a half: the records as Boost.Interprocess objects in a managed buffer.
#include "state_records.hpp"
#include "state_shm.hpp"

#include <algorithm>
#include <cstring>

namespace netring::netringd {
namespace {

using namespace state_shm;

constexpr uint64_t first_try_bytes = 16u << 10;

// Every record of `from` as a new entry at the end of `to`, which `fill` writes: the entries are
// constructed with the buffer's allocator first, as the containers inside them need.
template <class M, class K, class F>
void append_each(shm_vector<M> &to, const std::vector<K> &from, const void_alloc &a, F &&fill)
{
    to.reserve(from.size());
    for (const K &k : from) {
        to.emplace_back(a);
        fill(to.back(), k);
    }
}

void put(shm_string &to, const std::string &from) { to.assign(from.begin(), from.end()); }

void put(shm_vector<shm_ring> &to, const std::vector<kept_ring> &from)
{
    to.reserve(from.size());
    for (const auto &r : from)
        to.push_back({r.ring_off, r.sync_off, r.meta_bytes, r.num_slots, r.notify_fd_id});
}

void put(shm_end &m, const kept_pipe_end &e)
{
    put(m.name, e.name);
    m.if_off = e.if_off, m.if_bytes = e.if_bytes, m.reg_id = e.reg_id, m.extra_bufs = e.extra_bufs;
    m.pid = e.pid, m.open = e.open, m.exclusive = e.exclusive;
    put(m.tx, e.tx);
    put(m.rx, e.rx);
}

shm_served_ring put(const kept_served_ring &r)
{
    return {r.ring_off,     r.sync_off, r.meta_bytes, r.num_slots, r.kick_fd_id,
            r.notify_fd_id, r.hwcur,    r.hwtail,     r.reclaim};
}

void put(shm_switch &m, const kept_switch &k, const void_alloc &a)
{
    put(m.name, k.name);
    m.persistent = k.persistent;
    m.journal_fd_id = k.journal_fd_id;
    append_each(m.ports, k.ports, a, [&](auto &mp, const auto &kp) {
        put(mp.name, kp.name);
        put(mp.kind, kp.kind);
        mp.tx = put(kp.tx), mp.rx = put(kp.rx);
        mp.bufs.assign(kp.bufs.begin(), kp.bufs.end());
        for (const auto &r : kp.regs)
            mp.regs.push_back({r.if_off, r.if_bytes, r.reg_id, r.extra_bufs, r.pid, r.exclusive});
        std::copy(kp.counters.begin(), kp.counters.end(), mp.counters);
        mp.journal_slot = kp.journal_slot, mp.journal_tag = kp.journal_tag;
    });
    m.macs.reserve(k.macs.size());
    for (const auto &mac : k.macs)
        m.macs.push_back({mac.mac, mac.port, mac.age_s});
    append_each(m.attachments, k.attachments, a, [&](auto &ma, const auto &at) {
        put(ma.nic, at.nic);
        ma.reg_id = at.reg_id;
        ma.heads.assign(at.heads.begin(), at.heads.end());
    });
}

void put(shm_nic &m, const kept_nic &k, const void_alloc &a)
{
    put(m.key, k.key);
    put(m.ifname, k.ifname);
    put(m.region, k.region);
    m.hw_queues = k.hw_queues, m.xdp_map_fd_id = k.xdp_map_fd_id, m.xdp_prog_fd_id = k.xdp_prog_fd_id;
    m.xdp_link_fd_id = k.xdp_link_fd_id, m.journal_fd_id = k.journal_fd_id;
    m.afpacket = k.afpacket, m.running = k.running;
    append_each(m.queues, k.queues, a, [&](auto &mq, const auto &q) {
        mq.tx = put(q.tx), mq.rx = put(q.rx), mq.tx_in_kernel = q.tx_in_kernel;
        mq.index = q.index, mq.users = q.users, mq.xsk_fd_id = q.xsk_fd_id;
        mq.xsk_ring_size = q.xsk_ring_size, mq.fill_ring_size = q.fill_ring_size,
        mq.tx_credits = q.tx_credits;
        mq.exclusive = q.exclusive;
        mq.packet_blocks = q.packet_blocks, mq.packet_block = q.packet_block, mq.packet_left = q.packet_left;
        mq.packet_frame_off = q.packet_frame_off, mq.packet_skip_outgoing = q.packet_skip_outgoing;
        mq.journal_tag = q.journal_tag;
        mq.held.assign(q.held.begin(), q.held.end());
    });
    append_each(m.registrations, k.registrations, a, [&](auto &mr, const auto &r) {
        mr.if_off = r.if_off, mr.if_bytes = r.if_bytes, mr.reg_id = r.reg_id, mr.extra_bufs = r.extra_bufs;
        mr.pid = r.pid;
        mr.queues.assign(r.queues.begin(), r.queues.end());
    });
    m.owned.assign(k.owned.begin(), k.owned.end());
}

void put(shm_root &root, const kept_state &s, const void_alloc &a)
{
    root.last_reg_id = s.last_reg_id;
    root.next_fd_id = s.next_fd_id;
    append_each(root.regions, s.regions, a, [&](auto &m, const auto &k) {
        put(m.name, k.name);
        m.meta_bytes = k.meta_bytes, m.region_size = k.region_size, m.fd_id = k.fd_id;
        m.buf_size = k.buf_size, m.num_buffers = k.num_buffers, m.payer = k.payer, m.mem_id = k.mem_id;
        m.hugepages = k.hugepages, m.has_payer = k.has_payer;
        for (const auto &[first, size] : k.meta_free)
            m.meta_free.push_back({first, size});
        for (const auto &[first, size] : k.bufs_free)
            m.bufs_free.push_back({first, size});
    });
    append_each(root.pipes, s.pipes, a, [&](auto &m, const auto &k) {
        put(m.key, k.key);
        put(m.parent, k.parent);
        for (int d = 0; d < 2; d++) {
            m.dir_rings[d] = k.dir_rings[d], m.dir_slots[d] = k.dir_slots[d];
            put(m.ends[d], k.ends[d]);
            for (const auto &[first, size] : k.tables[d])
                m.tables[d].push_back({first, size});
        }
        m.bufs.assign(k.bufs.begin(), k.bufs.end());
        m.broken = k.broken;
    });
    append_each(root.registrations, s.registrations, a, [&](auto &m, const auto &k) {
        m.reg_id = k.reg_id, m.uid = k.uid, m.gid = k.gid, m.pid = k.pid;
        put(m.key, k.key);
        put(m.name, k.name);
        m.buffers = k.buffers, m.netmap_if_offset = k.netmap_if_offset, m.view_bytes = k.view_bytes;
        m.if_offset = k.if_offset;
        std::copy(k.token.begin(), k.token.end(), m.token);
        m.mem_id = k.mem_id, m.port_kind = k.port_kind, m.tx_rings = k.tx_rings, m.rx_rings = k.rx_rings;
        m.tx_slots = k.tx_slots, m.rx_slots = k.rx_slots, m.extra_bufs = k.extra_bufs;
        put(m.region, k.region);
        m.fd_ids.assign(k.fd_ids.begin(), k.fd_ids.end());
    });
    append_each(root.switches, s.switches, a, [&](auto &m, const auto &k) { put(m, k, a); });
    append_each(root.nics, s.nics, a, [&](auto &m, const auto &k) { put(m, k, a); });
    append_each(root.monitors, s.monitors, a, [&](auto &m, const auto &k) {
        put(m.port, k.port);
        put(m.name, k.name);
        m.reg_id = k.reg_id, m.if_off = k.if_off, m.if_bytes = k.if_bytes;
        m.rings.reserve(k.rings.size());
        for (const auto &r : k.rings)
            m.rings.push_back(put(r));
        for (const auto &[flags, ring] : k.src)
            m.src.push_back({flags, ring});
        m.bufs.assign(k.bufs.begin(), k.bufs.end());
        for (const auto &e : k.entries)
            m.entries.push_back({e[0], e[1], e[2]});
    });
}

} // namespace

result<uint64_t> write_records(uint8_t *half, uint64_t capacity, const kept_state &s)
{
    if (auto ok = check_kept_state(s); !ok)
        return error::from(errc::limit_exceeded, "state not saved: " + ok.err().message);
    // The smallest buffer that holds the state, found by doubling: the checksum, the copy a load
    // makes and the zeroing here cost what the state uses, not the half's size.
    for (uint64_t bytes = std::min(first_try_bytes, capacity);; bytes = std::min(2 * bytes, capacity)) {
        std::memset(half, 0, bytes);
        try {
            shm_buffer buf(bip::create_only, half, bytes);
            const void_alloc a(buf.get_segment_manager());
            auto *root = buf.construct<shm_root>(root_name)(a);
            put(*root, s, a);
            return bytes;
        } catch (const bip::interprocess_exception &) {
            // bad_alloc: the records need more; otherwise `bytes` is too small for Boost's header.
        }
        if (bytes == capacity)
            return error::from(
                errc::limit_exceeded,
                "state segment: the state (" + std::to_string(s.regions.size()) + " regions, " +
                    std::to_string(s.pipes.size()) + " pipes, " + std::to_string(s.switches.size()) +
                    " switches, " + std::to_string(s.registrations.size()) +
                    " registrations) does not fit in a half of " + std::to_string(capacity) + " bytes");
    }
}

} // namespace netring::netringd
