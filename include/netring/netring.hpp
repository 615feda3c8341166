// libnetring, the C++ API an application links.
//
//   auto p = netring::port::open("netmap:pipeA{1");          // regif: region + rings mapped
//   if (!p) { puts(p.err().describe().c_str()); return 1; }
//   nr_ring *tx = p->tx_ring(0);
//   ... fill slots [tx->head, tx->tail), advance head and cur ...
//   p->txsync();                                              // publish; no syscall on the fast path
//   p->wait(netring::wait_rx, -1);                            // spin briefly, then sleep in poll()
//
// Rings, slots and buffers are the netmap ones (layout.h): nr_txring/nr_rxring/nr_buf work on
// p->nifp() as NETMAP_TXRING/NETMAP_RXRING/NETMAP_BUF do. One port is one connection to netringd;
// closing the port (or the process dying) unregisters it and returns its buffers.
// The socket path comes from open_options, else $NETRING_SOCKET, else default_socket_path.
// When netringd goes away (restarted, upgraded, crashed), a port keeps its rings and mapping: pipes
// keep moving frames, and the port reconnects and re-attaches its registration on its own
// (open_options::survive_restart; docs/RESTART.md). control_events() tells what happened.
// Not thread-safe: use a port from one thread at a time (several ports in several threads is fine).
#pragma once

#include <netring/error.hpp>
#include <netring/layout.h>
#include <netring/unique_fd.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace netring {

inline constexpr const char *default_socket_path = "/run/netring/netringd.sock";

enum class sync_mode : uint8_t {
    shm,    // the fast path: shared-memory sync blocks, eventfd only to wake a sleeper
    socket, // every txsync/rxsync is a TXSYNC/RXSYNC round trip to the daemon
};

// A monitor ("netmap:PORT/r", "/t", "/rt") has rx rings only: tx_rings and tx_slots are not sent
// for it, and rx_slots sizes its rings.
struct open_options {
    uint32_t tx_rings = 0; // 0: the port's default
    uint32_t rx_rings = 0;
    uint32_t tx_slots = 0; // 0: the daemon's default; else a power of two
    uint32_t rx_slots = 0;
    uint32_t extra_bufs = 0;
    uint32_t flags = 0; // proto::regif_* (name suffixes set them too)
    sync_mode sync = sync_mode::shm;
    uint32_t spin_before_sleep = 1000; // empty checks wait() makes before arming and sleeping
    std::string socket_path;           // empty: $NETRING_SOCKET or default_socket_path
    bool netmap_view = false; // also get netmap's view of the rings (port::netmap_if)
    // When the control connection breaks, carry on with the shared memory and re-attach to the next
    // netringd (REATTACH, with backoff). false: wait() and the syncs that need the daemon return
    // daemon_gone as soon as the connection breaks.
    bool survive_restart = true;
};

// Which ring of the watched port a monitor's rx ring copies (port::monitor_source).
struct monitor_source {
    bool tx = false;   // frames the port transmits; else frames it receives
    bool host = false; // the NIC's host rings
    uint32_t ring = 0; // among the watched port's rings of that direction (and kind)
};

inline constexpr unsigned wait_rx = 1; // an rx ring has packets
inline constexpr unsigned wait_tx = 2; // a tx ring has free slots

// port::control_events() bits. The connection can break and come back several times before the
// application looks: the bits accumulate until read.
inline constexpr unsigned control_lost = 1;      // the connection to netringd broke
inline constexpr unsigned control_back = 2;      // a new netringd took the registration back
inline constexpr unsigned registration_lost = 4; // it did not (or could not): no more retries

// Resolves the socket path as open() does.
std::string resolve_socket_path(const std::string &explicit_path);

// A control connection to netringd (connected, protocol version agreed) for port::open_on.
result<unique_fd> connect_control(const std::string &socket_path = {});

class port {
public:
    static result<port> open(std::string_view name, const open_options &opts = {});
    // The same on a connection from connect_control(); the port owns it from then on, and the
    // registration lasts as long as the connection's socket is open in any process.
    static result<port> open_on(unique_fd control, std::string_view name, const open_options &opts = {});
    // Takes over the registration made on `control` by another process that handed the socket over
    // (SCM_RIGHTS, fork): maps its region and rings again, through REG_QUERY.
    static result<port> adopt(unique_fd control, const open_options &opts = {});

    port(port &&) noexcept;
    port &operator=(port &&) noexcept;
    ~port();

    nr_if *nifp() const;
    uint32_t tx_rings() const;
    uint32_t rx_rings() const;
    nr_ring *tx_ring(uint32_t i) const;
    nr_ring *rx_ring(uint32_t i) const;
    char *buffer(uint32_t buf_idx) const; // base of buffer buf_idx
    uint32_t buf_size() const;
    uint32_t extra_bufs() const; // linked from nifp()->ni_bufs_head
    const std::string &name() const;
    sync_mode mode() const;

