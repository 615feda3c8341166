/* Objective: every NIOCCTRL request and the legacy NIOCREGIF/NIOCGINFO answer as netmap's kernel
 * does, with the fields it fills and the errno it gives for what netring does not offer.
 * Steps, one case each (argv[1], or "all"):
 *   register   REGISTER on pipe ends and switch ports in the modes netringd serves (ALL_NIC,
 *              DEFAULT, ONE_NIC ring 0, NR_EXCLUSIVE) and the refused ones, each refusal leaving
 *              the descriptor free to register; then frames still flow.
 *   port_info  PORT_INFO_GET of a registered pipe end, on its descriptor and on another.
 *   port_hdr   PORT_HDR_GET and PORT_HDR_SET on a switch port: 0 works, 10 is refused.
 *   pools_info POOLS_INFO_GET: the buffer pool it describes is the one the rings use.
 *   vale_admin VALE_NEWIF/ATTACH/LIST/DETACH/DELIF as root (an admin).
 *   vale_nobody the same as uid/gid 65534 (a forked child drops root): EPERM, LIST allowed.
 *   vale_nobody_newif  VALE_NEWIF as uid/gid 65534: EPERM.
 *   direction_only  NR_TX_RINGS_ONLY / NR_RX_RINGS_ONLY pipe ends: one direction listed, frames flow.
 *   extra_bufs      nr_extra_bufs listed from ni_bufs_head; one swapped into a tx slot carries a frame.
 *   polling    VALE_POLLING_ENABLE/DISABLE: EOPNOTSUPP on a switch port, EINVAL elsewhere.
 *   legacy     NIOCREGIF and NIOCGINFO with struct nmreq, pipe ends by name and by mode.
 *   mem_id     nr_offset, nr_memsize, nr_mem_id; the netmap_if of pipe ends as netmap lays it out. */
#include "nmt.h"

#include <net/netmap_legacy.h>

#include <grp.h>

static int ctrl(int fd, uint16_t type, const char *name, void *body)
{
    struct nmreq_header h;
    nmt_header(&h, type, name, body);
    return ioctl(fd, NIOCCTRL, &h);
}

