// SWITCH_CTL in netringd: the registry's admission and dispatch to the switch table, and the
// reply's encoding (status, switch records, then port records naming their switch by index).
#include "ports/vale/switch_table.hpp"
#include "registry.hpp"

#include <cstring>

namespace netring::netringd {

const char *switch_op_name(proto::switch_op op)
{
    switch (op) {
    case proto::switch_op::create: return "create";
    case proto::switch_op::destroy: return "destroy";
    case proto::switch_op::add_port: return "add";
    case proto::switch_op::delete_port: return "delete";
    case proto::switch_op::attach: return "attach";
    case proto::switch_op::detach: return "detach";
    case proto::switch_op::list: return "list";
    case proto::switch_op::may_administer: return "administer";
    }
    return "?";
}

namespace {

bool needs_arg(proto::switch_op op)
{
    return op != proto::switch_op::create && op != proto::switch_op::destroy && op != proto::switch_op::list;
}

} // namespace

result<std::vector<switch_info>> registry::switch_ctl(const client_info &who, proto::switch_op op,
                                                      std::string_view sw_view, std::string_view arg_view)
{
    const std::string sw(sw_view), arg(arg_view);
    if (op == proto::switch_op::list) {
        auto all = switches().list();
        if (sw.empty())
            return all;
        for (auto &s : all)
            if (s.name == sw) {
                std::vector<switch_info> one;
                one.push_back(std::move(s));
                return one;
            }
        return error::from(errc::not_found, "no switch named " + sw);
    }
    if (!policy_.is_admin(who.creds()))
        return error::from(errc::access_denied,
                           "uid " + std::to_string(who.uid) + " may not " + switch_op_name(op) +
                               ": switch administration is for admins (admin directive)");
    if (op == proto::switch_op::may_administer)
        return std::vector<switch_info>{};
    if (sw.empty())
        return error::from(errc::bad_port_name, std::string(switch_op_name(op)) + " needs a switch name");
    if (needs_arg(op) && arg.empty())
        return error::from(errc::bad_port_name,
                           std::string(switch_op_name(op)) + " on " + sw +
                               (op == proto::switch_op::attach || op == proto::switch_op::detach
                                    ? " needs a NIC name (netmap:IF or netmap:IF*)"
                                    : " needs a port name"));
    status s = ok_status();
    switch (op) {
    case proto::switch_op::create: s = switches().create_switch(sw); break;
    case proto::switch_op::destroy: s = switches().destroy_switch(sw); break;
    case proto::switch_op::add_port: s = switches().add_port(sw, arg); break;
    case proto::switch_op::delete_port: s = switches().delete_port(sw, arg); break;
    case proto::switch_op::attach: s = switches().attach_nic(sw, arg); break;
    case proto::switch_op::detach: s = switches().detach_nic(sw, arg); break;
    case proto::switch_op::list:
    case proto::switch_op::may_administer: break; // answered above
    }
    if (!s)
        return s.err();
    changed();
    return std::vector<switch_info>{};
}

std::vector<std::byte> switch_ctl_payload(const result<std::vector<switch_info>> &r)
{
    proto::switch_ctl_reply top{};
    size_t n_ports = 0;
    if (r)
        for (const switch_info &s : r.value())
            n_ports += s.ports.size();
    const size_t n_switches = r ? r.value().size() : 0;
    const size_t bytes =
        sizeof top + n_switches * sizeof(proto::switch_record) + n_ports * sizeof(proto::switch_port_record);
    if (!r || bytes > proto::max_reply_payload) {
        // Records are all or nothing: a switch's n_ports must match the port records that follow.
        proto::set_status(
            top.status,
            r ? error::from(errc::limit_exceeded, std::to_string(n_switches) + " switches with " +
                                                      std::to_string(n_ports) +
                                                      " ports exceed one reply; list one switch at a time")
              : r.err());
        std::vector<std::byte> out(sizeof top);
        std::memcpy(out.data(), &top, sizeof top);
        return out;
    }
    proto::set_ok(top.status);
    top.n_switches = static_cast<uint32_t>(n_switches);
    top.n_ports = static_cast<uint32_t>(n_ports);
    std::vector<std::byte> out(bytes);
    std::memcpy(out.data(), &top, sizeof top);
    size_t sw_off = sizeof top;
    size_t port_off = sizeof top + n_switches * sizeof(proto::switch_record);
    for (uint32_t i = 0; i < n_switches; i++, sw_off += sizeof(proto::switch_record)) {
        const switch_info &s = r.value()[i];
        proto::switch_record rec{};
        proto::set_text(rec.name, sizeof rec.name, s.name);
        rec.persistent = s.persistent ? 1 : 0;
        rec.mac_entries = s.mac_entries;
        rec.n_ports = static_cast<uint32_t>(s.ports.size());
        std::memcpy(out.data() + sw_off, &rec, sizeof rec);
        for (const switch_port_info &p : s.ports) {
            proto::switch_port_record pr{};
            proto::set_text(pr.name, sizeof pr.name, p.name);
            proto::set_text(pr.kind, sizeof pr.kind, p.kind);
            pr.switch_index = i;
            pr.clients = p.clients;
            pr.rx_packets = p.rx_packets;
            pr.rx_bytes = p.rx_bytes;
            pr.tx_packets = p.tx_packets;
            pr.tx_bytes = p.tx_bytes;
            pr.drops = p.drops;
            std::memcpy(out.data() + port_off, &pr, sizeof pr);
            port_off += sizeof pr;
        }
    }
    return out;
}

} // namespace netring::netringd
