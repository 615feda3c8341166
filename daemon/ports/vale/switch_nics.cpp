// NIC attachments: a NIC's rings (and with netmap:IF* its host rings) as ports of a switch, driven
// through a daemon registration of the NIC port as an application would drive it.
#include "switch_table.hpp"
#include "vale_switch.hpp"

#include "port.hpp"

#include <rings/region_format.hpp>

#include <algorithm>
#include <cstring>

namespace netring::netringd {

namespace {

// The switch ports of one attachment, over the daemon's registration `reg_id` of the NIC port
// (its answer `a`): the NIC's rings as port "netmap:IF" and, attached with '*', its host rings as
// "netmap:IF^". Refused when the registration is not laid out as attach asks for it.
result<std::vector<std::unique_ptr<sw_port>>> attachment_ports(const port_name &parsed, uint32_t reg_id,
                                                               const attach_result &a)
{
    const bool with_host = parsed.role == port_role::nic_host;
    rings::checked_if ci;
    const std::string why = rings::check_if_block(a.mem->base(), a.mem->geometry(), a.if_offset, &ci);
    const uint32_t total = a.tx_rings; // per direction, host included
    if (!why.empty() || ci.rings.size() != 2u * total || a.fds.size() != 1 + 4u * total ||
        total < (with_host ? 2u : 1u))
        return error::from(errc::internal, "attach " + parsed.str() + ": unexpected registration layout" +
                                               (why.empty() ? "" : ": " + why));
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
        p->attachment = parsed.str();
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
    std::vector<std::unique_ptr<sw_port>> out;
    out.push_back(make("netmap:" + parsed.base, "nic", 0, nic_rings));
    if (with_host)
        out.push_back(make("netmap:" + parsed.base + "^", "host", nic_rings, 1));
    return out;
}

// The attachments the switch takes: netmap:IF or netmap:IF*, shared by no other switch.
result<port_name> attachable(const std::map<std::string, std::unique_ptr<vale_switch>> &switches,
                             const std::string &nic)
{
    auto parsed = parse_port_name(nic);
    if (!parsed || (parsed->role != port_role::nic_all && parsed->role != port_role::nic_host) ||
        parsed->exclusive || parsed->tx_only || parsed->rx_only)
        return error::from(errc::bad_port_name,
                           "attach takes netmap:IF or netmap:IF* (NIC, or NIC and host rings), not '" + nic +
                               "'");
    const std::string nic_port_name = "netmap:" + parsed->base;
    for (const auto &[name, other] : switches)
        for (const auto &p : other->ports())
            if (p->name == nic_port_name || p->name == nic_port_name + "^")
                return error::from(errc::already_exists, parsed->base + " is already attached to " + name +
                                                             " (" + p->attachment + ")");
    return *parsed;
}

} // namespace

status switch_table::attach_nic(const std::string &sw, const std::string &nic)
{
    vale_switch *s = find(sw);
    if (!s)
        return no_switch(sw);
    auto parsed = attachable(switches_, nic);
    if (!parsed)
        return parsed.err();
    auto reg = env_.register_nic(parsed->str() + "/x");
    if (!reg)
        return reg.err();
    auto ports = attachment_ports(*parsed, reg->first, reg->second);
    if (!ports) {
        env_.unregister_nic(reg->first);
        return ports.err();
    }
    s->stop();
    for (auto &p : *ports)
        s->ports().push_back(std::move(p));
    s->start(fwd_settings_of(cfg_));
    return ok_status();
}

std::vector<kept_attachment> switch_table::keep_attachments(const vale_switch &s) const
{
    std::vector<kept_attachment> out;
    for (const auto &p : s.ports()) {
        if (p->kind != "nic" && p->kind != "host")
            continue;
        if (p->kind == "nic" || out.empty() || out.back().reg_id != p->nic_reg)
            out.push_back({p->attachment, p->nic_reg, {}});
        for (const app_ring &r : p->ep.in)
            out.back().heads.push_back(r.head);
        out.back().heads.push_back(p->ep.out.head);
    }
    return out;
}

status switch_table::adopt_attachments(const std::vector<kept_switch> &k,
                                       const std::function<const attach_result *(uint32_t)> &answer)
{
    for (const kept_switch &ks : k) {
        vale_switch *s = find(ks.name);
        if (!s)
            return no_switch(ks.name);
        for (const kept_attachment &at : ks.attachments) {
            const std::string what = "kept switch " + ks.name + ": attachment " + at.nic;
            auto parsed = attachable(switches_, at.nic);
            if (!parsed || parsed->str() != at.nic)
                return error::from(errc::bad_message,
                                   what + ": " +
                                       (parsed ? "not written as attach writes it" : parsed.err().message));
            const attach_result *a = answer(at.reg_id);
            if (!a)
                return error::from(errc::bad_message,
                                   what + ": no kept registration " + std::to_string(at.reg_id));
            auto ports = attachment_ports(*parsed, at.reg_id, *a);
            if (!ports)
                return error::from(errc::bad_message, what + ": " + ports.err().message);
            // The switch's heads, as keep_attachments listed them; each inside its ring.
            size_t next = 0;
            for (auto &p : *ports) {
                std::vector<app_ring *> rings;
                for (app_ring &r : p->ep.in)
                    rings.push_back(&r);
                rings.push_back(&p->ep.out);
                for (app_ring *r : rings) {
                    if (next >= at.heads.size() || at.heads[next] >= r->r.num_slots)
                        return error::from(errc::bad_message, what + ": its ring heads do not fit its rings");
                    r->head = r->pull_end = at.heads[next++];
                }
            }
            if (next != at.heads.size())
                return error::from(errc::bad_message, what + ": its ring heads do not fit its rings");
            for (auto &p : *ports)
                s->ports().push_back(std::move(p));
        }
    }
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