static void case_register(void)
{
    struct nmreq_register reg;
    int fd = nmt_open();
    /* Refused modes on a pipe end: the descriptor stays unbound. */
    CHECK_ERRNO(nmt_register_mode(fd, "nmtI{1", NR_REG_SW, 0, 0, &reg), EINVAL);
    CHECK_ERRNO(nmt_register_mode(fd, "nmtI{1", NR_REG_NIC_SW, 0, 0, &reg), EINVAL);
    CHECK_ERRNO(nmt_register_mode(fd, "nmtI{1", NR_REG_ONE_NIC, 1, 0, &reg), EINVAL);
    CHECK_ERRNO(nmt_register_mode(fd, "nmtI{1", NR_REG_ONE_SW, 0, 0, &reg), EINVAL);
    CHECK_ERRNO(nmt_register_mode(fd, "nmtI{1", NR_REG_PIPE_MASTER, 1, 0, &reg), EINVAL);
    CHECK_ERRNO(nmt_register_mode(fd, "nmtI{1", NR_REG_ONE_SW + 1, 0, 0, &reg), EINVAL);
    CHECK_ERRNO(nmt_register_mode(fd, "nmtI{1", NR_REG_NULL, 0, 0, &reg), EOPNOTSUPP);
    CHECK_ERRNO(nmt_register_mode(fd, "nmtI{1", NR_REG_ALL_NIC, 0, NR_ZCOPY_MON, &reg), EOPNOTSUPP);
    CHECK_ERRNO(nmt_register_mode(fd, "nmtI{1", NR_REG_ALL_NIC, 0, NR_MONITOR_TX | NR_EXCLUSIVE, &reg), EINVAL);
    CHECK_EQ(ioctl(fd, NIOCTXSYNC, NULL), -1); /* still unbound */
    /* The modes a pipe end takes. */
    CHECK_EQ(nmt_register_mode(fd, "nmtI{1", NR_REG_ALL_NIC, 0, 0, &reg), 0);
    CHECK_EQ(reg.nr_tx_rings, 1);
    CHECK_EQ(reg.nr_rx_rings, 1);
    CHECK_EQ(reg.nr_host_tx_rings, 1);
    CHECK_EQ(reg.nr_host_rx_rings, 1);
    CHECK_EQ(reg.nr_tx_slots, 1024); /* the daemon's default_slots */
    CHECK_EQ(reg.nr_rx_slots, 1024);
    CHECK(reg.nr_memsize > 0 && reg.nr_offset < reg.nr_memsize && reg.nr_mem_id != 0);
    int fd2 = nmt_open();
    CHECK_EQ(nmt_register_mode(fd2, "nmtI}1", NR_REG_DEFAULT, 0, 0, &reg), 0);
    int fd3 = nmt_open();
    CHECK_EQ(nmt_register_mode(fd3, "nmtI{2", NR_REG_ONE_NIC, 0, 0, &reg), 0);
    int fd4 = nmt_open();
    CHECK_EQ(nmt_register_mode(fd4, "nmtI}2", NR_REG_ALL_NIC, 0, NR_EXCLUSIVE, &reg), 0);
    int fd5 = nmt_open();
    CHECK_ERRNO(nmt_register_mode(fd5, "nmtI}2", NR_REG_ALL_NIC, 0, 0, &reg), EBUSY); /* open once */
    /* A switch port: shared unless exclusive. */
    CHECK_ERRNO(nmt_register_mode(fd5, "valeNT:p1", NR_REG_SW, 0, 0, &reg), EINVAL);
    CHECK_EQ(nmt_register_mode(fd5, "valeNT:p1", NR_REG_ALL_NIC, 0, 0, &reg), 0);
    CHECK_EQ(reg.nr_tx_rings, 1);
    int fd6 = nmt_open();
    CHECK_EQ(nmt_register_mode(fd6, "valeNT:p1", NR_REG_ALL_NIC, 0, 0, &reg), 0);
    int fd7 = nmt_open();
    CHECK_EQ(nmt_register_mode(fd7, "valeNT:p2", NR_REG_ALL_NIC, 0, NR_EXCLUSIVE, &reg), 0);
    int fd8 = nmt_open();
    CHECK_ERRNO(nmt_register_mode(fd8, "valeNT:p2", NR_REG_ALL_NIC, 0, 0, &reg), EBUSY);
    for (int f = 0; f < 8; f++)
        CHECK_EQ(close((int[]){fd, fd2, fd3, fd4, fd5, fd6, fd7, fd8}[f]), 0);
    /* Everything refused or closed above left the daemon serving. */
    struct nmt_end a, b;
    nmt_end_open(&a, "nmtI{3");
    nmt_end_open(&b, "nmtI}3");
    nmt_exchange(&a, &b, 0, 3000);
    nmt_end_close(&a);
    nmt_end_close(&b);
}

static void case_port_info(void)
{
    struct nmt_end a;
    nmt_end_open(&a, "nmtP{1");
    struct nmreq_port_info_get info;
    memset(&info, 0, sizeof info);
    CHECK_EQ(ctrl(a.fd, NETMAP_REQ_PORT_INFO_GET, "nmtP{1", &info), 0);
    CHECK_EQ(info.nr_tx_rings, 1);
    CHECK_EQ(info.nr_rx_rings, 1);
    CHECK_EQ(info.nr_host_tx_rings, 1);
    CHECK_EQ(info.nr_host_rx_rings, 1);
    CHECK_EQ(info.nr_tx_slots, a.reg.nr_tx_slots);
    CHECK_EQ(info.nr_rx_slots, a.reg.nr_rx_slots);
    CHECK_EQ(info.nr_memsize, a.reg.nr_memsize);
    CHECK_EQ(info.nr_mem_id, a.reg.nr_mem_id);
    /* From an unbound descriptor: the same geometry and region size. */
    const int fd = nmt_open();
    memset(&info, 0, sizeof info);
    CHECK_EQ(ctrl(fd, NETMAP_REQ_PORT_INFO_GET, "nmtP{1", &info), 0);
    CHECK_EQ(info.nr_tx_rings, 1);
    CHECK_EQ(info.nr_tx_slots, a.reg.nr_tx_slots);
    CHECK_EQ(info.nr_memsize, a.reg.nr_memsize);
    CHECK_ERRNO(ctrl(fd, NETMAP_REQ_PORT_INFO_GET, "", &info), ENXIO);
    CHECK_ERRNO(ctrl(fd, NETMAP_REQ_PORT_INFO_GET, "nmtnosuchif0", &info), ENXIO);
    CHECK_EQ(close(fd), 0);
    nmt_end_close(&a);
}

