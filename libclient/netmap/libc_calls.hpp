// The C library's functions behind the ones libnetring-netmap defines, resolved with
// dlsym(RTLD_NEXT) on first use (a preloaded library can be called before its constructors run).
// Every descriptor that is not a netmap one goes straight to these.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/types.h>

#pragma GCC visibility push(hidden)

namespace netring::netmap {

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

open_fn real_open();
open_fn real_open64();
openat_fn real_openat();
openat_fn real_openat64();
open2_fn real___open_2();
open2_fn real___open64_2();
close_fn real_close();
ioctl_fn real_ioctl();
mmap_fn real_mmap();
mmap_fn real_mmap64();
poll_fn real_poll();
ppoll_fn real_ppoll();
select_fn real_select();
pselect_fn real_pselect();
dup_fn real_dup();
dup2_fn real_dup2();
dup3_fn real_dup3();
fcntl_fn real_fcntl();
fcntl_fn real_fcntl64();
epoll_ctl_fn real_epoll_ctl();
epoll_wait_fn real_epoll_wait();
epoll_pwait_fn real_epoll_pwait();
close_range_fn real_close_range();

} // namespace netring::netmap

#pragma GCC visibility pop
