// The netmap file descriptor: the C library calls a netmap program makes on it, taken over here.
//
// This library defines open, ioctl, mmap, poll, select, epoll_*, close, dup and fcntl. A program
// linked with it (no LD_PRELOAD) gets these definitions before the C library's, as does a prebuilt
// program with the library in LD_PRELOAD; both see one mechanism. Every call first asks whether
// the descriptor is a netmap one (one atomic load in a table indexed by descriptor); when it is
// not, the C library's function (dlsym RTLD_NEXT) does the work, unchanged.
//
// What a netmap descriptor does, as netmap's kernel does it:
//   open("/dev/netmap")    a control connection to netringd (nm_file.hpp)
//   ioctl NIOCCTRL ...     ctl.cpp
//   ioctl NIOCTXSYNC/RX    libnetring's shared-memory sync of the bound rings: no system call
//   mmap                   the registration's region (its memfd), from offset 0
//   poll/select/epoll      txsync the bound tx rings (unless NR_NO_TX_POLL), rxsync and stamp
//                          ring->ts when reading; ready means cur != tail on some ring; POLLERR
//                          when unbound or after a ring reset; otherwise sleep on the rings'
//                          notify eventfds together with the program's other descriptors
#include "nm_file.hpp"

#include <net/netmap.h>
#include <net/netmap_legacy.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstddef>
#include <cstring>
#include <limits>
#include <map>
#include <vector>

