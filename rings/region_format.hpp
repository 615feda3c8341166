// Writing and checking the region layout of layout.h: the header, rings, sync blocks, if blocks
// and the extra-buffer list. Plain memory writes at offsets; the caller owns the mapping.
// The daemon formats; the client checks (check_*) before it trusts an offset enough to follow it.
#pragma once

#include <netring/layout.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace netring::rings {

struct region_geometry {
    uint64_t meta_offset = 0;
    uint64_t meta_size = 0;
    uint64_t buffers_offset = 0;
    uint64_t region_size = 0;
    uint32_t buf_size = 0;
    uint32_t num_buffers = 0; // including the reserved ones
};

// Header, then `meta_size` bytes of metadata, then `num_buffers` buffers of `buf_size` (a power of
// two, 512..65536) aligned to `buf_size` and to the page. nullopt when the numbers do not fit.
std::optional<region_geometry> plan_region(uint32_t buf_size, uint32_t num_buffers, uint64_t meta_size);
void write_region_header(uint8_t *base, const region_geometry &g);
// Reads the header of a mapping of `mapped` bytes; nullopt (and why) when it is not a region.
std::optional<region_geometry> read_region_header(const uint8_t *base, uint64_t mapped, std::string *why);

void init_ring(uint8_t *base, uint64_t ring_off, const region_geometry &g, uint32_t num_slots, uint16_t ringid,
               uint16_t dir, std::span<const uint32_t> bufs);
void init_sync(uint8_t *base, uint64_t sync_off);

// One ring of an if block, by absolute region offsets (0: no partner).
struct if_ring_entry {
    uint64_t ring_off = 0;
    uint64_t sync_off = 0;
    uint64_t partner_ring_off = 0;
    uint64_t partner_sync_off = 0;
};

// `rings` lists the tx rings, then the rx rings.
void init_if(uint8_t *base, uint64_t if_off, std::string_view name, uint32_t tx_rings, uint32_t rx_rings,
             uint32_t port_kind, std::span<const if_ring_entry> rings, uint32_t bufs_head, uint32_t if_flags = 0);

// Links `bufs` through their first 4 bytes (0 ends the list); returns the head (0 if empty).
uint32_t link_buffers(uint8_t *base, const region_geometry &g, std::span<const uint32_t> bufs);

// What check_if_block vouched for: every offset and size copied out of the region once, so a
// peer that rewrites the if block afterwards cannot move the caller outside the region.
struct checked_ring {
    uint64_t ring_off = 0;         // absolute region offsets
    uint64_t sync_off = 0;
    uint64_t partner_ring_off = 0; // 0: no partner
    uint64_t partner_sync_off = 0;
    uint32_t num_slots = 0;
    uint32_t partner_slots = 0;
    uint16_t dir = 0;
};

struct checked_if {
    uint32_t tx_rings = 0; // NIC + host
    uint32_t rx_rings = 0;
    uint32_t port_kind = 0;
    uint32_t flags = 0; // NR_IF_*
    std::vector<checked_ring> rings; // tx rings, then rx rings
};

// Client side: checks that the if block at `if_off` and every ring, sync block and partner it
// names lie inside the region with the sizes they claim, reading each field once. Returns an empty
// string when sound (and fills *out when given), else what is wrong.
std::string check_if_block(const uint8_t *base, const region_geometry &g, uint64_t if_off, checked_if *out = nullptr);

} // namespace netring::rings
