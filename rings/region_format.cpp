#include "region_format.hpp"

#include <rings/bits.hpp>

#include <cstring>

namespace netring::rings {
namespace {

constexpr uint64_t page = 4096;

} // namespace

std::optional<region_geometry> plan_region(uint32_t buf_size, uint32_t num_buffers, uint64_t meta_size)
{
    if (buf_size < 512 || buf_size > 65536 || (buf_size & (buf_size - 1)) != 0)
        return std::nullopt;
    if (num_buffers <= NR_RESERVED_BUFFERS || meta_size == 0)
        return std::nullopt;
    region_geometry g;
    g.buf_size = buf_size;
    g.num_buffers = num_buffers;
    g.meta_offset = 128; // after the header, on a 128-byte boundary
    g.meta_size = round_up(meta_size, 128);
    g.buffers_offset = round_up(g.meta_offset + g.meta_size, buf_size > page ? buf_size : page);
    g.region_size = round_up(g.buffers_offset + uint64_t{num_buffers} * buf_size, page);
    return g;
}

void write_region_header(uint8_t *base, const region_geometry &g)
{
    nr_region_header h{};
    h.magic = NR_REGION_MAGIC;
    h.layout_version = NR_LAYOUT_VERSION;
    h.header_size = sizeof(nr_region_header);
    h.region_size = g.region_size;
    h.meta_offset = g.meta_offset;
    h.meta_size = g.meta_size;
    h.buffers_offset = g.buffers_offset;
    h.buf_size = g.buf_size;
    h.num_buffers = g.num_buffers;
    std::memcpy(base, &h, sizeof h);
}

std::optional<region_geometry> read_region_header(const uint8_t *base, uint64_t mapped, std::string *why)
{
    auto fail = [&](const char *w) -> std::optional<region_geometry> {
        if (why)
            *why = w;
        return std::nullopt;
    };
    if (mapped < sizeof(nr_region_header))
        return fail("region smaller than its header");
    nr_region_header h;
    std::memcpy(&h, base, sizeof h);
    if (h.magic != NR_REGION_MAGIC)
        return fail("bad region magic");
    if (h.layout_version != NR_LAYOUT_VERSION)
        return fail("unsupported region layout version");
    auto g = plan_region(h.buf_size, h.num_buffers, h.meta_size);
    if (!g || g->region_size != h.region_size || g->buffers_offset != h.buffers_offset ||
        g->meta_offset != h.meta_offset)
        return fail("inconsistent region header");
    if (h.region_size > mapped)
        return fail("region header claims more than was mapped");
    return g;
}

void init_ring(uint8_t *base, uint64_t ring_off, const region_geometry &g, uint32_t num_slots, uint16_t ringid,
               uint16_t dir, std::span<const uint32_t> bufs)
{
    auto *ring = reinterpret_cast<nr_ring *>(base + ring_off);
    std::memset(static_cast<void *>(ring), 0, nr_ring_block_size(num_slots));
    ring->buf_ofs = static_cast<int64_t>(g.buffers_offset) - static_cast<int64_t>(ring_off);
    ring->num_slots = num_slots;
    ring->nr_buf_size = g.buf_size;
    ring->ringid = ringid;
    ring->dir = dir;
    ring->offset_mask = 0;
    ring->buf_align = 1;
    for (uint32_t i = 0; i < num_slots; i++)
        ring->slot[i].buf_idx = i < bufs.size() ? bufs[i] : NR_DUMMY_BUFFER;
}

void init_sync(uint8_t *base, uint64_t sync_off)
{
    std::memset(base + sync_off, 0, sizeof(nr_sync));
}

void init_if(uint8_t *base, uint64_t if_off, std::string_view name, uint32_t tx_rings, uint32_t rx_rings,
             uint32_t port_kind, std::span<const if_ring_entry> rings, uint32_t bufs_head, uint32_t if_flags)
{
    const uint32_t total = static_cast<uint32_t>(rings.size());
    std::memset(base + if_off, 0, nr_if_block_size(total));
    auto *nifp = reinterpret_cast<nr_if *>(base + if_off);
    std::memcpy(nifp->ni_name, name.data(), name.size() < NR_IFNAMSIZ ? name.size() : NR_IFNAMSIZ - 1);
    nifp->ni_version = NR_API_VERSION;
    nifp->ni_tx_rings = tx_rings;
    nifp->ni_rx_rings = rx_rings;
    nifp->ni_bufs_head = bufs_head;
    auto rel = [&](uint64_t off) { return off ? static_cast<int64_t>(off) - static_cast<int64_t>(if_off) : 0; };
    for (uint32_t i = 0; i < total; i++)
        nifp->ring_ofs[i] = rel(rings[i].ring_off);
    nr_if_ext *ext = nr_get_if_ext(nifp);
    ext->magic = NR_IF_EXT_MAGIC;
    ext->port_kind = port_kind;
    ext->total_rings = total;
    ext->flags = if_flags;
    for (uint32_t i = 0; i < total; i++) {
        nr_ring_ext *re = nr_get_ring_ext(nifp, i);
        re->sync_ofs = rel(rings[i].sync_off);
        re->partner_ring_ofs = rel(rings[i].partner_ring_off);
        re->partner_sync_ofs = rel(rings[i].partner_sync_off);
    }
}

uint32_t link_buffers(uint8_t *base, const region_geometry &g, std::span<const uint32_t> bufs)
{
    uint32_t head = 0;
    for (size_t k = bufs.size(); k > 0; k--) {
        const uint32_t idx = bufs[k - 1];
        std::memcpy(base + g.buffers_offset + uint64_t{idx} * g.buf_size, &head, sizeof head);
        head = idx;
    }
    return head;
}

std::string check_if_block(const uint8_t *base, const region_geometry &g, uint64_t if_off, checked_if *out)
{
    const uint64_t meta_end = g.meta_offset + g.meta_size;
    auto inside = [&](uint64_t off, uint64_t len) {
        return off >= g.meta_offset && off <= meta_end && len <= meta_end - off;
    };
    // Misaligned offsets are refused before anything is read through them: the structures
    // carry alignment (nr_ring and nr_sync 128 bytes), and the daemon's arena keeps it.
    if (if_off % alignof(nr_if) != 0 || !inside(if_off, sizeof(nr_if)))
        return "if block outside the metadata area";
    nr_if nif; // one copy: the ring counts below are the ones every later offset is computed from
    std::memcpy(&nif, base + if_off, sizeof nif);
    const uint64_t tx = uint64_t{nif.ni_tx_rings} + nif.ni_host_tx_rings;
    const uint64_t total = tx + nif.ni_rx_rings + nif.ni_host_rx_rings;
    if (total == 0 || total > 1024 || !inside(if_off, nr_if_block_size(static_cast<uint32_t>(total))))
        return "if block ring count does not fit";
    const uint8_t *ofs_base = base + if_off + sizeof(nr_if);
    nr_if_ext ext;
    std::memcpy(&ext, ofs_base + total * sizeof(int64_t), sizeof ext);
    if (ext.magic != NR_IF_EXT_MAGIC || ext.total_rings != total)
        return "if block extension missing";

    // A ring at if_off + rel: aligned, inside, its slot count copied once and its size checked.
    auto check_ring = [&](int64_t rel, uint64_t &off, uint32_t &slots, uint16_t *dir) -> bool {
        off = if_off + static_cast<uint64_t>(rel);
        if (off % alignof(nr_ring) != 0 || !inside(off, sizeof(nr_ring)))
            return false;
        nr_ring hdr;
        std::memcpy(static_cast<void *>(&hdr), base + off, sizeof hdr);
        slots = hdr.num_slots;
        if (dir)
            *dir = hdr.dir;
        return slots >= 2 && slots <= (1u << 20) && inside(off, nr_ring_block_size(slots)) &&
               hdr.nr_buf_size == g.buf_size &&
               static_cast<int64_t>(off) + hdr.buf_ofs == static_cast<int64_t>(g.buffers_offset);
    };
    auto check_sync = [&](int64_t rel, uint64_t &off) {
        off = if_off + static_cast<uint64_t>(rel);
        return off % alignof(nr_sync) == 0 && inside(off, sizeof(nr_sync));
    };

    checked_if res;
    res.tx_rings = static_cast<uint32_t>(tx);
    res.rx_rings = static_cast<uint32_t>(total - tx);
    res.port_kind = ext.port_kind;
    res.flags = ext.flags;
    res.rings.resize(total);
    const uint8_t *ext_base = ofs_base + total * sizeof(int64_t) + sizeof(nr_if_ext);
    for (uint32_t i = 0; i < total; i++) {
        int64_t ring_rel;
        nr_ring_ext re;
        std::memcpy(&ring_rel, ofs_base + i * sizeof(int64_t), sizeof ring_rel);
        std::memcpy(&re, ext_base + i * sizeof(nr_ring_ext), sizeof re);
        checked_ring &c = res.rings[i];
        if (!check_ring(ring_rel, c.ring_off, c.num_slots, &c.dir))
            return "ring " + std::to_string(i) + " outside the region or inconsistent";
        if (!check_sync(re.sync_ofs, c.sync_off))
            return "sync block of ring " + std::to_string(i) + " outside the region";
        if (re.partner_ring_ofs == 0) {
            c.partner_ring_off = c.partner_sync_off = 0;
            continue;
        }
        if (!check_ring(re.partner_ring_ofs, c.partner_ring_off, c.partner_slots, nullptr) ||
            !check_sync(re.partner_sync_ofs, c.partner_sync_off))
            return "partner of ring " + std::to_string(i) + " outside the region";
    }
    if (out)
        *out = std::move(res);
    return {};
}

} // namespace netring::rings