namespace netring::netmap {
namespace {

template <class F>
F libc(const char *name)
{
    return reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}

// The C library's entry points, resolved on first use (a preloaded library can be called before
// its constructors run).
#define NM_REAL(name, type)                                                                                    \
    type real_##name()                                                                                         \
    {                                                                                                          \
        static const type f = libc<type>(#name);                                                               \
        return f;                                                                                              \
    }
using open_fn = int (*)(const char *, int, ...);
using openat_fn = int (*)(int, const char *, int, ...);
using open2_fn = int (*)(const char *, int);
using close_fn = int (*)(int);
using ioctl_fn = int (*)(int, unsigned long, ...);
using mmap_fn = void *(*)(void *, size_t, int, int, int, off_t);
using poll_fn = int (*)(pollfd *, nfds_t, int);
using ppoll_fn = int (*)(pollfd *, nfds_t, const timespec *, const sigset_t *);
using select_fn = int (*)(int, fd_set *, fd_set *, fd_set *, timeval *);
using pselect_fn = int (*)(int, fd_set *, fd_set *, fd_set *, const timespec *, const sigset_t *);
using dup_fn = int (*)(int);
using dup2_fn = int (*)(int, int);
using dup3_fn = int (*)(int, int, int);
using fcntl_fn = int (*)(int, int, ...);
using epoll_ctl_fn = int (*)(int, int, int, epoll_event *);
using epoll_wait_fn = int (*)(int, epoll_event *, int, int);
using epoll_pwait_fn = int (*)(int, epoll_event *, int, int, const sigset_t *);
using close_range_fn = int (*)(unsigned, unsigned, int);
NM_REAL(open, open_fn)
NM_REAL(open64, open_fn)
NM_REAL(openat, openat_fn)
NM_REAL(openat64, openat_fn)
NM_REAL(__open_2, open2_fn)
NM_REAL(__open64_2, open2_fn)
NM_REAL(close, close_fn)
NM_REAL(ioctl, ioctl_fn)
NM_REAL(mmap, mmap_fn)
NM_REAL(mmap64, mmap_fn)
NM_REAL(poll, poll_fn)
NM_REAL(ppoll, ppoll_fn)
NM_REAL(select, select_fn)
NM_REAL(pselect, pselect_fn)
NM_REAL(dup, dup_fn)
NM_REAL(dup2, dup2_fn)
NM_REAL(dup3, dup3_fn)
NM_REAL(fcntl, fcntl_fn)
NM_REAL(fcntl64, fcntl_fn)
NM_REAL(epoll_ctl, epoll_ctl_fn)
NM_REAL(epoll_wait, epoll_wait_fn)
NM_REAL(epoll_pwait, epoll_pwait_fn)
NM_REAL(close_range, close_range_fn)
#undef NM_REAL

constexpr const char *device_path = "/dev/netmap";

// ---- the descriptor table ----
// Descriptors past max_fd cannot be netmap descriptors: open() refuses them with EMFILE.
constexpr int max_fd = 1 << 16;
std::atomic<nm_file *> files[max_fd];

nm_file *find(int fd)
{
    return fd >= 0 && fd < max_fd ? files[fd].load(std::memory_order_acquire) : nullptr;
}

// ---- epoll sets holding netmap descriptors ----
struct ep_member {
    int fd;
    nm_file *f;
    uint32_t events;
    epoll_data_t data;
};
std::mutex ep_lock;
std::map<int, std::vector<ep_member>> ep_sets; // by epoll descriptor
std::atomic<bool> ep_used{false};              // any member at all: close() checks the map only then

void forget_epoll_members(nm_file *f)
{
    if (!ep_used.load(std::memory_order_acquire))
        return;
    std::lock_guard g(ep_lock);
    for (auto &[epfd, members] : ep_sets)
        std::erase_if(members, [&](const ep_member &m) { return m.f == f; });
}

void unref(nm_file *f)
{
    if (f->refs.fetch_sub(1, std::memory_order_acq_rel) != 1)
        return;
    forget_epoll_members(f);
    if (f->inner_epoll >= 0)
        real_close()(f->inner_epoll);
    delete f; // the port closes its own socket descriptor, which is not in the table
}

// Puts `f` at `fd` (a reference taken by the caller), dropping whatever was there.
void install(int fd, nm_file *f)
{
    if (nm_file *old = files[fd].exchange(f, std::memory_order_acq_rel))
        unref(old);
}

// A descriptor this process never opened as netmap's: the daemon's socket, inherited or received.
// Adopts the registration made on it, if there is one.
nm_file *discover(int fd)
{
    if (fd < 0 || fd >= max_fd)
        return nullptr;
    struct stat st;
    if (::fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
        return nullptr;
    sockaddr_un peer{};
    socklen_t len = sizeof peer;
    if (::getpeername(fd, reinterpret_cast<sockaddr *>(&peer), &len) < 0 || peer.sun_family != AF_UNIX ||
        len <= offsetof(sockaddr_un, sun_path))
        return nullptr;
    const std::string path(peer.sun_path, strnlen(peer.sun_path, len - offsetof(sockaddr_un, sun_path)));
    if (path != resolve_socket_path({}))
        return nullptr;
    auto *f = new nm_file;
    const int own = real_fcntl()(fd, F_DUPFD_CLOEXEC, 3);
    if (own >= 0) {
        auto p = netring::port::adopt(unique_fd(own));
        if (p)
            f->p.emplace(std::move(p.value()));
        else if (p.err().code != make_error_code(errc::not_registered))
            log("descriptor " + std::to_string(fd) + ": " + p.err().message);
    }
    nm_file *expected = nullptr;
    if (!files[fd].compare_exchange_strong(expected, f, std::memory_order_acq_rel)) {
        delete f; // another thread adopted it first
        return expected;
    }
    return f;
}

nm_file *find_or_discover(int fd)
{
    nm_file *f = find(fd);
    return f ? f : discover(fd);
}

bool is_netmap_path(const char *path) { return path && std::strcmp(path, device_path) == 0; }

bool needs_mode(int flags) { return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE; }

int open_device(int flags)
{
    auto c = connect_control();
    if (!c) {
        log("cannot open " + std::string(device_path) + ": " + c.err().message);
        errno = c.err().code == make_error_code(errc::daemon_gone) ? ENOENT : errno_of(c.err());
        return -1;
    }
    const int fd = c->get();
    if (fd >= max_fd) {
        errno = EMFILE;
        return -1;
    }
    if (!(flags & O_CLOEXEC))
        real_fcntl()(fd, F_SETFD, 0);
    install(c->release(), new nm_file);
    return fd;
}

// ---- syncs ----
// rxsync stamps ring->ts on the rings it brought packets to (netmap's arrival time of a batch);
// a sync that found nothing costs no clock read.
constexpr uint32_t max_stamped = 64;

void stamp_rx(nm_file &f, const uint32_t *tails_before)
{
    timeval now{};
    bool read = false;
    for (uint32_t i = 0; i < f.p->rx_rings() && i < max_stamped; i++) {
        nr_ring *r = f.p->rx_ring(i);
        if (r->tail == tails_before[i])
            continue;
        if (!read) {
            ::gettimeofday(&now, nullptr);
            read = true;
        }
        r->ts = now;
    }
}

// A netmap program that did not ask for slot offsets reads a frame from the start of its buffer.
// NIC rings deliver frames at an offset (AF_XDP copy mode writes them 256 bytes in, slot.ptr says
// so): the frames that arrived are moved to offset 0 and their offset cleared.
void move_to_offset_zero(nm_file &f, const uint32_t *tails_before)
{
    for (uint32_t i = 0; i < f.p->rx_rings() && i < max_stamped; i++) {
        nr_ring *r = f.p->rx_ring(i);
        const uint64_t mask = r->offset_mask;
        const uint32_t n = r->num_slots;
        if (mask == 0 || tails_before[i] >= n)
            continue;
        const uint32_t tail = r->tail;
        const uint32_t size = f.p->buf_size();
        for (uint32_t k = tails_before[i]; k != tail; k = k + 1 == n ? 0 : k + 1) {
            nr_slot &s = r->slot[k];
            const uint64_t off = s.ptr & mask;
            char *buf = f.p->buffer(s.buf_idx);
            if (off == 0 || !buf || off + s.len > size)
                continue;
            std::memmove(buf, buf + off, s.len);
            s.ptr &= ~mask;
        }
    }
}

// One direction's sync, as NIOCTXSYNC/NIOCRXSYNC answer it: a ring reset is not an error of the
// call (netmap resets the ring and returns 0), but the next poll reports POLLERR.
int sync_dir(nm_file &f, bool tx)
{
    if (!f.p) {
        errno = ENXIO;
        return -1;
    }
    uint32_t tails[max_stamped];
    if (!tx)
        for (uint32_t i = 0; i < f.p->rx_rings() && i < max_stamped; i++)
            tails[i] = f.p->rx_ring(i)->tail;
    const std::error_code ec = tx ? f.p->txsync() : f.p->rxsync();
    if (!tx) {
        stamp_rx(f, tails);
        move_to_offset_zero(f, tails);
    }
    if (!ec || ec == make_error_code(errc::peer_gone))
        return 0;
    if (ec == make_error_code(errc::ring_reset)) {
        f.reset_seen = true;
        return 0;
    }
    log(f.p->last_error());
    errno = ec == make_error_code(errc::daemon_gone) ? ENXIO : EIO;
    return -1;
}

bool any_ready(const nm_file &f, bool tx)
{
    const uint32_t n = tx ? f.p->tx_rings() : f.p->rx_rings();
    for (uint32_t i = 0; i < n; i++) {
        const nr_ring *r = tx ? f.p->tx_ring(i) : f.p->rx_ring(i);
        if (__atomic_load_n(&r->cur, __ATOMIC_RELAXED) != __atomic_load_n(&r->tail, __ATOMIC_RELAXED))
            return true;
    }
    return false;
}

// What poll reports for a netmap descriptor, after its implicit syncs.
short revents_of(nm_file &f, short events)
{
    if (!f.p)
        return POLLERR;
    bool failed = false;
    if (!(f.nr_flags & NR_NO_TX_POLL) || (events & POLLOUT))
        failed |= sync_dir(f, true) < 0;
    if (events & (POLLIN | POLLRDNORM))
        failed |= sync_dir(f, false) < 0;
    short r = 0;
    if (failed)
        r |= POLLERR | POLLHUP;
    if (f.reset_seen) {
        r |= POLLERR;
        f.reset_seen = false;
    }
    if ((events & POLLOUT) && any_ready(f, true))
        r |= POLLOUT;
    if ((events & (POLLIN | POLLRDNORM)) && any_ready(f, false))
        r |= events & (POLLIN | POLLRDNORM);
    return r;
}

unsigned wait_events(short events)
{
    return ((events & (POLLIN | POLLRDNORM)) ? netring::wait_rx : 0u) | ((events & POLLOUT) ? netring::wait_tx : 0u);
}

// Arms a file's rings for a sleep; the descriptors to sleep on go to `out`. False when work
// arrived meanwhile (the caller looks again instead of sleeping). A ring whose other side is gone
// is not armed: the file then sleeps on its control socket only, as netmap would block.
bool arm(nm_file &f, short events, std::vector<pollfd> &out)
{
    const unsigned w = wait_events(events);
    if (f.p && w && !f.p->peer_gone(w)) {
        if (!f.p->arm_wait(w))
            return false;
        for (const int fd : f.p->poll_fds(w))
            out.push_back({fd, POLLIN, 0});
    } else if (f.p) {
        out.push_back({f.p->control_fd(), POLLIN, 0});
    }
    return true;
}

void disarm(nm_file &f)
{
    if (f.p)
        f.p->disarm_wait();
}

using clock = std::chrono::steady_clock;

// Milliseconds left before `deadline` for poll(2): -1 forever, 0 when past.
int ms_left(std::optional<clock::time_point> deadline)
{
    if (!deadline)
        return -1;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - clock::now()).count();
    return left <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left, std::numeric_limits<int>::max()));
}

struct nm_entry {
    size_t index; // in the program's pollfd array
    nm_file *f;
};

// Empty looks at the rings a poll makes before it arms them and sleeps, as libnetring's wait()
// does: a sender a little behind the receiver costs no system call and no wake-up.
constexpr int spin_before_sleep = 1000;

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
        int rc;
        if (mask) {
            const int ms = ms_left(deadline);
            timespec ts{ms / 1000, (ms % 1000) * 1000000L};
            rc = real_ppoll()(set.data(), set.size(), ms < 0 ? nullptr : &ts, mask);
        } else {
            rc = real_poll()(set.data(), set.size(), ms_left(deadline));
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

// ---- epoll ----
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

std::vector<ep_member> members_of(int epfd)
{
    if (!ep_used.load(std::memory_order_acquire))
        return {};
    std::lock_guard g(ep_lock);
    auto it = ep_sets.find(epfd);
    return it == ep_sets.end() ? std::vector<ep_member>{} : it->second;
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
        std::vector<pollfd> unused;
        size_t armed = 0;
        for (; armed < members.size(); armed++)
            if (!arm(*members[armed].f, poll_of(members[armed].events), unused))
                break;
        if (armed < members.size()) {
            for (size_t i = 0; i < armed; i++)
                disarm(*members[i].f);
            continue;
        }
        const int rc = others(ms_left(deadline));
        const int saved = errno;
        for (const ep_member &m : members)
            disarm(*m.f);
        if (rc < 0) {
            errno = saved;
            return -1;
        }
        if (rc > 0)
            return rc; // the program's own descriptors; netmap readiness shows on the next call
    }
}

} // namespace

