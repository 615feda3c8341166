#include "run.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <unistd.h>

namespace netring::bridge {

std::atomic<bool> stop_requested{false};

namespace {

constexpr uint64_t second_ns = 1000000000ull;

uint64_t now_ns()
{
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
}

std::string rate_text(const traffic &now, const traffic &before, uint64_t ns)
{
    const double s = ns ? static_cast<double>(ns) / 1e9 : 1;
    char buf[96];
    std::snprintf(buf, sizeof buf, "%.0f pps %.2f Mbit/s",
                  static_cast<double>(now.packets - before.packets) / s,
                  static_cast<double>(now.bytes - before.bytes) * 8 / s / 1e6);
    return buf;
}

} // namespace

bridge_loop::bridge_loop(port &a, port &b, bool zero_copy, const bridge_options &o)
    : a_(a), b_(b), o_(o), ab_(a, b, zero_copy), ba_(b, a, zero_copy), start_ns_(now_ns()),
      deadline_ns_(o.seconds > 0 ? start_ns_ + static_cast<uint64_t>(o.seconds * 1e9) : UINT64_MAX),
      next_print_ns_(start_ns_ + second_ns), last_print_ns_(start_ns_)
{
    for (unsigned ev = 1; ev < 4; ev++) {
        fds_a_[ev] = a.poll_fds(ev);
        fds_b_[ev] = b.poll_fds(ev);
    }
    pollset_.reserve(fds_a_[3].size() + fds_b_[3].size()); // sleep() never allocates
}

double bridge_loop::elapsed_seconds() const { return static_cast<double>(now_ns() - start_ns_) / 1e9; }

// A ring reset is the daemon repairing a ring (reported, then carry on); anything else ends the run.
bool bridge_loop::sync_result(port &p, std::error_code ec, const char *what)
{
    if (!ec)
        return true;
    const std::string &why = p.last_error();
    std::fprintf(stderr, "netring-bridge: %s %s: %s\n", p.name().c_str(), what,
                 why.empty() ? ec.message().c_str() : why.c_str());
    return ec == make_error_code(errc::ring_reset);
}

// tx first (publishes the frames of this pass), then rx (releases the slots they came from and
// collects new frames).
bool bridge_loop::sync_all()
{
    return sync_result(a_, a_.txsync(), "txsync") && sync_result(b_, b_.txsync(), "txsync") &&
           sync_result(a_, a_.rxsync(), "rxsync") && sync_result(b_, b_.rxsync(), "rxsync");
}

bool bridge_loop::run()
{
    if (!sync_all())
        return false;
    uint32_t idle = 0;
    for (;;) {
        const uint64_t now = now_ns();
        if (now >= deadline_ns_ || stop_requested.load(std::memory_order_relaxed))
            return true;
        if (now >= next_print_ns_)
            print_rate(now);
        const uint32_t moved = ab_.forward(o_.batch) + ba_.forward(o_.batch);
        if (!sync_all())
            return false;
        if (moved) {
            idle = 0;
            continue;
        }
        if (++idle < o_.spin) {
            nr_cpu_relax();
            continue;
        }
        idle = 0;
        if (!sleep(now))
            return false;
    }
}

// What to wait for, per direction: frames on the source's rx rings, or, when frames wait there
// already (so the destination's tx rings were full), room on the destination's tx rings.
bool bridge_loop::sleep(uint64_t now)
{
    unsigned ev_a = 0, ev_b = 0;
    if (ab_.rx_pending())
        ev_b |= wait_tx;
    else
        ev_a |= wait_rx;
    if (ba_.rx_pending())
        ev_a |= wait_tx;
    else
        ev_b |= wait_rx;
    // arm_wait re-checks after setting the flags: false means work is there already.
    if (!a_.arm_wait(ev_a))
        return true;
    if (!b_.arm_wait(ev_b)) {
        a_.disarm_wait();
        return true;
    }
    pollset_.clear();
    for (const int fd : fds_a_[ev_a])
        pollset_.push_back({fd, POLLIN, 0});
    for (const int fd : fds_b_[ev_b])
        pollset_.push_back({fd, POLLIN, 0});
    uint64_t wake_ns = next_print_ns_ < deadline_ns_ ? next_print_ns_ : deadline_ns_;
    const int timeout_ms = wake_ns <= now ? 0 : static_cast<int>((wake_ns - now + 999999) / 1000000);
    const int rc = ::poll(pollset_.data(), pollset_.size(), timeout_ms);
    const int poll_errno = errno;
    // Partners of arm_wait: clear the flags and drain the notify eventfds that fired.
    a_.disarm_wait();
    b_.disarm_wait();
    if (rc < 0 && poll_errno != EINTR) {
        std::fprintf(stderr, "netring-bridge: poll: %s\n", std::strerror(poll_errno));
        return false;
    }
    // disarm_wait noticed a closed control socket and re-attaches on its own (the ports survive a
    // netringd restart); only a registration the new daemon did not take back ends the bridge.
    for (port *p : {&a_, &b_}) {
        const unsigned ev = p->control_events();
        if (ev & control_lost)
            std::fprintf(stderr, "netring-bridge: lost netringd (%s): %s\n", p->name().c_str(), p->last_error().c_str());
        if (ev & control_back)
            std::fprintf(stderr, "netring-bridge: %s re-attached to netringd\n", p->name().c_str());
        if (ev & registration_lost) {
            std::fprintf(stderr, "netring-bridge: %s: %s\n", p->name().c_str(), p->last_error().c_str());
            return false;
        }
    }
    return true;
}

void bridge_loop::print_rate(uint64_t now)
{
    const uint64_t ns = now - last_print_ns_;
    std::fprintf(stderr, "netring-bridge: A->B %s, B->A %s\n", rate_text(ab_.totals(), last_ab_, ns).c_str(),
                 rate_text(ba_.totals(), last_ba_, ns).c_str());
    last_ab_ = ab_.totals();
    last_ba_ = ba_.totals();
    last_print_ns_ = now;
    next_print_ns_ = now + second_ns;
}

} // namespace netring::bridge
