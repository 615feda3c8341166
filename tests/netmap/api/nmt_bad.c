/* Objective: bad requests get netmap's errno and cost nothing: the pipe that was carrying frames
 * carries them on, in order, and the daemon keeps serving new registrations.
 * Steps: each case (argv[1], or "all") opens a pipe "nmtB{N"/"nmtB}N", moves frames, makes its bad
 * requests on the pipe's descriptors or a fresh one, checks each answer, then moves frames again
 * and registers a new pipe:
 *   reqtype       nr_reqtype 0 and 99: EINVAL
 *   version       nr_version 13 and 15: EINVAL
 *   reserved      nr_reserved != 0: EINVAL
 *   null_body     REGISTER without a body, DELIF with one: EINVAL
 *   names         "" -> ENXIO, an unknown interface -> ENXIO, a malformed pipe name -> EINVAL
 *   options       REGISTER with an unknown option or one netring lacks: EOPNOTSUPP, nro_status set;
 *                 the same descriptor then registers without options
 *   option_loop   an option chain that loops: EMSGSIZE
 *   register_twice REGISTER on a registered descriptor: EBUSY
 *   sync_unbound  NIOCTXSYNC/NIOCRXSYNC before REGISTER: ENXIO; poll: POLLERR
 *   mmap_unbound  mmap before REGISTER, at an offset, past the region: EINVAL
 *   ring_reset    head = num_slots + 5 on the tx ring (then on the rx ring): the sync returns 0,
 *                 the ring is back in range, the next poll reports POLLERR once; traffic goes on */
#include "nmt.h"

#include <poll.h>

static uint32_t next_seq; /* frames a->b so far in this case */

static void open_pipe(struct nmt_end *a, struct nmt_end *b, const char *id)
{
    char na[32], nb[32];
    snprintf(na, sizeof na, "nmtB{%s", id);
    snprintf(nb, sizeof nb, "nmtB}%s", id);
    nmt_end_open(a, na);
    nmt_end_open(b, nb);
    next_seq = 0;
    nmt_exchange(a, b, next_seq, next_seq + 2000);
    next_seq += 2000;
}

/* The pipe still works, and so does a new registration on the daemon. */
static void still_serving(struct nmt_end *a, struct nmt_end *b, const char *id)
{
    nmt_exchange(a, b, next_seq, next_seq + 2000);
    next_seq += 2000;
    nmt_exchange(b, a, 0, 2000);
    char na[32], nb[32];
    snprintf(na, sizeof na, "nmtB{%s0", id);
    snprintf(nb, sizeof nb, "nmtB}%s0", id);
    struct nmt_end c, d;
    nmt_end_open(&c, na);
    nmt_end_open(&d, nb);
    nmt_exchange(&c, &d, 0, 1000);
    nmt_end_close(&c);
    nmt_end_close(&d);
    nmt_end_close(a);
    nmt_end_close(b);
}

static void case_reqtype(void)
{
    struct nmt_end a, b;
    open_pipe(&a, &b, "1");
    struct nmreq_register reg = {0};
    struct nmreq_header h;
    nmt_header(&h, 0, "nmtB{9", &reg);
    CHECK_ERRNO(ioctl(a.fd, NIOCCTRL, &h), EINVAL);
    nmt_header(&h, 99, "nmtB{9", &reg);
    CHECK_ERRNO(ioctl(a.fd, NIOCCTRL, &h), EINVAL);
    const int fd = nmt_open();
    CHECK_ERRNO(ioctl(fd, NIOCCTRL, &h), EINVAL);
    CHECK_EQ(close(fd), 0);
    still_serving(&a, &b, "1");
}

static void case_version(void)
{
    struct nmt_end a, b;
    open_pipe(&a, &b, "2");
    const int fd = nmt_open();
    struct nmreq_register reg = {.nr_mode = NR_REG_ALL_NIC};
    struct nmreq_header h;
    nmt_header(&h, NETMAP_REQ_REGISTER, "nmtB{9", &reg);
    h.nr_version = 13;
    CHECK_ERRNO(ioctl(fd, NIOCCTRL, &h), EINVAL);
    h.nr_version = 15;
    CHECK_ERRNO(ioctl(fd, NIOCCTRL, &h), EINVAL);
    CHECK_ERRNO(ioctl(fd, NIOCTXSYNC, NULL), ENXIO); /* nothing was registered */
    CHECK_EQ(close(fd), 0);
    still_serving(&a, &b, "2");
}

