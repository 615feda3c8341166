// Port names, netmap's syntax (docs/PORT-NAMES.md has the grammar):
//   netmap:eth0        all NIC rings          netmap:eth0-2      NIC ring 2 only
//   netmap:eth0^       host-stack rings       netmap:eth0*       NIC and host rings
//   netmap:pipeA{1     pipe 1 of pipeA, one end   netmap:pipeA}1  the other end
//   vale0:p1           port p1 of switch vale0
// followed by optional flags after '/': x (exclusive), T (tx only), R (rx only), or the monitor
// flags r (a copy of what the port receives), t (of what it transmits), rt (both): "netmap:eth0/rt".
// Parsed by the client for early errors and again by the daemon, which trusts only its own parse.
#pragma once

#include <netring/error.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace netring {

enum class port_role : uint8_t {
    nic_all,     // netmap:IF
    nic_ring,    // netmap:IF-K
    host,        // netmap:IF^
    nic_host,    // netmap:IF*
    pipe_master, // netmap:NAME{ID
    pipe_slave,  // netmap:NAME}ID
    switch_port, // valeX:PORT
};

struct port_name {
    port_role role = port_role::nic_all;
    std::string base;    // interface, pipe parent, or switch name ("vale0")
    std::string port;    // switch port name, or pipe id
    uint32_t ring = 0;   // nic_ring: the ring number
    bool exclusive = false;
    bool tx_only = false;
    bool rx_only = false;
    bool monitor_rx = false; // "/r"
    bool monitor_tx = false; // "/t"

    bool is_monitor() const { return monitor_rx || monitor_tx; }
    // The port a monitor watches: this name without its monitor flags.
    port_name monitored() const;
    bool is_pipe() const { return role == port_role::pipe_master || role == port_role::pipe_slave; }
    // The name back in canonical form ("netmap:pipeA{1/x").
    std::string str() const;
    // The port without ring selection or flags: what two registrations share
    // ("netmap:pipeA{1" and "netmap:pipeA}1" both give "pipe:pipeA{1}").
    std::string port_key() const;
};

inline constexpr size_t max_ifname = 15;   // IFNAMSIZ - 1
inline constexpr size_t max_name_len = 63; // fits the protocol's 64-byte field

// Errors name the offending position: "bad port name 'netmap:eth0-x': ring number expected at 12".
result<port_name> parse_port_name(std::string_view text);

} // namespace netring
