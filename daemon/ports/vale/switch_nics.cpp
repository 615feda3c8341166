// NIC attachments: a NIC's rings (and with netmap:IF* its host rings) as ports of a switch, driven
// through a daemon registration of the NIC port as an application would drive it.
#include "switch_table.hpp"
#include "vale_switch.hpp"

#include "port.hpp"

#include <rings/region_format.hpp>

#include <algorithm>
#include <cstring>

namespace netring::netringd {

status switch_table::attach_nic(const std::string &sw, const std::string &nic)
{
    vale_switch *s = find(sw);
    if (!s)
        return no_switch(sw);
    auto parsed = parse_port_name(nic);
    if (!parsed || (parsed->role != port_role::nic_all && parsed->role != port_role::nic_host) ||
        parsed->exclusive || parsed->tx_only || parsed->rx_only)
        return error::from(errc::bad_port_name,
                           "attach takes netmap:IF or netmap:IF* (NIC, or NIC and host rings), not '" + nic +
                               "'");
    const bool with_host = parsed->role == port_role::nic_host;
    const std::string nic_port_name = "netmap:" + parsed->base;
    const std::string host_port_name = nic_port_name + "^";
    for (const auto &[name, other] : switches_)
        for (const auto &p : other->ports())
            if (p->name == nic_port_name || p->name == host_port_name)
                return error::from(errc::already_exists, parsed->base + " is already attached to " + name +
                                                             " (" + p->attachment + ")");
    auto reg = env_.register_nic(parsed->str() + "/x");
    if (!reg)
        return reg.err();
    const uint32_t reg_id = reg->first;
    const attach_result &a = reg->second;
    rings::checked_if ci;
    const std::string why = rings::check_if_block(a.mem->base(), a.mem->geometry(), a.if_offset, &ci);
    const uint32_t total = a.tx_rings; // per direction, host included
    if (!why.empty() || ci.rings.size() != 2u * total || a.fds.size() != 1 + 4u * total ||
        total < (with_host ? 2u : 1u)) {
        env_.unregister_nic(reg_id);
        return error::from(errc::internal, "attach " + nic + ": unexpected registration layout" +
                                               (why.empty() ? "" : ": " + why));
    }
    rings::buffer_limits lim = a.mem->limits();
    lim.offset_mask = lim.buf_size - 1;
    uint8_t *base = a.mem->base();
    auto ring_at = [&](uint32_t i) -> app_ring {
        app_ring r;
        r.r = {reinterpret_cast<nr_ring *>(base + ci.rings[i].ring_off),
               reinterpret_cast<nr_sync *>(base + ci.rings[i].sync_off), ci.rings[i].num_slots};
        r.kick_fd = a.fds[1 + 2 * i];
        r.notify_fd = a.fds[2 + 2 * i];
        return r;
    };
    const uint32_t nic_rings = with_host ? total - 1 : total;
    auto make = [&](const std::string &pname, const char *kind, uint32_t first, uint32_t count) {
        auto p = std::make_unique<sw_port>();
        p->name = pname;
        p->kind = kind;
        p->attachment = parsed->str();
        p->nic_reg = reg_id;
        p->ep.served = false;
        p->ep.base = base;
        p->ep.bufs = base + a.mem->geometry().buffers_offset;
        p->ep.lim = lim;
        for (uint32_t i = 0; i < count; i++)
            p->ep.in.push_back(ring_at(total + first + i)); // rx rings follow the tx rings
        p->ep.out = ring_at(first);
        return p;
    };
    s->stop();
    s->ports().push_back(make(nic_port_name, "nic", 0, nic_rings));
    if (with_host)
        s->ports().push_back(make(host_port_name, "host", nic_rings, 1));
    s->start(fwd_settings_of(cfg_));
    return ok_status();
}

status switch_table::detach_nic(const std::string &sw, const std::string &nic)
{
    vale_switch *s = find(sw);
    if (!s)
        return no_switch(sw);
    auto parsed = parse_port_name(nic);
    if (!parsed)
        return parsed.err();
    auto &v = s->ports();
    uint32_t reg_id = 0;
    for (const auto &p : v)
        if ((p->kind == "nic" || p->kind == "host") && parse_port_name(p->attachment)->base == parsed->base)
            reg_id = p->nic_reg;
    if (reg_id == 0)
        return error::from(errc::not_found, nic + " is not attached to " + sw);
    s->stop();
    v.erase(std::remove_if(v.begin(), v.end(), [&](const auto &p) { return p->nic_reg == reg_id; }), v.end());
    s->start(fwd_settings_of(cfg_));
    env_.unregister_nic(reg_id);
    return ok_status();
}

} // namespace netring::netringd
