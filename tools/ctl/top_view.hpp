// `netring-ctl top`'s view: per-registration rates from two STATS answers, and the screen that
// shows them. Pure functions (top.cpp owns the terminal and the clock).
//
//   auto rows = top_rates(before, after, 1.0);        // sorted, busiest first
//   std::string screen = top_screen(after, rows, 1.0, 24);
#pragma once

#include <netring/netring.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace netring::ctl {

// One direction of a registration over the interval: its rings summed.
struct top_rates_dir {
    double packets_per_s = 0;
    double bits_per_s = 0; // frame bytes x 8
    double drops_per_s = 0;
    uint32_t rings = 0;
    uint32_t slots = 0;    // summed over its rings
    uint32_t occupied = 0; // slots in use at the end of the interval, summed over its rings
};

struct top_row {
    uint32_t reg_id = 0;
    uint32_t pid = 0;
    std::string port;
    top_rates_dir tx, rx;
};

// Rates of every registration in `after`. A registration absent from `before` opened during the
// interval and counts from zero; a counter lower than before (a registration id reused) counts
// as zero. Sorted by tx + rx packets per second, highest first, then by registration id.
std::vector<top_row> top_rates(const daemon_stats &before, const daemon_stats &after, double seconds);

// The screen: a header (uptime, clients, registrations, totals), then one line per row, at most
// `max_lines` lines in all (0: no limit). No escape codes: the caller adds them for a terminal.
std::string top_screen(const daemon_stats &after, const std::vector<top_row> &rows, double seconds,
                       size_t max_lines = 0);

// "950", "12.3k", "4.56M", "1.20G": three significant digits, SI prefixes.
std::string si_rate(double v);
// "3d04h", "2h05m", "4m07s", "12s".
std::string uptime_text(uint64_t ms);

} // namespace netring::ctl