void log(const std::string &text)
{
    const std::string line = "libnetring-netmap: " + text + "\n";
    [[maybe_unused]] const ssize_t n = ::write(2, line.data(), line.size());
}

int errno_of(const error &e)
{
    if (e.code.category() != error_category())
        return e.code.category() == std::system_category() ? e.code.value() : EIO;
    switch (static_cast<errc>(e.code.value())) {
    case errc::ok: return 0;
    case errc::bad_port_name: return ENXIO;
    case errc::access_denied: return EPERM;
    case errc::port_busy: return EBUSY;
    case errc::limit_exceeded: return EINVAL;
    case errc::out_of_buffers: return ENOMEM;
    case errc::not_registered: return ENXIO;
    case errc::bad_ring: return EINVAL;
    case errc::not_supported: return EOPNOTSUPP;
    case errc::already_exists: return EEXIST;
    case errc::not_found: return ENXIO;
    case errc::daemon_gone: return ENXIO;
    case errc::timed_out: return ETIMEDOUT;
    default: return EIO;
    }
}

namespace sys {
int close(int fd) { return real_close()(fd); }
int ioctl(int fd, unsigned long req, void *arg) { return real_ioctl()(fd, req, arg); }
int poll(pollfd *fds, nfds_t n, int timeout) { return real_poll()(fds, n, timeout); }
int dup_cloexec(int fd) { return real_fcntl()(fd, F_DUPFD_CLOEXEC, 3); }
} // namespace sys

} // namespace netring::netmap

