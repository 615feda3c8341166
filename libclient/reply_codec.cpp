#include "reply_codec.hpp"

#include <algorithm>
#include <cstring>
#include <string>

namespace netring::proto {
namespace {

template <class T>
T read_at(std::span<const std::byte> payload, size_t off)
{
    T v;
    std::memcpy(&v, payload.data() + off, sizeof(T));
    return v;
}

error malformed(std::string what) { return error::from(errc::bad_message, "STATS reply: " + std::move(what)); }

} // namespace

status check_reply_header(const header &h, msg_type expected, uint32_t seq)
{
    if (h.magic != magic)
        return error::from(errc::bad_message, "reply with a bad magic");
    if (h.version < min_version || h.version > version)
        return error::from(errc::unsupported_version, "reply in protocol version " + std::to_string(h.version));
    if (h.length > max_reply_payload)
        return error::from(errc::bad_message, "reply of " + std::to_string(h.length) + " bytes exceeds the limit");
    const auto t = static_cast<msg_type>(h.type);
    if (t != expected && t != msg_type::error_reply)
        return error::from(errc::bad_message, "reply type " + std::to_string(h.type) + ", expected " +
                                                  std::to_string(static_cast<unsigned>(expected)));
    if (h.seq != seq)
        return error::from(errc::bad_message,
                           "reply to request " + std::to_string(h.seq) + ", expected " + std::to_string(seq));
    return ok_status();
}

status status_error(const reply_status &st)
{
    auto text = fixed_string(st.message, sizeof st.message);
    if (!text)
        return error::from(errc::bad_message, "reply message is not NUL-terminated");
    if (st.error == 0)
        return ok_status();
    return error{make_error_code(static_cast<errc>(st.error)), std::string(*text)};
}

status reply_failure(const header &h, std::span<const std::byte> payload)
{
    const bool is_error_reply = static_cast<msg_type>(h.type) == msg_type::error_reply;
    if (payload.size() < sizeof(reply_status)) {
        if (is_error_reply)
            return error::from(errc::bad_message, "error reply shorter than its status");
        return ok_status(); // the size check of the caller reports it
    }
    const auto st = read_at<reply_status>(payload, 0);
    if (is_error_reply && payload.size() != sizeof(reply_status))
        return error::from(errc::bad_message, "error reply of " + std::to_string(payload.size()) + " bytes");
    return status_error(st);
}

result<regif_reply> decode_regif_reply(const header &h, std::span<const std::byte> payload)
{
    if (auto f = reply_failure(h, payload); !f)
        return f.err();
    if (static_cast<msg_type>(h.type) == msg_type::error_reply)
        return error::from(errc::bad_message, "error reply without an error code");
    const size_t want = h.version < 3 ? regif_reply_v2_size : h.version < 5 ? regif_reply_v4_size : sizeof(regif_reply);
    if (payload.size() != want)
        return error::from(errc::bad_message, "REGIF reply of " + std::to_string(payload.size()) +
                                                  " bytes in protocol version " + std::to_string(h.version) +
                                                  ", expected " + std::to_string(want));
    regif_reply v{};
    std::memcpy(&v, payload.data(), want);
    return v;
}

result<daemon_stats> decode_stats_reply(const header &h, std::span<const std::byte> payload)
{
    if (auto f = reply_failure(h, payload); !f)
        return f.err();
    if (static_cast<msg_type>(h.type) != msg_type::stats_reply)
        return malformed("wrong type");
    if (payload.size() < sizeof(stats_reply) || payload.size() > max_reply_payload)
        return malformed(std::to_string(payload.size()) + " bytes");
    const auto top = read_at<stats_reply>(payload, 0);
    const size_t ring_size = stats_ring_size(h.version); // before version 4: no occupancy
    // 64-bit sums: three 32-bit counts times record sizes cannot overflow them.
    const uint64_t want = sizeof(stats_reply) + uint64_t{top.n_regions} * sizeof(stats_region) +
                          uint64_t{top.n_regs} * sizeof(stats_registration) +
                          uint64_t{top.n_rings} * ring_size + uint64_t{top.n_uids} * sizeof(stats_uid);
    if (want != payload.size())
        return malformed("records need " + std::to_string(want) + " bytes, got " + std::to_string(payload.size()));

    daemon_stats out;
    out.version = top.version;
    out.clients = top.n_clients;
    out.uptime_ms = top.uptime_ms;
    size_t off = sizeof(stats_reply);
    out.regions.reserve(top.n_regions);
    for (uint32_t i = 0; i < top.n_regions; i++, off += sizeof(stats_region)) {
        const auto r = read_at<stats_region>(payload, off);
        auto name = fixed_string(r.name, sizeof r.name);
        if (!name)
            return malformed("region " + std::to_string(i) + " name not terminated");
        out.regions.push_back({std::string(*name), r.size, r.buf_size, r.buffers_total, r.buffers_free, r.users,
                               r.hugepages != 0, r.hugepage_faults});
    }
    out.registrations.reserve(top.n_regs);
    for (uint32_t i = 0; i < top.n_regs; i++, off += sizeof(stats_registration)) {
        const auto r = read_at<stats_registration>(payload, off);
        auto name = fixed_string(r.port_name, sizeof r.port_name);
        if (!name)
            return malformed("registration " + std::to_string(i) + " name not terminated");
        out.registrations.push_back({std::string(*name), r.reg_id, r.uid, r.gid, r.pid, r.tx_rings, r.rx_rings});
    }
    out.rings.reserve(top.n_rings);
    for (uint32_t i = 0; i < top.n_rings; i++, off += ring_size) {
        stats_ring r{};
        std::memcpy(&r, payload.data() + off, ring_size);
        if (r.registration >= top.n_regs)
            return malformed("ring " + std::to_string(i) + " names registration " + std::to_string(r.registration) +
                             " of " + std::to_string(top.n_regs));
        ring_stats rs;
        rs.registration = r.registration;
        rs.dir = r.dir;
        rs.ringid = r.ringid;
        rs.num_slots = r.num_slots;
        rs.status = r.status;
        rs.packets = r.packets;
        rs.bytes = r.bytes;
        rs.drops = r.drops;
        rs.kicks = r.kicks;
        rs.errors = r.errors;
        rs.copies = r.copies;
        rs.occupied = std::min(r.occupied, r.num_slots); // a ring never holds more than its slots
        out.rings.push_back(rs);
    }
    out.uids.reserve(top.n_uids);
    for (uint32_t i = 0; i < top.n_uids; i++, off += sizeof(stats_uid)) {
        const auto u = read_at<stats_uid>(payload, off);
        out.uids.push_back({u.uid, u.unlimited != 0, u.connections, u.registrations, u.regions, u.buffers,
                            u.max_connections, u.max_registrations, u.max_regions, u.max_buffers});
    }
    return out;
}

result<port_details> decode_port_info_reply(const header &h, std::span<const std::byte> payload)
{
    auto r = decode_reply<port_info_reply>(h, payload);
    if (!r)
        return r.err();
    auto region = fixed_string(r->region_name, sizeof r->region_name);
    if (!region)
        return error::from(errc::bad_message, "PORT_INFO reply: region name not terminated");
    port_details d;
    d.port_kind = r->port_kind;
    d.tx_rings = r->tx_rings;
    d.rx_rings = r->rx_rings;
    d.tx_slots = r->tx_slots;
    d.rx_slots = r->rx_slots;
    d.buf_size = r->buf_size;
    d.clients = r->clients;
    d.exclusive = r->exclusive != 0;
    d.region_name = std::string(*region);
    const nic_info &n = r->nic;
    if (n.present) {
        auto mode = fixed_string(n.mode, sizeof n.mode);
        auto xdp = fixed_string(n.xdp_mode, sizeof n.xdp_mode);
        if (!mode || !xdp)
            return error::from(errc::bad_message, "PORT_INFO reply: NIC mode not terminated");
        auto &o = d.nic;
        o.present = true;
        o.link_up = n.link_up != 0;
        o.promisc = n.promisc != 0;
        o.speed_mbps = n.speed_mbps;
        o.mtu = n.mtu;
        o.hw_queues = n.hw_queues;
        o.ring_slots = n.ring_slots;
        o.numa_node = n.numa_node;
        std::memcpy(o.mac, n.mac, sizeof o.mac);
        o.mode = std::string(*mode);
        o.xdp_mode = std::string(*xdp);
        o.rx_packets = n.rx_packets;
        o.tx_packets = n.tx_packets;
        o.rx_bytes = n.rx_bytes;
        o.tx_bytes = n.tx_bytes;
        o.rx_dropped = n.rx_dropped;
        o.tx_dropped = n.tx_dropped;
        o.copies = n.copies;
    }
    return d;
}

result<std::vector<switches::switch_entry>> decode_switch_ctl_reply(const header &h,
                                                                   std::span<const std::byte> payload)
{
    auto bad = [](std::string what) { return error::from(errc::bad_message, "SWITCH_CTL reply: " + std::move(what)); };
    if (auto f = reply_failure(h, payload); !f)
        return f.err();
    if (static_cast<msg_type>(h.type) != msg_type::switch_ctl_reply)
        return bad("wrong type");
    if (payload.size() < sizeof(switch_ctl_reply) || payload.size() > max_reply_payload)
        return bad(std::to_string(payload.size()) + " bytes");
    const auto top = read_at<switch_ctl_reply>(payload, 0);
    // 64-bit sums: two 32-bit counts times record sizes cannot overflow them.
    const uint64_t want = sizeof(switch_ctl_reply) + uint64_t{top.n_switches} * sizeof(switch_record) +
                          uint64_t{top.n_ports} * sizeof(switch_port_record);
    if (want != payload.size())
        return bad("records need " + std::to_string(want) + " bytes, got " + std::to_string(payload.size()));

    std::vector<switches::switch_entry> out;
    std::vector<uint32_t> announced; // each switch's n_ports, checked against the port records
    out.reserve(top.n_switches);
    announced.reserve(top.n_switches);
    size_t off = sizeof(switch_ctl_reply);
    for (uint32_t i = 0; i < top.n_switches; i++, off += sizeof(switch_record)) {
        const auto r = read_at<switch_record>(payload, off);
        auto name = fixed_string(r.name, sizeof r.name);
        if (!name)
            return bad("switch " + std::to_string(i) + " name not terminated");
        switches::switch_entry e;
        e.name = std::string(*name);
        e.persistent = r.persistent != 0;
        e.mac_entries = r.mac_entries;
        out.push_back(std::move(e));
        announced.push_back(r.n_ports);
    }
    for (uint32_t i = 0; i < top.n_ports; i++, off += sizeof(switch_port_record)) {
        const auto r = read_at<switch_port_record>(payload, off);
        auto name = fixed_string(r.name, sizeof r.name);
        auto kind = fixed_string(r.kind, sizeof r.kind);
        if (!name || !kind)
            return bad("port " + std::to_string(i) + " name or kind not terminated");
        if (r.switch_index >= top.n_switches)
            return bad("port " + std::to_string(i) + " names switch " + std::to_string(r.switch_index) + " of " +
                       std::to_string(top.n_switches));
        auto &sw = out[r.switch_index];
        if (sw.ports.size() >= announced[r.switch_index])
            return bad("switch " + sw.name + " has more ports than its " + std::to_string(announced[r.switch_index]));
        switches::port_entry p;
        p.name = std::string(*name);
        p.kind = std::string(*kind);
        p.clients = r.clients;
        p.rx_packets = r.rx_packets;
        p.rx_bytes = r.rx_bytes;
        p.tx_packets = r.tx_packets;
        p.tx_bytes = r.tx_bytes;
        p.drops = r.drops;
        sw.ports.push_back(std::move(p));
    }
    for (size_t i = 0; i < out.size(); i++)
        if (out[i].ports.size() != announced[i])
            return bad("switch " + out[i].name + " announces " + std::to_string(announced[i]) + " ports, " +
                       std::to_string(out[i].ports.size()) + " follow");
    return out;
}

} // namespace netring::proto
