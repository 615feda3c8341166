// Client registrations of switch ports: acquire/release (creating an ephemeral port, and its switch,
// on the fly), their socket-path syncs, STATS rings and PORT_INFO.
#include "switch_table.hpp"

#include "monitor_rings.hpp"
#include "port.hpp"
#include "vale_switch.hpp"

#include <rings/region_format.hpp>

#include <algorithm>
#include <cstring>

namespace netring::netringd {

sw_port *switch_table::find_port(const port_name &name) const
{
    vale_switch *s = find(name.base);
    return s ? s->find(name.port) : nullptr;
}

result<std::shared_ptr<region>> switch_table::monitor_region(const port_name &name) const
{
    const sw_port *p = find_port(name);
    const std::string watched = name.monitored().str();
    if (!p)
        return error::from(errc::not_found, "cannot monitor " + watched + ": the switch port does not exist");
    if (p->kind == "nic" || p->kind == "host")
        return error::from(errc::not_supported, "cannot monitor " + watched + ": it is the attached interface " +
                                                    p->attachment + "; monitor that instead");
    return p->mem;
}

void switch_table::set_monitors(const port_name &name, std::vector<const served_ring *> tx,
                                std::vector<const served_ring *> rx)
{
    vale_switch *s = find(name.base);
    sw_port *p = s ? s->find(name.port) : nullptr;
    if (!p)
        return;
    s->stop(); // the forwarding thread reads these lists
    p->ep.tx_mon = std::move(tx);
    p->ep.rx_mon = std::move(rx);
    p->ep.mon = monitor_env_of(*p->mem);
    s->start(fwd_settings_of(cfg_));
}

result<attach_result> switch_table::acquire_port(uint32_t reg_id, pid_t pid, const port_name &name,
                                                 const ring_request &req)
{
    if (req.tx_only || req.rx_only)
        return error::from(errc::not_supported,
                           "switch ports open both directions: /T and /R are not supported (" + name.str() +
                               ")");
    if (req.extra_bufs > cfg_.max_extra_bufs)
        return error::from(errc::limit_exceeded, "extra_bufs " + std::to_string(req.extra_bufs) +
                                                     " exceeds max_extra_bufs " +
                                                     std::to_string(cfg_.max_extra_bufs));
    for (const uint32_t slots : {req.tx_slots, req.rx_slots})
        if (slots != 0 && (slots > cfg_.max_slots || slots < 2 || (slots & (slots - 1)) != 0))
            return error::from(errc::limit_exceeded, "slots " + std::to_string(slots) +
                                                         " must be a power of two in 2.." +
                                                         std::to_string(cfg_.max_slots));
    const bool exclusive = req.exclusive;

    bool made_switch = false;
    vale_switch *s = find(name.base);
    if (!s) {
        auto made = vale_switch::make(name.base, false);
        if (!made)
            return made.err();
        s = switches_.emplace(name.base, std::move(made.value())).first->second.get();
        made_switch = true;
    }
    sw_port *p = s->find(name.port);
    if (p && (p->kind == "nic" || p->kind == "host"))
        return error::from(errc::port_busy, name.str() + " is an attached interface (" + p->attachment +
                                                "), not a port clients can register");
    if (p && !p->regs.empty() &&
        (exclusive || std::any_of(p->regs.begin(), p->regs.end(), [](auto &r) { return r.exclusive; })))
        return error::from(errc::port_busy, name.str() + " is already open" +
                                                (exclusive ? "" : " exclusively") + " (pid " +
                                                std::to_string(p->regs.front().pid) + ")");
    if (!p) {
        auto made = make_client_port(*s, name.port, "ephemeral", req.tx_slots, req.rx_slots);
        if (!made) {
            if (made_switch)
                switches_.erase(name.base);
            return made.err();
        }
        p = made.value();
    }

    // The registration's if block and extra buffers.
    region &mem = *p->mem;
    sw_port::reg r;
    r.reg_id = reg_id;
    r.pid = pid;
    r.exclusive = exclusive;
    r.extra_bufs = req.extra_bufs;
    r.if_bytes = nr_if_block_size(2);
    const auto off = mem.meta().reserve(r.if_bytes);
    auto undo = [&](error e) -> result<attach_result> {
        if (p->regs.empty() && p->kind == "ephemeral")
            remove_port(*s, p);
        return e;
    };
    if (!off)
        return undo(error::from(errc::out_of_buffers,
                                "region " + name.base + ":" + name.port + " metadata area is full"));
    r.if_off = *off;
    uint32_t bufs_head = 0;
    if (req.extra_bufs) {
        const size_t first = p->bufs.size();
        if (!mem.pool().take(req.extra_bufs, p->bufs)) {
            mem.meta().release(r.if_off, r.if_bytes);
            return undo(error::from(errc::out_of_buffers, "region " + name.base + ":" + name.port + " has " +
                                                              std::to_string(mem.pool().available()) +
                                                              " free buffers; raise region_buffers"));
        }
        bufs_head = rings::link_buffers(mem.base(), mem.geometry(),
                                        std::span<const uint32_t>(p->bufs).subspan(first));
    }
    const rings::if_ring_entry entries[] = {{p->tx.ring_off, p->tx.sync_off, 0, 0},
                                            {p->rx.ring_off, p->rx.sync_off, 0, 0}};
    rings::init_if(mem.base(), r.if_off, name.base + ":" + name.port, 1, 1, NR_PORT_KIND_DAEMON, entries,
                   bufs_head);
    p->regs.push_back(r);
    mem.add_user();

    attach_result a;
    a.mem = p->mem.get();
    a.if_offset = r.if_off;
    a.port_kind = NR_PORT_KIND_DAEMON;
    a.tx_rings = a.rx_rings = 1;
    a.tx_slots = p->tx.num_slots;
    a.rx_slots = p->rx.num_slots;
    a.extra_bufs = req.extra_bufs;
    a.fds = {mem.fd(), p->tx.kick.get(), p->tx.notify.get(), p->rx.kick.get(), p->rx.notify.get()};
    return a;
}

void switch_table::release_port(uint32_t reg_id, const port_name &name)
{
    vale_switch *s = find(name.base);
    sw_port *p = s ? s->find(name.port) : nullptr;
    if (!p)
        return;
    auto it = std::find_if(p->regs.begin(), p->regs.end(), [&](const auto &r) { return r.reg_id == reg_id; });
    if (it == p->regs.end())
        return;
    p->mem->meta().release(it->if_off, it->if_bytes);
    p->mem->drop_user();
    p->regs.erase(it);
    if (p->regs.empty() && p->kind == "ephemeral")
        remove_port(*s, p); // also removes a switch made on the fly that has no port left
}

void switch_table::collect_stats(uint32_t reg_id, const port_name &name,
                                 std::vector<ring_counters> &out) const
{
    const sw_port *p = find_port(name);
    if (!p || std::none_of(p->regs.begin(), p->regs.end(), [&](const auto &r) { return r.reg_id == reg_id; }))
        return;
    for (const served_ring *r : {&p->tx, &p->rx}) {
        const auto *sync = reinterpret_cast<const nr_sync *>(p->mem->base() + r->sync_off);
        ring_counters s = counters_of(*sync, r->num_slots, r == &p->tx ? NR_RING_DIR_TX : NR_RING_DIR_RX, 0);
        const fwd_counters &c = p->ep.counters;
        // tx ring: what the switch took from the client; rx ring: what it delivered, and dropped.
        s.packets = (r == &p->tx ? c.rx_packets : c.tx_packets).load(std::memory_order_relaxed);
        s.bytes = (r == &p->tx ? c.rx_bytes : c.tx_bytes).load(std::memory_order_relaxed);
        s.drops = r == &p->rx ? c.drops.load(std::memory_order_relaxed) : 0;
        s.copies = s.packets; // every frame through a switch is copied once, into its destination
        out.push_back(s);
    }
}

port_details switch_table::port_info(const port_name &name) const
{
    port_details d;
    d.port_kind = NR_PORT_KIND_DAEMON;
    d.region_name = name.base + ":" + name.port;
    d.buf_size = cfg_.buf_size;
    d.tx_rings = d.rx_rings = 1;
    d.tx_slots = d.rx_slots = cfg_.default_slots;
    if (const sw_port *p = find_port(name)) {
        d.tx_slots = p->tx.num_slots ? p->tx.num_slots : d.tx_slots;
        d.rx_slots = p->rx.num_slots ? p->rx.num_slots : d.rx_slots;
        d.clients = static_cast<uint32_t>(p->regs.size());
        d.exclusive = std::any_of(p->regs.begin(), p->regs.end(), [](auto &r) { return r.exclusive; });
    }
    return d;
}

sync_result switch_table::socket_sync(uint32_t reg_id, const port_name &name, uint32_t ring, bool tx)
{
    sw_port *p = find_port(name);
    if (!p || std::none_of(p->regs.begin(), p->regs.end(), [&](const auto &r) { return r.reg_id == reg_id; }))
        return {errc::not_registered, "registration " + std::to_string(reg_id) + " is not on " + name.str(),
                0};
    if (ring != all_rings && ring != 0)
        return {errc::bad_ring,
                name.str() + " has one " + (tx ? "tx" : "rx") + " ring; ring " + std::to_string(ring) +
                    " does not exist",
                0};
    served_ring &r = tx ? p->tx : p->rx;
    const rings::ring_ref rr = ring_ref_of(p->mem->base(), r);
    const rings::buffer_limits lim = p->mem->limits();
    sync_result res;
    if (const rings::sync_outcome o = served_socket_sync(rr, r, lim, tx); !o.ok()) {
        served_socket_reset(rr, lim);
        p->ep.counters.errors.fetch_add(1, std::memory_order_relaxed);
        const std::string label = name.str() + (tx ? " tx" : " rx") + " ring";
        res.code = rings::fault_errc(o.fault);
        res.message = rings::describe(o, label.c_str());
    }
    res.tail = rings::load_acquire(rr.sync->kern.hwtail);
    if (res.tail < r.num_slots)
        rings::store_relaxed(rr.ring->tail, res.tail);
    return res;
}

} // namespace netring::netringd
