#include "pipe_sync.hpp"

#include <rings/bits.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace netring::rings {
namespace {

static_assert(offsetof(nr_slot, len) == 4 && offsetof(nr_slot, flags) == 6 && offsetof(nr_slot, ptr) == 8,
              "swap_stretch reads a slot as two little-endian 64-bit words");

// After publishing, wake the other side if it armed its wait flag; clearing the flag first means a
// burst of syncs costs one eventfd write, and a waiter that re-arms finds the eventfd counted.
inline bool take_need_kick(nr_sync &other)
{
    full_fence();
    if (load_relaxed(other.flags.appl_need_kick) == 0)
        return false;
    store_relaxed(other.flags.appl_need_kick, 0u);
    return true;
}

bool peer_gone(const ring_ref &r) { return load_acquire(r.sync->flags.status) == NR_SYNC_PEER_GONE; }

// Nobody will take what a tx ring holds once the peer is gone: the frames queued up to head are
// dropped (and counted), as on a link that went down, and every slot is free again, so a sender
// that waits for its slots back (netmap's pkt-gen does before it exits) is not stuck.
void drop_queued(const ring_ref &tx)
{
    const uint32_t n = tx.num_slots;
    const uint32_t head = load_relaxed(tx.ring->head);
    const uint32_t hwcur = load_relaxed(tx.sync->kern.hwcur);
    if (head >= n || hwcur >= n)
        return; // the next sync of a live ring would reset it; a dead one stays as it is
    tx.sync->kern.drops += hwcur <= head ? head - hwcur : head + n - hwcur;
    store_relaxed(tx.sync->kern.hwcur, head);
    store_relaxed(tx.sync->kern.hwtail, prev_index(head, n));
    store_relaxed(tx.ring->tail, prev_index(head, n));
}

// A slot as two 64-bit words in one vector register (GCC/Clang vector extension: SSE2 on x86-64,
// NEON on arm64), so it is loaded and stored whole.
using slot_words = uint64_t __attribute__((vector_size(16)));

// The zero-copy handoff of tx slots [from, to) (no wrap) into the same slots of the peer's rx ring,
// as netmap's pipes do it: the buffer is lent. The rx slot gets the tx slot's contents (its buffer,
// length, flags and ptr); the tx slot keeps its buffer, which comes back to the sender with the
// slot when the receiver releases it, unchanged unless the receiver swapped another buffer in
// (NS_BUF_CHANGED on the rx slot, handled by pipe_rxsync). A sender therefore gets its own frames
// back and need not rewrite them. Returns `to`, or the first slot that fails the checks (nothing
// moved from it).
//
// Slots are handled as two 64-bit words (buf_idx | len << 32 | flags << 48, then ptr): one 16-byte
// load of ours and one 16-byte store into the peer's; ours is stored only when the sender left
// NS_BUF_CHANGED on it (cleared, as netmap's kernel clears it). Every store here may queue behind a
// cross-core line transfer: the peer's slot lines sit in its cache (it read them last), and
// PREFETCHW a few lines ahead overlaps those transfers instead of paying them one after the other.
// `& (n - 1)` keeps the prefetch inside any ring. Not inlined: inside pipe_txsync the loop ran
// short of registers and reloaded its constants from the stack on every slot.
template <bool with_offsets>
[[gnu::noinline]] uint32_t lend_stretch(nr_slot *tx_slots, nr_slot *rx_slots, uint32_t from, uint32_t to,
                                        uint32_t n, const buffer_limits &limit, uint64_t &bytes)
{
    constexpr uint32_t prefetch_slots = 16; // four 64-byte lines ahead
    constexpr uint64_t changed = uint64_t{NS_BUF_CHANGED} << 48;
    const uint32_t ring_mask = n - 1;
    const uint64_t num_buffers = limit.num_buffers;
    const uint64_t buf_size = limit.buf_size;
    const uint64_t mask = limit.offset_mask;
    uint64_t sum = 0;
    uint32_t k = from;
    for (; k < to; k++) {
        if ((k & 3) == 0)
            prefetch_for_write(&rx_slots[(k + prefetch_slots) & ring_mask]);
        slot_words slot; // one read of the slot: checked and used as read
        std::memcpy(&slot, &tx_slots[k], sizeof slot);
        const uint64_t w0 = slot[0];
        const uint64_t buf = w0 & 0xffffffffu;
        const uint64_t len = (w0 >> 32) & 0xffffu;
        const uint64_t offset = with_offsets ? slot[1] & mask : 0; // slot_valid on the words read
        if ((buf >= num_buffers) | (offset > buf_size) | (len > buf_size - offset)) [[unlikely]]
            break;
        const slot_words lent = slot & slot_words{~changed, ~uint64_t{0}};
        std::memcpy(&rx_slots[k], &lent, sizeof lent);
        if (w0 & changed) [[unlikely]] {
            const uint64_t mine = w0 & ~changed;
            std::memcpy(&tx_slots[k], &mine, 8);
        }
        sum += len;
    }
    bytes += sum;
    return k;
}

// The receiver released rx slots [from, to): a buffer it swapped into one of them (NS_BUF_CHANGED)
// goes to the sender's slot, which lent its buffer, so the buffer the receiver took is no longer
// the sender's. The sender sees NS_BUF_CHANGED on that slot. A swapped-in index outside the
// region is not handed over: the sender keeps its buffer, and the error is counted.
uint32_t return_swapped(const ring_ref &rx, const ring_ref &peer_tx, uint32_t from, uint32_t to,
                        const buffer_limits &lim)
{
    const uint32_t n = rx.num_slots;
    uint32_t bad = 0;
    for (uint32_t k = from; k != to; k = k + 1 == n ? 0 : k + 1) {
        nr_slot &rs = rx.ring->slot[k];
        const uint16_t flags = load_relaxed(rs.flags);
        if (!(flags & NS_BUF_CHANGED)) [[likely]]
            continue;
        store_relaxed(rs.flags, static_cast<uint16_t>(flags & ~NS_BUF_CHANGED));
        const uint32_t buf = load_relaxed(rs.buf_idx);
        if (buf < NR_RESERVED_BUFFERS || buf >= lim.num_buffers) {
            bad++;
            continue;
        }
        nr_slot &ts = peer_tx.ring->slot[k];
        store_relaxed(ts.buf_idx, buf);
        store_relaxed(ts.flags, static_cast<uint16_t>(load_relaxed(ts.flags) | NS_BUF_CHANGED));
    }
    return bad;
}

// After a hw_index fault a ring's own kernel-side indices are garbage. The pipe invariants
// (A.tx.hwcur == B.rx.hwtail, A.tx.hwtail == B.rx.head - 1) give them back from the partner, so
// later syncs succeed again; a partner index that is itself out of range is replaced by a safe
// one: the pair may lose packets, nothing more.
void restore_tx_indices(const ring_ref &tx, const ring_ref &peer_rx, const buffer_limits &lim)
{
    const uint32_t n = tx.num_slots;
    uint32_t hwcur = load_relaxed(peer_rx.sync->kern.hwtail);
    if (hwcur >= n) {
        hwcur = 0;
        store_relaxed(peer_rx.sync->kern.hwtail, hwcur);
    }
    const uint32_t peer_head = load_relaxed(peer_rx.sync->app.head);
    const uint32_t hwtail = peer_head < n ? prev_index(peer_head, n) : hwcur;
    store_relaxed(tx.sync->kern.hwcur, hwcur);
    store_relaxed(tx.sync->kern.hwtail, hwtail);
    ring_reset(tx, hwcur, hwtail, lim);
}

void restore_rx_indices(const ring_ref &rx, const ring_ref &peer_tx, const buffer_limits &lim)
{
    const uint32_t n = rx.num_slots;
    uint32_t hwtail = load_relaxed(peer_tx.sync->kern.hwcur);
    if (hwtail >= n)
        hwtail = 0;
    uint32_t hwcur = load_relaxed(rx.sync->app.head);
    if (hwcur >= n)
        hwcur = hwtail;
    store_relaxed(rx.sync->kern.hwtail, hwtail);
    store_relaxed(rx.sync->app.cur, hwcur);
    store_relaxed(rx.sync->app.head, hwcur);
    ring_reset(rx, hwcur, hwtail, lim);
}

} // namespace

