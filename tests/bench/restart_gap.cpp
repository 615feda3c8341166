// restart_gap: a libnetring receiver that measures how long its rx rings went without a frame, for
// restart_gap_bench.py (a steady stream arrives while the daemon is replaced: the longest silences
// are the restarts' data-path gaps).
//
//   restart_gap --port NAME [--socket PATH] [--seconds S] [--top K]
//
// Collects frames from every rx ring for S seconds (default 10) or until SIGTERM/SIGINT, taking the
// time of every rxsync that brought frames, and prints one JSON line:
//   {"port":..., "frames":N, "gaps_ms":[g1, g2, ...]}
// the K (default 8) longest intervals between two such rxsyncs, longest first. Exit status: 0 ok;
// 1 a failed sync or wait; 2 usage or open errors.
#include <netring/netring.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using namespace netring;
using clock_type = std::chrono::steady_clock;

std::atomic<bool> stop_requested{false};

extern "C" void on_stop(int) { stop_requested.store(true, std::memory_order_relaxed); }

struct options {
    std::string port;
    std::string socket_path;
    double seconds = 10;
    size_t top = 8;
};

bool parse(int argc, char **argv, options &o)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        const char *v = argv[i + 1];
        if (a == "--port")
            o.port = v;
        else if (a == "--socket")
            o.socket_path = v;
        else if (a == "--seconds")
            o.seconds = std::strtod(v, nullptr);
        else if (a == "--top")
            o.top = std::strtoul(v, nullptr, 10);
        else
            return false;
    }
    return argc % 2 == 1 && !o.port.empty() && o.top > 0;
}

} // namespace

int main(int argc, char **argv)
{
    options o;
    if (!parse(argc, argv, o)) {
        std::fprintf(stderr, "usage: restart_gap --port NAME [--socket PATH] [--seconds S] [--top K]\n");
        return 2;
    }
    struct sigaction sa = {};
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);

    open_options opts;
    opts.socket_path = o.socket_path;
    auto opened = port::open(o.port, opts);
    if (!opened) {
        std::fprintf(stderr, "restart_gap: %s: %s\n", o.port.c_str(), opened.err().describe().c_str());
        return 2;
    }
    port &p = opened.value();
    std::fprintf(stderr, "ready\n");

    // The longest gaps only: a small min-first heap, so the loop never grows memory.
    std::vector<double> gaps;
    uint64_t frames = 0;
    int status = 0;
    const auto end = clock_type::now() + std::chrono::duration_cast<clock_type::duration>(
                                             std::chrono::duration<double>(o.seconds));
    clock_type::time_point last{};
    while (!stop_requested.load(std::memory_order_relaxed) && clock_type::now() < end) {
        if (std::error_code ec = p.rxsync(); ec) {
            std::fprintf(stderr, "restart_gap: rxsync: %s (%s)\n", ec.message().c_str(),
                         p.last_error().c_str());
            status = 1;
            break;
        }
        uint32_t got = 0;
        for (uint32_t r = 0; r < p.rx_rings(); r++) {
            nr_ring *ring = p.rx_ring(r);
            const uint32_t n = ring->num_slots;
            got += ring->tail >= ring->head ? ring->tail - ring->head : ring->tail + n - ring->head;
            ring->head = ring->cur = ring->tail;
        }
        if (got) {
            const auto now = clock_type::now();
            if (frames) {
                const double ms = std::chrono::duration<double, std::milli>(now - last).count();
                if (gaps.size() < o.top || ms > gaps.front()) {
                    gaps.push_back(ms);
                    std::push_heap(gaps.begin(), gaps.end(), std::greater<>());
                    if (gaps.size() > o.top) {
                        std::pop_heap(gaps.begin(), gaps.end(), std::greater<>());
                        gaps.pop_back();
                    }
                }
            }
            last = now;
            frames += got;
            continue;
        }
        std::error_code ec;
        if (p.wait(wait_rx, 50, ec) < 0) {
            std::fprintf(stderr, "restart_gap: wait: %s\n", ec.message().c_str());
            status = 1;
            break;
        }
    }
    std::sort(gaps.begin(), gaps.end(), std::greater<>());
    std::printf("{\"port\":\"%s\",\"frames\":%llu,\"gaps_ms\":[", o.port.c_str(),
                static_cast<unsigned long long>(frames));
    for (size_t i = 0; i < gaps.size(); i++)
        std::printf("%s%.3f", i ? "," : "", gaps[i]);
    std::printf("]}\n");
    return status;
}
