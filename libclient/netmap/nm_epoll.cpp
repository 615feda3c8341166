// epoll over sets that hold netmap descriptors. epoll_ctl puts each netmap descriptor's own epoll
// set (its rings' eventfds and its control socket) into the program's set under the program's
// epoll_data; epoll_wait takes readiness from the rings and an event of such an inner set only as
// "look again".
#include "nm_file.hpp"

#include "libc_calls.hpp"

#include <net/netmap.h>
#include <net/netmap_legacy.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <mutex>
#include <vector>

namespace netring::netmap {
namespace {

struct ep_member {
    int fd;
    nm_file *f;
    uint32_t events;
    epoll_data_t data;
};
std::mutex ep_lock;
std::map<int, std::vector<ep_member>> ep_sets; // by epoll descriptor
std::atomic<bool> ep_used{false};              // any member at all: close() checks the map only then

uint32_t epoll_of(short revents)
{
    uint32_t e = 0;
    e |= (revents & POLLIN) ? uint32_t{EPOLLIN} : 0u;
    e |= (revents & POLLOUT) ? uint32_t{EPOLLOUT} : 0u;
    e |= (revents & POLLERR) ? uint32_t{EPOLLERR} : 0u;
    e |= (revents & POLLHUP) ? uint32_t{EPOLLHUP} : 0u;
    return e;
}

short poll_of(uint32_t events)
{
    return static_cast<short>(((events & EPOLLIN) ? POLLIN : 0) | ((events & EPOLLOUT) ? POLLOUT : 0));
}

// The file's own epoll set: its notify eventfds and control socket. The program's epoll set holds
// this one descriptor in place of the netmap descriptor, so its epoll_wait wakes when a ring does.
int inner_epoll_of(nm_file &f)
{
    if (f.inner_epoll >= 0)
        return f.inner_epoll;
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        return -1;
    if (f.p) {
        for (const int fd : f.p->poll_fds(netring::wait_rx | netring::wait_tx)) {
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.fd = fd;
            real_epoll_ctl()(ep, EPOLL_CTL_ADD, fd, &ev);
        }
    }
    f.inner_epoll = ep;
    return ep;
}

// The port's control fd now names another file: a broken socket replaced by the retry timer, or
// the timer by a new socket (port::control_events said so). The old entry would stay in the inner
// set as long as the program's netmap descriptor keeps the dead socket open, reporting EOF for
// ever: a fresh inner set replaces the old one in every program set that holds the file.
void renew_inner_epoll(nm_file &f)
{
    std::lock_guard g(ep_lock);
    const int old = f.inner_epoll;
    f.inner_epoll = -1;
    const int fresh = inner_epoll_of(f);
    if (fresh < 0) {
        f.inner_epoll = old; // out of descriptors: keep the old set, it still has the rings
        return;
    }
    for (const auto &[epfd, members] : ep_sets) {
        for (const ep_member &m : members) {
            if (m.f != &f)
                continue;
            epoll_event outer{};
            outer.events = EPOLLIN;
            outer.data = m.data;
            real_epoll_ctl()(epfd, EPOLL_CTL_ADD, fresh, &outer);
            real_epoll_ctl()(epfd, EPOLL_CTL_DEL, old, nullptr);
        }
    }
    if (old >= 0)
        real_close()(old);
}

} // namespace

int epoll_ctl_netmap(int epfd, int op, int fd, nm_file &f, epoll_event *ev)
{
    std::lock_guard g(ep_lock);
    auto &members = ep_sets[epfd];
    auto it = std::find_if(members.begin(), members.end(), [&](const ep_member &m) { return m.fd == fd; });
    if (op == EPOLL_CTL_DEL) {
        if (it == members.end()) {
            errno = ENOENT;
            return -1;
        }
        const int rc = real_epoll_ctl()(epfd, EPOLL_CTL_DEL, it->f->inner_epoll, nullptr);
        members.erase(it);
        return rc;
    }
    if (!ev) {
        errno = EFAULT;
        return -1;
    }
    if (op == EPOLL_CTL_ADD && it != members.end()) {
        errno = EEXIST;
        return -1;
    }
    if (op == EPOLL_CTL_MOD && it == members.end()) {
        errno = ENOENT;
        return -1;
    }
    const int inner = inner_epoll_of(f);
    if (inner < 0)
        return -1;
    epoll_event outer{};
    outer.events = EPOLLIN;
    outer.data = ev->data;
    if (real_epoll_ctl()(epfd, op, inner, &outer) < 0)
        return -1;
    if (op == EPOLL_CTL_ADD)
        members.push_back({fd, &f, ev->events, ev->data});
    else
        *it = {fd, &f, ev->events, ev->data};
    ep_used.store(true, std::memory_order_release);
    return 0;
}

namespace {

// The set's netmap members, copied into a per-thread vector under the lock: epoll_wait then runs
// without the lock and, after the first call, allocates nothing.
const std::vector<ep_member> &members_of(int epfd)
{
    thread_local std::vector<ep_member> copy;
    copy.clear();
    if (!ep_used.load(std::memory_order_acquire))
        return copy;
    std::lock_guard g(ep_lock);
    if (auto it = ep_sets.find(epfd); it != ep_sets.end())
        copy.assign(it->second.begin(), it->second.end());
    return copy;
}

bool is_member_data(const std::vector<ep_member> &members, const epoll_data_t &d)
{
    return std::any_of(members.begin(), members.end(), [&](const ep_member &m) { return m.data.u64 == d.u64; });
}

// epoll_wait over a set with netmap descriptors: their readiness comes from the rings; events of
// their inner sets only mean "look again".
int epoll_wait_netmap(int epfd, epoll_event *out, int max, int timeout, const sigset_t *mask,
                      const std::vector<ep_member> &members)
{
    if (max <= 0) {
        errno = EINVAL;
        return -1;
    }
    const auto deadline = deadline_ms(timeout);
    bool nonblocking = timeout == 0;
    int spins = spin_before_sleep;
    for (;;) {
        int k = 0;
        for (const ep_member &m : members) {
            if (k == max)
                break;
            const short r = revents_of(*m.f, poll_of(m.events));
            if (r)
                out[k++] = {epoll_of(r), m.data};
        }
        auto others = [&](int ms) {
            const int rc = mask ? real_epoll_pwait()(epfd, out + k, max - k, ms, mask)
                                : real_epoll_wait()(epfd, out + k, max - k, ms);
            if (rc <= 0)
                return rc;
            int kept = 0;
            for (int i = 0; i < rc; i++)
                if (!is_member_data(members, out[k + i].data))
                    out[k + kept++] = out[k + i];
            return kept;
        };
        if (k > 0 || nonblocking || ms_left(deadline) == 0) {
            const int rc = k < max ? others(0) : 0;
            return rc < 0 ? (k > 0 ? k : -1) : k + rc;
        }
        if (spins-- > 0) {
            nr_cpu_relax();
            continue;
        }
        thread_local std::vector<pollfd> unused; // arm() names the fds; epoll has them already
        unused.clear();
        size_t armed = 0;
        for (; armed < members.size(); armed++)
            if (!arm(*members[armed].f, poll_of(members[armed].events), unused))
                break;
        if (armed < members.size()) {
            for (size_t i = 0; i < armed; i++)
                disarm(*members[i].f);
            continue;
        }
        const bool polled =
            std::any_of(members.begin(), members.end(), [](const ep_member &m) { return m.f->p && m.f->p->needs_polling(); });
        const int rc = others(sleep_ms(deadline, polled));
        const int saved = errno;
        for (const ep_member &m : members)
            disarm(*m.f); // also notices a broken control connection (port::disarm_wait)
        for (const ep_member &m : members)
            if (m.f->p && m.f->p->control_events() != 0)
                renew_inner_epoll(*m.f);
        if (rc < 0) {
            errno = saved;
            return -1;
        }
        if (rc > 0)
            return rc; // the program's own descriptors; netmap readiness shows on the next call
        spins = spin_before_sleep; // woken by a ring: look again, spinning before the next sleep
    }
}

} // namespace

int epoll_wait_entry(int epfd, epoll_event *out, int max, int timeout, const sigset_t *mask)
{
    const auto &members = members_of(epfd);
    if (members.empty())
        return -2;
    return epoll_wait_netmap(epfd, out, max, timeout, mask, members);
}

void forget_epoll_members(nm_file *f)
{
    if (!ep_used.load(std::memory_order_acquire))
        return;
    std::lock_guard g(ep_lock);
    for (auto &[epfd, members] : ep_sets)
        std::erase_if(members, [&](const ep_member &m) { return m.f == f; });
}

void forget_epoll_set(int epfd)
{
    if (!ep_used.load(std::memory_order_acquire))
        return;
    std::lock_guard g(ep_lock);
    ep_sets.erase(epfd);
}

} // namespace netring::netmap