    // Publish head/cur of one tx ring (or all: ring = all_rings) and collect its new tail.
    // Returns errc::ok, or an error: ring_reset (the ring was reset; message in last_error()),
    // peer_gone, daemon_gone. Never blocks on the shm path.
    std::error_code txsync(uint32_t ring = all_rings);
    std::error_code rxsync(uint32_t ring = all_rings);

    // Waits until `events` (wait_rx | wait_tx) are ready on any ring: spins spin_before_sleep
    // times, then arms the rings' wait flags and sleeps in poll() on their notify eventfds and the
    // control socket. Returns >0 when ready (after syncing), 0 on timeout, or -1 with `ec` set
    // (peer_gone, daemon_gone). timeout_ms < 0 waits forever.
    // With survive_restart, a broken connection is not an error: wait() goes on sleeping on the
    // rings and reconnects when a retry is due. daemon_gone then only comes once the registration
    // is lost on a port whose rings the daemon moves (NIC, host, switch ports).
    int wait(unsigned events, int timeout_ms, std::error_code &ec);

    // For an application's own event loop: the fds to poll for POLLIN. Arm first with arm_wait();
    // if it returns false, work is already there and the caller must not sleep. disarm_wait() after
    // the sleep also notices a broken control connection and makes the retries that are due, so a
    // loop that sleeps on these fds and disarms after each wake-up survives a restart as wait() does.
    // The numbers stay the same for the port's life: cache them if you like.
    std::vector<int> poll_fds(unsigned events) const;
    bool arm_wait(unsigned events);
    void disarm_wait();
    // A ring `events` names is marked by the other side: the pipe's peer or the port went away, so
    // waiting on it would never end.
    bool peer_gone(unsigned events) const;
    // How many rings `events` names are ready now (cur != tail), without syncing.
    uint32_t ready(unsigned events) const;

    // The control socket. While the daemon is away the same number names a timer that becomes
    // readable when a reconnection is due (never, once the registration is lost): an event loop
    // polling it neither sees a closed fd nor spins, and wakes to let disarm_wait() retry.
    int control_fd() const;
    const std::string &last_error() const; // the sentence for the last failed call

    // What happened to the control connection since the last call (control_lost, control_back,
    // registration_lost bits); reading clears them. A port notices a broken connection in wait(),
    // disarm_wait() and socket-mode syncs; the reason is in last_error().
    unsigned control_events();
    // Whether the port has a control connection to netringd now.
    bool daemon_present() const;

    // Monitors ("netmap:PORT/r", "/t", "/rt"; docs/MONITORS.md): rx rings only, each a copy of one
    // ring of PORT. A copy's slot.ptr is the time the frame crossed PORT (nr_mon_slot_ns). rxsync
    // reports peer_gone once PORT has gone away and every copy made before has been read.
    bool is_monitor() const;
    // What rx ring `i` of a monitor copies; false when this is not a monitor or `i` is out of range.
    bool monitor_source_of(uint32_t i, monitor_source &out) const;
    // Copies dropped so far because rx ring `i` of a monitor was full (0 for other rings).
    uint64_t monitor_drops(uint32_t i) const;
    // No eventfd announces this port's frames (a monitor of a pipe: the processes that feed it
    // cannot write its eventfds), so an event loop polling poll_fds() must also look at the rings
    // every millisecond or so. wait() does that itself.
    bool needs_polling() const;

    // For netmap programs (libnetring-netmap): the netmap view of this registration when
    // open_options::netmap_view asked for it (every ring of the port listed, 0 for the rings not
    // bound here), else nullptr; its offset in the region; the region as a whole.
    nr_if *netmap_if() const;
    uint64_t netmap_if_offset() const;
    uint16_t mem_id() const; // the same for every port in the same region
    int region_fd() const;
    uint64_t region_size() const;
    uint32_t reg_id() const;