using namespace netring::netmap;

// ---- the interposed C library functions ----
extern "C" {

#define NM_EXPORT __attribute__((visibility("default")))

// The mode argument of an open() call, present only when the flags create a file.
#define NM_MODE_ARG(flags)                                                                                    \
    mode_t mode = 0;                                                                                          \
    if (needs_mode(flags)) {                                                                                  \
        va_list ap;                                                                                           \
        va_start(ap, flags);                                                                                  \
        mode = va_arg(ap, mode_t);                                                                            \
        va_end(ap);                                                                                           \
    }

NM_EXPORT int open(const char *path, int flags, ...)
{
    NM_MODE_ARG(flags)
    return is_netmap_path(path) ? open_device(flags) : real_open()(path, flags, mode);
}

NM_EXPORT int open64(const char *path, int flags, ...)
{
    NM_MODE_ARG(flags)
    return is_netmap_path(path) ? open_device(flags) : real_open64()(path, flags, mode);
}

NM_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
    NM_MODE_ARG(flags)
    return is_netmap_path(path) ? open_device(flags) : real_openat()(dirfd, path, flags, mode);
}

NM_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
    NM_MODE_ARG(flags)
    return is_netmap_path(path) ? open_device(flags) : real_openat64()(dirfd, path, flags, mode);
}
#undef NM_MODE_ARG

