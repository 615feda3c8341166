/* Objective: libnetmap's nmport API moves 100000 frames over a pipe, every one checked (sequence,
 * length, every byte), none lost, in order, whichever way the program waits for its rings.
 * Steps: the child opens "netmap:PARENT}1" with nmport_open and tells the parent; the parent opens
 * "netmap:PARENT{1" and transmits frames 0..N-1 into its tx ring, waiting for room with the case's
 * mechanism (poll, select, epoll_wait, ppoll, pselect, or busy NIOCTXSYNC); the child receives with
 * the same mechanism and checks each frame, then that nothing follows the last. The parent flushes
 * its tx ring, waits for the child's verdict and closes. Usage: nmt_transfer MODE PARENT */
#include "nmt.h"

#include <libnetmap.h>

#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>

enum { frames = 100000 };

enum wait_mode { by_poll, by_select, by_epoll, by_ppoll, by_pselect, by_busy };
static enum wait_mode mode;
static int epfd = -1;

/* Waits until `fd` is ready for `events` (POLLIN or POLLOUT), with no timeout: a hang is caught
 * by the driver, which kills the test and shows where it stood. */
static void wait_ready(int fd, short events, struct netmap_ring *ring)
{
    switch (mode) {
    case by_poll:
    case by_ppoll: {
        struct pollfd p = {.fd = fd, .events = events};
        sigset_t none;
        sigemptyset(&none);
        const int rc = mode == by_poll ? poll(&p, 1, -1) : ppoll(&p, 1, NULL, &none);
        CHECK_EQ(rc, 1);
        CHECK_EQ(p.revents, events); /* no POLLERR, no POLLHUP */
        break;
    }
    case by_select:
    case by_pselect: {
        fd_set set;
        FD_ZERO(&set);
        FD_SET(fd, &set);
        fd_set *r = events == POLLIN ? &set : NULL, *w = events == POLLOUT ? &set : NULL;
        sigset_t none;
        sigemptyset(&none);
        const int rc =
            mode == by_select ? select(fd + 1, r, w, NULL, NULL) : pselect(fd + 1, r, w, NULL, NULL, &none);
        CHECK_EQ(rc, 1);
        CHECK(FD_ISSET(fd, &set));
        break;
    }
    case by_epoll: {
        if (epfd < 0) {
            epfd = epoll_create1(EPOLL_CLOEXEC);
            CHECK(epfd >= 0);
            struct epoll_event ev = {.events = events == POLLIN ? EPOLLIN : EPOLLOUT, .data.u64 = 0x5eed};
            CHECK_EQ(epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev), 0);
        }
        struct epoll_event out[4];
        const int rc = epoll_wait(epfd, out, 4, -1);
        CHECK_EQ(rc, 1);
        CHECK_EQ(out[0].data.u64, 0x5eed);
        CHECK_EQ(out[0].events, events == POLLIN ? EPOLLIN : EPOLLOUT);
        break;
    }
    case by_busy:
        for (;;) {
            CHECK_EQ(ioctl(fd, events == POLLIN ? NIOCRXSYNC : NIOCTXSYNC, NULL), 0);
            if (ring->cur != ring->tail)
                break;
            sched_yield();
        }
        break;
    }
    CHECK(ring->cur != ring->tail); /* ready means frames to read or room to write */
}

static void receive(const char *port, int ready_fd)
{
    struct nmport_d *d = nmport_open(port);
    CHECK(d != NULL);
    CHECK_EQ(d->first_rx_ring, d->last_rx_ring); /* one ring: the order of frames is defined */
    CHECK(write(ready_fd, "r", 1) == 1);
    struct netmap_ring *rx = NETMAP_RXRING(d->nifp, d->first_rx_ring);
    uint32_t seq = 0;
    while (seq < frames) {
        wait_ready(d->fd, POLLIN, rx);
        nmt_ring_receive(rx, &seq);
    }
    CHECK_EQ(ioctl(d->fd, NIOCRXSYNC, NULL), 0);
    CHECK_EQ(rx->cur, rx->tail); /* nothing past the last frame */
    nmport_close(d);
    printf("received and checked %u frames\n", seq);
}

static struct nmport_d *transmit(const char *port)
{
    struct nmport_d *d = nmport_open(port);
    CHECK(d != NULL);
    CHECK_EQ(d->first_tx_ring, d->last_tx_ring);
    struct netmap_ring *tx = NETMAP_TXRING(d->nifp, d->first_tx_ring);
    uint32_t seq = 0;
    while (seq < frames) {
        wait_ready(d->fd, POLLOUT, tx);
        nmt_ring_send(tx, &seq, frames);
    }
    /* What the tx ring still holds leaves as the receiver makes room. */
    while (nm_tx_pending(tx)) {
        CHECK_EQ(ioctl(d->fd, NIOCTXSYNC, NULL), 0);
        if (nm_tx_pending(tx))
            usleep(100);
    }
    printf("sent %u frames\n", seq);
    return d;
}

int main(int argc, char **argv)
{
    static const char *const names[] = {"poll", "select", "epoll", "ppoll", "pselect", "busy"};
    if (argc != 3) {
        fprintf(stderr, "usage: %s poll|select|epoll|ppoll|pselect|busy PARENT\n", argv[0]);
        return 2;
    }
    size_t m = 0;
    while (m < 6 && strcmp(argv[1], names[m]) != 0)
        m++;
    if (m == 6) {
        fprintf(stderr, "unknown wait mode '%s'\n", argv[1]);
        return 2;
    }
    mode = (enum wait_mode)m;
    char rx_port[64], tx_port[64];
    snprintf(rx_port, sizeof rx_port, "netmap:%s}1", argv[2]);
    snprintf(tx_port, sizeof tx_port, "netmap:%s{1", argv[2]);

    const pid_t pid = nmt_fork_receiver(receive, rx_port);
    struct nmport_d *d = transmit(tx_port);
    nmt_wait_child(pid); /* the sender's end stays open until the receiver's verdict */
    nmport_close(d);
    printf("ok: %s\n", argv[1]);
    return 0;
}
