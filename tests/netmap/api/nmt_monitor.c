/* Objective: a netmap program opens copy monitors with netmap's names ("/t", "/r", "/rt") through
 * libnetmap and sees every frame that crosses the pipe end it watches, in order, byte for byte,
 * woken by poll(); zero-copy monitors ("/z") are refused with EOPNOTSUPP.
 * Steps: open "netmap:PARENT}1" (B), then the monitors "netmap:PARENT{1/rt" (both directions of
 * end A: rx rings only, the tx copy first) and "netmap:PARENT}1/r" (what B receives), then
 * "netmap:PARENT{1" (A). A sends 700 checked frames, B receives them; B sends 300, A receives them.
 * Each monitor is read after poll(POLLIN) says so: the /rt monitor holds A's 700 in its first ring
 * and B's 300 in its second, the /r monitor of B the 700. Usage: nmt_monitor PARENT */
#include "nmt.h"

#include <libnetmap.h>

#include <poll.h>

static void move_frames(struct nmport_d *from, struct nmport_d *to, uint32_t n)
{
    struct netmap_ring *tx = NETMAP_TXRING(from->nifp, 0);
    struct netmap_ring *rx = NETMAP_RXRING(to->nifp, 0);
    uint32_t sent = 0, got = 0;
    while (got < n) {
        nmt_ring_send(tx, &sent, n);
        CHECK_EQ(ioctl(from->fd, NIOCTXSYNC, NULL), 0);
        CHECK_EQ(ioctl(to->fd, NIOCRXSYNC, NULL), 0);
        nmt_ring_receive(rx, &got);
    }
}

/* Reads `n` frames 0..n-1 from rx ring `ring` of monitor `m`, waiting in poll(). */
static void expect_copies(struct nmport_d *m, uint32_t ring, uint32_t n)
{
    struct netmap_ring *rx = NETMAP_RXRING(m->nifp, ring);
    uint32_t seq = 0;
    while (seq < n) {
        struct pollfd p = {.fd = m->fd, .events = POLLIN};
        CHECK_EQ(poll(&p, 1, 5000), 1);
        CHECK_EQ(p.revents, POLLIN);
        nmt_ring_receive(rx, &seq);
        CHECK_EQ(ioctl(m->fd, NIOCRXSYNC, NULL), 0);
        if (seq < n)
            CHECK(NETMAP_RXRING(m->nifp, ring)->cur == rx->cur);
    }
    CHECK_EQ(seq, n);
    CHECK_EQ(rx->cur, rx->tail); /* nothing more than was sent */
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PARENT\n", argv[0]);
        return 2;
    }
    char a_name[64], b_name[64], both[64], b_rx[64], zcopy[64];
    snprintf(a_name, sizeof a_name, "netmap:%s{1", argv[1]);
    snprintf(b_name, sizeof b_name, "netmap:%s}1", argv[1]);
    snprintf(both, sizeof both, "netmap:%s{1/rt", argv[1]);
    snprintf(b_rx, sizeof b_rx, "netmap:%s}1/r", argv[1]);
    snprintf(zcopy, sizeof zcopy, "netmap:%s{1/z", argv[1]);

    struct nmport_d *b = nmport_open(b_name);
    CHECK(b != NULL);
    struct nmport_d *mon = nmport_open(both);
    CHECK(mon != NULL);
    CHECK_EQ(mon->reg.nr_tx_rings, 0);
    CHECK_EQ(mon->reg.nr_rx_rings, 2); /* a copy of A's tx ring, then of its rx ring */
    CHECK_EQ(mon->first_rx_ring, 0);
    CHECK_EQ(mon->last_rx_ring, 1);
    struct nmport_d *mon_b = nmport_open(b_rx);
    CHECK(mon_b != NULL);
    CHECK_EQ(mon_b->reg.nr_rx_rings, 1);
    errno = 0;
    CHECK(nmport_open(zcopy) == NULL);
    CHECK_EQ(errno, EOPNOTSUPP);
    struct nmport_d *a = nmport_open(a_name);
    CHECK(a != NULL);

    move_frames(a, b, 700);
    move_frames(b, a, 300);
    expect_copies(mon, 0, 700);
    expect_copies(mon, 1, 300);
    expect_copies(mon_b, 0, 700);

    nmport_close(a);
    nmport_close(mon_b);
    nmport_close(mon);
    nmport_close(b);
    printf("ok: monitors\n");
    return 0;
}
