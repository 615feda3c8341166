// switch_fwd, ring side: taking frames from a port, giving its slots back, and writing frames into a
// destination port's ring (vale_fwd.cpp has the loop, the forwarding decisions and the sleeping).
#include "fwd_ring_ops.hpp"
#include "monitor_rings.hpp"
#include "switch_fwd.hpp"

#include <chrono>
#include <cstring>

namespace netring::netringd {

using namespace fwd_detail;

// Copies the frames in slots [from, to) of a client port's ring for its monitors. The slots are
// read again here: each is checked before its bytes are.
void switch_fwd::feed_monitors(const fwd_endpoint &ep, const served_ring &ring, uint32_t from, uint32_t to,
                               const std::vector<const served_ring *> &mons)
{
    const rings::ring_ref rr = ring_ref_of(ep.base, ring);
    rings::mon_frame frames[batch];
    const uint64_t ts = rings::monitor_clock_ns();
    uint32_t i = from;
    while (i != to) {
        uint32_t k = 0;
        for (; k < batch && i != to; i = rings::next_index(i, ring.num_slots)) {
            const nr_slot s = rings::slot_snapshot(rr.ring->slot[i]);
            if (!rings::slot_valid(s, ep.lim) || s.len < eth_header)
                continue; // what the switch skipped
            frames[k++] = {ep.bufs + uint64_t{s.buf_idx} * ep.lim.buf_size + (s.ptr & ep.lim.offset_mask), s.len};
        }
        for (const served_ring *m : mons)
            monitor_feed(ep.mon, *m, frames, k, ts);
    }
}

// Frames from one ring of `ep` (client endpoints rotate over their NIC rx rings).
uint32_t switch_fwd::pull(fwd_endpoint &ep, frame *out, uint32_t max, uint32_t &ring_index)
{
    uint32_t k = 0;
    uint32_t slot_index = 0;
    const uint32_t bs = ep.lim.buf_size;
    auto take = [&](nr_slot &slot) {
        const nr_slot s = rings::slot_snapshot(slot);
        if (!rings::slot_valid(s, ep.lim)) {
            rings::slot_repair(slot, s, ep.lim);
            ep.counters.errors.fetch_add(1, std::memory_order_relaxed);
            if (ep.served)
                count_ring_error(ring_ref_of(ep.base, *ep.tx)); // the client reports ring_reset
            return;
        }
        if (s.len < eth_header)
            return; // nothing to switch on: skipped
        const uint8_t *data = ep.bufs + uint64_t{s.buf_idx} * bs + (s.ptr & ep.lim.offset_mask);
        // The sender wrote this frame on its own CPU: start fetching its first line (the MACs the
        // decision reads, the start of the copy) now, so the misses of a batch overlap.
        __builtin_prefetch(data);
        out[k++] = {data, s.len, slot_index};
    };
    if (ep.served) {
        served_ring &r = *ep.tx;
        const rings::ring_ref rr = ring_ref_of(ep.base, r);
        const uint32_t head = rings::load_acquire(rr.sync->app.head);
        if (head == r.hwcur) {
            r.reclaim = r.hwcur; // nothing pulled: release() must not move hwcur
            return 0;
        }
        const uint32_t cur = rings::load_relaxed(rr.sync->app.cur);
        if (!rings::indices_valid(head, cur, r.hwcur, r.hwtail, r.num_slots)) {
            reset_served(rr, r, ep.lim);
            r.reclaim = r.hwcur; // frames pulled but held back are the client's again
            ep.counters.errors.fetch_add(1, std::memory_order_relaxed);
            return 0;
        }
        uint32_t i = r.hwcur;
        for (uint32_t seen = 0; i != head && seen < max; seen++, i = rings::next_index(i, r.num_slots)) {
            slot_index = i;
            take(rr.ring->slot[i]);
        }
        r.reclaim = i; // where this pull stopped: release() moves hwcur there
        return k;
    }
    for (uint32_t tries = 0; tries < ep.in.size(); tries++) {
        ring_index = (ring_index + 1) % static_cast<uint32_t>(ep.in.size());
        app_ring &a = ep.in[ring_index];
        uint32_t tail;
        if (!app_tail(a, tail) || tail == a.head)
            continue;
        uint32_t i = a.head;
        for (uint32_t seen = 0; i != tail && seen < max; seen++, i = rings::next_index(i, a.r.num_slots)) {
            slot_index = i;
            take(a.r.ring->slot[i]);
        }
        a.pull_end = i;
        if (k == 0)
            release(ep, ring_index, i); // only slots with nothing to switch: hand them back
        return k;
    }
    return 0;
}

// Hands back the slots before `upto_slot` (where pull() stopped, or the first frame held back).
void switch_fwd::release(fwd_endpoint &ep, uint32_t ring_index, uint32_t upto_slot)
{
    if (ep.served) { // published by publish(), once the pass is committed
        served_ring &r = *ep.tx;
        if (upto_slot == r.hwcur)
            return;
        if (!ep.tx_released) {
            ep.tx_released = true;
            ep.tx_from = r.hwcur;
        }
        r.hwcur = upto_slot;
        r.hwtail = rings::prev_index(r.hwcur, r.num_slots); // copied out already: every slot is free again
        return;
    }
    app_ring &a = ep.in[ring_index];
    if (upto_slot == a.head)
        return;
    a.head = upto_slot;
    publish_head(a);
}

bool switch_fwd::open_out(fwd_endpoint &ep)
{
    if (ep.out_pass == pass_)
        return true;
    ep.out_pass = pass_;
    ep.out_room = 0;
    if (ep.served) {
        served_ring &r = *ep.rx;
        const rings::ring_ref rr = ring_ref_of(ep.base, r);
        const uint32_t head = rings::load_acquire(rr.sync->app.head);
        if (head != r.hwcur) {
            if (!rings::indices_valid(head, rings::load_relaxed(rr.sync->app.cur), r.hwcur, r.hwtail,
                                      r.num_slots)) {
                reset_served(rr, r, ep.lim);
                ep.counters.errors.fetch_add(1, std::memory_order_relaxed);
                return false;
            }
            r.hwcur = head;
            rings::store_release(rr.sync->kern.hwcur, r.hwcur);
        }
        ep.out_cursor = r.hwtail;
        ep.out_room = rings::distance(r.hwtail, rings::prev_index(r.hwcur, r.num_slots), r.num_slots);
    } else {
        uint32_t tail;
        if (!app_tail(ep.out, tail))
            return false;
        ep.out_cursor = ep.out.head;
        ep.out_room = rings::distance(ep.out.head, tail, ep.out.r.num_slots);
    }
    if (ep.out_room > 0) {
        ep.full_since_ns = 0;
        ep.stalled = false;
    }
    return true;
}

int64_t switch_fwd::now_ns()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Whether a frame for `dst` may be handled now: it has room, or it is stalled (the frame will be
// dropped). A destination that just filled up holds the source back instead, for a while.
bool switch_fwd::can_take(uint16_t dst)
{
    fwd_endpoint &ep = *eps_[dst];
    if (!open_out(ep) || ep.out_room > 0 || ep.stalled)
        return true; // a ring that is gone or unusable drops, it never holds anyone back
    const int64_t now = now_ns();
    if (ep.full_since_ns == 0)
        ep.full_since_ns = now;
    if (now - ep.full_since_ns >= stall_grace_ns_) {
        ep.stalled = true;
        return true;
    }
    holding_ = true;
    return false;
}

void switch_fwd::deliver(uint16_t dst, const frame &f)
{
    fwd_endpoint &ep = *eps_[dst];
    if (!open_out(ep) || ep.out_room == 0) {
        add(ep.counters.drops, 1);
        return;
    }
    nr_ring *ring = ep.served ? ring_ref_of(ep.base, *ep.rx).ring : ep.out.r.ring;
    const uint32_t n = ep.served ? ep.rx->num_slots : ep.out.r.num_slots;
    nr_slot &slot = ring->slot[ep.out_cursor];
    uint32_t buf = rings::load_relaxed(slot.buf_idx);
    if (buf >= ep.lim.num_buffers) {
        buf = NR_DUMMY_BUFFER;
        rings::store_relaxed(slot.buf_idx, buf);
        ep.counters.errors.fetch_add(1, std::memory_order_relaxed);
    }
    const uint16_t len = f.len <= ep.lim.buf_size ? f.len : static_cast<uint16_t>(ep.lim.buf_size);
    std::memcpy(ep.bufs + uint64_t{buf} * ep.lim.buf_size, f.data, len);
    rings::store_relaxed(slot.len, len);
    rings::store_relaxed(slot.ptr, uint64_t{0});
    rings::store_relaxed(slot.flags, uint16_t{0});
    ep.out_cursor = rings::next_index(ep.out_cursor, n);
    ep.out_room--;
    if (ep.out_room == 0 && ep.full_since_ns == 0)
        ep.full_since_ns = now_ns(); // the grace runs from when it filled
    ep.out_touched = true;
    ep.pass_tx_packets++;
    ep.pass_tx_bytes += len;
}

// The end of a pass, before its commit: the rx ring's hwtail moves past the frames written. Whether
// this endpoint's served cursors moved (a commit is due).
bool switch_fwd::settle(fwd_endpoint &ep)
{
    if (!ep.served)
        return false;
    if (ep.out_touched) {
        ep.rx_from = ep.rx->hwtail;
        ep.rx->hwtail = ep.out_cursor;
    }
    return ep.out_touched || ep.tx_released;
}

// Every served endpoint's cursors into the journal, as one commit. Until it lands the clients see
// none of this pass; after it a successor publishes what they have not seen yet.
void switch_fwd::commit()
{
    if (!journal_)
        return;
    for (const fwd_endpoint *ep : eps_)
        if (ep->served)
            journal_->stage(ep->journal_slot, {ep->tx->hwcur, ep->tx->hwtail, ep->rx->hwcur, ep->rx->hwtail});
    journal_->commit();
}

// The pass's indices to the clients, after the commit: slots taken from the tx ring, frames
// written to the rx ring (and to the ports' monitors).
void switch_fwd::publish(fwd_endpoint &ep)
{
    if (ep.tx_released) {
        ep.tx_released = false;
        served_ring &r = *ep.tx;
        const rings::ring_ref rr = ring_ref_of(ep.base, r);
        if (!ep.tx_mon.empty()) [[unlikely]] // what the port sent, once the switch is done with it
            feed_monitors(ep, r, ep.tx_from, r.hwcur, ep.tx_mon);
        rings::store_release(rr.sync->kern.hwcur, r.hwcur);
        rings::store_release(rr.sync->kern.hwtail, r.hwtail);
        wake_app(rr, r);
    }
    if (ep.out_touched)
        flush(ep);
}

void switch_fwd::flush(fwd_endpoint &ep)
{
    ep.out_touched = false;
    add(ep.counters.tx_packets, ep.pass_tx_packets);
    add(ep.counters.tx_bytes, ep.pass_tx_bytes);
    ep.pass_tx_packets = 0;
    ep.pass_tx_bytes = 0;
    if (ep.served) {
        served_ring &r = *ep.rx;
        const rings::ring_ref rr = ring_ref_of(ep.base, r);
        if (!ep.rx_mon.empty()) [[unlikely]] // what the port receives, before the client sees it
            feed_monitors(ep, r, ep.rx_from, r.hwtail, ep.rx_mon);
        rings::store_release(rr.sync->kern.hwtail, r.hwtail);
        wake_app(rr, r);
        return;
    }
    ep.out.head = ep.out_cursor;
    publish_head(ep.out);
}

} // namespace netring::netringd
