// netring-dump's command line, parsed by a pure function into dump_options.
//
//   auto parsed = parse_dump_options({"-i", "netmap:pipeA{1", "-w", "cap.pcapng", "udp", "port", "9"});
//   if (!parsed.error.empty()) ... usage error (exit 2) ...
//   parsed.opts.port == "netmap:pipeA{1/rt", parsed.opts.filter == "udp port 9"
//
// The port gets the monitor flags /rt when it names none; port::open checks the rest of the name.
// The filter is only joined here; libpcap compiles it (filter.hpp). docs/TOOLS.md explains every
// option; usage text in dump_usage().
#pragma once

#include "tools/common/args.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace netring::dump {

enum class file_format : uint8_t { pcapng, pcap };

// tcpdump's default: every Ethernet frame netring can carry fits whole.
inline constexpr uint32_t default_snaplen = 262144;
inline constexpr uint32_t default_slots = 8192;

struct dump_options {
    std::string port;    // a monitor name, with its monitor flags: "netmap:pipeA{1/rt"
    std::string watched; // the port it watches, without them: "netmap:pipeA{1"
    std::string output;  // -w: a path, "-" for stdout; empty: one line per frame on stdout
    file_format format = file_format::pcapng;
    uint64_t count = 0; // frames to write before stopping; 0: no limit
    uint32_t snaplen = default_snaplen;
    // Slots per monitor ring: the burst the monitor absorbs while the dump writes. 8192 frames are
    // 8 ms of a pipe at 1 Mpps, several times the 1 ms a pipe's monitor may wait to be looked at.
    uint32_t slots = default_slots;
    bool slots_given = false; // -B: a daemon that refuses that many is an error, not a fallback
    bool quiet = false; // no per-frame lines
    std::string filter; // the filter expression's words joined by spaces; empty: every frame
    std::string socket_path;
};

using dump_parse = tools::parsed_options<dump_options>;

// args excludes the program name.
dump_parse parse_dump_options(const std::vector<std::string> &args);
std::string dump_usage();

} // namespace netring::dump
