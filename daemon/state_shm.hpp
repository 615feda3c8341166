// The records of a state segment half as Boost.Interprocess objects: what state_records_write.cpp
// builds and state_records_read.cpp reads back. Internal to those two files, not an API.
//
// A successor built from other sources reads them: any change to these structs (a field, its
// type, its order) is a new layout version (state_layout.hpp).
#pragma once

#include <boost/interprocess/allocators/allocator.hpp>
#include <boost/interprocess/containers/string.hpp>
#include <boost/interprocess/containers/vector.hpp>
#include <boost/interprocess/managed_external_buffer.hpp>

#include <cstdint>

namespace netring::netringd::state_shm {

namespace bip = boost::interprocess;
using shm_buffer = bip::managed_external_buffer;
using shm_manager = shm_buffer::segment_manager;
using void_alloc = bip::allocator<void, shm_manager>;
template <class T>
using shm_vector = bip::vector<T, bip::allocator<T, shm_manager>>;
using shm_string = bip::basic_string<char, std::char_traits<char>, bip::allocator<char, shm_manager>>;

struct shm_ring {
    uint64_t ring_off = 0, sync_off = 0, meta_bytes = 0;
    uint32_t num_slots = 0, notify_fd_id = 0;
};

struct shm_range64 {
    uint64_t first = 0, size = 0;
};
struct shm_range32 {
    uint32_t first = 0, size = 0;
};

struct shm_region {
    explicit shm_region(const void_alloc &a) : name(a), meta_free(a), bufs_free(a) {}
    shm_string name;
    shm_vector<shm_range64> meta_free;
    shm_vector<shm_range32> bufs_free;
    uint64_t meta_bytes = 0, region_size = 0;
    uint32_t fd_id = 0, buf_size = 0, num_buffers = 0, payer = 0;
    uint16_t mem_id = 0;
    uint8_t hugepages = 0, has_payer = 0;
};

struct shm_end {
    explicit shm_end(const void_alloc &a) : name(a), tx(a), rx(a) {}
    shm_string name;
    uint64_t if_off = 0, if_bytes = 0;
    uint32_t reg_id = 0, extra_bufs = 0;
    int32_t pid = 0;
    uint8_t open = 0, exclusive = 0;
    shm_vector<shm_ring> tx, rx;
};

struct shm_pipe {
    explicit shm_pipe(const void_alloc &a)
        : key(a), parent(a), ends{shm_end(a), shm_end(a)}, bufs(a), tables{shm_vector<shm_range64>(a), shm_vector<shm_range64>(a)}
    {}
    shm_string key, parent;
    uint32_t dir_rings[2] = {}, dir_slots[2] = {};
    std::array<shm_end, 2> ends;
    shm_vector<uint32_t> bufs;
    std::array<shm_vector<shm_range64>, 2> tables;
    uint8_t broken = 0;
};

struct shm_registration {
    explicit shm_registration(const void_alloc &a) : key(a), name(a), region(a), fd_ids(a) {}
    uint32_t reg_id = 0, uid = 0, gid = 0;
    int32_t pid = 0;
    shm_string key, name;
    uint64_t buffers = 0, netmap_if_offset = 0, view_bytes = 0, if_offset = 0;
    uint8_t token[16] = {};
    uint16_t mem_id = 0;
    uint32_t port_kind = 0, tx_rings = 0, rx_rings = 0, tx_slots = 0, rx_slots = 0, extra_bufs = 0;
    shm_string region;
    shm_vector<uint32_t> fd_ids;
};

struct shm_served_ring {
    uint64_t ring_off = 0, sync_off = 0, meta_bytes = 0;
    uint32_t num_slots = 0, kick_fd_id = 0, notify_fd_id = 0, hwcur = 0, hwtail = 0, reclaim = 0;
};

struct shm_switch_reg {
    uint64_t if_off = 0, if_bytes = 0;
    uint32_t reg_id = 0, extra_bufs = 0;
    int32_t pid = 0;
    uint8_t exclusive = 0;
};

struct shm_switch_port {
    explicit shm_switch_port(const void_alloc &a) : name(a), kind(a), bufs(a), regs(a) {}
    shm_string name, kind;
    shm_served_ring tx, rx;
    shm_vector<uint32_t> bufs;
    shm_vector<shm_switch_reg> regs;
    uint64_t counters[7] = {};
    uint64_t journal_tag = 0;
    uint32_t journal_slot = 0;
};

struct shm_mac {
    uint64_t mac = 0;
    uint32_t port = 0, age_s = 0;
};

struct shm_attachment {
    explicit shm_attachment(const void_alloc &a) : nic(a), heads(a) {}
    shm_string nic;
    uint32_t reg_id = 0;
    shm_vector<uint32_t> heads;
};

struct shm_switch {
    explicit shm_switch(const void_alloc &a) : name(a), ports(a), macs(a), attachments(a) {}
    shm_string name;
    uint8_t persistent = 0;
    uint32_t journal_fd_id = 0;
    shm_vector<shm_switch_port> ports;
    shm_vector<shm_mac> macs;
    shm_vector<shm_attachment> attachments;
};


struct shm_nic_queue {
    explicit shm_nic_queue(const void_alloc &a) : held(a) {}
    shm_served_ring tx, rx;
    uint64_t tx_in_kernel = 0;
    uint32_t index = 0, users = 0, xsk_fd_id = 0, xsk_ring_size = 0, fill_ring_size = 0, tx_credits = 0;
    uint32_t packet_blocks = 0, packet_block = 0, packet_left = 0, packet_frame_off = 0;
    uint8_t exclusive = 0, packet_skip_outgoing = 0;
    uint64_t journal_tag = 0;
    shm_vector<uint32_t> held;
};

struct shm_nic_registration {
    explicit shm_nic_registration(const void_alloc &a) : queues(a) {}
    uint64_t if_off = 0, if_bytes = 0;
    uint32_t reg_id = 0, extra_bufs = 0;
    int32_t pid = 0;
    shm_vector<uint32_t> queues;
};

struct shm_nic {
    explicit shm_nic(const void_alloc &a)
        : key(a), ifname(a), region(a), queues(a), registrations(a), owned(a)
    {}
    shm_string key, ifname, region;
    uint32_t hw_queues = 0, xdp_map_fd_id = 0, xdp_prog_fd_id = 0, xdp_link_fd_id = 0, journal_fd_id = 0;
    uint8_t afpacket = 0, running = 0;
    shm_vector<shm_nic_queue> queues;
    shm_vector<shm_nic_registration> registrations;
    shm_vector<uint32_t> owned;
};

struct shm_mon_entry {
    uint32_t dir = 0, ring = 0, entry = 0;
};

struct shm_monitor {
    explicit shm_monitor(const void_alloc &a) : port(a), name(a), rings(a), src(a), bufs(a), entries(a) {}
    shm_string port, name;
    uint32_t reg_id = 0;
    uint64_t if_off = 0, if_bytes = 0;
    shm_vector<shm_served_ring> rings;
    shm_vector<shm_range32> src; // (flags, ring id)
    shm_vector<uint32_t> bufs;
    shm_vector<shm_mon_entry> entries;
};

// New lists go at the end: the fields before them keep their places.
struct shm_root {
    explicit shm_root(const void_alloc &a)
        : regions(a), pipes(a), registrations(a), switches(a), nics(a), monitors(a)
    {}
    uint32_t last_reg_id = 0, next_fd_id = 0;
    shm_vector<shm_region> regions;
    shm_vector<shm_pipe> pipes;
    shm_vector<shm_registration> registrations;
    shm_vector<shm_switch> switches;
    shm_vector<shm_nic> nics;
    shm_vector<shm_monitor> monitors;
};

constexpr const char *root_name = "netringd-state";

} // namespace netring::netringd::state_shm
