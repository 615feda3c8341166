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

#include "libc_calls.hpp"

#include <net/netmap.h>
#include <net/netmap_legacy.h>

#include <fcntl.h>
#include <sys/mman.h>

#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <optional>

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
    forget_epoll_set(fd);
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
    const int rc = epoll_wait_entry(epfd, events, max, timeout, nullptr);
    return rc == -2 ? real_epoll_wait()(epfd, events, max, timeout) : rc;
}

NM_EXPORT int epoll_pwait(int epfd, epoll_event *events, int max, int timeout, const sigset_t *mask)
{
    const int rc = epoll_wait_entry(epfd, events, max, timeout, mask);
    return rc == -2 ? real_epoll_pwait()(epfd, events, max, timeout, mask) : rc;
}

} // extern "C"