static void case_reserved(void)
{
    struct nmt_end a, b;
    open_pipe(&a, &b, "3");
    const int fd = nmt_open();
    struct nmreq_register reg = {.nr_mode = NR_REG_ALL_NIC};
    struct nmreq_header h;
    nmt_header(&h, NETMAP_REQ_REGISTER, "nmtB{9", &reg);
    h.nr_reserved = 1;
    CHECK_ERRNO(ioctl(fd, NIOCCTRL, &h), EINVAL);
    CHECK_ERRNO(ioctl(fd, NIOCTXSYNC, NULL), ENXIO);
    CHECK_EQ(close(fd), 0);
    still_serving(&a, &b, "3");
}

static void case_null_body(void)
{
    struct nmt_end a, b;
    open_pipe(&a, &b, "4");
    const int fd = nmt_open();
    struct nmreq_header h;
    nmt_header(&h, NETMAP_REQ_REGISTER, "nmtB{9", NULL);
    CHECK_ERRNO(ioctl(fd, NIOCCTRL, &h), EINVAL);
    nmt_header(&h, NETMAP_REQ_PORT_INFO_GET, "nmtB{4", NULL);
    CHECK_ERRNO(ioctl(a.fd, NIOCCTRL, &h), EINVAL);
    struct nmreq_port_info_get info;
    nmt_header(&h, NETMAP_REQ_VALE_DELIF, "nmtif", &info); /* DELIF takes no body */
    CHECK_ERRNO(ioctl(fd, NIOCCTRL, &h), EINVAL);
    CHECK_EQ(close(fd), 0);
    still_serving(&a, &b, "4");
}

static void case_names(void)
{
    struct nmt_end a, b;
    open_pipe(&a, &b, "5");
    const int fd = nmt_open();
    struct nmreq_register reg;
    CHECK_ERRNO(nmt_register(fd, "", &reg), ENXIO);
    CHECK_ERRNO(nmt_register(fd, "nmtnosuchif0", &reg), ENXIO);
    CHECK_ERRNO(nmt_register(fd, "nmtB{", &reg), EINVAL); /* a pipe without its id */
    CHECK_ERRNO(nmt_register(fd, "{1", &reg), EINVAL);    /* a pipe without its parent */
    CHECK_ERRNO(nmt_register(fd, "nmtB{5", &reg), EBUSY); /* open already, by a */
    CHECK_EQ(nmt_register(fd, "nmtB{55", &reg), 0);       /* the descriptor is still free */
    CHECK_EQ(close(fd), 0);
    still_serving(&a, &b, "5");
}

static void case_options(void)
{
    struct nmt_end a, b;
    open_pipe(&a, &b, "6");
    const int fd = nmt_open();
    struct nmreq_register reg = {.nr_mode = NR_REG_ALL_NIC};
    struct nmreq_header h;
    struct nmreq_option unknown = {.nro_reqtype = 99, .nro_size = sizeof unknown};
    nmt_header(&h, NETMAP_REQ_REGISTER, "nmtB{9", &reg);
    h.nr_options = (uint64_t)(uintptr_t)&unknown;
    CHECK_ERRNO(ioctl(fd, NIOCCTRL, &h), EOPNOTSUPP);
    CHECK_EQ(unknown.nro_status, EOPNOTSUPP);
    /* A known option netring has no use for: slot offsets. */
    struct nmreq_opt_offsets off;
    memset(&off, 0, sizeof off);
    off.nro_opt.nro_reqtype = NETMAP_REQ_OPT_OFFSETS;
    off.nro_opt.nro_size = sizeof off;
    off.nro_max_offset = 64;
    h.nr_options = (uint64_t)(uintptr_t)&off;
    CHECK_ERRNO(ioctl(fd, NIOCCTRL, &h), EOPNOTSUPP);
    CHECK_EQ(off.nro_opt.nro_status, EOPNOTSUPP);
    /* Without options the same descriptor registers the same name. */
    h.nr_options = 0;
    CHECK_EQ(ioctl(fd, NIOCCTRL, &h), 0);
    CHECK_EQ(close(fd), 0);
    still_serving(&a, &b, "6");
}

