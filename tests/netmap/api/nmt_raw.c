/* Objective: a netmap program that speaks to /dev/netmap itself (open, NIOCCTRL REGISTER, mmap,
 * poll; no libnetmap, no NETMAP_WITH_LIBS) works with libnetring-netmap linked in or, built
 * without it, under LD_PRELOAD.
 * Steps: the child registers and maps "nmtR}1" and tells the parent; the parent registers and maps
 * "nmtR{1" and sends 20000 checked frames, poll()ing for POLLOUT; the child poll()s for POLLIN and
 * checks every frame and that nothing follows. Usage: nmt_raw PARENT */
#include "nmt.h"

#include <poll.h>

enum { frames = 20000 };

static void wait_for(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};
    CHECK_EQ(poll(&p, 1, -1), 1);
    CHECK_EQ(p.revents, events);
}

static void receive(const char *name, int ready_fd)
{
    struct nmt_end rx;
    nmt_end_open(&rx, name);
    CHECK(write(ready_fd, "r", 1) == 1);
    uint32_t seq = 0;
    while (seq < frames) {
        wait_for(rx.fd, POLLIN);
        nmt_ring_receive(rx.rx, &seq);
    }
    CHECK_EQ(ioctl(rx.fd, NIOCRXSYNC, NULL), 0);
    CHECK_EQ(rx.rx->cur, rx.rx->tail);
    nmt_end_close(&rx);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PARENT\n", argv[0]);
        return 2;
    }
    char rx_name[64], tx_name[64];
    snprintf(rx_name, sizeof rx_name, "%s}1", argv[1]);
    snprintf(tx_name, sizeof tx_name, "%s{1", argv[1]);
    const pid_t pid = nmt_fork_receiver(receive, rx_name);
    struct nmt_end tx;
    nmt_end_open(&tx, tx_name);
    uint32_t seq = 0;
    while (seq < frames) {
        wait_for(tx.fd, POLLOUT);
        nmt_ring_send(tx.tx, &seq, frames);
    }
    while (nm_tx_pending(tx.tx)) {
        CHECK_EQ(ioctl(tx.fd, NIOCTXSYNC, NULL), 0);
        if (nm_tx_pending(tx.tx))
            usleep(100);
    }
    nmt_wait_child(pid);
    nmt_end_close(&tx);
    printf("ok: %u frames\n", seq);
    return 0;
}
