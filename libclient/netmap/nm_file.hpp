// The netmap file descriptor as libnetring-netmap keeps it.
//
// open("/dev/netmap") returns a control connection to netringd: a real socket, so the kernel
// keeps its lifetime. dup(), fork() and SCM_RIGHTS share it as they share any open file, and the
// daemon ends the registration when the last descriptor of it closes anywhere, as netmap ends one
// with the last close of its file. Each process keeps an nm_file per open connection, found by
// descriptor number in a table; a descriptor this process never saw open (inherited across exec,
// received over a socket) is recognised by its peer, the daemon's socket, and adopted.
//
// REGISTER makes a libnetring port on a dup of the socket, with the netmap view of the rings
// (port::netmap_if) for the program: NIOCTXSYNC and NIOCRXSYNC are libnetring's shared-memory
// syncs, with no system call.
#pragma once

#include <netring/netring.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

struct nmreq_header;
struct nmreq;

namespace netring::netmap {

struct nm_file {
    std::mutex control;             // REGISTER and the other control requests
    std::optional<netring::port> p; // once registered
    uint32_t nr_flags = 0;          // as registered (NR_NO_TX_POLL, ...)
    bool reset_seen = false;        // a sync reset a ring since the last poll: POLLERR once
    std::atomic<int> refs{1};       // descriptors of this process that name it
    int inner_epoll = -1;           // epoll set of the notify eventfds, for epoll_ctl(2) users
};

#pragma GCC visibility push(hidden)

// ---- the descriptor table (fd_table.cpp) ----
// Descriptors past max_fd cannot be netmap descriptors: open() refuses them with EMFILE.
inline constexpr int max_fd = 1 << 16;
extern std::atomic<nm_file *> files[max_fd];

nm_file *find(int fd); // nullptr: not a netmap descriptor of this process
// A descriptor this process did not open as netmap's: the daemon's socket, inherited or received.
// Adopts the registration made on it, if any; nullptr when it is not netringd's socket.
nm_file *discover(int fd);
nm_file *find_or_discover(int fd);
void install(int fd, nm_file *f); // puts f at fd (a reference the caller took), dropping the old
void unref(nm_file *f);           // the last reference deletes the file
bool is_netmap_path(const char *path);
bool needs_mode(int flags); // open()'s flags that take a mode argument
int open_device(int flags); // open("/dev/netmap"): a new control connection

// Writes "libnetring-netmap: TEXT" to stderr: the reason behind an errno a netmap program prints.
void log(const std::string &text);

// The errno for a libnetring error, as netmap's kernel would answer the request.
int errno_of(const error &e);

// A descriptor of the same open file that the table does not list (the port's own reference).
int dup_cloexec(int fd);

// ---- syncs and readiness (nm_sync.cpp) ----
// NIOCTXSYNC / NIOCRXSYNC: 0, or -1 with errno (ENXIO when not registered).
int sync_dir(nm_file &f, bool tx);
// poll()'s revents for a netmap descriptor after its implicit syncs.
short revents_of(nm_file &f, short events);
// Arms the file's rings for a sleep and appends the descriptors to sleep on; false when work
// arrived meanwhile. disarm() is its partner, after the sleep.
bool arm(nm_file &f, short events, std::vector<pollfd> &out);
void disarm(nm_file &f);

// ---- poll and select (nm_poll.cpp) ----
// Empty looks at the rings a poll (or epoll_wait) makes before it arms them and sleeps, as
// libnetring's wait() does: a sender a little behind the receiver costs no system call.
inline constexpr int spin_before_sleep = 1000;
using clock = std::chrono::steady_clock;
std::optional<clock::time_point> deadline_ms(int timeout);
std::optional<clock::time_point> deadline_ts(const timespec *ts);
int ms_left(std::optional<clock::time_point> deadline);
// The same, at most `polled_ms` when a netmap descriptor of the set has no eventfd that announces
// its frames (port::needs_polling: a monitor of a pipe).
inline constexpr int polled_ms = 1;
inline int sleep_ms(std::optional<clock::time_point> deadline, bool polled)
{
    const int ms = ms_left(deadline);
    return polled && (ms < 0 || ms > polled_ms) ? polled_ms : ms;
}
// poll(2) semantics over fds; -2 when no netmap descriptor is among them (the caller asks libc).
int poll_entry(pollfd *fds, nfds_t n, std::optional<clock::time_point> deadline, bool nonblocking,
               const sigset_t *mask);
bool sets_have_netmap(int nfds, const fd_set *r, const fd_set *w, const fd_set *e);
int select_via_poll(int nfds, fd_set *r, fd_set *w, fd_set *e, std::optional<clock::time_point> deadline,
                    bool nonblocking, const sigset_t *mask);

// ---- epoll (nm_epoll.cpp) ----
int epoll_ctl_netmap(int epfd, int op, int fd, nm_file &f, epoll_event *ev);
// epoll_wait(2) over epfd; -2 when it holds no netmap descriptor (the caller asks libc).
int epoll_wait_entry(int epfd, epoll_event *out, int max, int timeout, const sigset_t *mask);
void forget_epoll_members(nm_file *f); // f is going
void forget_epoll_set(int epfd);       // epfd is being closed

// ---- control requests (ctl.cpp) ----
// NIOCCTRL, NIOCREGIF and NIOCGINFO on a netmap descriptor `fd`. 0, or -1 with errno.
int control(nm_file &f, int fd, nmreq_header *h);
int legacy_control(nm_file &f, int fd, unsigned long cmd, nmreq *r);

#pragma GCC visibility pop

} // namespace netring::netmap
