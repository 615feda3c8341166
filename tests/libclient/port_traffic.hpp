// Application helpers for the libnetring port tests against fake_daemon: options that point at
// the fake, an open that throws (the tests need a port, not an error path), and a sender and a
// receiver whose packets carry their sequence number and a payload derived from it.
#pragma once

#include "fake_daemon.hpp"

#include <netring/netring.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <stdexcept>

namespace netring::test {

inline netring::open_options opts_for(const fake_daemon &d, netring::sync_mode mode = netring::sync_mode::shm)
{
    netring::open_options o;
    o.socket_path = d.socket_path();
    o.sync = mode;
    return o;
}

inline port must_open(const char *name, const netring::open_options &o)
{
    auto p = port::open(name, o);
    if (!p.ok())
        throw std::runtime_error(p.err().describe());
    return std::move(p.value());
}

// Sends `count` packets whose payload encodes (seq, length); returns how many went out.
inline uint32_t send_packets(port &p, uint32_t first_seq, uint32_t count)
{
    nr_ring *tx = p.tx_ring(0);
    uint32_t sent = 0;
    while (sent < count && nr_ring_space(tx) > 0) {
        nr_slot &s = tx->slot[tx->cur];
        const uint32_t seq = first_seq + sent;
        char *buf = nr_buf(tx, s.buf_idx);
        s.len = static_cast<uint16_t>(64 + seq % 100);
        for (uint32_t i = 0; i < s.len; i++)
            buf[i] = static_cast<char>(seq + i);
        std::memcpy(buf, &seq, sizeof seq);
        tx->head = tx->cur = nr_ring_next(tx, tx->cur);
        sent++;
    }
    return sent;
}

// Receives everything waiting and checks each payload; returns the count and advances *next_seq.
inline uint32_t receive_packets(port &p, uint32_t *next_seq)
{
    nr_ring *rx = p.rx_ring(0);
    uint32_t got = 0;
    while (!nr_ring_empty(rx)) {
        const nr_slot &s = rx->slot[rx->cur];
        const char *buf = nr_buf(rx, s.buf_idx);
        uint32_t seq;
        std::memcpy(&seq, buf, sizeof seq);
        EXPECT_EQ(seq, *next_seq);
        EXPECT_EQ(s.len, 64 + seq % 100);
        for (uint32_t i = sizeof seq; i < s.len; i++)
            if (buf[i] != static_cast<char>(seq + i)) {
                ADD_FAILURE() << "payload byte " << i << " of packet " << seq;
                break;
            }
        (*next_seq)++;
        rx->head = rx->cur = nr_ring_next(rx, rx->cur);
        got++;
    }
    return got;
}

} // namespace netring::test
