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

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

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

// The C library's functions, for descriptors that are not netmap's and for the layer's own calls.
namespace sys {
int close(int fd);
int ioctl(int fd, unsigned long req, void *arg);
int poll(pollfd *fds, nfds_t n, int timeout);
int dup_cloexec(int fd); // a descriptor of the same open file that the table does not list
} // namespace sys

// Writes "libnetring-netmap: TEXT" to stderr: the reason behind an errno a netmap program prints.
void log(const std::string &text);

// The errno for a libnetring error, as netmap's kernel would answer the request.
int errno_of(const error &e);

// NIOCCTRL, NIOCREGIF and NIOCGINFO on a netmap descriptor `fd` (ctl.cpp). 0, or -1 with errno.
int control(nm_file &f, int fd, nmreq_header *h);
int legacy_control(nm_file &f, int fd, unsigned long cmd, nmreq *r);

} // namespace netring::netmap
