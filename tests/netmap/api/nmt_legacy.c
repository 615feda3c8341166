/* Objective: the legacy netmap_user.h API (nm_open, nm_inject, nm_dispatch, nm_nextpkt, nm_close)
 * moves 100000 frames over a pipe, every one checked, none lost, in order.
 * Steps: the child nm_open()s "netmap:PARENT}1" and tells the parent; the parent nm_open()s
 * "netmap:PARENT{1" and nm_inject()s frames 0..N-1, poll()ing NETMAP_FD for POLLOUT whenever the
 * ring is full. The child polls for POLLIN and takes the first half with nm_dispatch (at most 64 a
 * call, the callback checking each frame and its nm_pkthdr), the second half with nm_nextpkt, and
 * checks that nothing follows. Both ends nm_close(), which returns 0. Usage: nmt_legacy PARENT */
#define NETMAP_WITH_LIBS
#include "nmt.h"

#include <poll.h>

enum { frames = 100000, batch = 64 };

struct rx_state {
    uint32_t seq;
    int in_call; /* callbacks in the current nm_dispatch() */
};

static void on_packet(u_char *arg, const struct nm_pkthdr *h, const u_char *buf)
{
    struct rx_state *s = (struct rx_state *)arg;
    CHECK(buf == h->buf);
    CHECK_EQ(h->len, nmt_frame_len(s->seq));
    CHECK_EQ(h->caplen, h->len);
    nmt_frame_check(buf, h->len, s->seq);
    s->seq++;
    s->in_call++;
}

static void wait_for(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};
    CHECK_EQ(poll(&p, 1, -1), 1);
    CHECK_EQ(p.revents, events);
}

static void receive(const char *port, int ready_fd)
{
    struct nm_desc *d = nm_open(port, NULL, 0, NULL);
    CHECK(d != NULL);
    CHECK(IS_NETMAP_DESC(d));
    CHECK_EQ(d->first_rx_ring, d->last_rx_ring);
    CHECK_EQ(d->req.nr_rx_rings, 1);
    CHECK(write(ready_fd, "r", 1) == 1);
    struct rx_state s = {0, 0};
    while (s.seq < frames / 2) {
        wait_for(NETMAP_FD(d), POLLIN);
        s.in_call = 0;
        const int n = nm_dispatch(d, batch, on_packet, (u_char *)&s);
        CHECK(n > 0 && n <= batch);
        CHECK_EQ(n, s.in_call);
    }
    while (s.seq < frames) {
        struct nm_pkthdr h;
        u_char *buf = nm_nextpkt(d, &h);
        if (buf == NULL) {
            wait_for(NETMAP_FD(d), POLLIN);
            continue;
        }
        CHECK(buf == h.buf);
        CHECK_EQ(h.len, nmt_frame_len(s.seq));
        nmt_frame_check(buf, h.len, s.seq);
        s.seq++;
    }
    CHECK_EQ(ioctl(NETMAP_FD(d), NIOCRXSYNC, NULL), 0);
    struct nm_pkthdr h;
    CHECK(nm_nextpkt(d, &h) == NULL);
    CHECK_EQ(nm_dispatch(d, batch, on_packet, (u_char *)&s), 0);
    CHECK_EQ(nm_close(d), 0);
    printf("received and checked %u frames\n", s.seq);
}

static struct nm_desc *transmit(const char *port)
{
    struct nm_desc *d = nm_open(port, NULL, 0, NULL);
    CHECK(d != NULL);
    CHECK_EQ(d->first_tx_ring, d->last_tx_ring);
    static uint8_t frame[2048];
    uint32_t seq = 0;
    while (seq < frames) {
        nmt_frame_fill(frame, seq);
        const int n = nm_inject(d, frame, nmt_frame_len(seq));
        if (n == 0) {
            wait_for(NETMAP_FD(d), POLLOUT);
            continue;
        }
        CHECK_EQ(n, nmt_frame_len(seq));
        seq++;
    }
    struct netmap_ring *tx = NETMAP_TXRING(d->nifp, d->first_tx_ring);
    while (nm_tx_pending(tx)) {
        CHECK_EQ(ioctl(NETMAP_FD(d), NIOCTXSYNC, NULL), 0);
        if (nm_tx_pending(tx))
            usleep(100);
    }
    printf("injected %u frames\n", seq);
    return d;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PARENT\n", argv[0]);
        return 2;
    }
    char rx_port[64], tx_port[64];
    snprintf(rx_port, sizeof rx_port, "netmap:%s}1", argv[1]);
    snprintf(tx_port, sizeof tx_port, "netmap:%s{1", argv[1]);
    const pid_t pid = nmt_fork_receiver(receive, rx_port);
    struct nm_desc *d = transmit(tx_port);
    nmt_wait_child(pid);
    CHECK_EQ(nm_close(d), 0);
    printf("ok\n");
    return 0;
}
