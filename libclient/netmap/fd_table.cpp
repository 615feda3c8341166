// The descriptor table: which descriptors of this process are netmap's, opening one, adopting one
// this process received, and the errors netmap programs see.
#include "nm_file.hpp"

#include "libc_calls.hpp"

#include <net/netmap.h>
#include <net/netmap_legacy.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace netring::netmap {

namespace {
constexpr const char *device_path = "/dev/netmap";
} // namespace

std::atomic<nm_file *> files[max_fd];

nm_file *find(int fd)
{
    return fd >= 0 && fd < max_fd ? files[fd].load(std::memory_order_acquire) : nullptr;
}

int dup_cloexec(int fd) { return real_fcntl()(fd, F_DUPFD_CLOEXEC, 3); }

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

} // namespace netring::netmap