static void case_port_hdr(void)
{
    const int fd = nmt_open();
    struct nmreq_register reg;
    CHECK_EQ(nmt_register(fd, "valeNT:h1", &reg), 0);
    struct nmreq_port_hdr hdr = {.nr_hdr_len = 99};
    CHECK_EQ(ctrl(fd, NETMAP_REQ_PORT_HDR_GET, "valeNT:h1", &hdr), 0);
    CHECK_EQ(hdr.nr_hdr_len, 0);
    hdr.nr_hdr_len = 0;
    CHECK_EQ(ctrl(fd, NETMAP_REQ_PORT_HDR_SET, "valeNT:h1", &hdr), 0);
    hdr.nr_hdr_len = 10;
    CHECK_ERRNO(ctrl(fd, NETMAP_REQ_PORT_HDR_SET, "valeNT:h1", &hdr), EOPNOTSUPP);
    hdr.nr_hdr_len = 7;
    CHECK_ERRNO(ctrl(fd, NETMAP_REQ_PORT_HDR_SET, "valeNT:h1", &hdr), EINVAL);
    CHECK_EQ(ctrl(fd, NETMAP_REQ_PORT_HDR_GET, "valeNT:h1", &hdr), 0);
    CHECK_EQ(hdr.nr_hdr_len, 0);
    CHECK_EQ(close(fd), 0);
}

static void case_pools_info(void)
{
    struct nmt_end a;
    nmt_end_open(&a, "nmtO{1");
    struct nmreq_pools_info p;
    memset(&p, 0, sizeof p);
    CHECK_EQ(ctrl(a.fd, NETMAP_REQ_POOLS_INFO_GET, "nmtO{1", &p), 0);
    CHECK_EQ(p.nr_memsize, a.reg.nr_memsize);
    CHECK_EQ(p.nr_mem_id, a.reg.nr_mem_id);
    CHECK_EQ(p.nr_buf_pool_objsize, a.tx->nr_buf_size);
    CHECK_EQ(p.nr_buf_pool_objsize, 2048); /* the daemon's buf_size */
    CHECK(p.nr_buf_pool_objtotal > 0);
    CHECK(p.nr_buf_pool_offset + (uint64_t)p.nr_buf_pool_objtotal * p.nr_buf_pool_objsize <= p.nr_memsize);
    /* Buffer 0 of the rings is the pool's first object. */
    const char *base = (const char *)a.nifp - a.reg.nr_offset;
    CHECK_EQ(NETMAP_BUF(a.tx, 0) - base, p.nr_buf_pool_offset);
    CHECK_EQ(NETMAP_BUF(a.rx, 0) - base, p.nr_buf_pool_offset);
    nmt_end_close(&a);
}

/* The walk of VALE_LIST with an empty name: every "switch:port" from the cursor on. Returns how
 * many names matched `want` (each counted once) and the total. */
