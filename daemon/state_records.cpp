#include "state_records.hpp"

#include <boost/interprocess/allocators/allocator.hpp>
#include <boost/interprocess/containers/string.hpp>
#include <boost/interprocess/containers/vector.hpp>
#include <boost/interprocess/managed_external_buffer.hpp>

#include <algorithm>
#include <cstring>

namespace netring::netringd {
namespace {

namespace bip = boost::interprocess;
using shm_buffer = bip::managed_external_buffer;
using shm_manager = shm_buffer::segment_manager;
using void_alloc = bip::allocator<void, shm_manager>;
template <class T>
using shm_vector = bip::vector<T, bip::allocator<T, shm_manager>>;
using shm_string = bip::basic_string<char, std::char_traits<char>, bip::allocator<char, shm_manager>>;

// The records inside a half. A successor built from other sources reads them: any change to these
// structs (a field, its type, its order) is a new layout version (state_segment.cpp).
struct shm_ring {
    uint64_t ring_off = 0, sync_off = 0, meta_bytes = 0;
    uint32_t num_slots = 0, notify_fd_id = 0;
};

struct shm_range64 {
    uint64_t first = 0, size = 0;
};
struct shm_range32 {
    uint32_t first = 0, size = 0;
};

struct shm_region {
    explicit shm_region(const void_alloc &a) : name(a), meta_free(a), bufs_free(a) {}
    shm_string name;
    shm_vector<shm_range64> meta_free;
    shm_vector<shm_range32> bufs_free;
    uint64_t meta_bytes = 0, region_size = 0;
    uint32_t fd_id = 0, buf_size = 0, num_buffers = 0, payer = 0;
    uint16_t mem_id = 0;
    uint8_t hugepages = 0, has_payer = 0;
};

struct shm_end {
    explicit shm_end(const void_alloc &a) : name(a), tx(a), rx(a) {}
    shm_string name;
    uint64_t if_off = 0, if_bytes = 0;
    uint32_t reg_id = 0, extra_bufs = 0;
    int32_t pid = 0;
    uint8_t open = 0, exclusive = 0;
    shm_vector<shm_ring> tx, rx;
};

struct shm_pipe {
    explicit shm_pipe(const void_alloc &a)
        : key(a), parent(a), ends{shm_end(a), shm_end(a)}, bufs(a), tables{shm_vector<shm_range64>(a), shm_vector<shm_range64>(a)}
    {}
    shm_string key, parent;
    uint32_t dir_rings[2] = {}, dir_slots[2] = {};
    std::array<shm_end, 2> ends;
    shm_vector<uint32_t> bufs;
    std::array<shm_vector<shm_range64>, 2> tables;
    uint8_t broken = 0;
};

struct shm_registration {
    explicit shm_registration(const void_alloc &a) : key(a), name(a), region(a), fd_ids(a) {}
    uint32_t reg_id = 0, uid = 0, gid = 0;
    int32_t pid = 0;
    shm_string key, name;
    uint64_t buffers = 0, netmap_if_offset = 0, view_bytes = 0, if_offset = 0;
    uint8_t token[16] = {};
    uint16_t mem_id = 0;
    uint32_t port_kind = 0, tx_rings = 0, rx_rings = 0, tx_slots = 0, rx_slots = 0, extra_bufs = 0;
    shm_string region;
    shm_vector<uint32_t> fd_ids;
};

struct shm_served_ring {
    uint64_t ring_off = 0, sync_off = 0, meta_bytes = 0;
    uint32_t num_slots = 0, kick_fd_id = 0, notify_fd_id = 0, hwcur = 0, hwtail = 0, reclaim = 0;
};

struct shm_switch_reg {
    uint64_t if_off = 0, if_bytes = 0;
    uint32_t reg_id = 0, extra_bufs = 0;
    int32_t pid = 0;
    uint8_t exclusive = 0;
};

struct shm_switch_port {
    explicit shm_switch_port(const void_alloc &a) : name(a), kind(a), bufs(a), regs(a) {}
    shm_string name, kind;
    shm_served_ring tx, rx;
    shm_vector<uint32_t> bufs;
    shm_vector<shm_switch_reg> regs;
    uint64_t counters[7] = {};
    uint64_t journal_tag = 0;
    uint32_t journal_slot = 0;
};

struct shm_mac {
    uint64_t mac = 0;
    uint32_t port = 0, age_s = 0;
};

struct shm_switch {
    explicit shm_switch(const void_alloc &a) : name(a), ports(a), macs(a) {}
    shm_string name;
    uint8_t persistent = 0;
    uint32_t journal_fd_id = 0;
    shm_vector<shm_switch_port> ports;
    shm_vector<shm_mac> macs;
};


struct shm_nic_queue {
    explicit shm_nic_queue(const void_alloc &a) : held(a) {}
    shm_served_ring tx, rx;
    uint64_t tx_in_kernel = 0;
    uint32_t index = 0, users = 0, xsk_fd_id = 0, xsk_ring_size = 0, fill_ring_size = 0, tx_credits = 0;
    uint32_t packet_blocks = 0, packet_block = 0, packet_left = 0, packet_frame_off = 0;
    uint8_t exclusive = 0, packet_skip_outgoing = 0;
    shm_vector<uint32_t> held;
};

struct shm_nic_registration {
    explicit shm_nic_registration(const void_alloc &a) : queues(a) {}
    uint64_t if_off = 0, if_bytes = 0;
    uint32_t reg_id = 0, extra_bufs = 0;
    int32_t pid = 0;
    shm_vector<uint32_t> queues;
};

struct shm_nic {
    explicit shm_nic(const void_alloc &a)
        : key(a), ifname(a), region(a), queues(a), registrations(a), owned(a)
    {}
    shm_string key, ifname, region;
    uint32_t hw_queues = 0, xdp_map_fd_id = 0, xdp_prog_fd_id = 0, xdp_link_fd_id = 0;
    uint8_t afpacket = 0;
    shm_vector<shm_nic_queue> queues;
    shm_vector<shm_nic_registration> registrations;
    shm_vector<uint32_t> owned;
};

// New lists go at the end: the fields before them keep their places.
struct shm_root {
    explicit shm_root(const void_alloc &a) : regions(a), pipes(a), registrations(a), switches(a), nics(a) {}
    uint32_t last_reg_id = 0, next_fd_id = 0;
    shm_vector<shm_region> regions;
    shm_vector<shm_pipe> pipes;
    shm_vector<shm_registration> registrations;
    shm_vector<shm_switch> switches;
    shm_vector<shm_nic> nics;
};

constexpr const char *root_name = "netringd-state";
constexpr uint64_t first_try_bytes = 16u << 10;

error bad(const std::string &msg) { return error::from(errc::bad_message, "state segment: " + msg); }

// ---- writing ----

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

kept_served_ring get(const shm_served_ring &r)
{
    return {r.ring_off,     r.sync_off, r.meta_bytes, r.num_slots, r.kick_fd_id,
            r.notify_fd_id, r.hwcur,    r.hwtail,     r.reclaim};
}

void put(shm_switch &m, const kept_switch &k, const void_alloc &a)
{
    put(m.name, k.name);
    m.persistent = k.persistent;
    m.journal_fd_id = k.journal_fd_id;
    m.ports.reserve(k.ports.size());
    for (const auto &kp : k.ports) {
        m.ports.emplace_back(a);
        auto &mp = m.ports.back();
        put(mp.name, kp.name);
        put(mp.kind, kp.kind);
        mp.tx = put(kp.tx), mp.rx = put(kp.rx);
        mp.bufs.assign(kp.bufs.begin(), kp.bufs.end());
        for (const auto &r : kp.regs)
            mp.regs.push_back({r.if_off, r.if_bytes, r.reg_id, r.extra_bufs, r.pid, r.exclusive});
        std::copy(kp.counters.begin(), kp.counters.end(), mp.counters);
        mp.journal_slot = kp.journal_slot, mp.journal_tag = kp.journal_tag;
    }
    m.macs.reserve(k.macs.size());
    for (const auto &mac : k.macs)
        m.macs.push_back({mac.mac, mac.port, mac.age_s});
}

void put(shm_vector<shm_nic> &to, const std::vector<kept_nic> &from, const void_alloc &a)
{
    to.reserve(from.size());
    for (const auto &k : from) {
        to.emplace_back(a);
        auto &m = to.back();
        put(m.key, k.key);
        put(m.ifname, k.ifname);
        put(m.region, k.region);
        m.hw_queues = k.hw_queues, m.xdp_map_fd_id = k.xdp_map_fd_id, m.xdp_prog_fd_id = k.xdp_prog_fd_id;
        m.xdp_link_fd_id = k.xdp_link_fd_id;
        m.afpacket = k.afpacket;
        m.queues.reserve(k.queues.size());
        for (const auto &q : k.queues) {
            m.queues.emplace_back(a);
            auto &mq = m.queues.back();
            mq.tx = put(q.tx), mq.rx = put(q.rx), mq.tx_in_kernel = q.tx_in_kernel;
            mq.index = q.index, mq.users = q.users, mq.xsk_fd_id = q.xsk_fd_id;
            mq.xsk_ring_size = q.xsk_ring_size, mq.fill_ring_size = q.fill_ring_size,
            mq.tx_credits = q.tx_credits;
            mq.exclusive = q.exclusive;
            mq.packet_blocks = q.packet_blocks, mq.packet_block = q.packet_block,
            mq.packet_left = q.packet_left;
            mq.packet_frame_off = q.packet_frame_off, mq.packet_skip_outgoing = q.packet_skip_outgoing;
            mq.held.assign(q.held.begin(), q.held.end());
        }
        m.registrations.reserve(k.registrations.size());
        for (const auto &r : k.registrations) {
            m.registrations.emplace_back(a);
            auto &mr = m.registrations.back();
            mr.if_off = r.if_off, mr.if_bytes = r.if_bytes, mr.reg_id = r.reg_id,
            mr.extra_bufs = r.extra_bufs;
            mr.pid = r.pid;
            mr.queues.assign(r.queues.begin(), r.queues.end());
        }
        m.owned.assign(k.owned.begin(), k.owned.end());
    }
}

void put(shm_root &root, const kept_state &s, const void_alloc &a)
{
    root.last_reg_id = s.last_reg_id;
    root.next_fd_id = s.next_fd_id;
    root.regions.reserve(s.regions.size());
    for (const auto &k : s.regions) {
        root.regions.emplace_back(a);
        auto &m = root.regions.back();
        put(m.name, k.name);
        m.meta_bytes = k.meta_bytes, m.region_size = k.region_size, m.fd_id = k.fd_id;
        m.buf_size = k.buf_size, m.num_buffers = k.num_buffers, m.payer = k.payer, m.mem_id = k.mem_id;
        m.hugepages = k.hugepages, m.has_payer = k.has_payer;
        for (const auto &[first, size] : k.meta_free)
            m.meta_free.push_back({first, size});
        for (const auto &[first, size] : k.bufs_free)
            m.bufs_free.push_back({first, size});
    }
    root.pipes.reserve(s.pipes.size());
    for (const auto &k : s.pipes) {
        root.pipes.emplace_back(a);
        auto &m = root.pipes.back();
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
    }
    root.registrations.reserve(s.registrations.size());
    for (const auto &k : s.registrations) {
        root.registrations.emplace_back(a);
        auto &m = root.registrations.back();
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
    }
    root.switches.reserve(s.switches.size());
    for (const auto &k : s.switches) {
        root.switches.emplace_back(a);
        put(root.switches.back(), k, a);
    }
    put(root.nics, s.nics, a);
}

// ---- reading: every pointer Boost follows is checked to stay inside the half ----

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

