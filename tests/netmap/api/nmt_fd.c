/* Objective: a netmap descriptor is an open file like netmap's: it can be passed over a socket,
 * inherited across fork and duplicated; its registration lives while any descriptor of it is open
 * and ends with the last close; a closed number is the C library's again.
 * Steps, one case each (argv[1], or "all"):
 *   scm_rights  netmap's fd_server pattern: the parent registers "nmtS}1" and passes the
 *               descriptor and its nmreq_register over SCM_RIGHTS to a child forked earlier, which
 *               maps it and transmits 20000 frames; the parent receives on "nmtS{1" and checks.
 *   fork        a child transmits through an inherited, mapped descriptor; after it exits the
 *               parent transmits through the same descriptor; the other end gets all, in order.
 *   dup_close   dup, fcntl F_DUPFD, dup2, dup3 of a registered end, each time closing the previous
 *               number: frames still flow through the newest one.
 *   last_close  a pipe end closed with a dup still open cannot be reopened (it is registered);
 *               after the other end and the last dup close, both ends can be opened again.
 *   closed_fd   ioctl and poll on a closed number: EBADF and POLLNVAL; on a number reused by
 *               /dev/null: the C library's ENOTTY. */
#include "nmt.h"

#include <poll.h>
#include <sys/socket.h>

/* Receives frames up to `last`, then syncs once more: that releases the last slots, which a
 * pipe's sender gets back in its tx ring only then (send_all waits for them). */
static void receive_all(struct nmt_end *e, uint32_t *seq, uint32_t last)
{
    while (*seq < last) {
        struct pollfd p = {.fd = e->fd, .events = POLLIN};
        CHECK_EQ(poll(&p, 1, -1), 1);
        CHECK_EQ(p.revents, POLLIN);
        nmt_ring_receive(e->rx, seq);
    }
    CHECK_EQ(ioctl(e->fd, NIOCRXSYNC, NULL), 0);
    CHECK_EQ(e->rx->cur, e->rx->tail); /* nothing past `last` */
}

static void send_all(int fd, struct netmap_ring *tx, uint32_t *seq, uint32_t last)
{
    while (*seq < last) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        CHECK_EQ(poll(&p, 1, -1), 1);
        CHECK_EQ(p.revents, POLLOUT);
        nmt_ring_send(tx, seq, last);
    }
    while (nm_tx_pending(tx)) {
        CHECK_EQ(ioctl(fd, NIOCTXSYNC, NULL), 0);
        if (nm_tx_pending(tx))
            usleep(100);
    }
}

