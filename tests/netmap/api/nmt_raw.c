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

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PARENT\n", argv[0]);
        return 2;
    }
    char rx_name[64], tx_name[64];
    snprintf(rx_name, sizeof rx_name, "%s}1", argv[1]);
    snprintf(tx_name, sizeof tx_name, "%s{1", argv[1]);
    int ready[2];
    CHECK_EQ(pipe(ready), 0);
    const pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct nmt_end rx;
        nmt_end_open(&rx, rx_name);
        CHECK(write(ready[1], "r", 1) == 1);
        uint32_t seq = 0;
        while (seq < frames) {
            wait_for(rx.fd, POLLIN);
            nmt_ring_receive(rx.rx, &seq);
        }
        CHECK_EQ(ioctl(rx.fd, NIOCRXSYNC, NULL), 0);
        CHECK_EQ(rx.rx->cur, rx.rx->tail);
        nmt_end_close(&rx);
        _exit(0);
    }
    close(ready[1]);
    char c;
    CHECK_EQ(read(ready[0], &c, 1), 1);
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