static int vale_walk(int fd, const char *const *want, int nwant, int *total)
{
    struct nmreq_header h;
    struct nmreq_vale_list l = {0};
    int found = 0;
    *total = 0;
    for (;;) {
        nmt_header(&h, NETMAP_REQ_VALE_LIST, "", &l);
        if (ioctl(fd, NIOCCTRL, &h) < 0) {
            CHECK_EQ(errno, ENOENT);
            return found;
        }
        (*total)++;
        CHECK(*total < 1000);
        for (int i = 0; i < nwant; i++)
            found += strcmp(h.nr_name, want[i]) == 0;
        l.nr_port_idx++;
    }
}

static void case_vale_admin(void)
{
    const int fd = nmt_open();
    struct nmreq_vale_newif nif = {0};
    CHECK_EQ(ctrl(fd, NETMAP_REQ_VALE_NEWIF, "nmtif0", &nif), 0);
    CHECK_ERRNO(ctrl(fd, NETMAP_REQ_VALE_NEWIF, "", &nif), EINVAL);
    struct nmreq_vale_attach at;
    memset(&at, 0, sizeof at);
    at.reg.nr_mode = NR_REG_ALL_NIC;
    CHECK_EQ(ctrl(fd, NETMAP_REQ_VALE_ATTACH, "valeNA:nmtif0", &at), 0);
    const uint32_t index0 = at.port_index;
    CHECK_EQ(ctrl(fd, NETMAP_REQ_VALE_ATTACH, "valeNA:nmtif1", &at), 0);
    CHECK(at.port_index != index0);
    CHECK_ERRNO(ctrl(fd, NETMAP_REQ_VALE_ATTACH, "valeNA:nmtif0", &at), EBUSY);
    CHECK_ERRNO(ctrl(fd, NETMAP_REQ_VALE_ATTACH, "valeNA", &at), EINVAL);
    /* LIST by name: the port's indices. */
    struct nmreq_vale_list l = {0};
    CHECK_EQ(ctrl(fd, NETMAP_REQ_VALE_LIST, "valeNA:nmtif0", &l), 0);
    CHECK_EQ(l.nr_port_idx, index0);
    CHECK_ERRNO(ctrl(fd, NETMAP_REQ_VALE_LIST, "valeNZ:x", &l), ENOENT);
    /* LIST walk: both ports, once each. */
    static const char *const ports[] = {"valeNA:nmtif0", "valeNA:nmtif1"};
    int total;
    CHECK_EQ(vale_walk(fd, ports, 2, &total), 2);
    CHECK_EQ(total, 2);
    /* A client registration is a port too: the walk shows it while it lasts. */
    const int client = nmt_open();
    struct nmreq_register reg;
    CHECK_EQ(nmt_register(client, "valeNA:c1", &reg), 0);
    CHECK_EQ(vale_walk(fd, ports, 2, &total), 2);
    CHECK_EQ(total, 3);
    CHECK_EQ(close(client), 0);
    /* DETACH one, DELIF the other. */
    struct nmreq_vale_detach det = {0};
    CHECK_EQ(ctrl(fd, NETMAP_REQ_VALE_DETACH, "valeNA:nmtif0", &det), 0);
    CHECK_ERRNO(ctrl(fd, NETMAP_REQ_VALE_DETACH, "valeNA:nmtif0", &det), ENXIO);
    CHECK_EQ(ctrl(fd, NETMAP_REQ_VALE_DELIF, "nmtif1", NULL), 0);
    /* Gone already: netring's DETACH deletes a persistent port, so DELIF of a name no switch
     * holds succeeds (docs/NETMAP-COMPAT.md) and vale-ctl's -n, -a, -d, -r works in turn. */
    CHECK_EQ(ctrl(fd, NETMAP_REQ_VALE_DELIF, "nmtif1", NULL), 0);
    for (int tries = 0; vale_walk(fd, ports, 2, &total) != 0 || total != 0; tries++) {
        CHECK(tries < 500); /* the client's port goes when the daemon sees its close */
        usleep(10000);
    }
    CHECK_EQ(close(fd), 0);
}

