/* Proves netring.h is valid C11: a small program against the C API. Built, not run by CTest
 * (running it needs netringd); given a port name and a socket path it sends one packet. */
#include <netring/netring.h>

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PORT [SOCKET]\n", argv[0]);
        return 2;
    }
    struct nr_open_opts opts;
    memset(&opts, 0, sizeof opts);
    opts.socket_path = argc > 2 ? argv[2] : NULL;
    char err[256];
    nr_port *p = nr_open(argv[1], &opts, err, sizeof err);
    if (!p) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    struct nr_if *nifp = nr_get_if(p);
    struct nr_ring *tx = nr_txring(nifp, 0);
    if (nr_wait(p, NR_WAIT_TX, 1000) > 0) {
        struct nr_slot *s = &tx->slot[tx->cur];
        memcpy(nr_buf(tx, s->buf_idx), "hello", 5);
        s->len = 5;
        tx->head = tx->cur = nr_ring_next(tx, tx->cur);
    }
    int rc = nr_txsync(p, NR_ALL_RINGS);
    if (rc < 0)
        fprintf(stderr, "txsync: %s (control fd %d)\n", nr_last_error(p), nr_control_fd(p));
    if (nr_control_events(p) & (NR_CONTROL_LOST | NR_REGISTRATION_LOST))
        fprintf(stderr, "netringd went away (present now: %d)\n", nr_daemon_present(p));
    (void)nr_rxsync;
    nr_close(p);
    return rc < 0;
}
