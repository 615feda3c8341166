// The wake-up half of the sync model: every ring has a kick eventfd (application -> daemon) and a
// notify eventfd (daemon -> application, or pipe peer -> peer). A side writes one only when the
// other said it sleeps (the need_kick flags in the sync block), so these run rarely.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace netring::rings {

// Adds one to the counter. EAGAIN (the counter is full) is not an error: the reader wakes anyway.
inline void eventfd_signal(int fd)
{
    const uint64_t one = 1;
    ssize_t n;
    do {
        n = ::write(fd, &one, sizeof one);
    } while (n < 0 && errno == EINTR);
}

// Resets the counter of a non-blocking eventfd; EAGAIN means it was already zero.
inline void eventfd_drain(int fd)
{
    uint64_t count;
    ssize_t n;
    do {
        n = ::read(fd, &count, sizeof count);
    } while (n < 0 && errno == EINTR);
}

} // namespace netring::rings
