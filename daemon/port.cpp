#include "port.hpp"
#include "ports/nic/nic_port.hpp"
#include "ports/pipe/pipe_port.hpp"
#include "ports/vale/vale_port.hpp"

#include <rings/ring_ops.hpp>

namespace netring::netringd {

status port::configure(const port_name &name, const port_setting &)
{
    return error::from(errc::not_supported, name.str() + " is not a NIC port");
}

ring_counters counters_of(const nr_sync &sync, uint32_t num_slots, uint16_t dir, uint16_t ringid)
{
    auto &k = const_cast<nr_sync &>(sync); // read through atomic_ref: never written here
    ring_counters s;
    s.dir = dir;
    s.ringid = ringid;
    s.num_slots = num_slots;
    s.status = rings::load_relaxed(k.flags.status);
    s.packets = rings::load_relaxed(k.kern.packets);
    s.bytes = rings::load_relaxed(k.kern.bytes);
    s.drops = rings::load_relaxed(k.kern.drops);
    s.kicks = rings::load_relaxed(k.kern.kicks);
    s.errors = rings::load_relaxed(k.kern.errors);
    s.occupied = rings::ring_occupied(k, dir == NR_RING_DIR_RX, num_slots);
    return s;
}

result<attach_result> port::attach_monitor(const reg_context &, const port_name &name, uint32_t)
{
    return error::from(errc::not_supported, name.monitored().str() + " cannot be monitored");
}

result<std::unique_ptr<port>> create_port(const port_name &name, const config &cfg, switch_table *switches)
{
    switch (name.role) {
    case port_role::pipe_master:
    case port_role::pipe_slave: return std::unique_ptr<port>(std::make_unique<pipe_port>(name, cfg));
    case port_role::nic_all:
    case port_role::nic_ring:
    case port_role::host:
    case port_role::nic_host: return std::unique_ptr<port>(std::make_unique<nic_port>(name, cfg));
    case port_role::switch_port:
        if (switches == nullptr)
            return error::from(errc::not_supported,
                               "switch ports need the daemon's switch table: " + name.str());
        return std::unique_ptr<port>(std::make_unique<vale_port>(name, *switches));
    }
    return error::from(errc::not_supported, "unknown port kind: " + name.str());
}

} // namespace netring::netringd
