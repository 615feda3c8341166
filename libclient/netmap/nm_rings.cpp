// Ring arithmetic shared by nmport_d and nm_desc: which rings a registration bound, and copying a
// packet into a tx ring. Only the application's side of the ring (head, cur, slots up to tail) is
// touched; the next NIOCTXSYNC or poll() hands the slots to the port.
#include "nm_private.hpp"

#include <algorithm>
#include <cstring>

namespace netring::nm {
namespace {

// The first run of non-zero ring_ofs[] entries among [base, base + count).
void find_run(const netmap_if *nifp, uint32_t base, uint32_t count, uint16_t *first, uint16_t *last)
{
    uint32_t i = 0;
    while (i < count && nifp->ring_ofs[base + i] == 0)
        i++;
    *first = static_cast<uint16_t>(i);
    while (i < count && nifp->ring_ofs[base + i] != 0)
        i++;
    *last = static_cast<uint16_t>(i - 1);
}

// Bytes of data a tx slot can carry: its buffer past the slot's data offset.
uint32_t slot_room(const netmap_ring *ring, const netmap_slot *slot)
{
    const uint64_t offset = NETMAP_ROFFSET(ring, slot);
    return offset < ring->nr_buf_size ? static_cast<uint32_t>(ring->nr_buf_size - offset) : 0;
}

// Whether the slots from cur up to tail hold `size` bytes (a zero-length packet takes one slot).
bool ring_has_room(netmap_ring *ring, size_t size)
{
    for (uint32_t i = ring->cur; i != ring->tail; i = nm_ring_next(ring, i)) {
        const uint32_t room = slot_room(ring, &ring->slot[i]);
        if (size <= room)
            return true;
        if (room == 0)
            return false; // a packet cannot have an empty fragment in the middle
        size -= room;
    }
    return false;
}

void copy_into_ring(netmap_ring *ring, const char *data, size_t size)
{
    uint32_t i = ring->cur;
    for (;;) {
        netmap_slot *slot = &ring->slot[i];
        const size_t chunk = std::min<size_t>(size, slot_room(ring, slot));
        std::memcpy(NETMAP_BUF_OFFSET(ring, slot), data, chunk);
        slot->len = static_cast<uint16_t>(chunk);
        data += chunk;
        size -= chunk;
        slot->flags = size > 0 ? NS_MOREFRAG : 0;
        i = nm_ring_next(ring, i);
        if (size == 0)
            break;
    }
    ring->head = ring->cur = i;
}

} // namespace

bound_rings find_bound_rings(const netmap_if *nifp)
{
    const uint32_t tx_count = nifp->ni_tx_rings + nifp->ni_host_tx_rings;
    const uint32_t rx_count = nifp->ni_rx_rings + nifp->ni_host_rx_rings;
    bound_rings r{};
    find_run(nifp, 0, tx_count, &r.first_tx, &r.last_tx);
    find_run(nifp, tx_count, rx_count, &r.first_rx, &r.last_rx);
    return r;
}

int inject_packet(netmap_if *nifp, uint16_t first, uint16_t last, uint16_t *cur, const void *buf, size_t size)
{
    if (nifp == nullptr || last < first)
        return 0;
    const uint32_t count = static_cast<uint32_t>(last - first) + 1;
    uint32_t ri = std::clamp(*cur, first, last);
    for (uint32_t tried = 0; tried < count; tried++, ri = ri == last ? first : ri + 1) {
        netmap_ring *ring = NETMAP_TXRING(nifp, ri);
        if (!ring_has_room(ring, size))
            continue;
        copy_into_ring(ring, static_cast<const char *>(buf), size);
        *cur = static_cast<uint16_t>(ri);
        return static_cast<int>(size);
    }
    return 0;
}

} // namespace netring::nm
