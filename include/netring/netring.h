/*
 * libnetring's C API (C11): a thin layer over netring::port for C programs.
 *
 *   char err[256];
 *   nr_port *p = nr_open("netmap:pipeA{1", NULL, err, sizeof err);
 *   struct nr_if *nifp = nr_get_if(p);
 *   struct nr_ring *tx = nr_txring(nifp, 0);
 *   ... fill slots, advance head and cur ...
 *   nr_txsync(p, 0);
 *   nr_wait(p, NR_WAIT_RX, -1);
 *   nr_close(p);
 *
 * Calls return 0 or a negative netring error code (-(int)netring::errc, see error.hpp);
 * nr_last_error() gives the sentence. One nr_port is used from one thread at a time.
 *
 * A port outlives netringd's restarts: when the control connection breaks, pipes keep moving frames
 * and the port re-attaches to the next netringd by itself (see netring.hpp, docs/RESTART.md);
 * nr_control_events() tells what happened. nr_open_opts.daemon_loss_fatal turns that off.
 */
#pragma once

#include <netring/layout.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NR_ALL_RINGS 0xffffffffu
#define NR_WAIT_RX 1u /* an rx ring has packets */
#define NR_WAIT_TX 2u /* a tx ring has free slots */

/* nr_control_events() bits */
#define NR_CONTROL_LOST 1u      /* the connection to netringd broke */
#define NR_CONTROL_BACK 2u      /* a new netringd took the registration back */
#define NR_REGISTRATION_LOST 4u /* it did not (or could not): no more retries */

/* nr_open_opts.flags, as the name suffixes /x /T /R set them */
#define NR_OPEN_EXCLUSIVE 0x1u
#define NR_OPEN_TX_ONLY 0x2u
#define NR_OPEN_RX_ONLY 0x4u

typedef struct nr_port nr_port;

struct nr_open_opts {
    uint32_t tx_rings, rx_rings; /* 0: the port's default */
    uint32_t tx_slots, rx_slots; /* 0: the daemon's default; else a power of two */
    uint32_t extra_bufs;
    uint32_t flags;          /* NR_OPEN_* */
    int sync_socket;         /* nonzero: every sync is a round trip to netringd */
    const char *socket_path; /* NULL: $NETRING_SOCKET, else the default path */
    int daemon_loss_fatal;   /* nonzero: no re-attach; nr_wait and socket-mode syncs return
                                -14 (errc::daemon_gone) once the connection breaks */
};

/* Registers port `name`. NULL on failure, with the reason in err (if err and errlen are given). */
nr_port *nr_open(const char *name, const struct nr_open_opts *opts, char *err, size_t errlen);
void nr_close(nr_port *p);
struct nr_if *nr_get_if(nr_port *p);
int nr_txsync(nr_port *p, uint32_t ring); /* ring index or NR_ALL_RINGS */
int nr_rxsync(nr_port *p, uint32_t ring);
/* >0 ready, 0 timeout, negative netring error code; timeout_ms < 0 waits forever. */
int nr_wait(nr_port *p, unsigned events, int timeout_ms);
const char *nr_last_error(nr_port *p);
/* The control socket; while netringd is away, the same number names a retry timer (never a closed
 * descriptor). Poll it with the rings' descriptors and nr_wait() (or netring::port::disarm_wait)
 * makes the retries. */
int nr_control_fd(nr_port *p);
/* The NR_CONTROL_* bits since the last call; reading clears them. */
unsigned nr_control_events(nr_port *p);
/* 1 while the port has a control connection to netringd, else 0. */
int nr_daemon_present(nr_port *p);

#ifdef __cplusplus
}
#endif
