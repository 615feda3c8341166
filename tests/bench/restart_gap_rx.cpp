// The receiving side of restart_bench.py: counts the frames arriving on a port and keeps the
// longest silences between two arrivals. In a paced flow those are the gaps daemon restarts make
// (a paced sender's frames are microseconds apart; a restart stops a switch for milliseconds).
//
//   restart_gap_rx PORT FRAMES TIMEOUT_S TOP
//
// Prints one JSON object: {"packets":N,"gaps_ms":[...]}, the TOP longest gaps, longest first.
// Exits 0 once FRAMES frames came, 1 on a timeout or an error (the JSON is printed either way).
#include <netring/layout.h>
#include <netring/netring.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

int main(int argc, char **argv)
{
    if (argc != 5) {
        std::fprintf(stderr, "usage: restart_gap_rx PORT FRAMES TIMEOUT_S TOP\n");
        return 2;
    }
    const uint64_t want = std::strtoull(argv[2], nullptr, 10);
    const auto timeout = std::chrono::seconds(std::strtoul(argv[3], nullptr, 10));
    const size_t top = std::strtoul(argv[4], nullptr, 10);
    netring::open_options o;
    o.rx_slots = 4096; // frames a sender queued during a restart fit at once
    auto p = netring::port::open(argv[1], o);
    if (!p) {
        std::fprintf(stderr, "restart_gap_rx: %s\n", p.err().message.c_str());
        return 1;
    }
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + timeout;
    nr_ring *rx = p->rx_ring(0);
    std::vector<double> gaps; // a min-heap of the TOP longest
    uint64_t got = 0;
    clock::time_point last{};
    while (got < want && clock::now() < deadline) {
        p->rxsync(); // also gives back the slots read last time
        const uint32_t n = nr_ring_space(rx);
        if (n == 0) {
            std::error_code ec;
            p->wait(netring::wait_rx, 100, ec);
            if (ec) {
                std::fprintf(stderr, "restart_gap_rx: %s\n", p->last_error().c_str());
                break;
            }
            continue;
        }
        const auto now = clock::now();
        if (got > 0) {
            gaps.push_back(std::chrono::duration<double, std::milli>(now - last).count());
            std::push_heap(gaps.begin(), gaps.end(), std::greater<>());
            if (gaps.size() > top) {
                std::pop_heap(gaps.begin(), gaps.end(), std::greater<>());
                gaps.pop_back();
            }
        }
        last = now;
        got += n;
        rx->head = rx->cur = (rx->cur + n) % rx->num_slots; // every frame counted: the slots go back
    }
    std::sort(gaps.begin(), gaps.end(), std::greater<>());
    std::string list;
    for (double g : gaps)
        list += (list.empty() ? "" : ",") + std::to_string(g);
    std::printf("{\"packets\":%llu,\"gaps_ms\":[%s]}\n", static_cast<unsigned long long>(got), list.c_str());
    return got >= want ? 0 : 1;
}
