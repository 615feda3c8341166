// What netringd keeps across a restart, as plain daemon-heap records: the registry fills them
// (registry::export_state) and rebuilds itself from them (registry::adopt_state); the state
// segment stores them in shared memory that the next netringd process maps (state_segment.hpp).
// fd_id fields name kept fds (see docs/RESTART.md): the fd travels separately, under "fd.N".
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace netring::netringd {

struct kept_ring {
    uint64_t ring_off = 0, sync_off = 0, meta_bytes = 0;
    uint32_t num_slots = 0;
    uint32_t notify_fd_id = 0;
};

struct kept_region {
    std::string name;
    uint32_t fd_id = 0;
    uint32_t buf_size = 0, num_buffers = 0;
    uint64_t meta_bytes = 0, region_size = 0;
    uint16_t mem_id = 0;
    bool hugepages = false;
    uid_t payer = 0; // whose region quota pays for it, when has_payer
    bool has_payer = false;
    std::vector<std::pair<uint64_t, uint64_t>> meta_free; // the metadata arena's free ranges
    std::vector<std::pair<uint32_t, uint32_t>> bufs_free; // the buffer pool's free ranges
};

struct kept_pipe_end {
    std::string name;
    bool open = false, exclusive = false;
    uint32_t reg_id = 0;
    int32_t pid = 0;
    uint32_t extra_bufs = 0;
    uint64_t if_off = 0, if_bytes = 0;
    std::vector<kept_ring> tx, rx;
};

struct kept_pipe {
    std::string key, parent; // port_key "pipe:NAME{ID}", region name
    std::array<uint32_t, 2> dir_rings{}, dir_slots{};
    std::array<kept_pipe_end, 2> ends;
    std::vector<uint32_t> bufs;                                     // every buffer the pipe took
    std::array<std::vector<std::pair<uint64_t, uint64_t>>, 2> tables; // monitor tables: off, bytes
    bool broken = false;
};

struct kept_registration {
    uint32_t reg_id = 0;
    std::string key, name; // port_key, canonical name
    uid_t uid = 0;
    gid_t gid = 0;
    int32_t pid = 0;
    uint64_t buffers = 0; // charged to uid's buffer quota
    std::array<uint8_t, 16> token{};
    uint64_t netmap_if_offset = 0, view_bytes = 0;
    uint16_t mem_id = 0;
    uint32_t port_kind = 0, tx_rings = 0, rx_rings = 0, tx_slots = 0, rx_slots = 0, extra_bufs = 0;
    uint64_t if_offset = 0;
    std::string region;
    std::vector<uint32_t> fd_ids;
};

struct kept_state {
    uint32_t last_reg_id = 0;
    uint32_t next_fd_id = 1;
    std::vector<kept_region> regions;
    std::vector<kept_pipe> pipes;
    std::vector<kept_registration> registrations;
};

} // namespace netring::netringd
