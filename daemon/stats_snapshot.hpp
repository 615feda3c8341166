// What the registry holds and counts, as plain values: the one collection that STATS
// (stats_reply.cpp) and the Prometheus metrics (metrics_text.hpp) encode, each in its own format.
//
//   stats_snapshot s = reg.snapshot();   // control thread; copies, so it outlives the tables
#pragma once

#include "port.hpp"

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace netring::netringd {

// A region as STATS describes it: the public record (netring.hpp), filled by the daemon.
using region_snapshot = netring::region_stats;

struct registration_snapshot {
    std::string port_name; // canonical
    uint32_t reg_id = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    pid_t pid = 0;
    uint32_t tx_rings = 0, rx_rings = 0;
    std::vector<ring_counters> rings; // tx rings, then rx rings
};

struct stats_snapshot {
    std::vector<region_snapshot> regions;             // by name
    std::vector<registration_snapshot> registrations; // by reg_id
};

} // namespace netring::netringd
