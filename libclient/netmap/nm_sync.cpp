// What a netmap descriptor's syncs and poll do to its rings, as netmap's kernel does it: the
// syncs themselves (libnetring's, in shared memory), the timestamps and data offsets netmap
// programs expect, readiness, and arming the rings for a sleep.
#include "nm_file.hpp"

#include "libc_calls.hpp"

#include <net/netmap.h>
#include <net/netmap_legacy.h>

#include <sys/time.h>

#include <cerrno>
#include <cstring>

namespace netring::netmap {
namespace {

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
            // Read once: the check and the move must see the same numbers.
            const uint64_t ptr = __atomic_load_n(&s.ptr, __ATOMIC_RELAXED);
            const uint32_t len = __atomic_load_n(&s.len, __ATOMIC_RELAXED);
            const uint64_t off = ptr & mask;
            char *buf = f.p->buffer(__atomic_load_n(&s.buf_idx, __ATOMIC_RELAXED));
            if (off == 0 || !buf || off > size || len > size - off)
                continue;
            std::memmove(buf, buf + off, len);
            __atomic_store_n(&s.ptr, ptr & ~mask, __ATOMIC_RELAXED);
        }
    }
}

// One direction's sync, as NIOCTXSYNC/NIOCRXSYNC answer it: a ring reset is not an error of the
// call (netmap resets the ring and returns 0), but the next poll reports POLLERR.

} // namespace

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
    if ((events & POLLOUT) && f.p->ready(netring::wait_tx))
        r |= POLLOUT;
    if ((events & (POLLIN | POLLRDNORM)) && f.p->ready(netring::wait_rx))
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

} // namespace netring::netmap
