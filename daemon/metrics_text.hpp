// netringd's metrics in Prometheus's text exposition format, version 0.0.4 (docs/METRICS.md lists
// every family). A pure function of a snapshot, so the tests check names, labels and escaping
// without a daemon.
//
//   metrics_snapshot m{...};            // registry::snapshot(), switches().list(), the NICs' sysfs
//   std::string body = metrics_text(m); // HELP and TYPE once per family, then its samples
#pragma once

#include "ports/vale/switch_table.hpp"
#include "stats_snapshot.hpp"

#include <netring/netring.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace netring::netringd {

// An interface netringd has bound (a region "nic:IF" exists), as sysfs shows it now.
struct nic_snapshot {
    std::string interface;
    nic_details details;
};

struct metrics_snapshot {
    std::string version;       // netringd's
    double uptime_seconds = 0; // since the control server started
    uint32_t clients = 0;      // control connections
    stats_snapshot stats;
    std::vector<switch_info> switches;
    std::vector<nic_snapshot> nics;
};

std::string metrics_text(const metrics_snapshot &m);

// A label value as the format quotes it: backslash, double quote and newline escaped.
std::string escape_label_value(std::string_view v);

} // namespace netring::netringd
