// Waiting for packets or space: spin briefly, then arm the rings' wait flags and sleep in poll().
// The order inside arm() (flag, full fence, re-check) is what closes the lost-wakeup race; the
// other side publishes, fences, then reads the flag (rings::pipe_txsync / the daemon worker).
#include "port_impl.hpp"

#include <rings/bits.hpp>
#include <rings/eventfd.hpp>

#include <poll.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <limits>

namespace netring {
namespace {

bool wants(unsigned events, const ring_state &r) { return r.tx ? (events & wait_tx) : (events & wait_rx); }

// Arm for a daemon-served ring: the flag tells the worker to write our notify eventfd.
bool daemon_arm(const ring_state &r)
{
    nr_sync *s = r.own.sync;
    rings::store_relaxed(s->flags.appl_need_kick, 1u);
    // Store the flag, then load hwtail: a store-load order. Partner: the worker's fence between
    // publishing hwtail and reading appl_need_kick.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (rings::load_relaxed(s->flags.status) != NR_SYNC_OK)
        return false;
    const uint32_t seen = rings::load_relaxed(r.own.ring->tail);
    return rings::load_acquire(s->kern.hwtail) == seen && nr_ring_space(r.own.ring) == 0;
}

// Reads the eventfds among `fds` that have a count, without blocking on the others. The last entry
// is left unread when `last_is_control`: the caller looks at its revents.
void drain_ready(std::vector<pollfd> &fds, bool last_is_control)
{
    if (fds.empty())
        return;
    int n;
    do {
        n = ::poll(fds.data(), fds.size(), 0);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        for (pollfd &p : fds)
            p.revents = 0;
        return;
    }
    for (size_t i = 0; i + (last_is_control ? 1 : 0) < fds.size(); i++)
        if (fds[i].revents & POLLIN)
            rings::eventfd_drain(fds[i].fd);
}

} // namespace

uint32_t port::impl::ready_rings(unsigned events) const
{
    uint32_t n = 0;
    for (const auto *dir : {&tx, &rx})
        for (const ring_state &r : *dir)
            if (wants(events, r) && nr_ring_space(r.own.ring) > 0)
                n++;
    return n;
}

bool port::impl::arm(unsigned events)
{
    for (const auto *dir : {&tx, &rx}) {
        for (const ring_state &r : *dir) {
            if (!wants(events, r))
                continue;
            const bool may_sleep =
                port_kind == NR_PORT_KIND_PIPE ? rings::pipe_arm_wait(r.own, r.partner, !r.tx) : daemon_arm(r);
            if (!may_sleep) {
                disarm(events);
                return false;
            }
        }
    }
    return true;
}

bool port::impl::ring_status_set(unsigned events) const
{
    for (const auto *dir : {&tx, &rx})
        for (const ring_state &r : *dir)
            if (wants(events, r) && rings::load_acquire(r.own.sync->flags.status) != NR_SYNC_OK)
                return true;
    return false;
}

void port::impl::disarm(unsigned events)
{
    for (const auto *dir : {&tx, &rx})
        for (const ring_state &r : *dir)
            if (wants(events, r))
                rings::disarm_wait(r.own); // partner of arm()
}

int port::wait(unsigned events, int timeout_ms, std::error_code &ec)
{
    impl &p = *impl_;
    ec.clear();
    events &= wait_rx | wait_tx;
    if (events == 0) {
        ec = std::make_error_code(std::errc::invalid_argument);
        return -1;
    }
    using clock = std::chrono::steady_clock;
    const auto deadline = timeout_ms < 0 ? clock::time_point::max()
                                         : clock::now() + std::chrono::milliseconds(timeout_ms);
    // A socket-mode sync is a round trip to the daemon: spinning on it would flood the daemon.
    const uint32_t spin_budget = p.opts.sync == sync_mode::shm ? p.opts.spin_before_sleep : 0;
    uint32_t spins = spin_budget;
    std::vector<pollfd> &fds = p.pollset;
    // Away from the daemon, a re-attach try is looked after once per call and once per wake, not
    // on every spin: while a try waits for its answer, a look is a poll() of its socket.
    bool look = true;

    for (;;) {
        if (look && p.link.state == control_state::away) [[unlikely]] {
            look = false;
            p.tend_control(); // a retry due: the timer parked on the control fd woke us, or not yet
        }
        if (events & wait_rx)
            if (auto e = p.sync(false, all_rings)) {
                ec = e;
                return -1;
            }
        if (events & wait_tx)
            if (auto e = p.sync(true, all_rings)) {
                ec = e;
                return -1;
            }
        if (const uint32_t n = p.ready_rings(events))
            return static_cast<int>(n);
        if (timeout_ms == 0)
            return 0;
        if (spins > 0) {
            spins--;
            rings::cpu_relax();
            continue;
        }
        if (!p.arm(events)) {
            // Work arrived between the check and arming, or a ring's status says nothing more
            // will: the latter must not turn into a spin.
            if (p.ring_status_set(events)) {
                p.last_error = "the other end of the pipe closed";
                ec = make_error_code(errc::peer_gone);
                return -1;
            }
            if (timeout_ms > 0 && clock::now() >= deadline)
                return 0;
            continue;
        }

        int ms = -1;
        if (timeout_ms > 0) {
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now()).count();
            ms = left <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left, std::numeric_limits<int>::max()));
        }
        if (p.polled && ms != 0)
            ms = 1; // a pipe's monitor: the processes that feed it hold no eventfd of its
        p.fill_pollset(events, fds); // reuses its capacity: no allocation per sleep
        const int rc = ::poll(fds.data(), fds.size(), ms);
        const int poll_errno = errno;
        p.disarm(events);
        if (rc < 0) {
            if (poll_errno == EINTR)
                continue;
            ec = std::error_code(poll_errno, std::system_category());
            return -1;
        }
        const bool with_control = p.sock.valid() && fds.back().fd == p.sock.get();
        for (size_t i = 0; i + (with_control ? 1 : 0) < fds.size(); i++)
            if (fds[i].revents & POLLIN)
                rings::eventfd_drain(fds[i].fd);
        // The daemon sends nothing unsolicited: a readable control socket is EOF or an error.
        if (with_control && fds.back().revents) {
            if (p.link.state == control_state::connected && !p.opts.survive_restart) {
                p.last_error = "netringd closed the connection";
                ec = make_error_code(errc::daemon_gone);
                return -1;
            }
            p.control_woke(); // away: carry on with the rings; lost daemon-served rings fail the sync
        }
        if (rc == 0 && clock::now() >= deadline)
            return 0;
        spins = spin_budget; // woken: spin again before the next sleep
        look = true;
    }
}

