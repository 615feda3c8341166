// The pktgen loops (tx, rx, ping, pong) and what they share: the clock, the idle step (sleep in
// port.wait or spin with a pause instruction), the stop flag set by SIGINT/SIGTERM, and the
// once-a-second rate line. Each loop returns its run_result and whether the run failed for a
// reason other than the counts (a ring reset, the daemon gone).
#pragma once

#include "report.hpp"

#include <netring/netring.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace netring::pktgen {

inline uint64_t now_ns()
{
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count());
}

// Set by the signal handler; the loops poll it once per batch.
extern std::atomic<bool> stop_requested;

struct run_outcome {
    run_result result;
    bool failed = false; // an error other than the peer leaving; already printed
    bool complete = true; // tx: every packet asked for left the ring
};

// State every loop carries: the port, the options, the deadline and the rate printer.
class run_context {
public:
    run_context(port &p, const pktgen_options &o);

    port &p;
    const pktgen_options &o;
    const uint64_t start_ns;
    const uint64_t deadline_ns; // UINT64_MAX without -T

    bool should_stop(uint64_t now) const
    {
        return now >= deadline_ns || stop_requested.load(std::memory_order_relaxed);
    }

    // Prints the rate line when a second has passed since the last one.
    void tick(uint64_t now, const run_result &r)
    {
        if (now >= next_print_ns_) [[unlikely]]
            print_rate(now, r);
    }

    // Waits for `events` when idle: port.wait with a short timeout (so the deadline and signals
    // are noticed), or a pause instruction in busy mode. Returns false with `ec` set when the wait
    // reported an error (peer_gone, daemon_gone).
    bool idle(unsigned events, std::error_code &ec);

    // Prints "netring-pktgen: <what>: <sentence>" for a failed call.
    void report_error(const char *what, std::error_code ec) const;

private:
    void print_rate(uint64_t now, const run_result &r);

    uint64_t next_print_ns_;
    uint64_t last_print_ns_;
    uint64_t last_packets_ = 0;
    uint64_t last_bytes_ = 0;
};

// The rings of one direction, looked up once.
std::vector<nr_ring *> tx_rings_of(const port &p);
std::vector<nr_ring *> rx_rings_of(const port &p);

run_outcome run_tx(run_context &ctx);
run_outcome run_rx(run_context &ctx);
run_outcome run_ping(run_context &ctx);
run_outcome run_pong(run_context &ctx);

} // namespace netring::pktgen
