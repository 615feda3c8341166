// Ring index arithmetic and the checks every sync runs on client-written indices and slots.
// Pure code: no syscalls, no allocation. Shared-memory fields are accessed through
// std::atomic_ref so each is read exactly once into a local before it is checked and used.
#pragma once

#include <netring/layout.h>

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace netring::rings {

// A ring as one side sees it: pointers into its own mapping, and the slot count from a trusted copy
// (the daemon's record, or the client's copy taken at open), never re-read from shared memory.
struct ring_ref {
    nr_ring *ring = nullptr;
    nr_sync *sync = nullptr;
    uint32_t num_slots = 0;
};

// What a slot may point at in this region.
struct buffer_limits {
    uint32_t num_buffers = 0; // buffer indices are < num_buffers
    uint32_t buf_size = 0;
    uint64_t offset_mask = 0; // bits of slot.ptr that carry a data offset
};

template <class T>
inline T load_relaxed(T &field)
{
    return std::atomic_ref<T>(field).load(std::memory_order_relaxed);
}
template <class T>
inline T load_acquire(T &field)
{
    return std::atomic_ref<T>(field).load(std::memory_order_acquire);
}
template <class T>
inline void store_relaxed(T &field, T v)
{
    std::atomic_ref<T>(field).store(v, std::memory_order_relaxed);
}
template <class T>
inline void store_release(T &field, T v)
{
    std::atomic_ref<T>(field).store(v, std::memory_order_release);
}

// An add to a shared counter that two threads may bump (error paths only: a locked instruction).
template <class T>
inline void atomic_ref_add(T &field, T v)
{
    std::atomic_ref<T>(field).fetch_add(v, std::memory_order_relaxed);
}

// Brings a cache line in exclusive state, ready to be written (layout.h says why PREFETCHW).
inline void prefetch_for_write(const void *p) { nr_prefetch_for_write(p); }

inline uint32_t next_index(uint32_t i, uint32_t n) { return i + 1 == n ? 0 : i + 1; }
inline uint32_t prev_index(uint32_t i, uint32_t n) { return i == 0 ? n - 1 : i - 1; }

// Slots from `from` forward to `to` on a ring of n slots.
inline uint32_t distance(uint32_t from, uint32_t to, uint32_t n) { return nr_ring_distance(from, to, n); }

// x inside the circular window [lo, hi] (both ends included) of a ring of n slots.
inline bool in_window(uint32_t x, uint32_t lo, uint32_t hi, uint32_t n)
{
    return x < n && distance(lo, x, n) <= distance(lo, hi, n);
}

// Slots in use from `from` forward to `to`, both indices read from shared memory: one outside the
// ring counts as index 0, so what a tool shows stays below n whatever a client wrote.
inline uint32_t ring_occupancy(uint32_t from, uint32_t to, uint32_t n)
{
    if (n == 0)
        return 0;
    return distance(from < n ? from : 0, to < n ? to : 0, n);
}

// How full a ring is, for STATS: on an rx ring the frames the application has not released yet
// (app head to hwtail), on a tx ring the frames queued and not taken yet (hwcur to app head).
// A tx head outside [hwcur, hwtail] counts as nothing queued: a client that syncs over the socket
// never publishes its head in the sync block, so the one there can be stale. Each index is read
// once; the result is a snapshot, not a synchronisation point.
inline uint32_t ring_occupied(nr_sync &sync, bool rx, uint32_t n)
{
    if (n == 0)
        return 0;
    const uint32_t raw_head = load_relaxed(sync.app.head);
    const uint32_t head = raw_head < n ? raw_head : 0;
    if (rx)
        return ring_occupancy(head, load_relaxed(sync.kern.hwtail), n);
    const uint32_t raw_hwcur = load_relaxed(sync.kern.hwcur), raw_hwtail = load_relaxed(sync.kern.hwtail);
    const uint32_t hwcur = raw_hwcur < n ? raw_hwcur : 0, hwtail = raw_hwtail < n ? raw_hwtail : 0;
    return in_window(head, hwcur, hwtail, n) ? distance(hwcur, head, n) : 0;
}

// netmap's sync prologue: the application may only have moved head and cur forward inside what it
// owns: hwcur <= head <= cur <= hwtail, circularly.
inline bool indices_valid(uint32_t head, uint32_t cur, uint32_t hwcur, uint32_t hwtail, uint32_t n)
{
    return in_window(head, hwcur, hwtail, n) && in_window(cur, head, hwtail, n);
}

inline bool slot_valid(const nr_slot &s, const buffer_limits &lim)
{
    const uint64_t offset = s.ptr & lim.offset_mask;
    // Written so that no sum can wrap around: offset may be anything the mask lets through.
    return s.buf_idx < lim.num_buffers && offset <= lim.buf_size && s.len <= lim.buf_size - offset;
}

// slot_valid over the slots [from, to) of a ring without data offsets (offset_mask 0), in one pass:
// they all pass when the largest buffer index and the largest length do (two running maxima, a
// few instructions a slot). On false, look at the slots one by one to find the bad ones.
inline bool stretch_valid_no_offsets(nr_slot *slots, uint32_t from, uint32_t to, const buffer_limits &lim)
{
    uint32_t max_buf = 0;
    uint16_t max_len = 0;
    for (uint32_t k = from; k < to; k++) {
        max_buf = std::max(max_buf, load_relaxed(slots[k].buf_idx));
        max_len = std::max(max_len, load_relaxed(slots[k].len));
    }
    return max_buf < lim.num_buffers && max_len <= lim.buf_size;
}

// The slot as it is now, read once: a copy, so later checks and uses see the same values.
inline nr_slot slot_snapshot(nr_slot &s)
{
    nr_slot copy;
    copy.buf_idx = load_relaxed(s.buf_idx);
    copy.len = load_relaxed(s.len);
    copy.flags = load_relaxed(s.flags);
    copy.ptr = load_relaxed(s.ptr);
    return copy;
}

// Makes a slot that failed slot_valid harmless: no data, and the dummy buffer only when its own
// buffer index was out of range (a valid index stays, so no buffer drops out of circulation).
// `seen` is the snapshot the check was made on.
inline void slot_repair(nr_slot &s, const nr_slot &seen, const buffer_limits &lim)
{
    if (seen.buf_idx >= lim.num_buffers)
        store_relaxed(s.buf_idx, NR_DUMMY_BUFFER);
    store_relaxed(s.len, uint16_t{0});
    store_relaxed(s.ptr, uint64_t{0});
}

} // namespace netring::rings