/* In a child that gave up root: VALE administration is refused, LIST and registration are not. */
static void case_vale_nobody(void)
{
    const int fd = nmt_open();
    struct nmreq_vale_attach at;
    memset(&at, 0, sizeof at);
    at.reg.nr_mode = NR_REG_ALL_NIC;
    CHECK_EQ(ctrl(fd, NETMAP_REQ_VALE_ATTACH, "valeNB:keep", &at), 0);
    const pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CHECK_EQ(setgroups(0, NULL), 0);
        CHECK_EQ(setgid(65534), 0); /* the policy's admin is gid 0: drop the group first */
        CHECK_EQ(setuid(65534), 0);
        const int nfd = nmt_open();
        struct nmreq_vale_attach a;
        memset(&a, 0, sizeof a);
        a.reg.nr_mode = NR_REG_ALL_NIC;
        CHECK_ERRNO(ctrl(nfd, NETMAP_REQ_VALE_ATTACH, "valeNB:mine", &a), EPERM);
        CHECK_ERRNO(ctrl(nfd, NETMAP_REQ_VALE_ATTACH, "valeNC:mine", &a), EPERM);
        struct nmreq_vale_detach d = {0};
        CHECK_ERRNO(ctrl(nfd, NETMAP_REQ_VALE_DETACH, "valeNB:keep", &d), EPERM);
        CHECK_ERRNO(ctrl(nfd, NETMAP_REQ_VALE_DELIF, "keep", NULL), EPERM);
        struct nmreq_vale_list l = {0};
        CHECK_EQ(ctrl(nfd, NETMAP_REQ_VALE_LIST, "valeNB:keep", &l), 0);
        /* The policy lets uid 65534 register switch ports and nmt* pipes. */
        struct nmreq_register reg;
        CHECK_EQ(nmt_register(nfd, "valeNB:p1", &reg), 0);
        struct nmt_end pa, pb;
        nmt_end_open(&pa, "nmtU{1");
        nmt_end_open(&pb, "nmtU}1");
        nmt_exchange(&pa, &pb, 0, 2000);
        _exit(0);
    }
    nmt_wait_child(pid);
    struct nmreq_vale_list l = {0};
    CHECK_EQ(ctrl(fd, NETMAP_REQ_VALE_LIST, "valeNB:keep", &l), 0); /* still there */
    CHECK(l.nr_port_idx != 255);
    struct nmreq_vale_detach d = {0};
    CHECK_EQ(ctrl(fd, NETMAP_REQ_VALE_DETACH, "valeNB:keep", &d), 0);
    CHECK_EQ(close(fd), 0);
}

/* VALE_NEWIF as uid 65534: refused like the other VALE administration requests. */
static void case_vale_nobody_newif(void)
{
    const pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CHECK_EQ(setgroups(0, NULL), 0);
        CHECK_EQ(setgid(65534), 0);
        CHECK_EQ(setuid(65534), 0);
        const int fd = nmt_open();
        struct nmreq_vale_newif nif = {0};
        CHECK_ERRNO(ctrl(fd, NETMAP_REQ_VALE_NEWIF, "nmtif9", &nif), EPERM);
        _exit(0);
    }
    nmt_wait_child(pid);
}

static void case_polling(void)
{
    const int fd = nmt_open();
    struct nmreq_register reg;
    CHECK_EQ(nmt_register(fd, "valeNT:q1", &reg), 0);
    struct nmreq_vale_polling p = {.nr_mode = NETMAP_POLLING_MODE_SINGLE_CPU, .nr_num_polling_cpus = 1};
    CHECK_ERRNO(ctrl(fd, NETMAP_REQ_VALE_POLLING_ENABLE, "valeNT:q1", &p), EOPNOTSUPP);
    CHECK_ERRNO(ctrl(fd, NETMAP_REQ_VALE_POLLING_DISABLE, "valeNT:q1", &p), EOPNOTSUPP);
    CHECK_ERRNO(ctrl(fd, NETMAP_REQ_VALE_POLLING_ENABLE, "nmtQ{1", &p), EINVAL);
    CHECK_ERRNO(ctrl(fd, NETMAP_REQ_VALE_POLLING_DISABLE, "nmtQ{1", &p), EINVAL);
    CHECK_EQ(close(fd), 0);
}

