/* What the netmap API tests share: checks that end the program with the reason, the frames they
 * move and check, and registration through the raw ioctl interface, as a netmap program that does
 * not use libnetmap writes it (open, NIOCCTRL, mmap).
 *
 * Each test program takes a case name (or "all") and runs against the netringd named by
 * $NETRING_SOCKET; netmap_api_test.cpp starts that daemon. A failed check prints file, line, the
 * condition and errno, and exits 1: the driver shows stderr. Only C11 and POSIX here, plus the
 * netmap headers: the programs are built with and without libnetring-netmap. */
#ifndef NMT_H
#define NMT_H

#define _GNU_SOURCE
#include <net/netmap.h>
#include <net/netmap_user.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static inline void nmt_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: check failed: %s (errno %d: %s)\n", file, line, what, errno, strerror(errno));
    exit(1);
}

#define CHECK(cond)                                                                                          \
    do {                                                                                                     \
        if (!(cond))                                                                                         \
            nmt_fail(__FILE__, __LINE__, #cond);                                                             \
    } while (0)

/* `call` fails with errno `err`, as netmap's kernel would answer it. */
#define CHECK_ERRNO(call, err)                                                                               \
    do {                                                                                                     \
        errno = 0;                                                                                           \
        const long rc_ = (long)(call);                                                                       \
        if (rc_ != -1 || errno != (err)) {                                                                   \
            fprintf(stderr, "%s:%d: %s: expected -1 with errno %d (%s), got %ld with errno %d (%s)\n",       \
                    __FILE__, __LINE__, #call, (err), strerror(err), rc_, errno, strerror(errno));           \
            exit(1);                                                                                         \
        }                                                                                                    \
    } while (0)

#define CHECK_EQ(a, b)                                                                                       \
    do {                                                                                                     \
        const long long a_ = (long long)(a), b_ = (long long)(b);                                            \
        if (a_ != b_) {                                                                                      \
            fprintf(stderr, "%s:%d: %s == %s: %lld != %lld (errno %d: %s)\n", __FILE__, __LINE__, #a, #b,    \
                    a_, b_, errno, strerror(errno));                                                         \
            exit(1);                                                                                         \
        }                                                                                                    \
    } while (0)

/* ---- frames: sequence number first, then bytes that depend on it, length varying with it ---- */
static inline uint32_t nmt_frame_len(uint32_t seq) { return 60 + (seq * 37u) % 1455u; } /* 60..1514 */

static inline uint8_t nmt_frame_byte(uint32_t seq, uint32_t i) { return (uint8_t)(seq * 131u + i * 7u + 1u); }

static inline void nmt_frame_fill(void *buf, uint32_t seq)
{
    uint8_t *b = buf;
    const uint32_t len = nmt_frame_len(seq);
    memcpy(b, &seq, sizeof seq);
    for (uint32_t i = sizeof seq; i < len; i++)
        b[i] = nmt_frame_byte(seq, i);
}

/* Exits with the first difference when `buf` is not frame `seq`. */
static inline void nmt_frame_check(const void *buf, uint32_t len, uint32_t seq)
{
    const uint8_t *b = buf;
    uint32_t got;
    if (len < sizeof got) {
        fprintf(stderr, "frame %u: %u bytes, shorter than a sequence number\n", seq, len);
        exit(1);
    }
    memcpy(&got, b, sizeof got);
    if (got != seq) {
        fprintf(stderr, "frame %u expected, frame %u received (lost or reordered)\n", seq, got);
        exit(1);
    }
    if (len != nmt_frame_len(seq)) {
        fprintf(stderr, "frame %u: length %u, expected %u\n", seq, len, nmt_frame_len(seq));
        exit(1);
    }
    for (uint32_t i = sizeof got; i < len; i++)
        if (b[i] != nmt_frame_byte(seq, i)) {
            fprintf(stderr, "frame %u: byte %u is 0x%02x, expected 0x%02x\n", seq, i, b[i],
                    nmt_frame_byte(seq, i));
            exit(1);
        }
}

/* Fills the ring's free slots (cur up to tail) with frames *seq.. up to `last` (exclusive). */
static inline uint32_t nmt_ring_send(struct netmap_ring *ring, uint32_t *seq, uint32_t last)
{
    uint32_t n = 0;
    while (*seq < last && ring->cur != ring->tail) {
        struct netmap_slot *slot = &ring->slot[ring->cur];
        nmt_frame_fill(NETMAP_BUF(ring, slot->buf_idx), *seq);
        slot->len = (uint16_t)nmt_frame_len(*seq);
        slot->flags = 0;
        ring->head = ring->cur = nm_ring_next(ring, ring->cur);
        (*seq)++;
        n++;
    }
    return n;
}

/* Checks and releases every frame the ring holds; *seq is the next expected. */
static inline uint32_t nmt_ring_receive(struct netmap_ring *ring, uint32_t *seq)
{
    uint32_t n = 0;
    while (ring->cur != ring->tail) {
        const struct netmap_slot *slot = &ring->slot[ring->cur];
        nmt_frame_check(NETMAP_BUF(ring, slot->buf_idx), slot->len, *seq);
        ring->head = ring->cur = nm_ring_next(ring, ring->cur);
        (*seq)++;
        n++;
    }
    return n;
}

/* ---- raw registration ---- */
static inline int nmt_open(void)
{
    const int fd = open("/dev/netmap", O_RDWR);
    CHECK(fd >= 0);
    return fd;
}

static inline void nmt_header(struct nmreq_header *h, uint16_t reqtype, const char *name, void *body)
{
    memset(h, 0, sizeof *h);
    h->nr_version = NETMAP_API;
    h->nr_reqtype = reqtype;
    snprintf(h->nr_name, sizeof h->nr_name, "%s", name);
    h->nr_body = (uint64_t)(uintptr_t)body;
}

/* NIOCCTRL REGISTER of `name` (as netmap writes it: "nmtA{1", "valeNT:p1") in `mode`. */
static inline int nmt_register_mode(int fd, const char *name, uint32_t mode, uint16_t ringid, uint64_t flags,
                                    struct nmreq_register *reg)
{
    struct nmreq_header h;
    memset(reg, 0, sizeof *reg);
    reg->nr_mode = mode;
    reg->nr_ringid = ringid;
    reg->nr_flags = flags;
    nmt_header(&h, NETMAP_REQ_REGISTER, name, reg);
    return ioctl(fd, NIOCCTRL, &h);
}

static inline int nmt_register(int fd, const char *name, struct nmreq_register *reg)
{
    return nmt_register_mode(fd, name, NR_REG_ALL_NIC, 0, 0, reg);
}

static inline struct netmap_if *nmt_map(int fd, const struct nmreq_register *reg)
{
    void *mem = mmap(NULL, reg->nr_memsize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(mem != MAP_FAILED);
    return NETMAP_IF(mem, reg->nr_offset);
}

/* A registered, mapped pipe end with one ring each way. */
struct nmt_end {
    int fd;
    struct nmreq_register reg;
    struct netmap_if *nifp;
    struct netmap_ring *tx, *rx;
};

static inline void nmt_end_open(struct nmt_end *e, const char *name)
{
    e->fd = nmt_open();
    CHECK_EQ(nmt_register(e->fd, name, &e->reg), 0);
    CHECK_EQ(e->reg.nr_tx_rings, 1);
    CHECK_EQ(e->reg.nr_rx_rings, 1);
    e->nifp = nmt_map(e->fd, &e->reg);
    e->tx = NETMAP_TXRING(e->nifp, 0);
    e->rx = NETMAP_RXRING(e->nifp, 0);
}

static inline void nmt_end_close(struct nmt_end *e)
{
    CHECK_EQ(munmap((char *)e->nifp - e->reg.nr_offset, e->reg.nr_memsize), 0);
    CHECK_EQ(close(e->fd), 0);
}

/* Sends frames [first, last) from `a` and checks that `b` receives exactly those, in order: the
 * other end keeps working after whatever a case did wrong. */
static inline void nmt_exchange(struct nmt_end *a, struct nmt_end *b, uint32_t first, uint32_t last)
{
    uint32_t sent = first, got = first;
    for (int rounds = 0; got < last; rounds++) {
        CHECK(rounds < 100000);
        nmt_ring_send(a->tx, &sent, last);
        CHECK_EQ(ioctl(a->fd, NIOCTXSYNC, NULL), 0);
        CHECK_EQ(ioctl(b->fd, NIOCRXSYNC, NULL), 0);
        nmt_ring_receive(b->rx, &got);
    }
    CHECK_EQ(ioctl(b->fd, NIOCRXSYNC, NULL), 0);
    CHECK_EQ(nm_ring_space(b->rx), 0); /* nothing more than was sent */
}

/* ---- cases ---- */
struct nmt_case {
    const char *name;
    void (*run)(void);
    int known_bug; /* fails until a reported bug is fixed: run by name only, not by "all" */
};

/* Runs the case named by argv[1], or every case but the known bugs for "all". */
static inline int nmt_main(int argc, char **argv, const struct nmt_case *cases, size_t n)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc != 2) {
        fprintf(stderr, "usage: %s CASE|all\n", argv[0]);
        return 2;
    }
    int ran = 0;
    for (size_t i = 0; i < n; i++)
        if ((strcmp(argv[1], "all") == 0 && !cases[i].known_bug) || strcmp(argv[1], cases[i].name) == 0) {
            printf("case %s\n", cases[i].name);
            cases[i].run();
            ran++;
        }
    if (ran == 0) {
        fprintf(stderr, "%s: no case '%s'\n", argv[0], argv[1]);
        return 2;
    }
    printf("ok: %d case(s)\n", ran);
    return 0;
}

/* Forks a receiver: the child runs receive(port, fd), which writes one byte to fd once its port is
 * registered, then exits 0. The parent returns the child's pid (for nmt_wait_child) once that byte
 * came: from then on nothing it sends is dropped. */
static inline pid_t nmt_fork_receiver(void (*receive)(const char *port, int ready_fd), const char *port)
{
    int ready[2];
    CHECK_EQ(pipe(ready), 0);
    const pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        receive(port, ready[1]);
        fflush(stdout);
        _exit(0);
    }
    close(ready[1]);
    char c;
    CHECK_EQ(read(ready[0], &c, 1), 1);
    close(ready[0]);
    return pid;
}

/* Waits for child `pid` and checks it exited 0. */
static inline void nmt_wait_child(pid_t pid)
{
    int status = 0;
    CHECK_EQ(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "child %d ended with status 0x%x\n", (int)pid, status);
        exit(1);
    }
}

#endif
