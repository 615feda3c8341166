#include "xsk_rings.hpp"

#include <rings/bits.hpp>

#include <linux/if_xdp.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <cerrno>
#include <string>

namespace netring::netringd {
namespace {

constexpr uint32_t max_ring = 1u << 20;

// Maps `len` bytes of ring at `pgoff`; also proves the ring is no bigger than `len` says, by a
// mapping of twice the entries the kernel must refuse.
result<void *> map_ring(int fd, uint64_t pgoff, const xdp_ring_offset &o, uint32_t size, size_t entry,
                        size_t *len)
{
    *len = o.desc + size_t{size} * entry;
    void *m = ::mmap(nullptr, *len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
                     static_cast<off_t>(pgoff));
    if (m == MAP_FAILED)
        return error::from_errno(errno, "mmap of an AF_XDP ring of " + std::to_string(size) + " entries");
    const size_t twice = o.desc + 2 * size_t{size} * entry;
    void *big = ::mmap(nullptr, twice, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(pgoff));
    if (big != MAP_FAILED) {
        ::munmap(big, twice);
        ::munmap(m, *len);
        return error::from(errc::bad_message,
                           "an AF_XDP ring is larger than the " + std::to_string(size) + " entries recorded");
    }
    return m;
}

template <class Ring>
void point(Ring *r, void *m, const xdp_ring_offset &o, uint32_t size, bool producer)
{
    auto *b = static_cast<uint8_t *>(m);
    r->mask = size - 1;
    r->size = size;
    r->producer = reinterpret_cast<uint32_t *>(b + o.producer);
    r->consumer = reinterpret_cast<uint32_t *>(b + o.consumer);
    r->ring = b + o.desc;
    r->flags = reinterpret_cast<uint32_t *>(b + o.flags);
    // The kernel's cursors: the producer of a ring we consume is read with acquire (partner: the
    // kernel's release of its producer); on a ring we produce, libxdp keeps consumer + size cached.
    r->cached_prod = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE);
    r->cached_cons = __atomic_load_n(r->consumer, __ATOMIC_ACQUIRE) + (producer ? size : 0);
}

} // namespace

xsk_ring_maps::~xsk_ring_maps()
{
    for (const mapping &m : maps_)
        if (m.base)
            ::munmap(m.base, m.len);
}

status xsk_ring_maps::map(int fd, const xsk_ring_sizes &sizes, xsk_ring_prod *fill, xsk_ring_cons *comp,
                          xsk_ring_cons *rx, xsk_ring_prod *tx)
{
    int domain = 0;
    socklen_t dlen = sizeof domain;
    if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dlen) != 0 || domain != AF_XDP)
        return error::from(errc::bad_message, "the kept fd is not an AF_XDP socket");
    for (uint32_t s : {sizes.fill, sizes.comp, sizes.rx, sizes.tx})
        if (!rings::is_pow2(s) || s > max_ring)
            return error::from(errc::bad_message, "AF_XDP ring size " + std::to_string(s) + " recorded");
    xdp_mmap_offsets off{};
    socklen_t olen = sizeof off;
    if (::getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &olen) != 0)
        return error::from_errno(errno, "getsockopt(XDP_MMAP_OFFSETS)");
    const struct {
        uint64_t pgoff;
        const xdp_ring_offset &o;
        uint32_t size;
        size_t entry;
    } plan[] = {
        {XDP_UMEM_PGOFF_FILL_RING, off.fr, sizes.fill, sizeof(uint64_t)},
        {XDP_UMEM_PGOFF_COMPLETION_RING, off.cr, sizes.comp, sizeof(uint64_t)},
        {XDP_PGOFF_RX_RING, off.rx, sizes.rx, sizeof(xdp_desc)},
        {XDP_PGOFF_TX_RING, off.tx, sizes.tx, sizeof(xdp_desc)},
    };
    for (size_t i = 0; i < maps_.size(); i++) {
        auto m = map_ring(fd, plan[i].pgoff, plan[i].o, plan[i].size, plan[i].entry, &maps_[i].len);
        if (!m)
            return m.err();
        maps_[i].base = *m;
    }
    point(fill, maps_[0].base, off.fr, sizes.fill, true);
    point(comp, maps_[1].base, off.cr, sizes.comp, false);
    point(rx, maps_[2].base, off.rx, sizes.rx, false);
    point(tx, maps_[3].base, off.tx, sizes.tx, true);
    return ok_status();
}

} // namespace netring::netringd
