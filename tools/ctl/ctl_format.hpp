// netring-ctl's output: the daemon's statistics and a port's details as text tables or as one
// JSON object. Pure functions over the structs libnetring returns (netring.hpp).
#pragma once

#include <netring/netring.hpp>

#include <string>

namespace netring::ctl {

std::string stats_text(const daemon_stats &s);
std::string stats_json(const daemon_stats &s);

std::string port_info_text(std::string_view name, const port_details &d);
std::string port_info_json(std::string_view name, const port_details &d);

const char *ring_dir_name(uint16_t dir);     // "tx", "rx"
const char *ring_status_name(uint32_t st);   // "ok", "reset", "peer_gone", "unknown"
const char *port_kind_name(uint32_t kind);   // "pipe", "daemon", "unknown"

} // namespace netring::ctl
