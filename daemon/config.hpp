// netringd's configuration: region geometry, ring limits and the access policy rules.
//
//   config c = load_config("/etc/netring/netringd.conf");   // throws config_error
//   config d = parse_config(text, "test");                    // same, from a string
//
// One directive per line, `#` starts a comment. Errors name the line ("config line 7: unknown
// directive 'foo'"). Exceptions are used here only: the config is read once, at startup, and a
// bad file ends the daemon with exit code 2. Defaults hold when there is no file at all.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace netring::netringd {

class config_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Who a rule is about: anyone, one uid, or one gid (primary or supplementary).
struct subject {
    enum class kind : uint8_t { any, uid, gid };
    kind what = kind::any;
    uint32_t id = 0;

    std::string str() const; // "*", "uid=65534", "gid=100"
};

struct policy_rule {
    bool allow = false;
    subject who;
    std::string pattern; // fnmatch(3) over the canonical port name without flags
    unsigned line = 0;   // where it came from, for the reasons the policy gives
};

// What one uid may hold at once (uid 0 and admins are not limited). With the defaults a uid takes
// at most a quarter of max_regions, and of the connections, 64 of 4096.
struct quota_limits {
    uint32_t connections = 64;
    uint32_t registrations = 256;
    uint32_t regions = 16; // regions alive that this uid's names caused to be created
    // Buffers: every region the uid caused to be created counts all its buffers; a registration in
    // a region someone else created counts its rings' slots and its extra buffers.
    uint64_t buffers = 16 * 65536;
};

enum class quota_key : uint8_t { connections, registrations, regions, buffers };
const char *to_string(quota_key k); // "connections", ...

// `quota uid=N|gid=N KEY VALUE`: the limit of one key for that uid, or for each member of the gid.
struct quota_rule {
    subject who;
    quota_key key = quota_key::connections;
    uint64_t value = 0;
    unsigned line = 0;
};

// How NIC ports bind an interface: AF_XDP, AF_PACKET, or AF_XDP with AF_PACKET where XDP fails.
enum class nic_mode : uint8_t { auto_select, afxdp, afpacket };
const char *to_string(nic_mode m);

struct config {
    uint32_t buf_size = 2048;              // power of two, 512..65536
    uint32_t region_buffers = 65536;       // per region, the 2 reserved ones included
    uint64_t region_meta_bytes = 8u << 20; // if blocks, rings and sync blocks
    uint32_t default_slots = 1024;         // slots per ring when REGIF asks 0
    uint32_t max_slots = 16384;            // power of two
    uint32_t max_rings = 8;                // per direction per registration
    uint32_t max_extra_bufs = 4096;        // per registration
    uint32_t max_regs_per_client = 64;     // registrations one connection may hold
    uint32_t max_regions = 64;             // regions alive at once (each is a memfd and a mapping)
    bool hugepages = false;               // try MFD_HUGETLB for regions (guarded against SIGBUS: fault_guard)
    nic_mode nic = nic_mode::auto_select; // nic_mode auto|afxdp|afpacket
    uint32_t worker_spin = 2000;          // empty passes a NIC worker spins before it sleeps
    // A full switch port holds its senders back this long, then drops. Longer than a scheduler
    // time slice, so a receiver that is merely waiting for a CPU is not taken for one that stopped.
    uint32_t switch_stall_ms = 20;
    std::vector<policy_rule> rules;  // first match wins
    std::vector<subject> admins;     // may administer switches
    quota_limits uid_quota;          // uid_max_*: every uid's limits unless a quota rule says otherwise
    std::vector<quota_rule> quotas;  // first matching rule per key wins
    uint32_t max_connections = 4096; // all clients together (lowered at startup to fit the fd limit)
    uint32_t admin_connections = 32; // of those, kept for uid 0 and admins
    uint32_t idle_timeout_s = 30;    // a connection holding no registration that sends nothing
    uint32_t reattach_timeout_s = 30; // after a restart: how long an adopted registration waits for its owner
    // Who may reach the control socket at all: `socket_group NAME|GID` and `socket_mode 0660` set
    // the socket file's group and permission bits (connecting needs write permission). The
    // default, mode 0666 and the daemon's own group, leaves the decision to the policy alone.
    gid_t socket_gid = static_cast<gid_t>(-1); // -1: leave the group as bind() made it
    std::string socket_group;                  // as written, for messages
    mode_t socket_mode = 0666;
    // metrics_listen ADDRESS:PORT: Prometheus metrics over HTTP (metrics_http.hpp); empty: off.
    std::string metrics_address; // "127.0.0.1", "::1" (brackets removed)
    uint16_t metrics_port = 0;
    std::string origin = "defaults"; // the file the values came from
};

// A ring count this large would need more fds than one message may carry (1 + 4R <= 250).
inline constexpr uint32_t max_rings_limit = 62;

config parse_config(std::string_view text, std::string_view origin);
config load_config(const std::string &path);

// SIGHUP: what a configuration read again changes in a running daemon. The policy (allow, deny,
// admin), the quotas (uid_max_*, quota), idle_timeout_s and reattach_timeout_s take effect at once: they are read
// on each new request. Directives that shaped memory, threads or the socket at startup keep their
// running values until a restart; `kept` names those the new file changes.
struct reload_outcome {
    std::vector<std::string> kept;
};
reload_outcome apply_reload(config &running, const config &fresh);

} // namespace netring::netringd
