// poll(), ppoll(), select() and pselect() over sets that hold netmap descriptors: their readiness
// comes from the rings (nm_sync.cpp); when nothing is ready the call looks at the rings a while,
// then sleeps in the C library's poll on the rings' eventfds and the program's other descriptors.
#include "nm_file.hpp"

#include "libc_calls.hpp"

#include <net/netmap.h>
#include <net/netmap_legacy.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <limits>
#include <vector>

namespace netring::netmap {
namespace {

struct nm_entry {
    size_t index; // in the program's pollfd array
    nm_file *f;
};

// poll(2) over a set with netmap descriptors in it. `deadline` empty: no timeout. `mask`: ppoll's.
int poll_with_netmap(pollfd *fds, nfds_t n, const std::vector<nm_entry> &nm,
                     std::optional<clock::time_point> deadline, bool nonblocking, const sigset_t *mask)
{
    thread_local std::vector<pollfd> set;
    thread_local std::vector<short> mine;
    const bool others = nm.size() < n;
    int spins = spin_before_sleep;
    for (;;) {
        int ready = 0;
        for (const nm_entry &e : nm) {
            fds[e.index].revents = revents_of(*e.f, fds[e.index].events);
            ready += fds[e.index].revents != 0;
        }
        if (ready > 0 || nonblocking || ms_left(deadline) == 0) {
            if (!others)
                return ready;
            // The program's own descriptors, in its array: netmap entries are negated out of the call.
            mine.clear();
            for (const nm_entry &e : nm) {
                mine.push_back(fds[e.index].revents);
                fds[e.index].fd = ~fds[e.index].fd;
            }
            const int rc = real_poll()(fds, n, 0);
            const int saved = errno;
            for (size_t i = 0; i < nm.size(); i++) {
                fds[nm[i].index].fd = ~fds[nm[i].index].fd;
                fds[nm[i].index].revents = mine[i];
            }
            errno = saved;
            return rc < 0 ? rc : rc + ready;
        }
        if (spins-- > 0) {
            nr_cpu_relax();
            continue;
        }

        set.clear();
        for (nfds_t i = 0; i < n; i++)
            if (std::none_of(nm.begin(), nm.end(), [&](const nm_entry &e) { return e.index == i; }))
                set.push_back({fds[i].fd, fds[i].events, 0});
        const size_t own = set.size();
        size_t armed = 0;
        for (; armed < nm.size(); armed++)
            if (!arm(*nm[armed].f, fds[nm[armed].index].events, set))
                break;
        if (armed < nm.size()) { // work arrived while arming: look again
            for (size_t i = 0; i < armed; i++)
                disarm(*nm[i].f);
            continue;
        }
        const bool polled = std::any_of(nm.begin(), nm.end(), [](const nm_entry &e) { return e.f->p && e.f->p->needs_polling(); });
        int rc;
        if (mask) {
            const int ms = sleep_ms(deadline, polled);
            timespec ts{ms / 1000, (ms % 1000) * 1000000L};
            rc = real_ppoll()(set.data(), set.size(), ms < 0 ? nullptr : &ts, mask);
        } else {
            rc = real_poll()(set.data(), set.size(), sleep_ms(deadline, polled));
        }
        const int saved = errno;
        for (const nm_entry &e : nm)
            disarm(*e.f);
        if (rc < 0) {
            errno = saved;
            return -1;
        }
        // The program's descriptors woke us: report them (with any netmap readiness) now.
        for (size_t i = 0; i < own; i++)
            if (set[i].revents)
                nonblocking = true;
        spins = spin_before_sleep;
    }
}

} // namespace

// Milliseconds left before `deadline` for poll(2): -1 forever, 0 when past.
int ms_left(std::optional<clock::time_point> deadline)
{
    if (!deadline)
        return -1;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - clock::now()).count();
    return left <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left, std::numeric_limits<int>::max()));
}


int poll_entry(pollfd *fds, nfds_t n, std::optional<clock::time_point> deadline, bool nonblocking,
               const sigset_t *mask)
{
    nfds_t first = 0;
    while (first < n && !(fds[first].fd >= 0 && find(fds[first].fd)))
        first++;
    if (first == n)
        return -2; // not ours: libnetring's own poll() calls, made while a netmap poll sleeps, end here
    thread_local std::vector<nm_entry> nm; // the set is reused: a netmap poll loop allocates nothing
    nm.clear();
    for (nfds_t i = first; i < n; i++)
        if (nm_file *f = fds[i].fd >= 0 ? find(fds[i].fd) : nullptr)
            nm.push_back({i, f});
    return poll_with_netmap(fds, n, nm, deadline, nonblocking, mask);
}

std::optional<clock::time_point> deadline_ms(int timeout)
{
    if (timeout < 0)
        return std::nullopt;
    return clock::now() + std::chrono::milliseconds(timeout);
}

std::optional<clock::time_point> deadline_ts(const timespec *ts)
{
    if (!ts)
        return std::nullopt;
    return clock::now() + std::chrono::seconds(ts->tv_sec) + std::chrono::nanoseconds(ts->tv_nsec);
}

bool sets_have_netmap(int nfds, const fd_set *r, const fd_set *w, const fd_set *e)
{
    for (int fd = 0; fd < nfds && fd < FD_SETSIZE; fd++)
        if (((r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w)) || (e && FD_ISSET(fd, e))) && find(fd))
            return true;
    return false;
}

// select(2) and pselect(2) through poll: the sets become a pollfd array and back.
int select_via_poll(int nfds, fd_set *r, fd_set *w, fd_set *e, std::optional<clock::time_point> deadline,
                    bool nonblocking, const sigset_t *mask)
{
    std::vector<pollfd> fds;
    for (int fd = 0; fd < nfds && fd < FD_SETSIZE; fd++) {
        short ev = 0;
        ev |= (r && FD_ISSET(fd, r)) ? POLLIN : 0;
        ev |= (w && FD_ISSET(fd, w)) ? POLLOUT : 0;
        ev |= (e && FD_ISSET(fd, e)) ? POLLPRI : 0;
        if (ev)
            fds.push_back({fd, ev, 0});
    }
    const int rc = poll_entry(fds.data(), fds.size(), deadline, nonblocking, mask);
    if (rc < 0)
        return -1;
    for (fd_set *s : {r, w, e})
        if (s)
            FD_ZERO(s);
    int bits = 0;
    for (const pollfd &p : fds) {
        if (r && (p.events & POLLIN) && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
            FD_SET(p.fd, r);
            bits++;
        }
        if (w && (p.events & POLLOUT) && (p.revents & (POLLOUT | POLLERR))) {
            FD_SET(p.fd, w);
            bits++;
        }
        if (e && (p.events & POLLPRI) && (p.revents & POLLPRI)) {
            FD_SET(p.fd, e);
            bits++;
        }
        if (p.revents & POLLNVAL) {
            errno = EBADF;
            return -1;
        }
    }
    return bits;
}

} // namespace netring::netmap
