#include "state_records.hpp"

#include <netring/layout.h>

#include <map>
#include <set>

namespace netring::netringd {
namespace {

// The sentence alone: a load says "state segment: ...", a save "state not saved: ...".
error broken(const std::string &msg) { return error::from(errc::bad_message, msg); }

status check_fd(uint32_t id, uint32_t next, const std::string &what)
{
    if (id >= next)
        return broken(what + " names fd." + std::to_string(id) + ", past the last fd id " +
                      std::to_string(next));
    return ok_status();
}

status check_name(const std::string &s, const std::string &what)
{
    if (s.empty())
        return broken(what + " is empty");
    if (s.size() > kept_name_max)
        return broken(what + " '" + s.substr(0, 16) + "...' is " + std::to_string(s.size()) +
                      " bytes long, over the limit of " + std::to_string(kept_name_max));
    if (s.find('\0') != std::string::npos)
        return broken(what + " holds a NUL byte");
    return ok_status();
}

status check_end(const kept_pipe_end &e, const kept_pipe &p, const kept_state &s,
                 const std::set<uint32_t> &regs)
{
    if (auto ok = check_name(e.name, p.key + "'s end name"); !ok)
        return ok;
    if (e.tx.size() > kept_rings_max || e.rx.size() > kept_rings_max)
        return broken(e.name + " has " + std::to_string(e.tx.size()) + " tx and " +
                      std::to_string(e.rx.size()) + " rx rings, over the limit of " +
                      std::to_string(kept_rings_max));
    for (const auto *dir : {&e.tx, &e.rx})
        for (const auto &r : *dir)
            if (auto ok = check_fd(r.notify_fd_id, s.next_fd_id, e.name + "'s ring"); !ok)
                return ok;
    if (e.open && !regs.count(e.reg_id))
        return broken(e.name + " is open for registration " + std::to_string(e.reg_id) +
                      ", which the state does not hold");
    return ok_status();
}

status check_switch(const kept_switch &sw, const kept_state &s, const std::set<std::string> &regions,
                    std::map<uint32_t, std::string> &regs)
{
    if (auto ok = check_name(sw.name, "switch name"); !ok)
        return ok;
    if (auto ok = check_fd(sw.journal_fd_id, s.next_fd_id, sw.name + "'s journal"); !ok)
        return ok;
    for (const kept_attachment &at : sw.attachments) {
        if (auto ok = check_name(at.nic, "a NIC attachment of " + sw.name); !ok)
            return ok;
        if (at.heads.size() > kept_fd_ids_max)
            return broken("NIC attachment " + at.nic + " of " + sw.name + " has " +
                          std::to_string(at.heads.size()) + " ring heads, over the limit of " +
                          std::to_string(kept_fd_ids_max));
    }
    std::set<std::string> ports;
    for (const auto &p : sw.ports) {
        const std::string port = sw.name + ":" + p.name;
        if (auto ok = check_name(p.name, "a port name of " + sw.name); !ok)
            return ok;
        if (auto ok = check_name(p.kind, port + "'s kind"); !ok)
            return ok;
        if (!ports.insert(p.name).second)
            return broken("switch port " + port + " is listed twice");
        if (!regions.count(port))
            return broken("switch port " + port + " has no region in the state");
        if (p.bufs.size() > kept_bufs_max || p.regs.size() > kept_records_max)
            return broken("switch port " + port + " holds too many buffers or registrations");
        for (const auto *r : {&p.tx, &p.rx})
            for (uint32_t id : {r->kick_fd_id, r->notify_fd_id})
                if (auto ok = check_fd(id, s.next_fd_id, port + "'s ring"); !ok)
                    return ok;
        for (const auto &r : p.regs)
            if (r.reg_id == 0 || !regs.count(r.reg_id) || regs[r.reg_id] != port)
                return broken("switch port " + port + " holds registration " + std::to_string(r.reg_id) +
                              ", which the state does not hold for it");
    }
    if (sw.macs.size() > kept_macs_max)
        return broken("switch " + sw.name + " has " + std::to_string(sw.macs.size()) +
                      " learned addresses, over the limit of " + std::to_string(kept_macs_max));
    std::set<uint64_t> macs;
    for (const auto &m : sw.macs) {
        if (m.port >= sw.ports.size())
            return broken("switch " + sw.name + " learned an address on port " + std::to_string(m.port) +
                          ", past its " + std::to_string(sw.ports.size()) + " ports");
        if (!macs.insert(m.mac).second)
            return broken("switch " + sw.name + " learned an address twice");
    }
    return ok_status();
}

status check_nic(const kept_nic &n, const kept_state &s, const std::set<std::string> &regions,
                 const std::set<uint32_t> &regs)
{
    if (auto ok = check_name(n.key, "NIC key"); !ok)
        return ok;
    if (auto ok = check_name(n.ifname, n.key + "'s interface name"); !ok)
        return ok;
    if (!regions.count(n.region))
        return broken("NIC " + n.key + " lives in region '" + n.region + "', which the state does not hold");
    if (n.queues.size() > kept_queues_max || n.owned.size() > kept_bufs_max)
        return broken("NIC " + n.key + " has " + std::to_string(n.queues.size()) + " queues and " +
                      std::to_string(n.owned.size()) + " buffers, over the limits");
    for (uint32_t id : {n.xdp_map_fd_id, n.xdp_prog_fd_id, n.xdp_link_fd_id})
        if (auto ok = check_fd(id, s.next_fd_id, n.key + "'s XDP program"); !ok && !n.afpacket)
            return ok;
    if (auto ok = check_fd(n.journal_fd_id, s.next_fd_id, n.key + "'s journal"); !ok)
        return ok;
    std::set<uint32_t> queues;
    for (const auto &q : n.queues) {
        if (!queues.insert(q.index).second)
            return broken("NIC " + n.key + " lists queue " + std::to_string(q.index) + " twice");
        if (q.held.size() > kept_bufs_max)
            return broken("NIC " + n.key + " queue " + std::to_string(q.index) + " holds too many buffers");
        for (uint32_t id :
             {q.xsk_fd_id, q.tx.kick_fd_id, q.tx.notify_fd_id, q.rx.kick_fd_id, q.rx.notify_fd_id})
            if (auto ok = check_fd(id, s.next_fd_id, n.key + " queue " + std::to_string(q.index)); !ok)
                return ok;
    }
    for (const auto &r : n.registrations) {
        if (!regs.count(r.reg_id))
            return broken("NIC " + n.key + " serves registration " + std::to_string(r.reg_id) +
                          ", which the state does not hold");
        if (r.queues.empty() || r.queues.size() > kept_queues_max)
            return broken("NIC " + n.key + " registration " + std::to_string(r.reg_id) + " names " +
                          std::to_string(r.queues.size()) + " queues");
        for (uint32_t q : r.queues)
            if (!queues.count(q))
                return broken("NIC " + n.key + " registration " + std::to_string(r.reg_id) + " names queue " +
                              std::to_string(q) + ", which is not bound");
    }
    return ok_status();
}

// `kinds`: each registration's port key and kind.
status check_monitor(const kept_monitor &m, const kept_state &s,
                     const std::map<uint32_t, std::pair<std::string, uint32_t>> &kinds)
{
    if (auto ok = check_name(m.name, "monitor name"); !ok)
        return ok;
    if (auto ok = check_name(m.port, m.name + "'s port"); !ok)
        return ok;
    const auto reg = kinds.find(m.reg_id);
    if (reg == kinds.end() || reg->second.first != m.port || reg->second.second != NR_PORT_KIND_MONITOR)
        return broken("monitor " + m.name + " is registration " + std::to_string(m.reg_id) +
                      ", which the state does not hold as a monitor of " + m.port);
    if (m.rings.empty() || m.rings.size() > kept_monitor_rings_max || m.src.size() != m.rings.size() ||
        (!m.entries.empty() && m.entries.size() != m.rings.size()))
        return broken("monitor " + m.name + " has " + std::to_string(m.rings.size()) + " rings, " +
                      std::to_string(m.src.size()) + " sources and " + std::to_string(m.entries.size()) +
                      " table entries");
    if (m.bufs.size() > kept_bufs_max)
        return broken("monitor " + m.name + " holds too many buffers");
    for (const auto &r : m.rings)
        for (uint32_t id : {r.kick_fd_id, r.notify_fd_id})
            if (auto ok = check_fd(id, s.next_fd_id, m.name + "'s ring"); !ok)
                return ok;
    return ok_status();
}

} // namespace

status check_kept_state(const kept_state &s)
{
    if (s.regions.size() > kept_records_max || s.pipes.size() > kept_records_max ||
        s.registrations.size() > kept_records_max || s.switches.size() > kept_records_max)
        return broken("more than " + std::to_string(kept_records_max) +
                      " regions, pipes, switches or registrations");
    std::set<std::string> regions, keys;
    for (const auto &r : s.regions) {
        if (auto ok = check_name(r.name, "region name"); !ok)
            return ok;
        if (!regions.insert(r.name).second)
            return broken("region " + r.name + " is listed twice");
        if (auto ok = check_fd(r.fd_id, s.next_fd_id, "region " + r.name); !ok)
            return ok;
    }
    std::set<uint32_t> regs;
    std::map<uint32_t, std::string> regions_of; // registration id: the region it maps
    for (const auto &r : s.registrations) {
        const std::string what = "registration " + std::to_string(r.reg_id);
        if (r.reg_id == 0 || !regs.insert(r.reg_id).second)
            return broken(what + " is listed twice or has id 0");
        regions_of[r.reg_id] = r.region;
        if (auto ok = check_name(r.key, what + "'s port key"); !ok)
            return ok;
        if (auto ok = check_name(r.name, what + "'s port name"); !ok)
            return ok;
        if (!regions.count(r.region))
            return broken(what + " maps region '" + r.region + "', which the state does not hold");
        if (r.fd_ids.size() > kept_fd_ids_max)
            return broken(what + " has " + std::to_string(r.fd_ids.size()) + " fds, over the limit of " +
                          std::to_string(kept_fd_ids_max));
        for (uint32_t id : r.fd_ids)
            if (auto ok = check_fd(id, s.next_fd_id, what); !ok)
                return ok;
    }
    for (const auto &p : s.pipes) {
        if (auto ok = check_name(p.key, "pipe key"); !ok)
            return ok;
        if (!keys.insert(p.key).second)
            return broken("pipe " + p.key + " is listed twice");
        if (!regions.count(p.parent))
            return broken("pipe " + p.key + " lives in region '" + p.parent +
                          "', which the state does not hold");
        if (p.dir_rings[0] > kept_rings_max || p.dir_rings[1] > kept_rings_max)
            return broken("pipe " + p.key + " has more than " + std::to_string(kept_rings_max) +
                          " rings a direction");
        if (p.bufs.size() > kept_bufs_max)
            return broken("pipe " + p.key + " holds " + std::to_string(p.bufs.size()) +
                          " buffers, over the limit of " + std::to_string(kept_bufs_max));
        for (const auto &e : p.ends)
            if (auto ok = check_end(e, p, s, regs); !ok)
                return ok;
    }
    std::set<std::string> switches;
    for (const auto &sw : s.switches) {
        if (!switches.insert(sw.name).second)
            return broken("switch " + sw.name + " is listed twice");
        if (auto ok = check_switch(sw, s, regions, regions_of); !ok)
            return ok;
    }
    if (s.nics.size() > kept_records_max)
        return broken("more than " + std::to_string(kept_records_max) + " NICs");
    for (const auto &n : s.nics) {
        if (auto ok = check_nic(n, s, regions, regs); !ok)
            return ok;
        if (!keys.insert(n.key).second)
            return broken("port " + n.key + " is listed twice");
    }
    if (s.monitors.size() > kept_records_max)
        return broken("more than " + std::to_string(kept_records_max) + " monitors");
    std::map<uint32_t, std::pair<std::string, uint32_t>> kinds;
    for (const auto &r : s.registrations)
        kinds[r.reg_id] = {r.key, r.port_kind};
    std::set<uint32_t> monitors;
    for (const auto &m : s.monitors) {
        if (auto ok = check_monitor(m, s, kinds); !ok)
            return ok;
        if (!monitors.insert(m.reg_id).second)
            return broken("monitor registration " + std::to_string(m.reg_id) + " is listed twice");
    }
    return ok_status();
}

} // namespace netring::netringd