static void legacy_req(struct nmreq *r, const char *name)
{
    memset(r, 0, sizeof *r);
    r->nr_version = NETMAP_API;
    snprintf(r->nr_name, sizeof r->nr_name, "%s", name);
}

static void case_legacy(void)
{
    struct nmreq r;
    /* NIOCREGIF of a pipe end named in full. */
    const int a = nmt_open();
    legacy_req(&r, "nmtG{1");
    r.nr_flags = NR_REG_ALL_NIC;
    CHECK_EQ(ioctl(a, NIOCREGIF, &r), 0);
    CHECK_EQ(r.nr_tx_rings, 1);
    CHECK_EQ(r.nr_rx_rings, 1);
    CHECK_EQ(r.nr_tx_slots, 1024);
    CHECK(r.nr_memsize > 0 && r.nr_offset < r.nr_memsize && r.nr_arg2 != 0);
    const struct nmreq ra = r;
    /* The other end as the parent's name and NR_REG_PIPE_SLAVE with the pipe id in nr_ringid. */
    const int b = nmt_open();
    legacy_req(&r, "nmtG");
    r.nr_flags = NR_REG_PIPE_SLAVE;
    r.nr_ringid = 1;
    CHECK_EQ(ioctl(b, NIOCREGIF, &r), 0);
    CHECK_EQ(r.nr_arg2, ra.nr_arg2); /* one parent, one region */
    CHECK_EQ(r.nr_memsize, ra.nr_memsize);
    const struct nmreq rb = r;
    /* NIOCGINFO */
    const int c = nmt_open();
    legacy_req(&r, "nmtG{1");
    CHECK_EQ(ioctl(c, NIOCGINFO, &r), 0);
    CHECK_EQ(r.nr_tx_rings, 1);
    CHECK_EQ(r.nr_tx_slots, 1024);
    CHECK_EQ(r.nr_memsize, ra.nr_memsize);
    legacy_req(&r, "nmtnosuchif0");
    CHECK_ERRNO(ioctl(c, NIOCGINFO, &r), ENXIO);
    legacy_req(&r, "nmtG{1");
    r.nr_version = 13;
    CHECK_ERRNO(ioctl(c, NIOCGINFO, &r), EINVAL);
    /* Switch commands through nr_cmd are netmap's older interface to VALE: refused. */
    legacy_req(&r, "valeNL:x");
    r.nr_cmd = NETMAP_BDG_ATTACH;
    CHECK_ERRNO(ioctl(c, NIOCREGIF, &r), EOPNOTSUPP);
    CHECK_ERRNO(ioctl(a, NIOCREGIF, &r), EOPNOTSUPP);
    CHECK_EQ(close(c), 0);
    /* The two registrations carry frames. */
    struct nmt_end ea = {.fd = a}, eb = {.fd = b};
    ea.reg.nr_offset = ra.nr_offset;
    ea.reg.nr_memsize = ra.nr_memsize;
    eb.reg.nr_offset = rb.nr_offset;
    eb.reg.nr_memsize = rb.nr_memsize;
    ea.nifp = nmt_map(a, &ea.reg);
    eb.nifp = nmt_map(b, &eb.reg);
    ea.tx = NETMAP_TXRING(ea.nifp, 0);
    ea.rx = NETMAP_RXRING(ea.nifp, 0);
    eb.tx = NETMAP_TXRING(eb.nifp, 0);
    eb.rx = NETMAP_RXRING(eb.nifp, 0);
    nmt_exchange(&ea, &eb, 0, 3000);
    nmt_exchange(&eb, &ea, 0, 3000);
    nmt_end_close(&ea);
    nmt_end_close(&eb);
}