static void case_scm_rights(void)
{
    enum { frames = 20000 };
    int sp[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
    const pid_t pid = fork(); /* before any netmap descriptor exists: the child knows none */
    CHECK(pid >= 0);
    if (pid == 0) {
        close(sp[0]);
        struct nmreq_register reg;
        char cbuf[CMSG_SPACE(sizeof(int))];
        struct iovec iov = {.iov_base = &reg, .iov_len = sizeof reg};
        struct msghdr msg = {
            .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
        CHECK_EQ(recvmsg(sp[1], &msg, 0), sizeof reg);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        CHECK(c != NULL && c->cmsg_type == SCM_RIGHTS);
        int fd;
        memcpy(&fd, CMSG_DATA(c), sizeof fd);
        struct netmap_if *nifp = nmt_map(fd, &reg);
        struct netmap_ring *tx = NETMAP_TXRING(nifp, 0);
        uint32_t seq = 0;
        send_all(fd, tx, &seq, frames);
        CHECK_EQ(write(sp[1], "d", 1), 1);
        char c2;
        CHECK_EQ(read(sp[1], &c2, 1), 1); /* the parent has them all */
        _exit(0);
    }
    close(sp[1]);
    struct nmt_end rx;
    nmt_end_open(&rx, "nmtS{1");
    struct nmreq_register reg;
    const int fd = nmt_open();
    CHECK_EQ(nmt_register(fd, "nmtS}1", &reg), 0);
    char cbuf[CMSG_SPACE(sizeof(int))];
    memset(cbuf, 0, sizeof cbuf);
    struct iovec iov = {.iov_base = &reg, .iov_len = sizeof reg};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    CHECK_EQ(sendmsg(sp[0], &msg, 0), sizeof reg);
    CHECK_EQ(close(fd), 0); /* the child's descriptor holds the registration now */
    uint32_t seq = 0;
    receive_all(&rx, &seq, frames);
    char d;
    CHECK_EQ(read(sp[0], &d, 1), 1);
    CHECK_EQ(ioctl(rx.fd, NIOCRXSYNC, NULL), 0);
    CHECK_EQ(rx.rx->cur, rx.rx->tail);
    CHECK_EQ(write(sp[0], "k", 1), 1);
    nmt_wait_child(pid);
    nmt_end_close(&rx);
    close(sp[0]);
}

static void case_fork(void)
{
    enum { half = 10000 };
    struct nmt_end tx, rx;
    nmt_end_open(&tx, "nmtK{1");
    nmt_end_open(&rx, "nmtK}1");
    const pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        uint32_t seq = 0;
        send_all(tx.fd, tx.tx, &seq, half);
        _exit(0);
    }
    uint32_t got = 0;
    receive_all(&rx, &got, half);
    nmt_wait_child(pid);
    /* The child's exit closed its copy only: the parent's descriptor is still registered. */
    nmt_exchange(&tx, &rx, half, 2 * half);
    nmt_end_close(&tx);
    nmt_end_close(&rx);
}

static void case_dup_close(void)
{
    struct nmt_end a, b;
    nmt_end_open(&a, "nmtD{1");
    nmt_end_open(&b, "nmtD}1");
    uint32_t next = 0;
    nmt_exchange(&a, &b, next, next + 1000);
    next += 1000;
    int cur = dup(a.fd);
    CHECK(cur >= 0);
    CHECK_EQ(close(a.fd), 0);
    for (int step = 0; step < 4; step++) {
        a.fd = cur;
        nmt_exchange(&a, &b, next, next + 1000); /* through the newest number, a's mapping */
        next += 1000;
        nmt_exchange(&b, &a, next, next + 1000);
        next += 1000;
        int nfd = -1;
        if (step == 0)
            nfd = fcntl(cur, F_DUPFD, 100);
        else if (step == 1)
            nfd = dup2(cur, 200);
        else if (step == 2)
            nfd = dup3(cur, 201, O_CLOEXEC);
        else
            break;
        CHECK(nfd >= 0);
        CHECK(step != 1 || nfd == 200);
        CHECK(step != 2 || nfd == 201);
        CHECK_EQ(close(cur), 0);
        cur = nfd;
    }
    nmt_end_close(&a);
    nmt_end_close(&b);
}

/* Opens and maps `name`, retrying while the daemon has yet to see an earlier close of it. */
static void reopen(struct nmt_end *e, const char *name)
{
    for (int tries = 0;; tries++) {
        e->fd = nmt_open();
        if (nmt_register(e->fd, name, &e->reg) == 0)
            break;
        CHECK_EQ(errno, EBUSY);
        CHECK_EQ(close(e->fd), 0);
        CHECK(tries < 500);
        usleep(10000);
    }
    e->nifp = nmt_map(e->fd, &e->reg);
    e->tx = NETMAP_TXRING(e->nifp, 0);
    e->rx = NETMAP_RXRING(e->nifp, 0);
}

static void case_last_close(void)
{
    struct nmt_end a, b;
    nmt_end_open(&a, "nmtC{1");
    nmt_end_open(&b, "nmtC}1");
    nmt_exchange(&a, &b, 0, 500);
    const int a2 = dup(a.fd);
    CHECK(a2 >= 0);
    CHECK_EQ(close(a.fd), 0);
    struct nmreq_register reg;
    const int probe = nmt_open();
    CHECK_ERRNO(nmt_register(probe, "nmtC{1", &reg), EBUSY); /* a2 keeps it registered */
    a.fd = a2;
    nmt_exchange(&a, &b, 500, 1000);
    /* b's end closes: the pipe is broken, and a2 still holds the other end. */
    nmt_end_close(&b);
    CHECK_ERRNO(nmt_register(probe, "nmtC{1", &reg), EBUSY);
    CHECK_EQ(ioctl(a2, NIOCTXSYNC, NULL), 0);
    /* The last close of a's registration: both ends are free again. */
    nmt_end_close(&a);
    CHECK_EQ(close(probe), 0);
    reopen(&a, "nmtC{1");
    reopen(&b, "nmtC}1");
    nmt_exchange(&a, &b, 0, 500); /* a new pipe: nothing of the old one left in its rings */
    nmt_exchange(&b, &a, 0, 500);
    nmt_end_close(&a);
    nmt_end_close(&b);
}

static void case_closed_fd(void)
{
    struct nmt_end a;
    nmt_end_open(&a, "nmtX{1");
    const int fd = a.fd;
    nmt_end_close(&a);
    CHECK_ERRNO(ioctl(fd, NIOCTXSYNC, NULL), EBADF);
    CHECK_ERRNO(ioctl(fd, NIOCRXSYNC, NULL), EBADF);
    struct nmreq_register reg;
    CHECK_ERRNO(nmt_register(fd, "nmtX{2", &reg), EBADF);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    CHECK_EQ(poll(&p, 1, 0), 1);
    CHECK_EQ(p.revents, POLLNVAL);
    const int null_fd = open("/dev/null", O_RDWR);
    CHECK_EQ(null_fd, fd); /* the lowest free number */
    CHECK_ERRNO(ioctl(null_fd, NIOCTXSYNC, NULL), ENOTTY);
    CHECK_ERRNO(nmt_register(null_fd, "nmtX{2", &reg), ENOTTY);
    CHECK_EQ(close(null_fd), 0);
    /* The end itself is free again once the daemon sees the close. */
    reopen(&a, "nmtX{1");
    nmt_end_close(&a);
}

int main(int argc, char **argv)
{
    static const struct nmt_case cases[] = {
        {"scm_rights", case_scm_rights, 0}, {"fork", case_fork, 0},
        {"dup_close", case_dup_close, 0},   {"last_close", case_last_close, 0},
        {"closed_fd", case_closed_fd, 0},
    };
    return nmt_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