void pipe_pair_init(const ring_ref &tx, const ring_ref &rx)
{
    const uint32_t n = tx.num_slots;
    tx.ring->head = tx.ring->cur = 0;
    tx.ring->tail = n - 1;
    tx.sync->app.head = tx.sync->app.cur = 0;
    tx.sync->kern.hwcur = 0;
    tx.sync->kern.hwtail = n - 1;
    rx.ring->head = rx.ring->cur = rx.ring->tail = 0;
    rx.sync->app.head = rx.sync->app.cur = 0;
    rx.sync->kern.hwcur = 0;
    rx.sync->kern.hwtail = 0;
    tx.sync->flags.status = rx.sync->flags.status = NR_SYNC_OK;
}

sync_outcome pipe_txsync(const ring_ref &tx, const ring_ref &peer_rx, const buffer_limits &lim,
                         const mon_env *mon)
{
    const uint32_t n = tx.num_slots;
    if (peer_gone(tx)) {
        drop_queued(tx);
        return make_fault(sync_fault::peer_gone, 0, 0, 0);
    }
    // Our own kernel-side state lives in shared memory too, so it is checked like the rest.
    const uint32_t hwcur = load_relaxed(tx.sync->kern.hwcur);
    const uint32_t hwtail = load_relaxed(tx.sync->kern.hwtail);
    if (hwcur >= n || hwtail >= n) {
        restore_tx_indices(tx, peer_rx, lim);
        return make_fault(sync_fault::hw_index, hwcur >= n ? hwcur : hwtail, 0, n - 1);
    }
    const uint32_t head = load_relaxed(tx.ring->head);
    const uint32_t cur = load_relaxed(tx.ring->cur);
    if (const sync_outcome bad = index_fault(head, cur, hwcur, hwtail, n); !bad.ok()) {
        ring_reset(tx, hwcur, hwtail, lim);
        return bad;
    }

    sync_outcome out;
    uint64_t bytes = 0;
    uint32_t i = hwcur;
    // Limits in locals: the stores into shared memory below could alias `lim` as far as the
    // compiler knows, and would make it reload them on every slot.
    const buffer_limits limit = lim;
    while (i != head) {
        // A stretch that does not wrap, so the inner loop needs no wrap test per slot.
        const uint32_t end = head > i ? head : n;
        const uint32_t reached =
            limit.offset_mask
                ? lend_stretch<true>(tx.ring->slot, peer_rx.ring->slot, i, end, n, limit, bytes)
                : lend_stretch<false>(tx.ring->slot, peer_rx.ring->slot, i, end, n, limit, bytes);
        out.moved += reached - i;
        if (reached != end) { // a bad slot: what came before it is swapped and gets published
            const nr_slot s = slot_snapshot(tx.ring->slot[reached]);
            const uint32_t moved = out.moved;
            out = slot_fault(s, limit);
            out.moved = moved;
            i = reached;
            break;
        }
        i = end == n ? 0 : end;
    }

    if (out.moved) {
        // Copies for monitors before the frames are published: once the peer sees them it may
        // rewrite them in place.
        if (mon && load_relaxed(tx.sync->flags.monitors) != 0) [[unlikely]]
            pipe_feed_monitors(tx, hwcur, i, *mon);
        tx.sync->kern.packets += out.moved;
        tx.sync->kern.bytes += bytes;
        peer_rx.sync->kern.packets += out.moved;
        peer_rx.sync->kern.bytes += bytes;
        store_relaxed(tx.sync->kern.hwcur, i);
        store_release(peer_rx.sync->kern.hwtail, i); // partner of the load_acquire in pipe_rxsync
    }
    // Refill: the peer has released everything before its published head.
    const uint32_t peer_head = load_acquire(peer_rx.sync->app.head); // partner: store_release in rxsync
    const uint32_t new_tail = peer_head < n ? prev_index(peer_head, n) : hwtail;
    store_relaxed(tx.sync->kern.hwtail, new_tail);
    store_relaxed(tx.ring->tail, new_tail);

    if (!out.ok()) {
        ring_reset(tx, i, new_tail, lim);
        out.kick = out.moved && take_need_kick(*peer_rx.sync);
        return out;
    }
    if (out.moved && take_need_kick(*peer_rx.sync)) {
        out.kick = true;
        tx.sync->kern.kicks++;
    }
    return out;
}

