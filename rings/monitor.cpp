#include "monitor.hpp"

#include <rings/bits.hpp>

#include <algorithm>
#include <cstring>
#include <ctime>

namespace netring::rings {
namespace {

constexpr uint32_t feed_batch = 64;

// A counter of the monitor ring's sync block: one writer (the producer), read by the monitor and
// STATS at any time, so stored whole.
void bump(uint64_t &counter, uint64_t by)
{
    if (by)
        store_relaxed(counter, load_relaxed(counter) + by);
}

template <class T>
T *at(uint8_t *base, uint64_t off)
{
    return reinterpret_cast<T *>(base + off);
}

bool inside(const mon_env &env, uint64_t off, uint64_t len, uint64_t align)
{
    return off % align == 0 && off <= env.size && len <= env.size - off;
}

// An entry of a table another process can write, checked like any shared memory: a ring of a
// sane size and a sync block, both inside the region.
bool entry_ring(const mon_env &env, const nr_mon_entry &e, ring_ref &out)
{
    const uint32_t n = load_relaxed(const_cast<uint32_t &>(e.num_slots));
    const uint64_t ring_off = load_relaxed(const_cast<uint64_t &>(e.ring_ofs));
    const uint64_t sync_off = load_relaxed(const_cast<uint64_t &>(e.sync_ofs));
    if (n < 2 || n > (1u << 20) || !is_pow2(n) || !inside(env, ring_off, nr_ring_block_size(n), alignof(nr_ring)) ||
        !inside(env, sync_off, sizeof(nr_sync), alignof(nr_sync)))
        return false;
    out = {at<nr_ring>(env.base, ring_off), at<nr_sync>(env.base, sync_off), n};
    return true;
}

} // namespace

uint32_t monitor_room(const ring_ref &mon)
{
    const uint32_t slots = mon.num_slots;
    const uint32_t hwtail = load_relaxed(mon.sync->kern.hwtail);
    const uint32_t head = load_acquire(mon.sync->app.head);
    if (head >= slots)
        return 0;
    if (hwtail >= slots)
        return slots - 1; // monitor_push starts the ring again at head
    return distance(hwtail, prev_index(head, slots), slots);
}

uint64_t monitor_clock_ns()
{
    timespec ts;
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

mon_push_result monitor_push(const ring_ref &mon, const mon_env &env, const mon_frame *frames, uint32_t n,
                             uint64_t ts_ns)
{
    mon_push_result res;
    const uint32_t slots = mon.num_slots;
    nr_sync_kern &k = mon.sync->kern;
    uint32_t hwtail = load_relaxed(k.hwtail);
    const uint32_t head = load_acquire(mon.sync->app.head); // partner: the monitor's store_release
    if (head >= slots) { // nothing can be trusted about what the monitor released
        bump(k.drops, n);
        bump(k.errors, 1);
        return res;
    }
    if (hwtail >= slots) { // our own index, rewritten: start again empty where the monitor stands
        hwtail = head;
        bump(k.errors, 1);
    }
    const uint32_t room = distance(hwtail, prev_index(head, slots), slots);
    const uint32_t take = std::min(room, n);
    const uint64_t buf_size = env.lim.buf_size;
    uint64_t bytes = 0;
    uint32_t i = hwtail;
    for (uint32_t j = 0; j < take; j++) {
        nr_slot &slot = mon.ring->slot[i];
        uint32_t buf = load_relaxed(slot.buf_idx);
        uint16_t len = static_cast<uint16_t>(std::min<uint64_t>(frames[j].len, buf_size));
        if (buf < NR_RESERVED_BUFFERS || buf >= env.lim.num_buffers) { // the monitor swapped in garbage
            buf = NR_DUMMY_BUFFER;
            store_relaxed(slot.buf_idx, buf);
            len = 0;
            bump(k.errors, 1);
        } else {
            std::memcpy(env.base + env.buffers_offset + uint64_t{buf} * buf_size, frames[j].data, len);
        }
        store_relaxed(slot.len, len);
        store_relaxed(slot.flags, uint16_t{0});
        store_relaxed(slot.ptr, ts_ns);
        bytes += len;
        i = next_index(i, slots);
    }
    if (take) {
        store_release(k.hwtail, i); // partner: the monitor's load_acquire of hwtail
        bump(k.packets, take);
        bump(k.bytes, bytes);
    }
    bump(k.drops, n - take);
    res.copied = take;
    if (take == 0)
        return res; // nothing new for the monitor: no reason to wake it
    // A monitor that sleeps armed appl_need_kick; store-load order against it (a full fence).
    full_fence();
    if (load_relaxed(mon.sync->flags.appl_need_kick) != 0) {
        store_relaxed(mon.sync->flags.appl_need_kick, 0u);
        bump(k.kicks, 1);
        res.wake = true;
    }
    return res;
}

void pipe_feed_monitors(const ring_ref &tx, uint32_t from, uint32_t to, const mon_env &env)
{
    const uint64_t table_off = load_relaxed(tx.sync->flags.mon_table_ofs);
    if (!inside(env, table_off, sizeof(nr_mon_table), alignof(nr_mon_table)) || table_off == 0)
        return;
    nr_mon_table &t = *at<nr_mon_table>(env.base, table_off);
    // Enter: seq odd while the table is read and its rings written. The daemon clears an entry,
    // fences and reads seq; with this fence one of the two sees the other (mon_table_quiet).
    const uint32_t seq = load_relaxed(t.seq);
    store_relaxed(t.seq, seq + ((seq & 1) ? 2 : 1));
    full_fence();

    // A monitor whose ring is full gets the whole stretch counted as dropped, without a look at
    // the frames: a stopped monitor must cost the pipe as little as possible.
    const uint32_t n = tx.num_slots;
    const uint32_t stretch = distance(from, to, n);
    ring_ref targets[NR_MON_MAX];
    uint32_t count = 0;
    for (nr_mon_entry &e : t.entry) {
        if (load_acquire(e.state) != NR_MON_ENTRY_ACTIVE || !entry_ring(env, e, targets[count]))
            continue;
        if (monitor_room(targets[count]) == 0)
            bump(targets[count].sync->kern.drops, stretch);
        else
            count++;
    }

    const uint64_t ts = count ? monitor_clock_ns() : 0;
    mon_frame batch[feed_batch];
    for (uint32_t i = from; count && i != to;) {
        uint32_t k = 0;
        for (; k < feed_batch && i != to; i = next_index(i, n)) {
            const nr_slot s = slot_snapshot(tx.ring->slot[i]);
            if (!slot_valid(s, env.lim))
                continue; // what the handoff refused, or what the sender rewrote since
            batch[k++] = {env.base + env.buffers_offset + uint64_t{s.buf_idx} * env.lim.buf_size +
                              (s.ptr & env.lim.offset_mask),
                          s.len};
        }
        for (uint32_t m = 0; m < count; m++)
            (void)monitor_push(targets[m], env, batch, k, ts); // a pipe monitor polls: no wake-up
    }
    store_release(t.seq, load_relaxed(t.seq) + 1); // leave: even
}

bool mon_table_quiet(nr_mon_table &t, uint32_t &seen)
{
    full_fence(); // partner: the fence after the producer's odd seq
    const uint32_t now = load_acquire(t.seq);
    if ((now & 1) == 0)
        return true;
    if (seen != 0 && now != seen)
        return true; // the copy that was under way has finished
    seen = now;
    return false;
}

} // namespace netring::rings