static void case_option_loop(void)
{
    struct nmt_end a, b;
    open_pipe(&a, &b, "7");
    const int fd = nmt_open();
    struct nmreq_register reg = {.nr_mode = NR_REG_ALL_NIC};
    struct nmreq_header h;
    struct nmreq_option o1 = {.nro_reqtype = 98, .nro_size = sizeof o1};
    struct nmreq_option o2 = {.nro_reqtype = 99, .nro_size = sizeof o2};
    o1.nro_next = (uint64_t)(uintptr_t)&o2;
    o2.nro_next = (uint64_t)(uintptr_t)&o1;
    nmt_header(&h, NETMAP_REQ_REGISTER, "nmtB{9", &reg);
    h.nr_options = (uint64_t)(uintptr_t)&o1;
    CHECK_ERRNO(ioctl(fd, NIOCCTRL, &h), EMSGSIZE);
    o1.nro_next = (uint64_t)(uintptr_t)&o1; /* a loop of one */
    h.nr_options = (uint64_t)(uintptr_t)&o1;
    CHECK_ERRNO(ioctl(fd, NIOCCTRL, &h), EMSGSIZE);
    CHECK_ERRNO(ioctl(fd, NIOCTXSYNC, NULL), ENXIO);
    CHECK_EQ(close(fd), 0);
    still_serving(&a, &b, "7");
}

static void case_register_twice(void)
{
    struct nmt_end a, b;
    open_pipe(&a, &b, "8");
    struct nmreq_register reg;
    CHECK_ERRNO(nmt_register(a.fd, "nmtB{8", &reg), EBUSY);
    CHECK_ERRNO(nmt_register(a.fd, "nmtB{88", &reg), EBUSY);
    still_serving(&a, &b, "8");
}

static void case_sync_unbound(void)
{
    struct nmt_end a, b;
    open_pipe(&a, &b, "9");
    const int fd = nmt_open();
    CHECK_ERRNO(ioctl(fd, NIOCTXSYNC, NULL), ENXIO);
    CHECK_ERRNO(ioctl(fd, NIOCRXSYNC, NULL), ENXIO);
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
    CHECK_EQ(poll(&p, 1, 0), 1);
    CHECK(p.revents & POLLERR);
    CHECK_EQ(close(fd), 0);
    still_serving(&a, &b, "9");
}

static void case_mmap_unbound(void)
{
    struct nmt_end a, b;
    open_pipe(&a, &b, "10");
    const int fd = nmt_open();
    errno = 0;
    CHECK(mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED);
    CHECK_EQ(errno, EINVAL);
    errno = 0;
    CHECK(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, a.fd, 4096) == MAP_FAILED);
    CHECK_EQ(errno, EINVAL);
    errno = 0;
    CHECK(mmap(NULL, a.reg.nr_memsize + 4096, PROT_READ | PROT_WRITE, MAP_SHARED, a.fd, 0) == MAP_FAILED);
    CHECK_EQ(errno, EINVAL);
    CHECK_EQ(close(fd), 0);
    still_serving(&a, &b, "10");
}

static short poll_now(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};
    CHECK(poll(&p, 1, 0) >= 0);
    return p.revents;
}

static void check_in_range(const struct netmap_ring *r)
{
    CHECK(r->head < r->num_slots);
    CHECK(r->cur < r->num_slots);
    CHECK(r->tail < r->num_slots);
}

static void case_ring_reset(void)
{
    struct nmt_end a, b;
    open_pipe(&a, &b, "11");
    /* Frames queued but not synced are part of what a reset may take: sync them first. */
    CHECK_EQ(poll_now(a.fd, POLLOUT), POLLOUT);
    a.tx->head = a.tx->cur = a.tx->num_slots + 5;
    CHECK_EQ(ioctl(a.fd, NIOCTXSYNC, NULL), 0);
    check_in_range(a.tx);
    CHECK_EQ(a.tx->head, a.tx->cur);
    CHECK_EQ(poll_now(a.fd, POLLOUT), POLLOUT | POLLERR);
    CHECK_EQ(poll_now(a.fd, POLLOUT), POLLOUT); /* reported once */
    nmt_exchange(&a, &b, next_seq, next_seq + 3000);
    next_seq += 3000;
    /* The same on an rx ring. */
    b.rx->head = b.rx->cur = b.rx->num_slots + 5;
    CHECK_EQ(ioctl(b.fd, NIOCRXSYNC, NULL), 0);
    check_in_range(b.rx);
    CHECK_EQ(poll_now(b.fd, POLLIN), POLLERR);
    CHECK_EQ(poll_now(b.fd, POLLIN), 0);
    still_serving(&a, &b, "11");
}

int main(int argc, char **argv)
{
    static const struct nmt_case cases[] = {
        {"reqtype", case_reqtype, 0},
        {"version", case_version, 0},
        {"reserved", case_reserved, 0},
        {"null_body", case_null_body, 0},
        {"names", case_names, 0},
        {"options", case_options, 0},
        {"option_loop", case_option_loop, 0},
        {"register_twice", case_register_twice, 0},
        {"sync_unbound", case_sync_unbound, 0},
        {"mmap_unbound", case_mmap_unbound, 0},
        {"ring_reset", case_ring_reset, 0},
    };
    return nmt_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
