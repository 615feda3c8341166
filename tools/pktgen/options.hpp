// netring-pktgen's command line, parsed into pktgen_options by a pure function (tested without a
// daemon). Usage text in usage_text(); docs/TOOLS.md explains every option.
#pragma once

#include "frame.hpp"

#include "tools/common/args.hpp"

#include <netring/netring.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace netring::pktgen {

enum class run_mode : uint8_t { tx, rx, ping, pong };
enum class wait_kind : uint8_t { poll, busy };

inline constexpr uint32_t default_batch = 512;
inline constexpr uint64_t default_ping_count = 100000;

struct pktgen_options {
    std::string port;
    run_mode mode = run_mode::rx;
    uint32_t len = default_frame_len;
    uint64_t count = 0; // 0: no limit
    uint32_t batch = default_batch;
    double seconds = 0; // 0: no limit
    uint64_t rate = 0;  // packets per second, 0: as fast as possible
    mac_addr src = default_src_mac;
    mac_addr dst = broadcast_mac;
    sync_mode sync = sync_mode::shm;
    wait_kind wait = wait_kind::poll;
    payload_kind payload = payload_kind::full;
    uint32_t slots = 0; // 0: the daemon's default
    int64_t spin = -1;  // --wait poll: empty checks before sleeping; -1: the library's default
    uint32_t gaps_ms = 0; // rx: report every stretch of at least this long with no frame; 0: none
    bool json = false;
    std::string socket_path;
};

// help: print usage_text() and exit 0; error: a usage error, exit 2.
using parse_outcome = tools::parsed_options<pktgen_options>;

// args excludes the program name.
parse_outcome parse_options(const std::vector<std::string> &args);
std::string usage_text();

const char *mode_name(run_mode m);
const char *sync_name(sync_mode s);
const char *wait_name(wait_kind w);

} // namespace netring::pktgen
