// netring-ctl's output: the daemon's statistics and a port's details as text tables or as one
// JSON object. Pure functions over the structs libnetring returns (netring.hpp).
#pragma once

#include <netring/netring.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace netring::ctl {

std::string stats_text(const daemon_stats &s);
std::string stats_json(const daemon_stats &s);

// `stats`, when given, adds the monitors watching `name` (monitors_of).
std::string port_info_text(std::string_view name, const port_details &d, const daemon_stats *stats = nullptr);
std::string port_info_json(std::string_view name, const port_details &d, const daemon_stats *stats = nullptr);

// A monitor registration (netmap:P/r, /t, /rt) as the tools show it: what it copied and dropped,
// summed over its rings.
struct monitor_summary {
    size_t registration = 0; // index into daemon_stats::registrations
    std::string name;
    std::string watched; // the name without its flags
    uint32_t pid = 0;
    uint64_t copied = 0;
    uint64_t dropped = 0;
};

// Every monitor in `s`; with `port` non-empty, the monitors of that port only: the same name
// without flags, or for an interface (netmap:IF) any of its ring selections and host rings.
std::vector<monitor_summary> monitors_of(const daemon_stats &s, std::string_view port = {});

const char *ring_dir_name(uint16_t dir);     // "tx", "rx"
const char *ring_status_name(uint32_t st);   // "ok", "reset", "peer_gone", "unknown"
const char *port_kind_name(uint32_t kind);   // "pipe", "daemon", "unknown"

} // namespace netring::ctl
