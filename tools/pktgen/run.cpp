#include "run.hpp"

#include <cstdio>
#include <string>

namespace netring::pktgen {

std::atomic<bool> stop_requested{false};

namespace {

constexpr uint64_t second_ns = 1000000000ull;
constexpr int wait_timeout_ms = 100; // short, so -T and signals are noticed while asleep

uint64_t deadline_for(uint64_t start, double seconds)
{
    return seconds > 0 ? start + static_cast<uint64_t>(seconds * 1e9) : UINT64_MAX;
}

} // namespace

run_context::run_context(port &port_, const pktgen_options &opts)
    : p(port_), o(opts), start_ns(now_ns()), deadline_ns(deadline_for(start_ns, opts.seconds)),
      next_print_ns_(start_ns + second_ns), last_print_ns_(start_ns)
{}

bool run_context::idle(unsigned events, std::error_code &ec)
{
    if (o.wait == wait_kind::busy) {
        nr_cpu_relax();
        return true;
    }
    return p.wait(events, wait_timeout_ms, ec) >= 0;
}

void run_context::report_error(const char *what, std::error_code ec) const
{
    const std::string &sentence = p.last_error();
    std::fprintf(stderr, "netring-pktgen: %s: %s\n", what, sentence.empty() ? ec.message().c_str() : sentence.c_str());
}

void run_context::print_rate(uint64_t now, const run_result &r)
{
    const std::string line =
        format_rate_line(o.mode, r.packets - last_packets_, r.bytes - last_bytes_, now - last_print_ns_, r.packets);
    std::fputs(line.c_str(), stderr);
    last_packets_ = r.packets;
    last_bytes_ = r.bytes;
    last_print_ns_ = now;
    next_print_ns_ = now + second_ns;
}

std::vector<nr_ring *> tx_rings_of(const port &p)
{
    std::vector<nr_ring *> rings;
    for (uint32_t i = 0; i < p.tx_rings(); i++)
        rings.push_back(p.tx_ring(i));
    return rings;
}

std::vector<nr_ring *> rx_rings_of(const port &p)
{
    std::vector<nr_ring *> rings;
    for (uint32_t i = 0; i < p.rx_rings(); i++)
        rings.push_back(p.rx_ring(i));
    return rings;
}

} // namespace netring::pktgen
