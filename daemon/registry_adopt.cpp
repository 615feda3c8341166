// The registry across a daemon restart, the successor's side: the records a predecessor exported
// (registry_keep.cpp) adopted, each checked against the memory and kernel objects it describes,
// or refused whole. docs/RESTART.md has the design.
#include "registry.hpp"

#include "ports/nic/nic_port.hpp"
#include "ports/pipe/pipe_port.hpp"
#include "ports/vale/vale_port.hpp"

#include <set>

namespace netring::netringd {
namespace {

// A region of its own: a pipe's ("pipe:NAME"), a NIC's ("nic:IF") or a switch port's
// ("valeX:PORT").
bool kept_region_name(const std::string &name)
{
    if (name.starts_with("pipe:") || name.starts_with("nic:"))
        return true;
    auto parsed = parse_port_name(name);
    return parsed && parsed->role == port_role::switch_port && parsed->str() == name;
}

// What a pipe, NIC or switch port (its monitors; clients of a switch port are the switch's) answered
// for an adopted registration, and the kind it must have.
result<attach_result> kept_answer(const port *p, uint32_t reg_id, uint32_t *kind)
{
    if (const auto *pipe = dynamic_cast<const pipe_port *>(p)) {
        auto a = pipe->answer_of(reg_id);
        *kind = a && a->port_kind == NR_PORT_KIND_MONITOR ? NR_PORT_KIND_MONITOR : NR_PORT_KIND_PIPE;
        return a;
    }
    if (const auto *nic = dynamic_cast<const nic_port *>(p)) {
        auto a = nic->answer_of(reg_id);
        *kind = a && a->port_kind == NR_PORT_KIND_MONITOR ? NR_PORT_KIND_MONITOR : NR_PORT_KIND_DAEMON;
        return a;
    }
    if (const auto *sw = dynamic_cast<const vale_port *>(p)) { // its clients' answers are the switch's
        *kind = NR_PORT_KIND_MONITOR;
        return sw->monitor_answer_of(reg_id);
    }
    return error::from(errc::internal, "its port is not of a kind a restart keeps");
}

} // namespace

status registry::adopt_state(const kept_state &k, const std::function<unique_fd(uint32_t)> &take_fd, uint64_t now_s)
{
    // Quota charges wait until everything is checked: a refusal leaves nothing charged.
    struct charge {
        credentials who;
        quota_key key;
        uint64_t n;
    };
    std::vector<charge> charges;
    auto fail = [&](const std::string &why) -> status {
        switches_.clear(); // first: the switch ports' objects then find nothing to release
        regs_.clear();
        ports_.clear();
        regions_.clear();
        region_payers_.clear();
        return error::from(errc::bad_message, why);
    };
    if (!regs_.empty() || !ports_.empty() || !regions_.empty() || !switches_.empty())
        return error::from(errc::internal, "the registry is not empty: nothing to adopt into");
    for (const kept_region &kr : k.regions) {
        if (!kept_region_name(kr.name) || regions_.count(kr.name))
            return fail("kept region '" + kr.name + "' is not a pipe's, a NIC's or a switch port's, or named twice");
        region_options opt;
        opt.buf_size = kr.buf_size;
        opt.num_buffers = kr.num_buffers;
        opt.meta_bytes = kr.meta_bytes;
        opt.hugepages = kr.hugepages;
        auto r = region::adopt(kr.name, take_fd(kr.fd_id), opt);
        if (!r)
            return fail(r.err().message);
        if (!(*r)->meta().restore(kr.meta_free) || !(*r)->pool().restore(kr.bufs_free))
            return fail("kept region " + kr.name + ": its free lists do not fit the region");
        (*r)->set_mem_id(kr.mem_id);
        regions_.emplace(kr.name, std::shared_ptr<region>(std::move(r.value())));
        if (kr.has_payer) {
            region_payers_[kr.name] = kr.payer;
            charges.push_back({{kr.payer, 0, {}}, quota_key::regions, 1});
            charges.push_back({{kr.payer, 0, {}}, quota_key::buffers, cfg_.region_buffers});
        }
    }
    for (const kept_pipe &kp : k.pipes) {
        auto mem = regions_.find(kp.parent);
        if (mem == regions_.end() || ports_.count(kp.key))
            return fail("kept pipe " + kp.key + ": no kept region " + kp.parent + ", or the pipe is named twice");
        auto p = pipe_port::adopt(kp, cfg_, mem->second, take_fd);
        if (!p)
            return fail(p.err().message);
        ports_.emplace(kp.key, std::move(p.value()));
    }
    std::vector<std::shared_ptr<nic_port>> nics;
    for (const kept_nic &kn : k.nics) {
        auto mem = regions_.find(kn.region);
        if (mem == regions_.end() || ports_.count(kn.key))
            return fail("kept NIC " + kn.key + ": no kept region " + kn.region + ", or the port is named twice");
        auto p = nic_port::adopt(kn, cfg_, mem->second, take_fd);
        if (!p)
            return fail(p.err().message);
        nics.push_back(*p);
        ports_.emplace(kn.key, std::move(p.value()));
    }
    const auto region_of = [&](const std::string &n) { return find_region(n); };
    if (auto s = switches_.adopt(k.switches, region_of, take_fd); !s)
        return fail(s.err().message);
    // Monitors go back into their ports before the registrations are matched with their answers.
    // A switch port's object is made here when no client registration made it yet.
    for (const kept_monitor &km : k.monitors) {
        auto watched = parse_port_name(km.name);
        if (watched && watched->role == port_role::switch_port && watched->port_key() == km.port &&
            !ports_.count(km.port))
            ports_.emplace(km.port, std::make_shared<vale_port>(watched->monitored(), switches_));
        const auto p = ports_.find(km.port);
        port *owner = p == ports_.end() ? nullptr : p->second.get();
        status s = error::from(errc::bad_message, "kept monitor " + km.name + ": no kept port " + km.port + " to watch");
        if (auto *pipe = dynamic_cast<pipe_port *>(owner))
            s = pipe->adopt_monitor(km, take_fd);
        else if (auto *nic = dynamic_cast<nic_port *>(owner))
            s = nic->adopt_monitor(km, take_fd);
        else if (auto *sw = dynamic_cast<vale_port *>(owner))
            s = sw->adopt_monitor(km, take_fd);
        if (!s)
            return fail(s.err().message);
    }
    // Every kept region belongs to a kept pipe, NIC or switch port (the table holds one reference).
    for (const auto &[name, r] : regions_)
        if (r.use_count() == 1)
            return fail("kept region " + name + " belongs to nothing kept");
    for (const kept_registration &kr : k.registrations) {
        const std::string what = "kept registration " + std::to_string(kr.reg_id);
        if (kr.reg_id == 0 || regs_.count(kr.reg_id))
            return fail(what + ": the id is taken");
        // A switch port's object is made here: the switch table holds the port itself.
        auto switch_name = parse_port_name(kr.name);
        const bool on_switch = switch_name && switch_name->role == port_role::switch_port;
        if (on_switch && switch_name->port_key() == kr.key && !ports_.count(kr.key))
            ports_.emplace(kr.key, std::make_shared<vale_port>(*switch_name, switches_));
        auto p = ports_.find(kr.key);
        if (p == ports_.end())
            return fail(what + ": no kept port " + kr.key);
        auto *sw = dynamic_cast<vale_port *>(p->second.get());
        if (on_switch != (sw != nullptr) || (on_switch && switch_name->port_key() != kr.key))
            return fail(what + ": its name " + kr.name + " is not one of port " + kr.key);
        uint32_t kind = NR_PORT_KIND_DAEMON;
        const bool switch_client = on_switch && !switch_name->is_monitor();
        auto a = switch_client ? switches_.answer_of(kr.reg_id, *switch_name)
                               : kept_answer(p->second.get(), kr.reg_id, &kind);
        if (!a)
            return fail(what + ": " + a.err().message);
        if (a->tx_rings != kr.tx_rings || a->rx_rings != kr.rx_rings || a->tx_slots != kr.tx_slots ||
            a->rx_slots != kr.rx_slots || a->if_offset != kr.if_offset || a->extra_bufs != kr.extra_bufs ||
            a->mem->name() != kr.region || a->mem->mem_id() != kr.mem_id || kr.port_kind != kind)
            return fail(what + " does not match its port");
        if (switch_client)
            sw->adopt(kr.reg_id);
        registration r;
        r.session = waiting_session;
        r.owner = p->second;
        r.key = kr.key;
        r.name = kr.name;
        r.uid = kr.uid;
        r.gid = kr.gid;
        r.pid = 0; // nobody holds it until REATTACH (STATS shows pid 0)
        r.buffers = kr.buffers;
        if (kr.view_bytes && !a->mem->holds_meta(kr.netmap_if_offset, kr.view_bytes))
            return fail("kept registration " + std::to_string(kr.reg_id) + ": its netmap view is outside the region");
        r.answer = registered{kr.reg_id, kr.name, std::move(a.value()), kr.view_bytes ? kr.netmap_if_offset : 0,
                              kr.mem_id, kr.token};
        r.view_bytes = kr.view_bytes;
        r.waiting_since_s = now_s;
        charges.push_back({{kr.uid, kr.gid, {}}, quota_key::registrations, 1});
        charges.push_back({{kr.uid, kr.gid, {}}, quota_key::buffers, kr.buffers});
        regs_.emplace(kr.reg_id, std::move(r));
    }
    // Every open end must have come back with its registration.
    for (const auto &[key, p] : ports_)
        for (const kept_pipe &kp : k.pipes)
            if (kp.key == key)
                for (const kept_pipe_end &e : kp.ends)
                    if (e.open && !regs_.count(e.reg_id))
                        return fail("kept pipe " + key + ": " + e.name + " is open with no kept registration");
    // And every client of a switch port.
    for (const kept_switch &s : k.switches)
        for (const kept_switch_port &p : s.ports)
            for (const kept_switch_reg &r : p.regs)
                if (auto it = regs_.find(r.reg_id);
                    it == regs_.end() || it->second.key != parse_port_name(s.name + ":" + p.name)->port_key())
                    return fail("kept switch port " + s.name + ":" + p.name + ": registration " +
                                std::to_string(r.reg_id) + " is not kept for it");
    for (const kept_nic &kn : k.nics)
        for (const kept_nic_registration &r : kn.registrations)
            if (!regs_.count(r.reg_id) || regs_.at(r.reg_id).key != kn.key)
                return fail("kept NIC " + kn.key + ": registration " + std::to_string(r.reg_id) +
                            " was not kept with it");
    // A switch's NIC attachments: the daemon's own registrations of kept NIC ports, taken back by
    // the daemon (nobody re-attaches them), then driven by the switch from the heads it recorded.
    std::set<uint32_t> attached;
    for (const kept_switch &s : k.switches)
        for (const kept_attachment &at : s.attachments) {
            auto it = regs_.find(at.reg_id);
            auto nic = parse_port_name(at.nic);
            if (it == regs_.end() || !nic || it->second.key != nic->port_key() ||
                !dynamic_cast<const nic_port *>(it->second.owner.get()) || !attached.insert(at.reg_id).second)
                return fail("kept switch " + s.name + ": attachment " + at.nic +
                            " has no kept NIC registration " + std::to_string(at.reg_id) + " of its own");
            it->second.session = internal_session;
            it->second.pid = ::getpid();
            it->second.waiting_since_s = 0;
        }
    if (auto s = switches_.adopt_attachments(k.switches,
                                             [&](uint32_t id) -> const attach_result * {
                                                 const auto it = regs_.find(id);
                                                 return it == regs_.end() ? nullptr : &it->second.answer.a;
                                             });
        !s)
        return fail(s.err().message);
    for (const charge &c : charges)
        quotas_.charge(c.who, c.key, c.n);
    last_id_ = k.last_reg_id;
    for (const auto &nic : nics)
        nic->resume(); // the workers carry on where the predecessor's stopped
    switches_.resume(); // forwarding starts where the predecessor stopped
    return ok_status();
}

} // namespace netring::netringd