void port::impl::fill_pollset(unsigned events, std::vector<pollfd> &out) const
{
    out.clear();
    for (const auto *dir : {&tx, &rx})
        for (const ring_state &r : *dir)
            if (wants(events, r))
                out.push_back({r.notify_fd, POLLIN, 0});
    // Last: readable means the daemon closed the connection, or (away) that a retry is due.
    if (sock.valid())
        out.push_back({sock.get(), POLLIN, 0});
}

std::vector<int> port::poll_fds(unsigned events) const
{
    std::vector<pollfd> set;
    impl_->fill_pollset(events, set);
    std::vector<int> out;
    for (const pollfd &f : set)
        out.push_back(f.fd);
    return out;
}

bool port::arm_wait(unsigned events) { return impl_->arm(events); }
bool port::peer_gone(unsigned events) const { return impl_->ring_status_set(events); }
uint32_t port::ready(unsigned events) const { return impl_->ready_rings(events); }

// Also looks at the control fd, in the same poll: a loop sleeping on poll_fds() learns of a broken
// connection, and makes its retries, here (without survive_restart the fd is left to the caller).
void port::disarm_wait()
{
    impl &p = *impl_;
    p.disarm(wait_rx | wait_tx);
    std::vector<pollfd> fds;
    for (const auto *dir : {&p.tx, &p.rx})
        for (const ring_state &r : *dir)
            fds.push_back({r.notify_fd, POLLIN, 0});
    const bool with_control = p.sock.valid() && p.opts.survive_restart;
    if (with_control)
        fds.push_back({p.sock.get(), POLLIN, 0});
    drain_ready(fds, with_control);
    if (with_control && fds.back().revents)
        p.control_woke();
}

} // namespace netring
