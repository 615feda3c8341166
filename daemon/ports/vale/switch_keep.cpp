// Switches across a daemon restart: held still and recorded (hold, keep), rebuilt and started again
// on the same rings by the successor (adopt, resume). The regions and eventfds are the same objects
// before and after; the ring indices the forwarding thread publishes are its own copies, recorded
// and written back, so frames a client queued during the gap are forwarded from where it stopped.
// Every number a record gives is checked against the region before the switch is trusted again.
#include "switch_table.hpp"

#include "port.hpp"
#include "vale_switch.hpp"

#include <rings/bits.hpp>

#include <algorithm>
#include <set>

namespace netring::netringd {
namespace {

error refused(const std::string &what, const std::string &why)
{
    return error::from(errc::bad_message, "kept switch port " + what + ": " + why);
}

bool client_port(const sw_port &p) { return p.kind == "ephemeral" || p.kind == "persistent"; }

kept_served_ring keep_ring(const served_ring &r, uint32_t hwcur, uint32_t hwtail,
                           const std::function<uint32_t(int)> &fd_id)
{
    return {r.ring_off, r.sync_off, r.meta_bytes, r.num_slots, fd_id(r.kick.get()), fd_id(r.notify.get()),
            hwcur,      hwtail};
}

// A kept ring back into `r`, after checking it lies at its place in `mem`; the sync block's kernel
// indices (clients can write them) are published again from the record.
status adopt_ring(const kept_served_ring &k, bool tx, region &mem, served_ring &r,
                  const std::function<unique_fd(uint32_t)> &take_fd, const std::string &what)
{
    const char *dir = tx ? "tx" : "rx";
    if (k.num_slots < 2 || k.num_slots > (1u << 20) || !rings::is_pow2(k.num_slots))
        return refused(what,
                       std::string("its ") + dir + " ring has " + std::to_string(k.num_slots) + " slots");
    if (!ring_in_place(mem, k.ring_off, k.sync_off, k.meta_bytes, k.num_slots))
        return refused(what, std::string("its ") + dir + " ring lies outside its place in the region");
    // A tx ring is handed back whole at every release: its tail is one behind its cur.
    if (k.hwcur >= k.num_slots || k.hwtail >= k.num_slots ||
        (tx && k.hwtail != rings::prev_index(k.hwcur, k.num_slots)))
        return refused(what, std::string("its ") + dir + " ring's indices " + std::to_string(k.hwcur) + "/" +
                                 std::to_string(k.hwtail) + " do not fit it");
    r.ring_off = k.ring_off;
    r.sync_off = k.sync_off;
    r.meta_bytes = k.meta_bytes;
    r.num_slots = k.num_slots;
    r.kick = take_fd(k.kick_fd_id);
    r.notify = take_fd(k.notify_fd_id);
    if (!r.kick.valid() || !r.notify.valid())
        return refused(what, std::string("an eventfd of its ") + dir + " ring was not kept");
    r.hwcur = r.reclaim = k.hwcur;
    r.hwtail = k.hwtail;
    publish_served(ring_ref_of(mem.base(), r), r);
    return ok_status();
}

std::array<uint64_t, 7> counter_values(const fwd_counters &c)
{
    return {c.rx_packets.load(), c.rx_bytes.load(), c.tx_packets.load(), c.tx_bytes.load(),
            c.drops.load(),      c.errors.load(),   c.flooded.load()};
}

void restore(fwd_counters &c, const std::array<uint64_t, 7> &v)
{
    c.rx_packets = v[0], c.rx_bytes = v[1], c.tx_packets = v[2], c.tx_bytes = v[3];
    c.drops = v[4], c.errors = v[5], c.flooded = v[6];
}

} // namespace

void switch_table::hold()
{
    std::set<uint32_t> nic_regs; // attachments released: their NIC is not kept
    for (auto it = switches_.begin(); it != switches_.end();) {
        vale_switch &s = *it->second;
        s.hold();
        auto &v = s.ports();
        const auto released = [&](const auto &p) {
            return !client_port(*p) && !(env_.keeps_nic && env_.keeps_nic(p->nic_reg));
        };
        for (const auto &p : v)
            if (released(p))
                nic_regs.insert(p->nic_reg); // the host port shares it
        v.erase(std::remove_if(v.begin(), v.end(), released), v.end());
        it = !s.persistent() && v.empty() ? switches_.erase(it) : std::next(it);
    }
    for (uint32_t reg : nic_regs)
        env_.unregister_nic(reg);
}

bool switch_table::held() const
{
    return std::all_of(switches_.begin(), switches_.end(), [](const auto &kv) { return kv.second->is_held(); });
}

void switch_table::resume()
{
    for (auto &[name, s] : switches_)
        s->resume(fwd_settings_of(cfg_));
}

std::vector<kept_switch> switch_table::keep(const std::function<uint32_t(int)> &fd_id) const
{
    std::vector<kept_switch> out;
    for (const auto &[name, s] : switches_) {
        kept_switch k;
        k.name = name;
        k.persistent = s->persistent();
        k.journal_fd_id = fd_id(s->journal().fd());
        std::vector<int> position(s->ports().size(), -1); // in ports(), to in k.ports
        for (size_t i = 0; i < s->ports().size(); i++) {
            const sw_port &p = *s->ports()[i];
            if (!client_port(p))
                continue;
            position[i] = static_cast<int>(k.ports.size());
            kept_switch_port kp;
            kp.name = p.name;
            kp.kind = p.kind;
            const journal_cursors c = s->cursors(p); // a running thread's last commit
            kp.tx = keep_ring(p.tx, c.tx_hwcur, c.tx_hwtail, fd_id);
            kp.rx = keep_ring(p.rx, c.rx_hwcur, c.rx_hwtail, fd_id);
            kp.journal_slot = p.journal_slot;
            kp.journal_tag = p.journal_tag;
            kp.bufs = p.bufs;
            for (const sw_port::reg &r : p.regs)
                kp.regs.push_back({r.reg_id, r.pid, r.if_off, r.if_bytes, r.extra_bufs, r.exclusive});
            kp.counters = counter_values(p.ep.counters);
            k.ports.push_back(std::move(kp));
        }
        for (const learned_mac &m : s->learned())
            if (position[m.port] >= 0)
                k.macs.push_back({m.mac, static_cast<uint32_t>(position[m.port]), m.age_s});
        // Held only in a handoff, whose save also keeps the NICs and the daemon's registrations of
        // them; a running thread's heads are its own.
        if (s->is_held())
            k.attachments = keep_attachments(*s);
        out.push_back(std::move(k));
    }
    return out;
}

status switch_table::adopt(const std::vector<kept_switch> &k,
                           const std::function<std::shared_ptr<region>(const std::string &)> &region_of,
                           const std::function<unique_fd(uint32_t)> &take_fd)
{
    std::set<std::string> regions_used;
    for (const kept_switch &ks : k) {
        auto name = parse_port_name(ks.name + ":p");
        if (!name || name->role != port_role::switch_port || name->base != ks.name ||
            switches_.count(ks.name))
            return error::from(errc::bad_message,
                               "kept switch '" + ks.name + "' is not a switch name, or named twice");
        if (ks.macs.size() > switch_fwd::mac_capacity)
            return error::from(errc::bad_message,
                               "kept switch " + ks.name + " has more learned addresses than a switch holds");
        auto journal = fwd_journal::adopt(take_fd(ks.journal_fd_id));
        if (!journal)
            return error::from(errc::bad_message, "kept switch " + ks.name + ": " + journal.err().describe());
        auto s = std::make_unique<vale_switch>(ks.name, ks.persistent, std::move(journal.value()));
        s->hold(); // started by resume(), once the whole state is adopted
        std::set<uint32_t> slots_used;
        for (const kept_switch_port &kp : ks.ports) {
            const std::string what = ks.name + ":" + kp.name;
            auto pn = parse_port_name(what);
            if (!pn || pn->role != port_role::switch_port || pn->base != ks.name || pn->port != kp.name ||
                s->find(kp.name))
                return refused(what, "not a switch port name, or named twice");
            if (kp.kind != "ephemeral" && kp.kind != "persistent")
                return refused(what, "kind '" + kp.kind + "' is not a client port's");
            std::shared_ptr<region> mem = region_of(what);
            if (!mem || !regions_used.insert(what).second)
                return refused(what, "its region was not kept, or another port uses it");
            auto p = std::make_unique<sw_port>();
            p->name = kp.name;
            p->kind = kp.kind;
            // The cursors: the journal's last commit when the port's slot still carries its tag (it
            // is newer than the record, which a crash may have left one save behind), else the
            // record's (a port made while the switch was held has no slot yet). Both are checked.
            kept_served_ring tx = kp.tx, rx = kp.rx;
            if (kp.journal_tag != 0) {
                if (kp.journal_slot >= fwd_journal::slots || !slots_used.insert(kp.journal_slot).second)
                    return refused(what, "its journal slot " + std::to_string(kp.journal_slot) +
                                             " is not in the journal, or another port's");
                if (s->journal().tag(kp.journal_slot) == kp.journal_tag) {
                    const journal_cursors c = s->journal().read(kp.journal_slot);
                    tx.hwcur = c.tx_hwcur;
                    tx.hwtail = c.tx_hwtail;
                    rx.hwcur = c.rx_hwcur;
                    rx.hwtail = c.rx_hwtail;
                    p->journal_slot = kp.journal_slot;
                    p->journal_tag = kp.journal_tag;
                }
            }
            // Each step checks before it records: the destructor gives back only what p records.
            if (auto ok = adopt_ring(tx, true, *mem, p->tx, take_fd, what); !ok)
                return ok;
            if (auto ok = adopt_ring(rx, false, *mem, p->rx, take_fd, what); !ok)
                return ok;
            const uint32_t num_buffers = mem->geometry().num_buffers;
            for (uint32_t b : kp.bufs)
                if (b < NR_RESERVED_BUFFERS || b >= num_buffers)
                    return refused(what, "buffer " + std::to_string(b) + " is not in the region");
            if (kp.bufs.size() < uint64_t{kp.tx.num_slots} + kp.rx.num_slots)
                return refused(what, "it holds fewer buffers than its rings have slots");
            for (const kept_switch_reg &r : kp.regs) {
                if (r.reg_id == 0 || r.if_bytes != nr_if_block_size(2) ||
                    !mem->holds_meta(r.if_off, r.if_bytes))
                    return refused(what, "the if block of registration " + std::to_string(r.reg_id) +
                                             " lies outside its place in the region");
                p->regs.push_back({r.reg_id, r.pid, r.if_off, r.if_bytes, r.extra_bufs, r.exclusive});
                mem->add_user(); // partner: drop_user in release_port
            }
            if (kp.kind == "ephemeral" && kp.regs.empty())
                return refused(what, "an ephemeral port with no registration");
            p->bufs = kp.bufs;
            restore(p->ep.counters, kp.counters);
            p->ep.served = true;
            p->ep.base = mem->base();
            p->ep.bufs = mem->base() + mem->geometry().buffers_offset;
            p->ep.lim = mem->limits();
            p->ep.tx = &p->tx;
            p->ep.rx = &p->rx;
            p->mem = std::move(mem);
            s->ports().push_back(std::move(p));
        }
        if (!ks.persistent && ks.ports.empty())
            return error::from(errc::bad_message,
                               "kept switch " + ks.name + " was made on the fly and has no port");
        std::vector<learned_mac> macs;
        for (const kept_mac &m : ks.macs) {
            // The switch learns unicast sources only: 48 bits, the group bit clear.
            if (m.port >= ks.ports.size() || (m.mac >> 48) != 0 || (m.mac & 1) != 0)
                return error::from(errc::bad_message,
                                   "kept switch " + ks.name +
                                       ": a learned address is not unicast on a port of it");
            macs.push_back({m.mac, static_cast<uint16_t>(m.port), m.age_s});
        }
        s->set_learned(macs);
        switches_.emplace(ks.name, std::move(s));
    }
    return ok_status();
}

result<attach_result> switch_table::answer_of(uint32_t reg_id, const port_name &name) const
{
    const sw_port *p = find_port(name);
    const auto r =
        p ? std::find_if(p->regs.begin(), p->regs.end(), [&](const auto &x) { return x.reg_id == reg_id; })
          : std::vector<sw_port::reg>::const_iterator();
    if (!p || r == p->regs.end())
        return error::from(errc::bad_message,
                           name.str() + " holds no registration " + std::to_string(reg_id));
    attach_result a;
    a.mem = p->mem.get();
    a.if_offset = r->if_off;
    a.port_kind = NR_PORT_KIND_DAEMON;
    a.tx_rings = a.rx_rings = 1;
    a.tx_slots = p->tx.num_slots;
    a.rx_slots = p->rx.num_slots;
    a.extra_bufs = r->extra_bufs;
    a.fds = {p->mem->fd(), p->tx.kick.get(), p->tx.notify.get(), p->rx.kick.get(), p->rx.notify.get()};
    return a;
}

} // namespace netring::netringd
