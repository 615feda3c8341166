// netring-bridge's command line, parsed by a pure function into bridge_options.
//
//   auto parsed = parse_bridge_options({"-i", "netmap:eth0", "-i", "netmap:eth0^", "--json"});
//   if (!parsed.error.empty()) ... usage error (exit 2) ...
//
// docs/TOOLS.md explains every option; usage text in bridge_usage().
#pragma once

#include "tools/common/args.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace netring::bridge {

inline constexpr uint32_t default_batch = 1024;
inline constexpr uint32_t default_spin = 1000;

struct bridge_options {
    std::string port_a;
    std::string port_b;
    uint32_t batch = default_batch; // frames per direction per pass at most
    double wait_seconds = 0;        // pause between opening the ports and forwarding
    double seconds = 0;             // 0: run until SIGINT/SIGTERM
    uint32_t spin = default_spin;   // empty passes before sleeping in poll()
    bool json = false;
    std::string socket_path;
};

using bridge_parse = tools::parsed_options<bridge_options>;

// args excludes the program name.
bridge_parse parse_bridge_options(const std::vector<std::string> &args);
std::string bridge_usage();

} // namespace netring::bridge
