/*
 * netring's <net/netmap_user.h>: the program side of netmap's API 14.
 *
 * Everything in the shared memory is an offset: the interface block is at nr_offset in the
 * mapping, each ring at nifp->ring_ofs[i] from the interface block, each buffer at
 * ring->buf_ofs + index * nr_buf_size from its ring. The macros and inline helpers below do that
 * arithmetic and the modular index arithmetic of a ring; they touch no system call.
 *
 *   struct netmap_ring *rx = NETMAP_RXRING(nifp, 0);
 *   while (!nm_ring_empty(rx)) {
 *       struct netmap_slot *s = &rx->slot[rx->head];
 *       consume(NETMAP_BUF(rx, s->buf_idx), s->len);
 *       rx->head = rx->cur = nm_ring_next(rx, rx->head);
 *   }
 *   ioctl(fd, NIOCRXSYNC, NULL);
 *
 * With NETMAP_WITH_LIBS defined, the header also declares netmap's older convenience library
 * (nm_open(), nm_dispatch(), ...). netmap defines those functions static in this header; here
 * they are declared only and libnetring-netmap defines them, so link with it (pkg-config
 * netring-netmap). New programs use libnetmap.h instead.
 */
#pragma once
#define _NET_NETMAP_USER_H_ /* netmap's include guard; some programs test it */

#include "netmap.h"

/* netmap's header brings these in; programs written against it rely on them arriving. */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#define NETMAP_DEVICE_NAME "/dev/netmap" /* the control device a program opens */

#ifndef likely /* branch hints; netmap programs use them too */
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

/* ---- from offsets to pointers ---- */

/* ptr + offset bytes, as a pointer of the given type (through void * so no cast-align warning). */
#define _NETMAP_OFFSET(type, ptr, offset) ((type)(void *)((char *)(ptr) + (offset)))

/* The interface block at offset _ofs of the mapping at _base. */
#define NETMAP_IF(_base, _ofs) _NETMAP_OFFSET(struct netmap_if *, _base, _ofs)

/* ring_ofs[] lists the tx rings (hardware, then host) before the rx rings, so rx ring i sits
 * after all the tx rings; i == ni_rx_rings is the first host rx ring. */
#define NETMAP_TXRING(nifp, index) _NETMAP_OFFSET(struct netmap_ring *, nifp, (nifp)->ring_ofs[(index)])
#define NETMAP_RXRING(nifp, index)                                                                           \
    _NETMAP_OFFSET(struct netmap_ring *, nifp,                                                               \
                   (nifp)->ring_ofs[(index) + (nifp)->ni_tx_rings + (nifp)->ni_host_tx_rings])

/* Buffer `index` of the memory the ring belongs to, and back (buf must point at a buffer start). */
#define NETMAP_BUF(ring, index)   ((char *)(ring) + (ring)->buf_ofs + ((size_t)(index) * (ring)->nr_buf_size))
#define NETMAP_BUF_IDX(ring, buf) (((char *)(buf)-NETMAP_BUF(ring, 0)) / (ring)->nr_buf_size)

/* Data offsets (NETMAP_REQ_OPT_OFFSETS): the low bits of slot->ptr, under ring->offset_mask;
 * the other bits of ptr belong to the kernel side and are kept as they are. */
#define NETMAP_ROFFSET(ring, slot) ((slot)->ptr & (ring)->offset_mask)
#define NETMAP_WOFFSET(ring, slot, offset)                                                                   \
    do {                                                                                                     \
        (slot)->ptr = ((slot)->ptr & ~(ring)->offset_mask) | ((offset) & (ring)->offset_mask);               \
    } while (0)
#define NETMAP_BUF_OFFSET(ring, slot) (NETMAP_BUF(ring, (slot)->buf_idx) + NETMAP_ROFFSET(ring, slot))

/* ---- ring index arithmetic (indices are always below num_slots) ---- */

static inline uint32_t nm_ring_next(const struct netmap_ring *r, uint32_t i)
{
    return unlikely(i + 1 == r->num_slots) ? 0 : i + 1;
}

/* Slots the application owns: rx slots holding packets, or tx slots free to fill. Unsigned
 * wrap-around makes tail - head + num_slots right when tail is behind head. */
