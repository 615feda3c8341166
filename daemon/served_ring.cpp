#include "served_ring.hpp"

#include "region.hpp"

#include <rings/region_format.hpp>

#include <sys/eventfd.h>

#include <cerrno>

namespace netring::netringd {

uint64_t ring_block_bytes(uint32_t slots)
{
    return rings::round_up(nr_ring_block_size(slots), rings::arena::alignment);
}

bool ring_in_place(const region &mem, uint64_t ring_off, uint64_t sync_off, uint64_t meta_bytes, uint32_t slots)
{
    const uint64_t ring_bytes = ring_block_bytes(slots);
    return sync_off == ring_off + ring_bytes && meta_bytes == ring_bytes + sizeof(nr_sync) &&
           mem.holds_meta(ring_off, meta_bytes);
}

status served_ring_reserve(region &mem, served_ring &r, uint32_t slots, const std::string &region_name)
{
    const uint64_t ring_bytes = ring_block_bytes(slots);
    const auto off = mem.meta().reserve(ring_bytes + sizeof(nr_sync));
    if (!off)
        return error::from(errc::out_of_buffers, "region " + region_name + " metadata area has " +
                                                     std::to_string(mem.meta().free_bytes()) +
                                                     " bytes free, too few for a ring of " +
                                                     std::to_string(slots) +
                                                     " slots; raise region_meta_bytes");
    r.ring_off = *off;
    r.sync_off = *off + ring_bytes;
    r.meta_bytes = ring_bytes + sizeof(nr_sync);
    r.num_slots = slots;
    r.kick.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    r.notify.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!r.kick.valid() || !r.notify.valid())
        return error::from_errno(errno, "eventfd for a ring of " + region_name);
    return ok_status();
}

void served_ring_format(region &mem, served_ring &r, uint16_t ringid, uint16_t dir,
                        std::span<const uint32_t> bufs, bool data_offsets)
{
    uint8_t *base = mem.base();
    rings::init_ring(base, r.ring_off, mem.geometry(), r.num_slots, ringid, dir, bufs);
    rings::init_sync(base, r.sync_off);
    const rings::ring_ref rr = ring_ref_of(base, r);
    if (data_offsets)
        rr.ring->offset_mask = mem.geometry().buf_size - 1;
    r.hwcur = r.reclaim = 0;
    r.hwtail = dir == NR_RING_DIR_TX ? r.num_slots - 1 : 0;
    rr.ring->head = rr.ring->cur = 0;
    rr.ring->tail = r.hwtail;
    rr.sync->kern.hwcur = 0;
    rr.sync->kern.hwtail = r.hwtail;
}

rings::sync_outcome served_socket_sync(const rings::ring_ref &r, const served_ring &rec,
                                       const rings::buffer_limits &lim, bool tx)
{
    const uint32_t n = r.num_slots;
    // hwtail before hwcur: the server may move both in between, and [new hwcur, old hwtail] still
    // holds every head a correct client can have; [old hwcur, new hwtail] may hold none of them.
    const uint32_t hwtail = rings::load_acquire(r.sync->kern.hwtail); // partner: the server's store_release
    const uint32_t hwcur = rings::load_acquire(r.sync->kern.hwcur);
    if (hwcur >= n || hwtail >= n)
        return rings::make_fault(rings::sync_fault::hw_index, hwcur >= n ? hwcur : hwtail, 0, n - 1);
    const uint32_t head = rings::load_relaxed(r.ring->head);
    const uint32_t cur = rings::load_relaxed(r.ring->cur);
    if (const rings::sync_outcome bad = rings::index_fault(head, cur, hwcur, hwtail, n); !bad.ok())
        return bad;
    if (tx) {
        for (uint32_t i = hwcur; i != head; i = rings::next_index(i, n)) {
            const nr_slot s = rings::slot_snapshot(r.ring->slot[i]);
            if (s.len != 0 && !rings::slot_valid(s, lim)) // an empty slot is skipped, as the server does
                return rings::slot_fault(s, lim);
        }
    }
    rings::store_relaxed(r.sync->app.cur, cur);
    rings::store_release(r.sync->app.head, head); // partner: the server's load_acquire of app.head
    rings::eventfd_signal(rec.kick.get());
    return {};
}

void served_socket_reset(const rings::ring_ref &r, const rings::buffer_limits &lim)
{
    const uint32_t n = r.num_slots;
    const uint32_t hwtail = rings::load_acquire(r.sync->kern.hwtail); // the order of served_socket_sync
    const uint32_t hwcur = rings::load_acquire(r.sync->kern.hwcur);
    rings::atomic_ref_add(r.sync->kern.errors, uint64_t{1});
    if (hwcur >= n || hwtail >= n)
        return; // the client overwrote what the server publishes: the server's next publish repairs it
    uint32_t head = rings::load_relaxed(r.sync->app.head);
    if (!rings::in_window(head, hwcur, hwtail, n))
        head = hwcur;
    // [head, hwtail) is the application's: the server reads none of it until the next publish.
    for (uint32_t i = head; i != hwtail; i = rings::next_index(i, n)) {
        const nr_slot s = rings::slot_snapshot(r.ring->slot[i]);
        if (!rings::slot_valid(s, lim))
            rings::slot_repair(r.ring->slot[i], s, lim);
    }
    rings::store_relaxed(r.ring->head, head);
    rings::store_relaxed(r.ring->cur, head);
    rings::store_relaxed(r.ring->tail, hwtail);
}

} // namespace netring::netringd