NM_EXPORT int __open_2(const char *path, int flags)
{
    return is_netmap_path(path) ? open_device(flags) : real___open_2()(path, flags);
}

NM_EXPORT int __open64_2(const char *path, int flags)
{
    return is_netmap_path(path) ? open_device(flags) : real___open64_2()(path, flags);
}

NM_EXPORT int close(int fd)
{
    if (nm_file *f = fd >= 0 && fd < max_fd ? files[fd].exchange(nullptr, std::memory_order_acq_rel) : nullptr)
        unref(f);
    if (ep_used.load(std::memory_order_acquire)) {
        std::lock_guard g(ep_lock);
        ep_sets.erase(fd);
    }
    return real_close()(fd);
}

NM_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
    const int rc = real_close_range()(first, last, flags);
    if (rc == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
        for (unsigned fd = first; fd <= last && fd < static_cast<unsigned>(max_fd); fd++)
            if (nm_file *f = files[fd].exchange(nullptr, std::memory_order_acq_rel))
                unref(f);
    return rc;
}

NM_EXPORT int dup(int fd)
{
    const int nfd = real_dup()(fd);
    if (nfd >= 0 && nfd < max_fd)
        if (nm_file *f = find(fd)) {
            f->refs.fetch_add(1, std::memory_order_relaxed);
            install(nfd, f);
        }
    return nfd;
}

NM_EXPORT int dup2(int fd, int nfd)
{
    const int rc = real_dup2()(fd, nfd);
    if (rc >= 0 && fd != nfd && nfd < max_fd) {
        nm_file *f = find(fd);
        if (f)
            f->refs.fetch_add(1, std::memory_order_relaxed);
        install(nfd, f); // the old file at nfd was closed by dup2
    }
    return rc;
}

NM_EXPORT int dup3(int fd, int nfd, int flags)
{
    const int rc = real_dup3()(fd, nfd, flags);
    if (rc >= 0 && nfd < max_fd) {
        nm_file *f = find(fd);
        if (f)
            f->refs.fetch_add(1, std::memory_order_relaxed);
        install(nfd, f);
    }
    return rc;
}

static int fcntl_common(fcntl_fn real, int fd, int cmd, void *arg)
{
    const int rc = real(fd, cmd, arg);
    if (rc >= 0 && rc < max_fd && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))
        if (nm_file *f = find(fd)) {
            f->refs.fetch_add(1, std::memory_order_relaxed);
            install(rc, f);
        }
    return rc;
}

NM_EXPORT int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_common(real_fcntl(), fd, cmd, arg);
}

NM_EXPORT int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_common(real_fcntl64() ? real_fcntl64() : real_fcntl(), fd, cmd, arg);
}