    result<kept_switch> switch_of(const shm_switch &m, const std::string &what) const;
    result<kept_nic> nic(const shm_nic &m, size_t i) const;
    result<kept_state> state(const shm_root &root) const;

private:
    const uint8_t *base_;
    uint64_t bytes_;
};

result<kept_switch> half_reader::switch_of(const shm_switch &m, const std::string &what) const
{
    kept_switch k;
    auto name = text(m.name, what + "'s name");
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
    return k;
}

result<kept_state> half_reader::state(const shm_root &root) const
{
    kept_state s;
    s.last_reg_id = root.last_reg_id;
    s.next_fd_id = root.next_fd_id;
    if (auto ok = list(root.regions, kept_records_max, "the region list"); !ok)
        return ok.err();
    for (const auto &m : root.regions) {
        kept_region k;
        auto name = text(m.name, "region " + std::to_string(s.regions.size()) + "'s name");
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
        s.regions.push_back(std::move(k));
    }
    if (auto ok = list(root.pipes, kept_records_max, "the pipe list"); !ok)
        return ok.err();
    for (const auto &m : root.pipes) {
        const std::string what = "pipe " + std::to_string(s.pipes.size());
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
        s.pipes.push_back(std::move(k));
    }
    if (auto ok = list(root.registrations, kept_records_max, "the registration list"); !ok)
        return ok.err();
    for (const auto &m : root.registrations) {
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
        s.registrations.push_back(std::move(k));
    }
    if (auto ok = list(root.switches, kept_records_max, "the switch list"); !ok)
        return ok.err();
    for (const auto &m : root.switches) {
        auto k = switch_of(m, "switch " + std::to_string(s.switches.size()));
        if (!k)
            return k.err();
        s.switches.push_back(std::move(*k));
    }
    if (auto ok = list(root.nics, kept_records_max, "the NIC list"); !ok)
        return ok.err();
    for (const auto &m : root.nics) {
        auto k = nic(m, s.nics.size());
        if (!k)
            return k.err();
        s.nics.push_back(std::move(*k));
    }
    return s;
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
    k.xdp_link_fd_id = m.xdp_link_fd_id;
    k.afpacket = m.afpacket;
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
