// What a pktgen run measured and how it is printed: the summary (text or one JSON line), the
// once-a-second rate line, RTT percentiles, and the token bucket that paces tx. Pure code.
#pragma once

#include "options.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace netring::pktgen {

struct run_result {
    uint64_t packets = 0; // moved: sent (tx, ping), received (rx), returned (pong)
    uint64_t bytes = 0;
    uint64_t first_ns = 0; // steady-clock time of the first and the last batch that moved packets
    uint64_t last_ns = 0;
    uint64_t lost = 0;
    uint64_t corrupt = 0;
    uint64_t duplicate = 0;
    uint32_t frame_len = 0; // rx, pong: the length of the frames seen (0: the -l option's value)
    // rx with --gaps: stretches with no frame, (steady-clock ns the stretch began, its length in
    // ns), the first max_gaps of them; max_gap_ns is the longest of all.
    static constexpr size_t max_gaps = 1000;
    std::vector<std::pair<uint64_t, uint64_t>> gaps;
    uint64_t max_gap_ns = 0;
    bool has_rtt = false;
    double rtt_us_p50 = 0;
    double rtt_us_p99 = 0;

    double seconds() const { return last_ns > first_ns ? (last_ns - first_ns) * 1e-9 : 0.0; }
    double mpps() const;
    double gbps() const;
    double ns_per_packet() const;
};

// Both formats name the options the run used (mode, port, batch, len, sync, wait).
std::string format_json(const run_result &r, const pktgen_options &o);
std::string format_text(const run_result &r, const pktgen_options &o);

// "netring-pktgen: rx 12.34 Mpps 6.54 Gbps (total N)" for the packets and bytes of one interval.
std::string format_rate_line(run_mode m, uint64_t packets, uint64_t bytes, uint64_t interval_ns,
                             uint64_t total);

// The q-quantile (0 < q <= 1) of samples sorted ascending, nearest-rank; 0 when empty.
uint64_t quantile_sorted(const std::vector<uint64_t> &sorted, double q);

// Paces tx: `rate` tokens a second accumulate up to `capacity`. The sender waits for a burst's
// worth and then takes all there is, so a sleep that overshoots is made up by the next batch.
class token_bucket {
public:
    token_bucket(uint64_t rate, uint32_t capacity, uint64_t now_ns)
        : rate_(rate), capacity_(capacity), last_ns_(now_ns), tokens_(capacity)
    {}

    // Whole tokens available now (at most `want`), after refilling for the time elapsed.
    uint32_t available(uint64_t now_ns, uint32_t want);
    void consume(uint32_t n) { tokens_ -= n; }
    // Nanoseconds until `n` whole tokens are there (as of the last available() call).
    uint64_t ns_until(uint32_t n) const;

private:
    uint64_t rate_;
    uint32_t capacity_;
    uint64_t last_ns_;
    double tokens_;
};

// The burst a paced sender waits for: about 100 us of packets, at least 1, at most `batch`.
// The bucket holds four bursts or 1 ms of packets, whichever is more, so sleeps that overshoot
// by up to that much (timer slack, a busy machine) do not lower the rate.
uint32_t paced_burst(uint64_t rate, uint32_t batch);
uint32_t paced_capacity(uint64_t rate, uint32_t batch);

} // namespace netring::pktgen
