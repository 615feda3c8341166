// The interface as the kernel shows it: sysfs reads (queues, MAC, MTU, link, counters) and the one
// flag netringd changes on it (IFF_PROMISC, by ioctl). No state: every call reads afresh.
#pragma once

#include <netring/error.hpp>
#include <netring/netring.hpp>

#include <cstdint>
#include <string>

namespace netring::netringd {

// What a NIC port needs to know before binding: read once when its first queue is bound.
struct interface_facts {
    uint32_t hw_queues = 1; // rx-N queues in sysfs: what an XSK can bind to
    uint8_t mac[6] = {};
    uint32_t mtu = 1500;
};

// bad_port_name when there is no such interface in netringd's network namespace.
result<interface_facts> probe_interface(const std::string &ifname);

// The interface now: link, speed, MTU, flags, queues, NUMA node, counters. Leaves `d` untouched
// (present = false) when there is no such interface.
void describe_interface(const std::string &ifname, nic_details &d);

// Sets or clears IFF_PROMISC.
status set_promiscuous(const std::string &ifname, bool on);

} // namespace netring::netringd
