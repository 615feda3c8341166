// NUMA placement (libnuma): a NIC's region on the NIC's node, its worker on that node's CPUs.
//
//   int node = interface_node("eth0");          // -1: no device node (veth, TAP) or unknown
//   place_memory(base, bytes, node);            // before the pages are first touched
//   pin_to_node(node);                          // from the worker thread itself
//
// Placement only matters with more than one node; on a single-node machine (or with node -1) each
// call does nothing and says so in its result, so the same code path runs everywhere.
#pragma once

#include <netring/error.hpp>

#include <cstddef>
#include <string>

namespace netring::netringd {

enum class placement { done, single_node, no_node };

// /sys/class/net/IF/device/numa_node, or -1.
int interface_node(const std::string &ifname);
// Nodes libnuma sees (0 when libnuma is unavailable).
int numa_nodes();
// Binds [base, base + bytes) to `node` (mbind through numa_tonode_memory).
result<placement> place_memory(void *base, size_t bytes, int node);
// Restricts the calling thread to the CPUs of `node`.
result<placement> pin_to_node(int node);

} // namespace netring::netringd
