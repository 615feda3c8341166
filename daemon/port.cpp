#include "port.hpp"
#include "ports/nic/nic_port.hpp"
#include "ports/pipe/pipe_port.hpp"
#include "ports/vale/vale_port.hpp"

namespace netring::netringd {

status port::configure(const port_name &name, const port_setting &)
{
    return error::from(errc::not_supported, name.str() + " is not a NIC port");
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
