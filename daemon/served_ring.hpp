// A ring the daemon serves as its kernel side: a NIC queue's rings (the NIC worker) and a switch
// client port's rings (the switch's forwarding thread). The record says where the ring lives and
// holds its eventfds; hwcur/hwtail are the server's own copies, which it publishes to the sync block
// and never reads back from shared memory.
#pragma once

#include <netring/unique_fd.hpp>
#include <rings/bits.hpp>
#include <rings/eventfd.hpp>
#include <rings/ring_fault.hpp>
#include <rings/ring_ops.hpp>

#include <netring/error.hpp>

#include <cstdint>
#include <span>
#include <string>

namespace netring::netringd {

class region;

struct served_ring {
    uint64_t ring_off = 0;
    uint64_t sync_off = 0;
    uint64_t meta_bytes = 0; // arena range at ring_off: ring block and sync block
    uint32_t num_slots = 0;
    unique_fd kick;   // written by the application, read by the server
    unique_fd notify; // written by the server, polled by the application
    uint32_t hwcur = 0;
    uint32_t hwtail = 0;
    uint32_t reclaim = 0; // NIC tx: first slot whose frame the I/O still holds
};

// The bytes of a `slots`-slot ring's block as the metadata arena places it (rounded to its
// alignment); the ring's sync block follows it.
uint64_t ring_block_bytes(uint32_t slots);
// Whether a ring a predecessor recorded lies as every ring is laid out (ring block, then its sync
// block right after it, `meta_bytes` for both) inside the region's metadata area.
bool ring_in_place(const region &mem, uint64_t ring_off, uint64_t sync_off, uint64_t meta_bytes, uint32_t slots);

// Reserves the ring block and sync block of a `slots`-slot ring in the region's metadata area and
// makes the ring's eventfds. On failure the caller releases what `r` records (meta_bytes).
status served_ring_reserve(region &mem, served_ring &r, uint32_t slots, const std::string &region_name);

// Formats a reserved ring over `bufs` (one buffer per slot) and publishes its indices: an rx ring
// starts empty, a tx ring with every slot but one free. `data_offsets`: the ring's slots may carry
// a data offset inside the buffer (frames an AF_XDP socket received start past the beginning).
void served_ring_format(region &mem, served_ring &r, uint16_t ringid, uint16_t dir,
                        std::span<const uint32_t> bufs, bool data_offsets);

// The ring in a mapping of its region at `base`; the slot count from the record, not the region.
inline rings::ring_ref ring_ref_of(uint8_t *base, const served_ring &r)
{
    return {reinterpret_cast<nr_ring *>(base + r.ring_off), reinterpret_cast<nr_sync *>(base + r.sync_off),
            r.num_slots};
}

// After publishing hwtail: wake the application if it said it sleeps, and count the kick. The store
// of hwtail must be visible before the flag is read (store-load: a full fence); partner: the fence
// in the client's arm between setting appl_need_kick and re-reading hwtail.
inline void wake_app(const rings::ring_ref &r, const served_ring &rec)
{
    rings::full_fence();
    if (rings::load_relaxed(r.sync->flags.appl_need_kick) == 0)
        return;
    rings::store_relaxed(r.sync->flags.appl_need_kick, 0u);
    rings::eventfd_signal(rec.notify.get());
    rings::store_relaxed(r.sync->kern.kicks, rings::load_relaxed(r.sync->kern.kicks) + 1);
}

// The server's own hwcur/hwtail into the sync block: after a reset, and by a successor that adopted
// the ring (its predecessor may have died before publishing them).
inline void publish_served(const rings::ring_ref &r, const served_ring &rec)
{
    rings::store_relaxed(r.sync->kern.hwcur, rec.hwcur);
    rings::store_release(r.sync->kern.hwtail, rec.hwtail); // partner: the client's acquire of hwtail
}

// A ring whose application wrote indices or slots that fail the checks: netmap's reinit from the
// server's own hwcur/hwtail (counted in kern.errors, which a shm client reports as ring_reset), the
// application's published head/cur put back in step, and the published kernel indices restored
// from the server's copies in case the application overwrote them too.
inline void reset_served(const rings::ring_ref &r, const served_ring &rec, const rings::buffer_limits &lim)
{
    rings::ring_reset(r, rec.hwcur, rec.hwtail, lim);
    rings::store_relaxed(r.sync->app.cur, rec.hwcur);
    rings::store_relaxed(r.sync->app.head, rec.hwcur);
    publish_served(r, rec);
}

// A slot the server repaired and skipped: counted like a reset, so the client hears of it. An
// atomic add: the control thread counts the socket path's resets in the same field.
inline void count_ring_error(const rings::ring_ref &r) { rings::atomic_ref_add(r.sync->kern.errors, uint64_t{1}); }

// A socket-path TXSYNC/RXSYNC of a served ring, on the control thread while the server's thread
// runs. The client's head and cur (read once from its ring) and, on a tx ring, the slots they hand
// over are checked by the rules the server applies (index_fault, slot_valid) against the indices
// the server published. Valid: they are published to the sync block as a shm client would publish
// them, and the server is kicked. Not valid: nothing is published and the outcome names the fault;
// the caller resets the ring (served_socket_reset) and answers ring_reset.
rings::sync_outcome served_socket_sync(const rings::ring_ref &r, const served_ring &rec,
                                       const rings::buffer_limits &lim, bool tx);

// The socket path's reset, on the control thread while the server's thread runs on: only what the
// application owns changes. head and cur go back to the head last published (what the server
// accepted), the application's slots are repaired, tail is the one published, and the reset is
// counted. The server's thread is neither stopped nor touched, so a client resetting its ring over
// and over costs the others nothing.
void served_socket_reset(const rings::ring_ref &r, const rings::buffer_limits &lim);

} // namespace netring::netringd
