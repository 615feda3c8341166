// The bridge's loop: forward both ways, publish, and sleep in poll() on both ports when idle.
//
//   bridge_loop loop(a, b, zero_copy, opts);
//   bool ok = loop.run();            // until SIGINT/SIGTERM (stop_requested) or -T
//   loop.ab().totals(), loop.ba().totals(), loop.elapsed_seconds()
//
// Each pass moves up to `batch` frames per direction, then txsyncs and rxsyncs both ports (which
// publishes the pass and collects new frames and free slots). After `spin` passes that moved
// nothing it arms the wait flags of what it waits for (rx frames, or tx room where frames are held
// back by a full tx ring) and sleeps in one poll() over both ports' notify eventfds and control
// sockets, woken at the latest for the once-a-second rate line or the deadline.
#pragma once

#include "forward.hpp"
#include "options.hpp"

#include <netring/netring.hpp>

#include <poll.h>

#include <atomic>
#include <cstdint>
#include <vector>

namespace netring::bridge {

extern std::atomic<bool> stop_requested; // set by the SIGINT/SIGTERM handler

class bridge_loop {
public:
    bridge_loop(port &a, port &b, bool zero_copy, const bridge_options &o);

    // False when a port failed (the daemon went away, a port was torn down); the reason is printed.
    bool run();

    const direction &ab() const { return ab_; }
    const direction &ba() const { return ba_; }
    double elapsed_seconds() const;

private:
    bool sync_all();
    bool sync_result(port &p, std::error_code ec, const char *what);
    bool sleep(uint64_t now);
    void print_rate(uint64_t now);

    port &a_;
    port &b_;
    const bridge_options &o_;
    direction ab_;
    direction ba_;
    std::vector<int> fds_a_[4]; // poll_fds(events) per events mask (wait_rx | wait_tx), looked up once
    std::vector<int> fds_b_[4];
    std::vector<pollfd> pollset_;
    uint64_t start_ns_;
    uint64_t deadline_ns_;
    uint64_t next_print_ns_;
    uint64_t last_print_ns_;
    traffic last_ab_;
    traffic last_ba_;
};

} // namespace netring::bridge
