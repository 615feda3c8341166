// nic_flow_rx: a libnetring receiver of the NIC scenarios' `udp` frames (nic_udp_frame.hpp).
//
//   nic_flow_rx --port netmap:IF-K [--socket PATH] [--count N] [--idle-ms MS] [--max-s S]
//
// Opens the port (one queue, or all of them), then collects frames from every rx ring and checks
// every byte, until N good frames came (N > 0), or nothing came for MS milliseconds (counted from the
// open, and again from each frame), or S seconds passed, or SIGTERM/SIGINT. Frames that are not UDP
// to the test port count as "other". Prints one JSON line:
//   {"port":..., "received":R, "corrupt":C, "duplicate":D, "lost":L, "other":O, "per_flow":{"flow":count}}
// Exit status: 0 ok; 1 corruption, duplicates, a shortfall against --count or a failed sync; 2 usage
// or open errors (the reason on stderr, as libnetring describes it).
#include "nic_flow_track.hpp"
#include "nic_udp_frame.hpp"

#include <netring/netring.hpp>

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

using namespace netring;
namespace uf = netring::itest::udp_frame;
using clock_type = std::chrono::steady_clock;

std::atomic<bool> stop_requested{false};

extern "C" void on_stop(int) { stop_requested.store(true, std::memory_order_relaxed); }

struct options {
    std::string port;
    std::string socket_path;
    uint64_t count = 0;
    uint32_t idle_ms = 3000;
    double max_s = 60;
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
        else if (a == "--count")
            o.count = std::strtoull(v, nullptr, 10);
        else if (a == "--idle-ms")
            o.idle_ms = static_cast<uint32_t>(std::strtoul(v, nullptr, 10));
        else if (a == "--max-s")
            o.max_s = std::strtod(v, nullptr);
        else
            return false;
    }
    return argc % 2 == 1 && !o.port.empty();
}

// The data of a slot: buffer base plus the offset the daemon put in ptr (AF_XDP copy mode: 256).
const unsigned char *slot_data(nr_ring *ring, const nr_slot &slot)
{
    return reinterpret_cast<const unsigned char *>(nr_buf(ring, slot.buf_idx)) + (slot.ptr & ring->offset_mask);
}

} // namespace

int main(int argc, char **argv)
{
    options o;
    if (!parse(argc, argv, o)) {
        std::fprintf(stderr, "usage: nic_flow_rx --port NAME [--socket PATH] [--count N] [--idle-ms MS] "
                             "[--max-s S]\n");
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
        std::fprintf(stderr, "nic_flow_rx: %s: %s\n", o.port.c_str(), opened.err().describe().c_str());
        return 2;
    }
    port &p = opened.value();
    if (p.rx_rings() == 0) {
        std::fprintf(stderr, "nic_flow_rx: %s has no rx ring\n", o.port.c_str());
        return 2;
    }

    itest::flow_tracker flows;
    uint64_t received = 0, corrupt = 0, other = 0;
    int reported = 0;
    bool failed = false;
    const auto start = clock_type::now();
    const auto give_up = start + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(o.max_s));
    auto last_frame = start;
    while (!stop_requested.load(std::memory_order_relaxed)) {
        if (o.count && flows.unique() >= o.count)
            break;
        const auto now = clock_type::now();
        if (now >= give_up || now - last_frame >= std::chrono::milliseconds(o.idle_ms))
            break;
        if (std::error_code ec = p.rxsync(); ec) {
            std::fprintf(stderr, "nic_flow_rx: rxsync: %s (%s)\n", ec.message().c_str(), p.last_error().c_str());
            failed = true;
            break;
        }
        uint32_t got = 0;
        for (uint32_t r = 0; r < p.rx_rings(); r++) {
            nr_ring *ring = p.rx_ring(r);
            uint32_t i = ring->head;
            for (; i != ring->tail; i = i + 1 == ring->num_slots ? 0 : i + 1, got++) {
                const nr_slot &slot = ring->slot[i];
                const unsigned char *data = slot_data(ring, slot);
                if (!uf::is_test_frame(data, slot.len)) {
                    other++;
                    continue;
                }
                received++;
                const uf::verdict v = uf::inspect(data, slot.len);
                if (v.ok) {
                    flows.observe(v.flow, v.seq);
                    continue;
                }
                corrupt++;
                if (reported++ < 5)
                    std::fprintf(stderr, "nic_flow_rx: ring %u slot %u: %s (len %u)\n", r, i, v.why, slot.len);
            }
            ring->head = ring->cur = i;
        }
        if (got) {
            last_frame = clock_type::now();
            continue;
        }
        std::error_code ec;
        if (p.wait(wait_rx, 50, ec) < 0) {
            std::fprintf(stderr, "nic_flow_rx: wait: %s\n", ec.message().c_str());
            failed = true;
            break;
        }
    }
    (void)p.rxsync();

    uint64_t lost = 0;
    for (const auto &[flow, f] : flows.flows())
        lost += f.lost;
    std::printf("{\"port\":\"%s\",\"received\":%" PRIu64 ",\"corrupt\":%" PRIu64 ",\"duplicate\":%" PRIu64
                ",\"lost\":%" PRIu64 ",\"other\":%" PRIu64 ",\"per_flow\":%s}\n",
                o.port.c_str(), received, corrupt, flows.duplicate(), lost, other, flows.per_flow_json().c_str());
    std::fflush(stdout);
    const bool short_of_count = o.count && flows.unique() < o.count;
    return failed || corrupt || flows.duplicate() || short_of_count ? 1 : 0;
}