NM_EXPORT int ioctl(int fd, unsigned long req, ...)
{
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    switch (req) {
    case NIOCTXSYNC:
    case NIOCRXSYNC:
    case NIOCCTRL:
    case NIOCREGIF:
    case NIOCGINFO: break;
    default: return real_ioctl()(fd, req, arg);
    }
    nm_file *f = find_or_discover(fd);
    if (!f)
        return real_ioctl()(fd, req, arg);
    switch (req) {
    case NIOCTXSYNC: return sync_dir(*f, true);
    case NIOCRXSYNC: return sync_dir(*f, false);
    case NIOCCTRL: return control(*f, fd, static_cast<nmreq_header *>(arg));
    default: return legacy_control(*f, fd, req, static_cast<nmreq *>(arg));
    }
}

static void *mmap_common(mmap_fn real, void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    nm_file *f = fd >= 0 ? find(fd) : nullptr;
    if (!f) {
        void *p = real(addr, len, prot, flags, fd, off);
        // A socket cannot be mapped: one this process did not open may be a netmap descriptor.
        if (p != MAP_FAILED || errno != ENODEV || !(f = discover(fd)))
            return p;
    }
    if (!f->p || off != 0 || len == 0 || len > f->p->region_size()) {
        errno = EINVAL;
        return MAP_FAILED;
    }
    return real(addr, len, prot, flags, f->p->region_fd(), 0);
}

NM_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return mmap_common(real_mmap(), addr, len, prot, flags, fd, off);
}

NM_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return mmap_common(real_mmap64() ? real_mmap64() : real_mmap(), addr, len, prot, flags, fd, off);
}

NM_EXPORT int poll(pollfd *fds, nfds_t n, int timeout)
{
    const int rc = poll_entry(fds, n, deadline_ms(timeout), timeout == 0, nullptr);
    return rc == -2 ? real_poll()(fds, n, timeout) : rc;
}

NM_EXPORT int ppoll(pollfd *fds, nfds_t n, const timespec *ts, const sigset_t *mask)
{
    const bool now = ts && ts->tv_sec == 0 && ts->tv_nsec == 0;
    static const sigset_t *const no_mask = nullptr;
    const int rc = poll_entry(fds, n, deadline_ts(ts), now, mask ? mask : no_mask);
    return rc == -2 ? real_ppoll()(fds, n, ts, mask) : rc;
}

NM_EXPORT int select(int nfds, fd_set *r, fd_set *w, fd_set *e, timeval *tv)
{
    if (!sets_have_netmap(nfds, r, w, e))
        return real_select()(nfds, r, w, e, tv);
    std::optional<clock::time_point> deadline;
    if (tv)
        deadline = clock::now() + std::chrono::seconds(tv->tv_sec) + std::chrono::microseconds(tv->tv_usec);
    return select_via_poll(nfds, r, w, e, deadline, tv && tv->tv_sec == 0 && tv->tv_usec == 0, nullptr);
}

NM_EXPORT int pselect(int nfds, fd_set *r, fd_set *w, fd_set *e, const timespec *ts, const sigset_t *mask)
{
    if (!sets_have_netmap(nfds, r, w, e))
        return real_pselect()(nfds, r, w, e, ts, mask);
    return select_via_poll(nfds, r, w, e, deadline_ts(ts), ts && ts->tv_sec == 0 && ts->tv_nsec == 0, mask);
}

NM_EXPORT int epoll_ctl(int epfd, int op, int fd, epoll_event *ev)
{
    nm_file *f = find(fd);
    if (!f)
        return real_epoll_ctl()(epfd, op, fd, ev);
    return epoll_ctl_netmap(epfd, op, fd, *f, ev);
}

NM_EXPORT int epoll_wait(int epfd, epoll_event *events, int max, int timeout)
{
    const auto members = members_of(epfd);
    if (members.empty())
        return real_epoll_wait()(epfd, events, max, timeout);
    return epoll_wait_netmap(epfd, events, max, timeout, nullptr, members);
}

NM_EXPORT int epoll_pwait(int epfd, epoll_event *events, int max, int timeout, const sigset_t *mask)
{
    const auto members = members_of(epfd);
    if (members.empty())
        return real_epoll_pwait()(epfd, events, max, timeout, mask);
    return epoll_wait_netmap(epfd, events, max, timeout, mask, members);
}

} // extern "C"
