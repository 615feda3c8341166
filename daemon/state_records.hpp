// The registry as a restart keeps it: plain records the registry fills before a save and reads
// after an adoption, and their form inside one half of the state segment (state_segment.hpp).
//
//   auto used = write_records(half, half_bytes, state);   // build the records at `half`
//   auto back = read_records(copy, *used);                 // the same records, each checked
//
// In the segment the records are a Boost.Interprocess managed buffer holding one root object with
// interprocess containers: offsets, not pointers, so a successor maps them anywhere. Boost stays in
// state_shm.hpp and the two files that use it (state_records_write.cpp, state_records_read.cpp).
// The records name fds by id ("fd.N" among the kept fds, docs/RESTART.md), never
// by number. read_records checks what the records say about themselves (string lengths, counts,
// duplicates, ids in range, names that refer to each other); the registry checks them against the
// memory they describe.
#pragma once

#include <netring/error.hpp>

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace netring::netringd {

// One ring of a pipe end, as the pipe port records it.
struct kept_ring {
    uint64_t ring_off = 0;
    uint64_t sync_off = 0;
    uint64_t meta_bytes = 0;
    uint32_t num_slots = 0;
    uint32_t notify_fd_id = 0;

    bool operator==(const kept_ring &) const = default;
};

struct kept_region {
    std::string name; // "pipe:pipeA"
    uint32_t fd_id = 0;
    uint32_t buf_size = 0;
    uint32_t num_buffers = 0;
    uint64_t meta_bytes = 0;
    uint64_t region_size = 0;
    uint16_t mem_id = 0;
    bool hugepages = false;
    bool has_payer = false;
    uid_t payer = 0; // whose quota the region is charged to, when has_payer
    std::vector<std::pair<uint64_t, uint64_t>> meta_free; // the metadata arena's free (offset, size)
    std::vector<std::pair<uint32_t, uint32_t>> bufs_free; // the buffer pool's free (first, count)

    bool operator==(const kept_region &) const = default;
};

struct kept_pipe_end {
    std::string name; // "netmap:pipeA{1"
    bool open = false;
    bool exclusive = false;
    uint32_t reg_id = 0; // the registration holding the end, when open
    int32_t pid = 0;
    uint32_t extra_bufs = 0;
    uint64_t if_off = 0;
    uint64_t if_bytes = 0;
    std::vector<kept_ring> tx;
    std::vector<kept_ring> rx;

    bool operator==(const kept_pipe_end &) const = default;
};

struct kept_pipe {
    std::string key;                     // "pipe:pipeA{1}"
    std::string parent;                  // its region, "pipe:pipeA"
    std::array<uint32_t, 2> dir_rings{}; // [0] A->B, [1] B->A
    std::array<uint32_t, 2> dir_slots{};
    std::array<kept_pipe_end, 2> ends; // [0] A ('{'), [1] B ('}')
    std::vector<uint32_t> bufs;        // every buffer the pipe took
    std::array<std::vector<std::pair<uint64_t, uint64_t>>, 2> tables; // per direction and ring: its
                                                                      // monitor table (offset, bytes)
    bool broken = false;

    bool operator==(const kept_pipe &) const = default;
};

struct kept_registration {
    uint32_t reg_id = 0;
    std::string key;  // port_key
    std::string name; // canonical port name
    uid_t uid = 0;
    gid_t gid = 0;
    int32_t pid = 0;
    uint64_t buffers = 0; // charged to uid's buffer quota
    std::array<uint8_t, 16> token{};
    uint64_t netmap_if_offset = 0;
    uint64_t view_bytes = 0;
    uint16_t mem_id = 0;
    uint32_t port_kind = 0;
    uint32_t tx_rings = 0;
    uint32_t rx_rings = 0;
    uint32_t tx_slots = 0;
    uint32_t rx_slots = 0;
    uint32_t extra_bufs = 0;
    uint64_t if_offset = 0;
    std::string region;           // the region the client maps
    std::vector<uint32_t> fd_ids; // the fds REGIF answered with, in its order

    bool operator==(const kept_registration &) const = default;
};

// A ring the daemon serves as its kernel side (served_ring.hpp): its place, its eventfds and the
// server's own indices, the copies it publishes and never reads back, which shared memory cannot be
// trusted to hold; a successor resumes where it stopped.
struct kept_served_ring {
    uint64_t ring_off = 0;
    uint64_t sync_off = 0;
    uint64_t meta_bytes = 0;
    uint32_t num_slots = 0;
    uint32_t kick_fd_id = 0;
    uint32_t notify_fd_id = 0;
    uint32_t hwcur = 0;
    uint32_t hwtail = 0;
    uint32_t reclaim = 0;

    bool operator==(const kept_served_ring &) const = default;
};

// A client registration of a switch port: its if block in the port's region.
struct kept_switch_reg {
    uint32_t reg_id = 0;
    int32_t pid = 0;
    uint64_t if_off = 0;
    uint64_t if_bytes = 0;
    uint32_t extra_bufs = 0;
    bool exclusive = false;

    bool operator==(const kept_switch_reg &) const = default;
};

// A client port of a switch ("ephemeral" or "persistent"), in its own region "SWITCH:PORT".
struct kept_switch_port {
    std::string name; // "p1"
    std::string kind;
    kept_served_ring tx, rx;
    std::vector<uint32_t> bufs; // every buffer the port took: ring buffers and extra buffers
    std::vector<kept_switch_reg> regs;
    std::array<uint64_t, 7> counters{}; // rx/tx packets and bytes, drops, errors, flooded (switch_fwd.hpp)
    // Its slot in the switch's journal and the tag it had there (fwd_journal.hpp): where the
    // forwarding thread's latest cursors are, when the slot still carries the tag.
    uint32_t journal_slot = 0;
    uint64_t journal_tag = 0;

    bool operator==(const kept_switch_port &) const = default;
};

// A learned address: the port is a position in its switch's port list.
struct kept_mac {
    uint64_t mac = 0; // mac_key() of the address
    uint32_t port = 0;
    uint32_t age_s = 0; // seconds since it was last seen

    bool operator==(const kept_mac &) const = default;
};

// A NIC attached to a switch (netring-switch attach), kept by a planned restart: the daemon's own
// registration of the NIC port, and the switch's head on each ring it drives (the NIC port's rx
// rings then its tx ring, then the same for the host port when attached with '*').
struct kept_attachment {
    std::string nic; // "netmap:eth0" or "netmap:eth0*", as attached
    uint32_t reg_id = 0;
    std::vector<uint32_t> heads;

    bool operator==(const kept_attachment &) const = default;
};

struct kept_switch {
    std::string name; // "vale0"
    bool persistent = false;
    std::vector<kept_switch_port> ports;
    std::vector<kept_mac> macs;
    uint32_t journal_fd_id = 0; // the memfd its forwarding thread commits ring cursors to
    std::vector<kept_attachment> attachments; // only in a handoff's save (the thread is stopped)

    bool operator==(const kept_switch &) const = default;
};

// One bound queue of a NIC port: its rings, its socket (AF_XDP: UMEM and kernel rings included;
// AF_PACKET: its TPACKET_V3 RX ring) and what the I/O counts privately. An AF_XDP socket's ring
// cursors are read back from the socket; an AF_PACKET reader's place is recorded.
struct kept_nic_queue {
    uint32_t index = 0;
    uint32_t users = 0;
    bool exclusive = false;
    kept_served_ring tx;
    kept_served_ring rx;
    uint32_t xsk_fd_id = 0;     // the queue's socket, AF_XDP or AF_PACKET
    uint32_t xsk_ring_size = 0; // rx, tx and completion rings
    uint32_t fill_ring_size = 0;
    uint64_t tx_in_kernel = 0;         // frames taken by the I/O whose buffers it has not counted back
    uint32_t tx_credits = 0;           // frames refused and not counted back yet
    std::vector<uint32_t> held;        // buffers in the fill ring, the kernel or the RX ring
    uint32_t packet_blocks = 0;        // AF_PACKET: blocks of the RX ring
    uint32_t packet_block = 0;         // the block the reader reads or waits for
    uint32_t packet_left = 0;          // frames of it not read yet (0: not opened)
    uint32_t packet_frame_off = 0;     // the next frame's offset in the block, when packet_left
    bool packet_skip_outgoing = false; // PACKET_IGNORE_OUTGOING was refused: the reader filters
    uint64_t journal_tag = 0;          // its slot's tag in the port's journal (0: not journaled)

    bool operator==(const kept_nic_queue &) const = default;
};

struct kept_nic_registration {
    uint32_t reg_id = 0;
    int32_t pid = 0;
    std::vector<uint32_t> queues; // queue indices, in the if block's order
    uint64_t if_off = 0;
    uint64_t if_bytes = 0;
    uint32_t extra_bufs = 0;

    bool operator==(const kept_nic_registration &) const = default;
};

// A NIC port in AF_XDP mode (the XDP program: its map, program and bpf_link fds) or AF_PACKET
// mode, its queues and registrations. docs/RESTART.md, "NIC ports".
struct kept_nic {
    std::string key;    // "nic:eth0"
    std::string ifname; // "eth0"
    std::string region; // "nic:eth0"
    bool afpacket = false;
    uint32_t hw_queues = 0; // the queues the port serves: 1 in AF_PACKET mode
    uint32_t xdp_map_fd_id = 0;
    uint32_t xdp_prog_fd_id = 0;
    uint32_t xdp_link_fd_id = 0;
    uint32_t journal_fd_id = 0; // nic_journal.hpp
    // Saved while the worker ran (every save but a handoff's): the cursors and in-flight counts
    // are the journal's, and `held` is empty (the successor derives it from the socket's rings).
    bool running = false;
    std::vector<kept_nic_queue> queues;
    std::vector<kept_nic_registration> registrations;
    std::vector<uint32_t> owned; // every buffer the port took from the region's pool

    bool operator==(const kept_nic &) const = default;
};

// A monitor registration ("netmap:PORT/r", "/t", "/rt") of a kept port, in that port's region
// (monitor_rings.hpp): its rings, what each watches, its buffers and if block. A pipe's monitor also
// names its entries in the pipe's monitor tables. The rings' producers keep their indices in the
// rings themselves (a monitor loses copies, never waits), so no cursor is recorded.
struct kept_monitor {
    std::string port;  // the watched port's key ("pipe:pipeA{1}", "nic:eth0", "vale0:p1")
    std::string name;  // the monitor's canonical name ("netmap:pipeA{1/rt")
    uint32_t reg_id = 0;
    uint64_t if_off = 0;
    uint64_t if_bytes = 0;
    std::vector<kept_served_ring> rings;
    std::vector<std::pair<uint32_t, uint32_t>> src; // per ring: what it watches (flags, ring id)
    std::vector<uint32_t> bufs;                     // its rings' buffers, ring after ring
    std::vector<std::array<uint32_t, 3>> entries;   // a pipe's: (direction, ring, table entry) per ring

    bool operator==(const kept_monitor &) const = default;
};

struct kept_state {
    uint32_t last_reg_id = 0;
    uint32_t next_fd_id = 0; // every fd id in the records is below it
    std::vector<kept_region> regions;
    std::vector<kept_pipe> pipes;
    std::vector<kept_registration> registrations;
    std::vector<kept_switch> switches;
    std::vector<kept_nic> nics;
    std::vector<kept_monitor> monitors;

    bool operator==(const kept_state &) const = default;
};

// Limits the records are held to, when saved and when loaded.
inline constexpr size_t kept_name_max = 63;          // port names, keys and region names
inline constexpr size_t kept_records_max = 1u << 16; // regions, pipes, registrations: each list
inline constexpr size_t kept_rings_max = 62;         // per end and direction (config's max_rings_limit)
inline constexpr size_t kept_fd_ids_max = 1 + 4 * kept_rings_max; // a registration's fds
inline constexpr size_t kept_bufs_max = 1u << 24;                 // buffers one pipe took
inline constexpr size_t kept_ranges_max = 1u << 24;               // free ranges of one region
inline constexpr size_t kept_macs_max = 4096;                     // learned addresses of a switch
inline constexpr size_t kept_queues_max = 256;                    // bound queues of one NIC port
inline constexpr size_t kept_monitor_rings_max = 1024;            // rings of one monitor (monitor_build)

// What the records say about each other (state_checks.cpp): names present and within
// kept_name_max, the limits above, no region, pipe, NIC, switch, port, registration or address
// twice, fd ids below next_fd_id, a pipe's, NIC's and switch port's region, an open end's, NIC's
// and switch port registration's registration in the state, a learned address on a port of its
// switch, a monitor's port among the kept ports, its registration in the state (of that port, a
// monitor's kind) and as many sources as rings.
// errc::bad_message with the sentence.
status check_kept_state(const kept_state &s);

// Builds `s` at `half`, a zeroed area of `capacity` bytes aligned to 16. The bytes used, from
// `half` on (only they need to be kept); errc::limit_exceeded when `s` does not fit or fails
// check_kept_state. Bytes past the used ones may be written, never past `capacity`.
result<uint64_t> write_records(uint8_t *half, uint64_t capacity, const kept_state &s);
// The records of a buffer write_records built, `bytes` long. errc::bad_message with a sentence
// when the buffer or a record is not what write_records makes. Opening the buffer trusts Boost's
// own structures inside it: call it only on bytes whose checksum matched.
result<kept_state> read_records(uint8_t *half, uint64_t bytes);

} // namespace netring::netringd
