// The control protocol between libnetring and netringd, in one header.
//
// A Unix stream socket carries messages: a 16-byte header, then `length` bytes of payload. Every
// request type has one fixed-size payload struct; replies start with reply_status (error code and
// a sentence). Only STATS replies have a variable tail (records, bounded by max_reply_payload).
// File descriptors (region memfd, eventfds) ride on the REGIF reply with SCM_RIGHTS.
// Integers are host-endian: both ends run on one machine. Strings are NUL-terminated inside their
// fixed arrays; a string without a NUL is a malformed message.
//
// Session lifecycle (enforced by the daemon, see session_transition):
//   awaiting_hello --HELLO--> ready --(REGIF|UNREGIF|TXSYNC|RXSYNC|PORT_INFO|STATS|*_CTL|REATTACH|
//                                     RESTART)--> ready
//   awaiting_hello --anything else--> error reply "HELLO first", stays awaiting_hello
//   ready --HELLO--> error reply "HELLO twice", stays ready
//   any --malformed header (magic, version, length)--> closed (the stream cannot be re-synchronised)
#pragma once

#include <netring/error.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <variant>

namespace netring::proto {

inline constexpr uint32_t magic = 0x4d43524eu; // "NRCM"
inline constexpr uint16_t version = 5; // 2: STATS lists per-uid use (stats_uid); 3: netmap views, REG_QUERY;
                                       // 4: STATS ring occupancy (stats_ring grows to 72 bytes);
                                       // 5: re-attach tokens (regif_reply grows to 216), REATTACH, RESTART
inline constexpr uint16_t min_version = 1;
inline constexpr size_t max_request_payload = 256;
inline constexpr size_t max_reply_payload = 1u << 20;
inline constexpr size_t port_name_max = 64; // including the NUL
inline constexpr size_t message_text_max = 124;
inline constexpr uint32_t all_rings = 0xffffffffu;
inline constexpr size_t max_fds = 250; // SCM_MAX_FD is 253

enum class msg_type : uint16_t {
    hello = 1,
    hello_reply = 2,
    regif = 3,
    regif_reply = 4,
    unregif = 5,
    unregif_reply = 6,
    txsync = 7,
    rxsync = 8,
    sync_reply = 9,
    port_info = 10,
    port_info_reply = 11,
    stats = 12,
    stats_reply = 13,
    error_reply = 14, // sent when the request could not be decoded into a type
    nic_ctl = 15,     // admin: change an interface's state (promiscuous mode)
    nic_ctl_reply = 16,
    switch_ctl = 17,  // admin: switches, persistent ports, NIC attachments; list (anyone)
    switch_ctl_reply = 18,
    reg_query = 19, // version 3: this connection's registration again (answered with regif_reply)
    reattach = 21,  // version 5: take over a registration a previous netringd made (regif_reply)
    restart = 22,   // version 5, admin: replace netringd by a new process that adopts the state
    restart_reply = 23,
};

struct header {
    uint32_t magic;
    uint16_t version;
    uint16_t type;   // msg_type
    uint32_t length; // payload bytes after this header
    uint32_t seq;    // echoed in the reply
};
static_assert(sizeof(header) == 16);

struct reply_status {
    int32_t error; // netring::errc
    char message[message_text_max];
};
static_assert(sizeof(reply_status) == 128);

// ---- requests ----
struct hello {
    uint16_t min_version;
    uint16_t max_version;
    uint32_t reserved;
    char client_name[32];
};
static_assert(sizeof(hello) == 40);

// regif flags
inline constexpr uint32_t regif_exclusive = 1u << 0; // also set by the "/x" name suffix
inline constexpr uint32_t regif_tx_only = 1u << 1;   // "/T"
inline constexpr uint32_t regif_rx_only = 1u << 2;   // "/R"
// Version 3: also write a netmap view of the registration, an if block that lists every ring of the
// port as netmap's netmap_if does (offset 0 for the rings this registration did not bind), at
// regif_reply::netmap_if_offset. libnetring keeps using if_offset; the view is for netmap programs.
inline constexpr uint32_t regif_netmap_view = 1u << 3;
inline constexpr uint32_t regif_known_flags = (1u << 4) - 1;

struct regif {
    char port_name[port_name_max];
    uint32_t flags;      // regif_*
    uint32_t tx_rings;   // 0: the port's default
    uint32_t rx_rings;   // 0: the port's default
    uint32_t tx_slots;   // 0: default; otherwise a power of two within the configured limit
    uint32_t rx_slots;   // 0: default
    uint32_t extra_bufs; // extra buffers linked from ni_bufs_head, returned on close
    uint32_t reserved[2];
};
static_assert(sizeof(regif) == 96);

struct unregif {
    uint32_t reg_id;
    uint32_t reserved;
};
static_assert(sizeof(unregif) == 8);

struct sync_request { // TXSYNC and RXSYNC
    uint32_t reg_id;
    uint32_t ring; // index among the registration's tx (or rx) rings, or all_rings
};
static_assert(sizeof(sync_request) == 8);

// REG_QUERY: a process that received a connection's socket (SCM_RIGHTS, fork) asks for the
// registration made on it, with its fds, to map and sync it.
struct reg_query {
    uint32_t reg_id; // 0: the connection's only registration
    uint32_t reserved;
};
static_assert(sizeof(reg_query) == 8);

// REATTACH (version 5): after the daemon was replaced (netringd restarted, upgraded or crashed and
// adopted its state), a client names a registration it made before and proves it with the token
// REGIF gave it. The daemon answers as REG_QUERY does, with the same region and eventfds, when the
// registration waits for its owner (no session holds it), the token matches and the caller's uid
// is the one that registered it.
inline constexpr size_t token_bytes = 16;
struct reattach {
    uint32_t reg_id;
    uint32_t reserved;
    uint8_t token[token_bytes];
};
static_assert(sizeof(reattach) == 24);

// RESTART (version 5, admin): the daemon stops its workers, hands its state and every kept fd to a
// new process of its executable, and that process carries on. The reply comes before the handoff.
struct restart {
    uint32_t flags; // reserved, 0
    uint32_t reserved;
};
static_assert(sizeof(restart) == 8);

struct port_info {
    char port_name[port_name_max];
};
static_assert(sizeof(port_info) == 64);

struct stats {
    uint32_t flags; // reserved, 0
    uint32_t reserved;
};
static_assert(sizeof(stats) == 8);

enum class nic_op : uint32_t { promisc = 1 };

struct nic_ctl {
    char port_name[port_name_max]; // a NIC port name: netmap:IF or netmap:IF-K
    uint32_t op;                   // nic_op
    uint32_t value;                // promisc: 1 on, 0 off
};
static_assert(sizeof(nic_ctl) == 72);

// ---- replies ----
struct hello_reply {
    reply_status status;
    uint16_t version; // the version this session speaks
    uint16_t reserved;
    uint32_t uid; // the credentials the daemon saw (SO_PEERCRED)
    uint32_t gid;
    uint32_t pid;
    char daemon_version[32];
};
static_assert(sizeof(hello_reply) == 176);

struct regif_reply {
    reply_status status;
    uint64_t region_size; // bytes to mmap from the region fd
    uint64_t if_offset;   // the nr_if block of this registration
    uint32_t reg_id;
    uint32_t port_kind; // NR_PORT_KIND_*
    uint32_t tx_rings;
    uint32_t rx_rings;
    uint32_t tx_slots;
    uint32_t rx_slots;
    uint32_t buf_size;
    uint32_t extra_bufs; // how many were linked from ni_bufs_head
    uint32_t num_fds;    // 1 + 2 per ring: region, then (kick, notify) for tx rings then rx rings
    uint32_t reserved;
    // Version 3 (sessions of version 1 and 2 get the 184 bytes above):
    uint64_t netmap_if_offset; // the netmap view (regif_netmap_view), else 0
    uint32_t mem_id;           // the region's id, the same for every registration that maps it
    uint32_t reserved2;
    // Version 5 (sessions of version 3 and 4 get the 200 bytes above): what REATTACH must present
    // to take this registration over after a daemon restart. Only the registering uid may.
    uint8_t token[token_bytes];
};
static_assert(sizeof(regif_reply) == 216);
inline constexpr size_t regif_reply_v2_size = 184;
inline constexpr size_t regif_reply_v4_size = 200;

struct unregif_reply {
    reply_status status;
};

enum class switch_op : uint32_t {
    create = 1,      // switch_name
    destroy = 2,     // switch_name
    add_port = 3,    // switch_name, arg = port name (persistent port)
    delete_port = 4, // switch_name, arg = port name
    attach = 5,      // switch_name, arg = netmap:IF or netmap:IF*
    detach = 6,      // switch_name, arg = as attached
    list = 7,        // switch_name empty: every switch
    may_administer = 8, // version 3: ok for an admin, access_denied for others; changes nothing
};

struct switch_ctl {
    uint32_t op; // switch_op
    uint32_t reserved;
    char switch_name[port_name_max];
    char arg[port_name_max];
};
static_assert(sizeof(switch_ctl) == 136);

// SWITCH_CTL reply: switch_ctl_reply, then n_switches switch_record, then n_ports
// switch_port_record (each names its switch by index in the first array). Only `list` has records.
struct switch_ctl_reply {
    reply_status status;
    uint32_t n_switches;
    uint32_t n_ports;
};
static_assert(sizeof(switch_ctl_reply) == 136);

struct switch_record {
    char name[port_name_max];
    uint32_t persistent;
    uint32_t mac_entries;
    uint32_t n_ports;
    uint32_t reserved;
};
static_assert(sizeof(switch_record) == 80);

struct switch_port_record {
    char name[port_name_max];
    char kind[16]; // "ephemeral", "persistent", "nic", "host"
    uint32_t switch_index;
    uint32_t clients;
    uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes, drops;
};
static_assert(sizeof(switch_port_record) == 128);

struct nic_ctl_reply {
    reply_status status;
};

struct restart_reply {
    reply_status status;
};

struct sync_reply {
    reply_status status;
    uint32_t tail; // the ring's new tail (single ring), else 0
    uint32_t reserved;
};
static_assert(sizeof(sync_reply) == 136);

// What PORT_INFO tells about the interface behind a NIC port, read when the request is served.
struct nic_info {
    uint32_t present;    // 1 for NIC and host ports
    uint32_t link_up;    // operstate "up"
    uint32_t speed_mbps; // 0 when the driver does not say (veth, TAP)
    uint32_t mtu;
    uint32_t hw_queues;  // rx queues an XSK can bind to
    uint32_t ring_slots; // slots per NIC ring (0 before the first bind: default_slots applies)
    int32_t numa_node;   // -1: none or unknown
    uint32_t promisc;    // IFF_PROMISC set
    uint8_t mac[6];
    uint8_t pad[2];
    char mode[12];       // "afxdp", "afpacket", or "" while nothing is bound
    char xdp_mode[8];    // "native", "skb", or ""
    // The kernel's counters for the interface (/sys/class/net/IF/statistics).
    uint64_t rx_packets, tx_packets, rx_bytes, tx_bytes, rx_dropped, tx_dropped;
    uint64_t copies; // frames netringd copied in user space for this interface, every queue
};
static_assert(sizeof(nic_info) == 120);

struct port_info_reply {
    reply_status status;
    uint32_t port_kind;
    uint32_t tx_rings;
    uint32_t rx_rings;
    uint32_t tx_slots;
    uint32_t rx_slots;
    uint32_t buf_size;
    uint32_t clients;   // registrations currently open on the port
    uint32_t exclusive; // 1 when held with /x
    char region_name[port_name_max];
    nic_info nic;       // NIC ports only (nic.present == 1)
};
static_assert(sizeof(port_info_reply) == 344);


// STATS reply: stats_reply, then n_regions stats_region, n_regs stats_registration,
// n_rings stats_ring (each ring names its registration by index in that array).
struct stats_reply {
    reply_status status;
    uint32_t version;
    uint32_t n_regions;
    uint32_t n_regs;
    uint32_t n_rings;
    uint32_t n_clients;
    uint32_t n_uids; // version 2 sessions; 0 for version 1
    uint64_t uptime_ms;
};
static_assert(sizeof(stats_reply) == 160);

struct stats_region {
    char name[port_name_max];
    uint64_t size;
    uint32_t buf_size;
    uint32_t buffers_total; // allocatable buffers (reserved ones excluded)
    uint32_t buffers_free;
    uint32_t users;           // registrations mapping it
    uint32_t hugepages;       // 1: hugetlb memory, guarded against holes a client punches
    uint32_t hugepage_faults; // huge pages of the daemon's view replaced after such a hole
};
static_assert(sizeof(stats_region) == 96);

struct stats_registration {
    char port_name[port_name_max];
    uint32_t reg_id;
    uint32_t uid;
    uint32_t gid;
    uint32_t pid;
    uint32_t tx_rings;
    uint32_t rx_rings;
};
static_assert(sizeof(stats_registration) == 88);

// What one uid holds against its quota (after the rings). Limits are not applied when unlimited.
struct stats_uid {
    uint32_t uid;
    uint32_t unlimited; // 1: uid 0 or an admin
    uint32_t connections;
    uint32_t registrations;
    uint32_t regions;
    uint32_t reserved;
    uint64_t buffers;
    uint32_t max_connections;
    uint32_t max_registrations;
    uint32_t max_regions;
    uint32_t reserved2;
    uint64_t max_buffers;
};
static_assert(sizeof(stats_uid) == 56);

struct stats_ring {
    uint32_t registration; // index into the stats_registration array
    uint16_t dir;          // NR_RING_DIR_*
    uint16_t ringid;
    uint32_t num_slots;
    uint32_t status; // NR_SYNC_*
    uint64_t packets;
    uint64_t bytes;
    uint64_t drops;
    uint64_t kicks;
    uint64_t errors;
    uint64_t copies; // frames the daemon copied in user space for this ring (AF_XDP: 0)
    // Version 4 (sessions of versions 1 to 3 get the 64 bytes above):
    uint32_t occupied; // slots in use when the reply was built
    uint32_t reserved;
};
static_assert(sizeof(stats_ring) == 72);
static_assert(offsetof(stats_ring, occupied) == 64);
inline constexpr size_t stats_ring_v3_size = 64;
// The size of a ring record in a STATS reply of protocol version v.
inline constexpr size_t stats_ring_size(uint16_t v) { return v >= 4 ? sizeof(stats_ring) : stats_ring_v3_size; }

// ---- codec ----
using request =
    std::variant<hello, regif, unregif, sync_request /*tx*/, port_info, stats, nic_ctl, switch_ctl, reg_query,
                 reattach, restart>;

struct decoded_request {
    msg_type type;
    uint32_t seq;
    request body; // for txsync and rxsync both, a sync_request; `type` tells which
};

// Validates a header: magic, version in [min_version, version], length bounds.
// On error the stream cannot be trusted any more and the connection should close.
status check_request_header(const header &h);

// Decodes a request payload for a header that passed check_request_header. Checks the exact size
// for the type and that every string is NUL-terminated. Never reads outside `payload`.
result<decoded_request> decode_request(const header &h, std::span<const std::byte> payload);

// Fills a header for a message of `type` with `length` payload bytes.
header make_header(msg_type type, uint32_t length, uint32_t seq);

// Copies `text` into the fixed array, truncating, always NUL-terminating.
void set_text(char *dst, size_t cap, std::string_view text);
void set_status(reply_status &st, const error &e);
void set_ok(reply_status &st);

// The string in a fixed array, if it is NUL-terminated inside it.
std::optional<std::string_view> fixed_string(const char *src, size_t cap);

// Session states and the transition table (see the top of this file).
enum class session_state : uint8_t { awaiting_hello, ready, closed };
struct transition {
    session_state next;
    errc refusal; // errc::ok when the message is allowed in this state
};
transition session_transition(session_state s, msg_type t);

} // namespace netring::proto