static void check_pipe_if(const struct netmap_if *nifp, const struct nmreq_register *reg)
{
    CHECK_EQ(nifp->ni_tx_rings, 1);
    CHECK_EQ(nifp->ni_rx_rings, 1);
    CHECK_EQ(nifp->ni_host_tx_rings, 1);
    CHECK_EQ(nifp->ni_host_rx_rings, 1);
    /* ring_ofs: tx rings, host tx ring, rx rings, host rx ring; a ring not bound is at offset 0. */
    CHECK(nifp->ring_ofs[0] != 0);
    CHECK_EQ(nifp->ring_ofs[1], 0);
    CHECK(nifp->ring_ofs[2] != 0);
    CHECK_EQ(nifp->ring_ofs[3], 0);
    const struct netmap_ring *tx = NETMAP_TXRING(nifp, 0), *rx = NETMAP_RXRING(nifp, 0);
    CHECK((const char *)rx == (const char *)nifp + nifp->ring_ofs[2]);
    CHECK_EQ(tx->num_slots, reg->nr_tx_slots);
    CHECK_EQ(rx->num_slots, reg->nr_rx_slots);
    CHECK_EQ(tx->nr_buf_size, 2048);
    CHECK_EQ(tx->tail, tx->num_slots - 1); /* an empty tx ring: all slots but one are free */
    CHECK_EQ(rx->head, rx->tail);          /* an empty rx ring */
    /* Every ring lies inside the mapping. */
    const char *base = (const char *)nifp - reg->nr_offset;
    CHECK((const char *)tx > base && (const char *)tx < base + reg->nr_memsize);
    CHECK((const char *)rx > base && (const char *)rx < base + reg->nr_memsize);
}

static void case_mem_id(void)
{
    struct nmt_end a, b, c;
    nmt_end_open(&a, "nmtM{1");
    nmt_end_open(&b, "nmtM}1");
    nmt_end_open(&c, "nmtN{1");
    CHECK_EQ(a.reg.nr_mem_id, b.reg.nr_mem_id);
    CHECK_EQ(a.reg.nr_memsize, b.reg.nr_memsize);
    CHECK(a.reg.nr_offset != b.reg.nr_offset);
    CHECK(c.reg.nr_mem_id != a.reg.nr_mem_id); /* another parent, another region */
    check_pipe_if(a.nifp, &a.reg);
    check_pipe_if(b.nifp, &b.reg);
    check_pipe_if(c.nifp, &c.reg);
    /* One mapping serves both ends, as libnetmap shares one per nr_mem_id: b through a's mapping. */
    struct nmt_end b_in_a = b;
    b_in_a.nifp = NETMAP_IF((char *)a.nifp - a.reg.nr_offset, b.reg.nr_offset);
    b_in_a.tx = NETMAP_TXRING(b_in_a.nifp, 0);
    b_in_a.rx = NETMAP_RXRING(b_in_a.nifp, 0);
    nmt_exchange(&a, &b_in_a, 0, 3000);
    nmt_exchange(&b_in_a, &a, 0, 3000);
    nmt_end_close(&a);
    nmt_end_close(&b);
    nmt_end_close(&c);
}

/* NR_TX_RINGS_ONLY and NR_RX_RINGS_ONLY on pipe ends: the netmap_if lists only that direction's
 * ring (the other's offset is 0), and frames go from a /T end to a /R end. */
static void case_direction_only(void)
{
    struct nmreq_register rt, rr;
    const int tfd = nmt_open(), rfd = nmt_open();
    CHECK_EQ(nmt_register_mode(tfd, "nmtD{1", NR_REG_ALL_NIC, 0, NR_TX_RINGS_ONLY, &rt), 0);
    CHECK_EQ(nmt_register_mode(rfd, "nmtD}1", NR_REG_ALL_NIC, 0, NR_RX_RINGS_ONLY, &rr), 0);
    struct netmap_if *tn = nmt_map(tfd, &rt), *rn = nmt_map(rfd, &rr);
    const uint32_t rx_pos = tn->ni_tx_rings + tn->ni_host_tx_rings;
    CHECK(tn->ring_ofs[0] != 0);
    CHECK_EQ(tn->ring_ofs[rx_pos], 0);
    CHECK_EQ(rn->ring_ofs[0], 0);
    CHECK(rn->ring_ofs[rx_pos] != 0);
    struct netmap_ring *tx = NETMAP_TXRING(tn, 0), *rx = NETMAP_RXRING(rn, 0);
    uint32_t sent = 0, got = 0;
    while (got < 5000) {
        if (sent < 5000) {
            nmt_ring_send(tx, &sent, 5000);
            CHECK_EQ(ioctl(tfd, NIOCTXSYNC, NULL), 0);
        }
        CHECK_EQ(ioctl(rfd, NIOCRXSYNC, NULL), 0);
        nmt_ring_receive(rx, &got);
    }
    CHECK_EQ(sent, 5000);
    CHECK_EQ(close(tfd), 0);
    CHECK_EQ(close(rfd), 0);
}

