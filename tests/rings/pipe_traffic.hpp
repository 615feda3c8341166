// Both applications of a pipe_pair (fake_region.hpp), for the pipe_sync tests: the sender fills
// tx slots with sequence numbers, the receiver drains rx slots and checks them, and the census of
// the sender's buffers tells whether a sync lost, duplicated or replaced one.
#pragma once

#include "fake_region.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace netring::test {

inline uint64_t read_seq(pipe_pair &p, const nr_slot &s)
{
    uint64_t v;
    std::memcpy(&v, p.region.buffer(s.buf_idx), sizeof v);
    return v;
}

// The application side of tx: fills `count` slots from head with sequence numbers, then advances
// head and cur. Returns how many it could fill (bounded by the free space).
inline uint32_t tx_fill(pipe_pair &p, uint32_t count, uint64_t &seq, uint16_t len = 60)
{
    nr_ring *r = p.tx.ring;
    uint32_t done = 0;
    for (; done < count && nr_ring_space(r) > 0; done++) {
        nr_slot &s = r->slot[r->head];
        std::memcpy(p.region.buffer(s.buf_idx), &seq, sizeof seq);
        s.len = len;
        seq++;
        r->head = r->cur = nr_ring_next(r, r->head);
    }
    return done;
}

// The application side of rx: consumes up to `count` packets, checking their sequence numbers.
inline uint32_t rx_drain(pipe_pair &p, uint32_t count, uint64_t &expect)
{
    nr_ring *r = p.rx.ring;
    uint32_t done = 0;
    for (; done < count && !nr_ring_empty(r); done++) {
        const nr_slot &s = r->slot[r->cur];
        EXPECT_EQ(read_seq(p, s), expect) << "slot " << r->cur;
        expect++;
        r->head = r->cur = nr_ring_next(r, r->cur);
    }
    return done;
}

// Every buffer index both rings hold, sorted (lent buffers appear in both rings).
inline std::vector<uint32_t> all_ring_buffers(pipe_pair &p)
{
    std::vector<uint32_t> v;
    for (uint32_t i = 0; i < p.n; i++) {
        v.push_back(p.tx.ring->slot[i].buf_idx);
        v.push_back(p.rx.ring->slot[i].buf_idx);
    }
    std::sort(v.begin(), v.end());
    return v;
}

// The sender's buffers, sorted: a pipe lends them to the receiver and gets them back, so unless the
// receiver swaps buffers in, the tx ring holds the set it started with.
inline std::vector<uint32_t> sender_buffers(pipe_pair &p)
{
    std::vector<uint32_t> v;
    for (uint32_t i = 0; i < p.n; i++)
        v.push_back(p.tx.ring->slot[i].buf_idx);
    std::sort(v.begin(), v.end());
    return v;
}

inline std::vector<uint32_t> initial_sender_buffers(pipe_pair &p)
{
    std::vector<uint32_t> v = p.tx_bufs;
    std::sort(v.begin(), v.end());
    return v;
}

} // namespace netring::test
