#include "libc_calls.hpp"

#include <dlfcn.h>

namespace netring::netmap {
namespace {

template <class F>
F libc(const char *name)
{
    return reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}

} // namespace

#define NM_REAL(name, type)                                                                                    \
    type real_##name()                                                                                         \
    {                                                                                                          \
        static const type f = libc<type>(#name);                                                               \
        return f;                                                                                              \
    }
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

} // namespace netring::netmap