sync_outcome pipe_rxsync(const ring_ref &rx, const ring_ref &peer_tx, const buffer_limits &lim)
{
    const uint32_t n = rx.num_slots;
    // For a pipe rx ring, hwcur is simply the head we published last.
    const uint32_t hwcur = load_relaxed(rx.sync->app.head);
    const uint32_t hwtail = load_acquire(rx.sync->kern.hwtail); // partner: store_release in txsync
    const uint32_t seen = load_relaxed(rx.ring->tail);
    if (hwcur >= n || hwtail >= n) {
        restore_rx_indices(rx, peer_tx, lim);
        return make_fault(sync_fault::hw_index, hwcur >= n ? hwcur : hwtail, 0, n - 1);
    }
    const uint32_t head = load_relaxed(rx.ring->head);
    const uint32_t cur = load_relaxed(rx.ring->cur);
    if (const sync_outcome bad = index_fault(head, cur, hwcur, hwtail, n); !bad.ok()) {
        const uint32_t keep = in_window(seen, hwcur, hwtail, n) ? seen : hwcur;
        ring_reset(rx, hwcur, keep, lim);
        return bad;
    }

    // Check what the peer handed over since the application last looked.
    sync_outcome out;
    const buffer_limits limit = lim; // in locals, as in pipe_txsync
    for (uint32_t j = in_window(seen, head, hwtail, n) ? seen : head; j != hwtail;) {
        const uint32_t end = hwtail > j ? hwtail : n; // a stretch that does not wrap
        // Without data offsets (pipes' default) one quick pass over the stretch usually settles it;
        // with offsets, or when it fails, each slot is checked (and repaired) on its own.
        if (limit.offset_mask != 0 || !stretch_valid_no_offsets(rx.ring->slot, j, end, limit)) {
            for (uint32_t k = j; k < end; k++) {
                const nr_slot slot = slot_snapshot(rx.ring->slot[k]);
                if (!slot_valid(slot, limit)) {
                    slot_repair(rx.ring->slot[k], slot, limit);
                    rx.sync->kern.errors++;
                    out.fault = sync_fault::slot_buf;
                }
            }
        }
        out.moved += end - j;
        j = end == n ? 0 : end;
    }
    store_relaxed(rx.ring->tail, hwtail);

    if (head != hwcur) {
        if (return_swapped(rx, peer_tx, hwcur, head, limit)) {
            rx.sync->kern.errors++;
            out.fault = sync_fault::slot_buf;
        }
        store_relaxed(rx.sync->app.cur, cur);
        store_release(rx.sync->app.head, head); // partner: load_acquire of the peer head in txsync
        out.kick = take_need_kick(*peer_tx.sync);
    }
    if (out.ok() && hwtail == cur && peer_gone(rx)) // nothing more can arrive
        out.fault = sync_fault::peer_gone;
    return out;
}

bool pipe_arm_wait(const ring_ref &r, const ring_ref &partner, bool want_rx)
{
    store_relaxed(r.sync->flags.appl_need_kick, 1u);
    full_fence(); // partner: the fence in take_need_kick on the other side
    if (load_relaxed(r.sync->flags.status) != NR_SYNC_OK)
        return false;
    const uint32_t n = r.num_slots;
    const uint32_t seen = load_relaxed(r.ring->tail);
    if (want_rx)
        return load_acquire(r.sync->kern.hwtail) == seen && load_relaxed(r.ring->cur) == seen;
    if (load_relaxed(r.ring->cur) != seen)
        return false; // free slots the application has not used yet: nothing to wait for
    const uint32_t peer_head = load_acquire(partner.sync->app.head);
    return peer_head >= n || prev_index(peer_head, n) == seen;
}

void disarm_wait(const ring_ref &r) { store_relaxed(r.sync->flags.appl_need_kick, 0u); }

} // namespace netring::rings
