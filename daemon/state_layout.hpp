// The state segment's layout: the one header that owns it (state_segment.hpp is the API).
//
//   state_header (one page) | half 0 | half 1
//
// Each half is half_bytes long, starts on a page and holds, from its first byte, a Boost managed
// buffer of half[i].used_bytes (state_records.hpp). Only netringd reads or writes the segment; the
// writer is the process holding it, the reader its successor. (c): written once by create().
// (s): written by a save while the half is inactive. (f): the flip, the last write of a save.
// Whoever changes this struct or the records in state_shm.hpp raises state_layout_version.
#pragma once

#include <cstddef>
#include <cstdint>

namespace netring::netringd {

inline constexpr uint32_t state_magic = 0x3153524eu; // "NRS1" little-endian
// 2: switches (kept_switch), 3: NIC ports (kept_nic), 4: switch journals (fwd_journal.hpp),
// 5: NIC attachments of switches (kept_attachment)
inline constexpr uint32_t state_layout_version = 7;
inline constexpr uint64_t state_header_bytes = 4096; // the halves start on a page

struct state_half {
    uint64_t generation; // (s) the save that wrote the half: 1, 2, ...
    uint64_t used_bytes; // (s) the managed buffer's size, all the CRC covers
    uint32_t crc32;      // (s) boost::crc_32_type of the used bytes
    uint32_t reserved;
};

struct state_header {
    uint32_t magic;          // (c) state_magic
    uint32_t layout_version; // (c) state_layout_version
    uint32_t boost_version;  // (c) BOOST_VERSION of the writer: the managed buffer is Boost's format
    uint32_t active;         // (f) 0 or 1: the half load() reads. One aligned 4-byte store
    uint64_t half_offset;    // (c) state_header_bytes
    uint64_t half_bytes;     // (c) each half's size, a multiple of the page
    state_half half[2];      // (s) half[i] only while i is not active
};

static_assert(sizeof(state_half) == 24);
static_assert(offsetof(state_header, magic) == 0);
static_assert(offsetof(state_header, layout_version) == 4);
static_assert(offsetof(state_header, boost_version) == 8);
static_assert(offsetof(state_header, active) == 12 && alignof(state_header) >= 4);
static_assert(offsetof(state_header, half_offset) == 16);
static_assert(offsetof(state_header, half_bytes) == 24);
static_assert(offsetof(state_header, half) == 32);
static_assert(sizeof(state_header) == 80 && sizeof(state_header) <= state_header_bytes);

} // namespace netring::netringd
