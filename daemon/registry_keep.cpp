// The registry across a daemon restart: what it releases before the handoff, the records it
// exports, and the tokens that let clients re-attach. How a new process adopts the records is
// registry_adopt.cpp. docs/RESTART.md has the design.
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

} // namespace netring::netringd