    static constexpr uint32_t all_rings = 0xffffffffu;

private:
    struct impl;
    struct pending; // a REGIF (or REG_QUERY) reply and its connection, port.cpp
    static result<port> finish_open(pending &&p);
    explicit port(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

// ---- daemon information (netring-ctl) ----
struct region_stats {
    std::string name;
    uint64_t size = 0;
    uint32_t buf_size = 0;
    uint32_t buffers_total = 0;
    uint32_t buffers_free = 0;
    uint32_t users = 0;
    bool hugepages = false;       // hugetlb memory (guarded: see docs/SECURITY.md)
    uint32_t hugepage_faults = 0; // huge pages the daemon replaced after a client punched them out
};

struct ring_stats {
    uint32_t registration = 0; // index into daemon_stats::registrations
    uint16_t dir = 0;
    uint16_t ringid = 0;
    uint32_t num_slots = 0;
    uint32_t status = 0;
    uint64_t packets = 0, bytes = 0, drops = 0, kicks = 0, errors = 0;
    uint64_t copies = 0; // frames the daemon copied in user space (AF_XDP rings: 0)
    uint32_t occupied = 0; // slots in use: rx, frames not yet released; tx, frames not yet taken
};

struct registration_stats {
    std::string port_name;
    uint32_t reg_id = 0, uid = 0, gid = 0, pid = 0, tx_rings = 0, rx_rings = 0;
};

// What one uid holds, against its quota (netringd's uid_max_* and quota directives).
struct uid_usage {
    uint32_t uid = 0;
    bool unlimited = false; // uid 0 or an admin: no per-uid limit applies
    uint32_t connections = 0, registrations = 0, regions = 0;
    uint64_t buffers = 0;
    uint32_t max_connections = 0, max_registrations = 0, max_regions = 0;
    uint64_t max_buffers = 0;
};

struct daemon_stats {
    uint32_t version = 0;
    uint32_t clients = 0;
    uint64_t uptime_ms = 0;
    std::vector<region_stats> regions;
    std::vector<registration_stats> registrations;
    std::vector<ring_stats> rings;
    std::vector<uid_usage> uids; // every uid that holds something
};

struct nic_details {
    bool present = false;
    bool link_up = false;
    bool promisc = false;
    uint32_t speed_mbps = 0, mtu = 0, hw_queues = 0, ring_slots = 0;
    int32_t numa_node = -1;
    uint8_t mac[6] = {};
    std::string mode, xdp_mode;
    uint64_t rx_packets = 0, tx_packets = 0, rx_bytes = 0, tx_bytes = 0, rx_dropped = 0, tx_dropped = 0;
    uint64_t copies = 0;
};

struct port_details {
    uint32_t port_kind = 0, tx_rings = 0, rx_rings = 0, tx_slots = 0, rx_slots = 0, buf_size = 0;
    uint32_t clients = 0;
    bool exclusive = false;
    std::string region_name;
    nic_details nic; // NIC and host ports: the interface as the daemon sees it
};

result<daemon_stats> query_stats(const std::string &socket_path = {});
result<port_details> query_port_info(std::string_view name, const std::string &socket_path = {});
// Admin only (the policy's admin directive): promiscuous mode of the interface behind a NIC port.
status set_promiscuous(std::string_view port, bool on, const std::string &socket_path = {});
// Admin only: netringd hands its state to a new process of its executable (docs/RESTART.md).
// Returns once the old process has let go (its connections closed), or fails after `timeout_ms`;
// the successor answers the next request on the socket.
status restart_daemon(const std::string &socket_path = {}, int timeout_ms = 10000);

// ---- VALE-like switches (netring-switch) ----
// Each call opens a connection of its own. list() is open to every client; the other calls are for
// admins (the policy's admin directive, or uid 0). Refusals carry the daemon's code and sentence:
// already_exists, not_found, port_busy (a switch with ports, a port still registered),
// access_denied, bad_port_name.
namespace switches {

// rx: frames the switch took from the port; tx: frames it delivered to it; drops: frames for the
// port dropped because its rx ring was full.
struct port_entry {
    std::string name; // "p1", or an attached NIC ("netmap:eth0", "netmap:eth0^")
    std::string kind; // "ephemeral", "persistent", "nic", "host"
    uint32_t clients = 0;
    uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0, drops = 0;
};

struct switch_entry {
    std::string name;
    bool persistent = false;  // made by create() (destroy() removes it), not on the fly by a client
    uint32_t mac_entries = 0; // learned addresses
    std::vector<port_entry> ports;
};

status create(std::string_view sw, const std::string &socket_path = {});
status destroy(std::string_view sw, const std::string &socket_path = {}); // the switch must have no port
status add_port(std::string_view sw, std::string_view port, const std::string &socket_path = {});
status delete_port(std::string_view sw, std::string_view port, const std::string &socket_path = {});
// nic: netmap:IF (its rings as one port) or netmap:IF* (also its host rings as a second port).
status attach(std::string_view sw, std::string_view nic, const std::string &socket_path = {});
status detach(std::string_view sw, std::string_view nic, const std::string &socket_path = {});
// ok when this client may administer switches (an admin), else access_denied. Changes nothing.
status may_administer(const std::string &socket_path = {});
// Every switch, or only `sw` (not_found when it does not exist).
result<std::vector<switch_entry>> list(std::string_view sw = {}, const std::string &socket_path = {});

} // namespace switches

} // namespace netring