static inline uint32_t nm_ring_space(const struct netmap_ring *ring)
{
    uint32_t span = ring->tail - ring->head;
    return ring->tail < ring->head ? span + ring->num_slots : span;
}

/* tx: nonzero while slots handed to the kernel side are not yet sent. The application owns all
 * slots but one (the one before head) once everything has gone out, hence tail + 1. */
static inline int nm_tx_pending(const struct netmap_ring *r) { return nm_ring_next(r, r->tail) != r->head; }

/* Copies l bytes between buffers; netmap's version is a 64-byte-block loop for short
 * multiple-of-64 lengths, which memcpy matches today. A length <= 0 copies nothing. */
static inline void nm_pkt_copy(const void *_src, void *_dst, int l)
{
    if (l > 0)
        memcpy(_dst, _src, (size_t)l);
}

/* ---- logging: D() prints a line to stderr, RD() at most lps lines a second per call site,
 * ND() compiles to nothing (a D() turned off). A program that defines ND keeps its own. ---- */
#ifndef ND

/* "sss.uuuuuu function [line] message": seconds modulo 1000, then microseconds. Formatted into
 * one buffer so that lines from several threads do not interleave. */
static inline void netring_nm_log(const char *func, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline void netring_nm_log(const char *func, int line, const char *fmt, ...)
{
    char text[1024];
    struct timeval now;
    gettimeofday(&now, NULL);
    int n = snprintf(text, sizeof text, "%03d.%06d %s [%d] ", (int)(now.tv_sec % 1000), (int)now.tv_usec,
                     func, line);
    if (n < 0 || (size_t)n >= sizeof text)
        n = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text + n, sizeof text - (size_t)n, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", text);
}

/* Nonzero while this second's budget of lps lines lasts; *second and *count are per call site. */
static inline int netring_nm_log_allowed(time_t *second, int *count, int lps)
{
    struct timeval now;
    gettimeofday(&now, NULL);
    if (*second != now.tv_sec) {
        *second = now.tv_sec;
        *count = 0;
    }
    return (*count)++ < lps;
}

#define ND(...)                                                                                              \
    do {                                                                                                     \
    } while (0)
#define D(...) netring_nm_log(__func__, __LINE__, __VA_ARGS__)
#define RD(lps, ...)                                                                                         \
    do {                                                                                                     \
        static time_t rd_second_;                                                                            \
        static int rd_count_;                                                                                \
        if (netring_nm_log_allowed(&rd_second_, &rd_count_, (lps)))                                          \
            D(__VA_ARGS__);                                                                                  \
    } while (0)

#endif /* ND */

/* ---- netmap's convenience library (NETMAP_WITH_LIBS), pcap-like ---- */
#if defined(NETMAP_WITH_LIBS) && !defined(HAVE_NETMAP_WITH_LIBS)
#define HAVE_NETMAP_WITH_LIBS

/* Also what netmap's header brings in for this part. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

struct nm_desc;

/* One received packet as nm_dispatch() and nm_nextpkt() hand it out. */
struct nm_pkthdr {
    struct timeval ts; /* the ring's ts at reception */
    uint32_t caplen;   /* bytes readable contiguously at buf */
    uint32_t len;      /* bytes of the packet, over all its fragments */
    uint64_t flags;    /* NM_MORE_PKTS */
#define NM_MORE_PKTS 1 /* nm_dispatch(): another packet follows in this call */
    struct nm_desc *d;
    struct netmap_slot *slot; /* the packet's (first) slot */
    uint8_t *buf;
};

struct nm_stat { /* pcap_stat's fields */
    unsigned int ps_recv;
    unsigned int ps_drop;
    unsigned int ps_ifdrop;
};

#define NM_ERRBUF_SIZE 512

/* An open port. Programs read its fields directly (nifp, first/last rings, fd, req). */
struct nm_desc {
    struct nm_desc *self; /* points at itself while valid: IS_NETMAP_DESC() checks it */
    int fd;
    void *mem; /* the mapping, and its length */
    size_t memsize;
    int done_mmap; /* this descriptor made the mapping (else it shares its parent's) */
    struct netmap_if *const nifp;
    uint16_t first_tx_ring; /* bound rings, inclusive ranges */
    uint16_t last_tx_ring;
    uint16_t cur_tx_ring; /* where nm_inject() tries first */
    uint16_t first_rx_ring;
    uint16_t last_rx_ring;
    uint16_t cur_rx_ring;                /* where nm_dispatch() and nm_nextpkt() look first */
    struct nmreq req;                    /* the registration, as the kernel side answered it */
    struct nm_pkthdr hdr;                /* nm_dispatch()'s header, handed to the callback */
    struct netmap_ring *const some_ring; /* a bound ring, to reach the buffers */
    void *const buf_start;               /* buffer 0 */
    void *const buf_end;                 /* end of the mapping */
    int snaplen;                         /* pcap_open_live() style parameters */
    int promisc;
    int to_ms;
    char *errbuf;
    uint32_t if_flags; /* interface flags and capabilities to restore on close */
    uint32_t if_reqcap;
    uint32_t if_curcap;
    struct nm_stat st;
    char msg[NM_ERRBUF_SIZE];
};

#define P2NMD(p)          ((const struct nm_desc *)(p))
#define IS_NETMAP_DESC(d) ((d) && P2NMD(d)->self == P2NMD(d))
#define NETMAP_FD(d)      (P2NMD(d)->fd)

/* nm_dispatch()'s callback, pcap_handler's shape: (user argument, header, packet bytes). */
typedef void (*nm_cb_t)(unsigned char *, const struct nm_pkthdr *, const unsigned char *d);

/* nm_open() flags, or-ed with NETMAP_NO_TX_POLL / NETMAP_DO_RX_POLL. The ARG and RING_CFG
 * flags copy the named fields of the parent's req; IFNAME takes the parent's port. */
enum {
    NM_OPEN_NO_MMAP = 0x040000,  /* do not map (a parent shares its mapping) */
    NM_OPEN_IFNAME = 0x080000,   /* ignore ifname; use the parent's name, ringid and flags */
    NM_OPEN_ARG1 = 0x100000,     /* copy nr_arg1 */
    NM_OPEN_ARG2 = 0x200000,     /* copy nr_arg2 (memory id) */
    NM_OPEN_ARG3 = 0x400000,     /* copy nr_arg3 (extra buffers) */
    NM_OPEN_RING_CFG = 0x800000, /* copy ring and slot counts */
};

#define MAXERRMSG 80 /* size of the err buffer nm_parse() fills */

#ifdef __cplusplus
extern "C" {
#endif

/* Opens "netmap:<if>[suffix]" or "vale<sw>:<port>[suffix]". req (may be NULL) seeds the request;
 * parent, with the NM_OPEN_* flags, shares memory or copies fields. NULL and errno on failure;
 * an ifname with neither prefix gives NULL with errno 0. */
struct nm_desc *nm_open(const char *ifname, const struct nmreq *req, uint64_t flags,
                        const struct nm_desc *parent);
/* 0, or EINVAL (a positive value) when d is not an open descriptor. */
int nm_close(struct nm_desc *d);
/* Maps the memory (or shares parent's when it has the same memory id): 0, or EINVAL. */
int nm_mmap(struct nm_desc *d, const struct nm_desc *parent);
/* Queues one packet on the first bound tx ring with room; size, or 0 when all are full.
 * Does not sync: the program calls ioctl(NIOCTXSYNC) or poll(). */
int nm_inject(struct nm_desc *d, const void *buf, size_t size);
/* Hands up to cnt packets (all available when cnt <= 0) to cb; returns how many. */
int nm_dispatch(struct nm_desc *d, int cnt, nm_cb_t cb, unsigned char *arg);
/* The next received packet, its header in *hdr, or NULL when every bound rx ring is empty. */
unsigned char *nm_nextpkt(struct nm_desc *d, struct nm_pkthdr *hdr);
/* Parses ifname's port name and suffix into d->req (nr_name, nr_flags, nr_ringid, nr_arg2) and
 * sets d->self. 0, or -1 with errno and a message of at most MAXERRMSG bytes in err (if any). */
int nm_parse(const char *ifname, struct nm_desc *d, char *err);

#ifdef __cplusplus
}
#endif

#endif /* NETMAP_WITH_LIBS */
