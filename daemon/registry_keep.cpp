// The registry across a daemon restart: what it releases before the handoff, the records it
// exports, and how a new process adopts them. docs/RESTART.md has the design.
#include "registry.hpp"

#include "ports/nic/nic_port.hpp"
#include "ports/pipe/pipe_port.hpp"
#include "ports/vale/vale_port.hpp"

#include <sys/random.h>

#include <algorithm>
#include <map>
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

const pipe_port *kept_pipe_of(const port *p)
{
    const auto *pipe = dynamic_cast<const pipe_port *>(p);
    return pipe && pipe->region_name().starts_with("pipe:") ? pipe : nullptr;
}

nic_port *kept_nic_of(port *p)
{
    auto *nic = dynamic_cast<nic_port *>(p);
    return nic && nic->keepable() ? nic : nullptr;
}
const nic_port *kept_nic_of(const port *p) { return kept_nic_of(const_cast<port *>(p)); }

// A NIC port a save may name: in a handoff (workers paused) any kept one; otherwise one whose
// worker commits its cursors to the port's journal, which the save reads instead of the worker.
const nic_port *saved_nic_of(const port *p, bool handing_off)
{
    if (handing_off)
        return kept_nic_of(p);
    const auto *nic = dynamic_cast<const nic_port *>(p);
    return nic && nic->journaled() ? nic : nullptr;
}

// What a pipe or NIC port answered for an adopted registration, and the kind it must have.
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

// A registration a successor adopts: an end of a pipe in a region of its own, a client of a switch
// port, and a registration of a NIC port: in a planned handoff, of one in AF_XDP or AF_PACKET mode
// (host rings included; the daemon's own, for a switch's attachment, too); in the saves made
// after each change, of one whose queues are all AF_XDP (their worker commits its cursors to the
// port's journal, as a switch's forwarding thread does, and a save reads those). A monitor goes
// with the port it watches: its rings are in that port's region.
bool adoptable(const port *owner, const attach_result &a, bool handing_off)
{
    const auto *sw = dynamic_cast<const vale_port *>(owner);
    if (a.port_kind == NR_PORT_KIND_MONITOR)
        return kept_pipe_of(owner) || saved_nic_of(owner, handing_off) || (sw && sw->keeps_monitors());
    return (kept_pipe_of(owner) && a.port_kind == NR_PORT_KIND_PIPE) ||
           ((sw || saved_nic_of(owner, handing_off)) && a.port_kind == NR_PORT_KIND_DAEMON);
}

// Compares without an early exit, so the time taken says nothing about where a guess went wrong.
bool constant_time_equal(std::span<const uint8_t> a, std::span<const uint8_t> b)
{
    uint8_t diff = 0;
    for (size_t i = 0; i < a.size(); i++)
        diff |= static_cast<uint8_t>(a[i] ^ b[i]);
    return diff == 0;
}

} // namespace

reattach_token make_reattach_token()
{
    reattach_token t{};
    for (;;) {
        size_t got = 0;
        while (got < t.size()) {
            const ssize_t n = ::getrandom(t.data() + got, t.size() - got, 0);
            if (n > 0)
                got += static_cast<size_t>(n);
            // n < 0: EINTR (the pool is initialised long before netringd starts): try again
        }
        if (std::any_of(t.begin(), t.end(), [](uint8_t b) { return b != 0; }))
            return t;
    }
}

result<registered> registry::reattach(const client_info &who, uint32_t reg_id, std::span<const uint8_t> token)
{
    auto it = regs_.find(reg_id);
    const bool match = it != regs_.end() && token.size() == it->second.answer.token.size() &&
                       constant_time_equal(token, it->second.answer.token) && it->second.uid == who.uid;
    if (!match || it->second.session != waiting_session)
        return error::from(errc::not_registered, "no registration " + std::to_string(reg_id) +
                                                     " waits for this uid with this token");
    it->second.session = who.session;
    it->second.pid = who.pid;
    it->second.waiting_since_s = 0;
    changed();
    return it->second.answer;
}

size_t registry::expire_waiting(uint64_t now_s, uint32_t timeout_s)
{
    size_t n = 0;
    for (auto it = regs_.begin(); it != regs_.end();) {
        auto next = std::next(it);
        if (it->second.session == waiting_session && now_s - it->second.waiting_since_s >= timeout_s) {
            if (log_)
                log_("registration " + std::to_string(it->first) + " (" + it->second.name +
                     ") was not re-attached within " + std::to_string(timeout_s) + " s: released");
            drop(it);
            n++;
        }
        it = next;
    }
    return n;
}

size_t registry::waiting() const
{
    return static_cast<size_t>(std::count_if(regs_.begin(), regs_.end(),
                                             [](const auto &kv) { return kv.second.session == waiting_session; }));
}

