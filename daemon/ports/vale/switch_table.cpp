#include "switch_table.hpp"

#include "port.hpp"
#include "vale_switch.hpp"

#include <rings/bits.hpp>
#include <rings/pipe_sync.hpp>
#include <rings/region_format.hpp>

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace netring::netringd {

namespace {

bool valid_switch_name(const std::string &sw)
{
    auto parsed = parse_port_name(sw + ":p");
    return parsed && parsed->role == port_role::switch_port && parsed->base == sw;
}

status reserve_ring(region &mem, served_ring &r, uint32_t slots, uint16_t dir, std::vector<uint32_t> &bufs,
                    const std::string &what)
{
    if (auto s = served_ring_reserve(mem, r, slots, what); !s)
        return s;
    const size_t first = bufs.size();
    if (!mem.pool().take(slots, bufs))
        return error::from(errc::out_of_buffers, what + ": region has " +
                                                     std::to_string(mem.pool().available()) +
                                                     " free buffers, a ring of " + std::to_string(slots) +
                                                     " slots needs as many; raise region_buffers");
    served_ring_format(mem, r, 0, dir, std::span<const uint32_t>(bufs).subspan(first), false);
    return ok_status();
}

} // namespace

switch_table::switch_table(const config &cfg, switch_env env) : cfg_(cfg), env_(std::move(env)) {}

switch_table::~switch_table() { clear(); }

void switch_table::clear()
{
    for (auto &[name, sw] : switches_) {
        sw->stop();
        for (const auto &p : sw->ports())
            if (p->nic_reg && p->kind == "nic")
                env_.unregister_nic(p->nic_reg);
    }
    switches_.clear();
}

vale_switch *switch_table::find(const std::string &sw) const
{
    auto it = switches_.find(sw);
    return it == switches_.end() ? nullptr : it->second.get();
}

status switch_table::create_switch(const std::string &sw)
{
    if (!valid_switch_name(sw))
        return error::from(errc::bad_port_name,
                           "'" + sw + "' is not a switch name (vale followed by letters/digits)");
    if (vale_switch *s = find(sw)) {
        if (s->persistent())
            return error::from(errc::already_exists, "switch " + sw + " already exists");
        s->make_persistent(); // made on the fly by a client: now it stays
        return ok_status();
    }
    auto made = vale_switch::make(sw, true);
    if (!made)
        return made.err();
    switches_.emplace(sw, std::move(made.value()));
    return ok_status();
}

status switch_table::destroy_switch(const std::string &sw)
{
    vale_switch *s = find(sw);
    if (!s)
        return no_switch(sw);
    if (!s->ports().empty())
        return error::from(errc::port_busy, "switch " + sw + " has " + std::to_string(s->ports().size()) +
                                                " port" + (s->ports().size() == 1 ? "" : "s") +
                                                "; delete or detach them first");
    switches_.erase(sw);
    return ok_status();
}

result<sw_port *> switch_table::make_client_port(vale_switch &s, const std::string &port,
                                                 const std::string &kind, uint32_t tx_slots,
                                                 uint32_t rx_slots)
{
    const std::string full = s.name() + ":" + port;
    const auto clients =
        std::count_if(s.ports().begin(), s.ports().end(), [](const auto &q) { return q->ep.served; });
    if (clients >= fwd_journal::slots)
        return error::from(errc::limit_exceeded, "switch " + s.name() + " has " + std::to_string(clients) +
                                                     " client ports, the most a switch takes");
    auto p = std::make_unique<sw_port>();
    p->name = port;
    p->kind = kind;
    auto mem = env_.open_region(full);
    if (!mem)
        return mem.err();
    p->mem = std::move(mem.value());
    if (auto st = reserve_ring(*p->mem, p->tx, tx_slots ? tx_slots : cfg_.default_slots, NR_RING_DIR_TX,
                               p->bufs, full);
        !st)
        return st.err();
    if (auto st = reserve_ring(*p->mem, p->rx, rx_slots ? rx_slots : cfg_.default_slots, NR_RING_DIR_RX,
                               p->bufs, full);
        !st)
        return st.err();
    p->ep.served = true;
    p->ep.base = p->mem->base();
    p->ep.bufs = p->mem->base() + p->mem->geometry().buffers_offset;
    p->ep.lim = p->mem->limits();
    p->ep.tx = &p->tx;
    p->ep.rx = &p->rx;
    s.stop();
    s.ports().push_back(std::move(p));
    s.start(fwd_settings_of(cfg_));
    return s.ports().back().get();
}

status switch_table::add_port(const std::string &sw, const std::string &port)
{
    vale_switch *s = find(sw);
    if (!s)
        return no_switch(sw);
    auto parsed = parse_port_name(sw + ":" + port);
    if (!parsed || parsed->port != port)
        return error::from(errc::bad_port_name, "'" + port + "' is not a switch port name");
    if (sw_port *p = s->find(port)) {
        if (p->kind == "persistent" || p->kind == "nic" || p->kind == "host")
            return error::from(errc::already_exists, "port " + sw + ":" + port + " already exists");
        p->kind = "persistent"; // an ephemeral port that a client holds: now it stays
        return ok_status();
    }
    auto made = make_client_port(*s, port, "persistent", 0, 0);
    return made ? ok_status() : status(made.err());
}

void switch_table::remove_port(vale_switch &s, sw_port *p)
{
    s.stop();
    auto &v = s.ports();
    v.erase(std::remove_if(v.begin(), v.end(), [&](const auto &q) { return q.get() == p; }), v.end());
    s.start(fwd_settings_of(cfg_));
    if (!s.persistent() && v.empty())
        switches_.erase(s.name());
    if (env_.prune_regions)
        env_.prune_regions();
}

status switch_table::delete_port(const std::string &sw, const std::string &port)
{
    vale_switch *s = find(sw);
    if (!s)
        return no_switch(sw);
    sw_port *p = s->find(port);
    if (!p)
        return error::from(errc::not_found, "switch " + sw + " has no port " + port);
    if (p->kind == "nic" || p->kind == "host")
        return error::from(errc::port_busy,
                           "port " + port + " is an attached interface; detach " + p->attachment);
    if (!p->regs.empty())
        return error::from(errc::port_busy, "port " + sw + ":" + port + " has " +
                                                std::to_string(p->regs.size()) + " registration" +
                                                (p->regs.size() == 1 ? "" : "s"));
    remove_port(*s, p);
    return ok_status();
}

std::vector<switch_info> switch_table::list() const
{
    std::vector<switch_info> out;
    for (const auto &[name, s] : switches_) {
        switch_info i;
        i.name = name;
        i.persistent = s->persistent();
        i.mac_entries = s->mac_entries();
        for (const auto &p : s->ports()) {
            const fwd_counters &c = p->ep.counters;
            switch_port_info pi;
            pi.name = p->name;
            pi.kind = p->kind;
            pi.clients = static_cast<uint32_t>(p->regs.size());
            pi.rx_packets = c.rx_packets.load(std::memory_order_relaxed);
            pi.rx_bytes = c.rx_bytes.load(std::memory_order_relaxed);
            pi.tx_packets = c.tx_packets.load(std::memory_order_relaxed);
            pi.tx_bytes = c.tx_bytes.load(std::memory_order_relaxed);
            pi.drops = c.drops.load(std::memory_order_relaxed);
            pi.flooded = c.flooded.load(std::memory_order_relaxed);
            i.ports.push_back(pi);
        }
        out.push_back(std::move(i));
    }
    return out;
}

} // namespace netring::netringd
