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
int nr_control_fd(nr_port *p);

#ifdef __cplusplus
}
#endif