bool registry::nic_kept(uint32_t reg_id) const
{
    const auto it = regs_.find(reg_id);
    return it != regs_.end() && kept_nic_of(it->second.owner.get()) != nullptr;
}

size_t registry::release_unkept()
{
    handing_off_ = true;
    // Every NIC worker stops first: whether a port can be kept is read from its I/O's private
    // state, which a running worker writes. Those kept stay paused for export_state.
    for (auto &[key, p] : ports_)
        if (auto *nic = dynamic_cast<nic_port *>(p.get()))
            nic->pause();
    switches_.hold(); // stops forwarding; NIC attachments whose NIC is not kept go
    size_t n = 0;
    for (auto it = regs_.begin(); it != regs_.end();) {
        auto next = std::next(it);
        if (!adoptable(it->second.owner.get(), it->second.answer.a, true)) {
            drop(it);
            n++;
        }
        it = next;
    }
    return n;
}

void registry::resume_kept()
{
    handing_off_ = false;
    for (auto &[key, p] : ports_)
        if (nic_port *nic = kept_nic_of(p.get()))
            nic->resume();
    switches_.resume();
}

kept_state registry::export_state(std::vector<std::pair<uint32_t, int>> &fds) const
{
    std::map<int, uint32_t> ids;
    return export_state([&](int fd) {
        auto [it, fresh] = ids.emplace(fd, static_cast<uint32_t>(ids.size()));
        if (fresh)
            fds.emplace_back(it->second, fd);
        return it->second;
    });
}

kept_state registry::export_state(const std::function<uint32_t(int)> &name_fd) const
{
    kept_state k;
    auto id_of = [&](int fd) {
        const uint32_t id = name_fd(fd);
        k.next_fd_id = std::max(k.next_fd_id, id + 1);
        return id;
    };
    std::set<std::string> regions;
    for (const auto &[key, p] : ports_)
        if (const pipe_port *pipe = kept_pipe_of(p.get())) {
            k.pipes.push_back(pipe->keep(id_of));
            for (kept_monitor &m : pipe->keep_monitors(id_of))
                k.monitors.push_back(std::move(m));
            regions.insert(pipe->region_name());
        } else if (const nic_port *nic = saved_nic_of(p.get(), handing_off_)) {
            k.nics.push_back(nic->keep(id_of, !handing_off_));
            for (kept_monitor &m : nic->keep_monitors(id_of))
                k.monitors.push_back(std::move(m));
            regions.insert(nic->region_name());
        } else if (const auto *sw = dynamic_cast<const vale_port *>(p.get())) {
            for (kept_monitor &m : sw->keep_monitors(id_of)) // its region is the switch port's
                k.monitors.push_back(std::move(m));
        }
    k.switches = switches_.keep(id_of);
    for (const kept_switch &s : k.switches)
        for (const kept_switch_port &p : s.ports)
            regions.insert(s.name + ":" + p.name);
    for (const std::string &name : regions) {
        const auto it = regions_.find(name);
        if (it == regions_.end())
            continue;
        const region &r = *it->second;
        kept_region kr;
        kr.name = name;
        kr.fd_id = id_of(r.fd());
        kr.buf_size = r.geometry().buf_size;
        kr.num_buffers = r.geometry().num_buffers;
        kr.meta_bytes = r.geometry().meta_size;
        kr.region_size = r.size();
        kr.mem_id = r.mem_id();
        kr.hugepages = r.hugepages();
        if (auto payer = region_payers_.find(name); payer != region_payers_.end()) {
            kr.payer = payer->second;
            kr.has_payer = true;
        }
        kr.meta_free = it->second->meta().free_ranges();
        kr.bufs_free = it->second->pool().free_ranges();
        k.regions.push_back(std::move(kr));
    }
    for (const auto &[id, r] : regs_) {
        if (!adoptable(r.owner.get(), r.answer.a, handing_off_))
            continue;
        kept_registration kr;
        kr.reg_id = id;
        kr.key = r.key;
        kr.name = r.name;
        kr.uid = r.uid;
        kr.gid = r.gid;
        kr.pid = r.pid;
        kr.buffers = r.buffers;
        kr.token = r.answer.token;
        kr.netmap_if_offset = r.answer.netmap_if_offset;
        kr.view_bytes = r.view_bytes;
        kr.mem_id = r.answer.mem_id;
        const attach_result &a = r.answer.a;
        kr.port_kind = a.port_kind;
        kr.tx_rings = a.tx_rings;
        kr.rx_rings = a.rx_rings;
        kr.tx_slots = a.tx_slots;
        kr.rx_slots = a.rx_slots;
        kr.extra_bufs = a.extra_bufs;
        kr.if_offset = a.if_offset;
        kr.region = a.mem->name();
        for (int fd : a.fds)
            kr.fd_ids.push_back(id_of(fd));
        k.registrations.push_back(std::move(kr));
    }
    k.last_reg_id = last_id_;
    return k;
}

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