/* nr_extra_bufs: the buffers come as netmap hands them out, a list from ni_bufs_head through each
 * buffer's first 4 bytes; a program swaps one into a tx slot (NS_BUF_CHANGED) and the frame it
 * wrote there arrives at the other end. */
static void case_extra_bufs(void)
{
    struct nmreq_register reg;
    const int fd = nmt_open();
    memset(&reg, 0, sizeof reg);
    reg.nr_mode = NR_REG_ALL_NIC;
    reg.nr_extra_bufs = 8;
    struct nmreq_header h;
    nmt_header(&h, NETMAP_REQ_REGISTER, "nmtE{1", &reg);
    CHECK_EQ(ioctl(fd, NIOCCTRL, &h), 0);
    CHECK_EQ(reg.nr_extra_bufs, 8);
    struct netmap_if *nifp = nmt_map(fd, &reg);
    struct netmap_ring *tx = NETMAP_TXRING(nifp, 0);
    uint32_t list[8], n = 0;
    for (uint32_t b = nifp->ni_bufs_head; b != 0; b = *(uint32_t *)NETMAP_BUF(tx, b)) {
        CHECK(n < 8);
        CHECK(b >= 2);
        for (uint32_t i = 0; i < n; i++)
            CHECK(list[i] != b);
        for (uint32_t i = 0; i < tx->num_slots; i++)
            CHECK(tx->slot[i].buf_idx != b);
        list[n++] = b;
    }
    CHECK_EQ(n, 8);
    struct nmt_end peer;
    nmt_end_open(&peer, "nmtE}1");
    /* Swap extra buffer 0 into the tx slot, write frame 0 there, send it. */
    struct netmap_slot *slot = &tx->slot[tx->head];
    const uint32_t old = slot->buf_idx;
    slot->buf_idx = list[0];
    slot->flags = NS_BUF_CHANGED;
    nmt_frame_fill(NETMAP_BUF(tx, list[0]), 0);
    slot->len = (uint16_t)nmt_frame_len(0);
    tx->head = tx->cur = nm_ring_next(tx, tx->head);
    list[0] = old; /* the program now owns the slot's old buffer */
    CHECK_EQ(ioctl(fd, NIOCTXSYNC, NULL), 0);
    CHECK_EQ(ioctl(peer.fd, NIOCRXSYNC, NULL), 0);
    uint32_t got = 0;
    CHECK_EQ(nmt_ring_receive(peer.rx, &got), 1);
    nmt_end_close(&peer);
    CHECK_EQ(close(fd), 0);
}

int main(int argc, char **argv)
{
    static const struct nmt_case cases[] = {
        {"register", case_register, 0},
        {"port_info", case_port_info, 0},
        {"port_hdr", case_port_hdr, 0},
        {"pools_info", case_pools_info, 0},
        {"vale_admin", case_vale_admin, 0},
        {"vale_nobody", case_vale_nobody, 0},
        {"vale_nobody_newif", case_vale_nobody_newif, 0},
        {"polling", case_polling, 0},
        {"legacy", case_legacy, 0},
        {"mem_id", case_mem_id, 0},
        {"direction_only", case_direction_only, 0},
        {"extra_bufs", case_extra_bufs, 0},
    };
    return nmt_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
