// pipe_check: opens both ends of one pipe through an installed libnetring, sends 1000 frames from
// the "}" end, receives them on the "{" end and checks each one's sequence number and pattern.
//
//   pipe_check [PIPE_NAME]      (default "example"; NETRING_SOCKET picks the daemon's socket)
//
// Exits 0 when all 1000 frames arrived in order and intact, 1 otherwise.
#include <netring/netring.hpp>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

namespace {

constexpr uint32_t frames = 1000;
constexpr uint32_t frame_len = 64;

void fill(char *data, uint32_t seq)
{
    std::memcpy(data, &seq, sizeof seq);
    for (uint32_t i = sizeof seq; i < frame_len; i++)
        data[i] = static_cast<char>(seq + i);
}

bool intact(const char *data, uint32_t len, uint32_t seq)
{
    uint32_t got = 0;
    std::memcpy(&got, data, sizeof got);
    if (len != frame_len || got != seq)
        return false;
    for (uint32_t i = sizeof seq; i < frame_len; i++)
        if (data[i] != static_cast<char>(seq + i))
            return false;
    return true;
}

} // namespace

int main(int argc, char **argv)
{
    const std::string name = argc > 1 ? argv[1] : "example";
    auto rx = netring::port::open("netmap:" + name + "{1");
    if (!rx) {
        std::fprintf(stderr, "pipe_check: %s\n", rx.err().describe().c_str());
        return 1;
    }
    auto tx = netring::port::open("netmap:" + name + "}1");
    if (!tx) {
        std::fprintf(stderr, "pipe_check: %s\n", tx.err().describe().c_str());
        return 1;
    }
    nr_ring *txr = tx->tx_ring(0);
    nr_ring *rxr = rx->rx_ring(0);
    uint32_t sent = 0, received = 0;
    while (received < frames) {
        for (; sent < frames && txr->cur != txr->tail; sent++) {
            nr_slot *s = &txr->slot[txr->cur];
            fill(nr_buf(txr, s->buf_idx), sent);
            s->len = frame_len;
            txr->head = txr->cur = nr_ring_next(txr, txr->cur);
        }
        if (tx->txsync()) {
            std::fprintf(stderr, "pipe_check: txsync: %s\n", tx->last_error().c_str());
            return 1;
        }
        std::error_code ec;
        const int r = rx->wait(netring::wait_rx, 1000, ec);
        if (r <= 0) {
            std::fprintf(stderr, "pipe_check: no frames after %u of %u (%s)\n", received, frames,
                         ec ? rx->last_error().c_str() : "timeout");
            return 1;
        }
        for (; !nr_ring_empty(rxr); received++) {
            const nr_slot *s = &rxr->slot[rxr->cur];
            if (!intact(nr_slot_data(rxr, s), s->len, received)) {
                std::fprintf(stderr, "pipe_check: frame %u damaged or out of order\n", received);
                return 1;
            }
            rxr->head = rxr->cur = nr_ring_next(rxr, rxr->cur);
        }
        if (rx->rxsync()) {
            std::fprintf(stderr, "pipe_check: rxsync: %s\n", rx->last_error().c_str());
            return 1;
        }
    }
    std::printf("pipe_check: %u frames sent and received intact on %s\n", received, name.c_str());
    return 0;
}
