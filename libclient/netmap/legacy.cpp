// netmap's older pcap-like API (NETMAP_WITH_LIBS): nm_open, nm_close, nm_mmap, nm_inject,
// nm_dispatch, nm_nextpkt. netmap has them as static inline functions in netmap_user.h; netring's
// header only declares them and this file defines them.
//
// nm_open() reads the port name with the same decoders as nmport_open() (so "netmap:eth0-1/T",
// "vale0:p^", "netmap:x{3" mean the same in both APIs), keeps the result in the legacy struct nmreq
// of the descriptor, where nm_open()'s `req` and `arg` can adjust it, then registers with one
// NIOCCTRL request and copies what the port reports back into d->req. The bound ring ranges
// follow the mode, as netmap's nm_open() computes them, so they are known before any mmap.
// Errors go to the default nmctx, like libnetmap's.
#define NETMAP_WITH_LIBS
#include "nm_private.hpp"

#include <net/netmap_user.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace netring::nm {
namespace {

bool is_netmap_desc(const nm_desc *d) { return d != nullptr && d->self == d; }

bool names_netmap_port(const char *ifname)
{
    return std::strncmp(ifname, "netmap:", 7) == 0 ||
           std::strncmp(ifname, NM_BDG_NAME, std::strlen(NM_BDG_NAME)) == 0;
}

// Reads the name and the mode of `ifname` into d->req. The name's mode replaces the mode in `req`;
// its flags add to req's; a memory region "@N" replaces nr_arg2.
int parse_legacy_name(const char *ifname, nm_desc *d, nmctx *ctx)
{
    nmreq_header hdr;
    nmreq_register reg{};
    nmreq_header_init(&hdr, NETMAP_REQ_REGISTER, &reg);
    const char *scan = ifname;
    if (nmreq_header_decode(&scan, &hdr, ctx) < 0 || nmreq_register_decode(&scan, &reg, ctx) < 0)
        return -1;
    if (*scan != '\0') {
        nmctx_ferror(ctx, "%s: nm_open() takes no options ('%s'); use nmport_open()", ifname, scan);
        errno = EINVAL;
        return -1;
    }
    if (std::strlen(hdr.nr_name) >= sizeof d->req.nr_name) {
        nmctx_ferror(ctx, "%s: port name longer than %zu characters, the legacy API's limit", ifname,
                     sizeof d->req.nr_name - 1);
        errno = EINVAL;
        return -1;
    }
    std::memcpy(d->req.nr_name, hdr.nr_name, sizeof d->req.nr_name);
    d->req.nr_flags = (d->req.nr_flags & ~NR_REG_MASK) | reg.nr_mode | static_cast<uint32_t>(reg.nr_flags);
    d->req.nr_ringid = static_cast<uint16_t>((d->req.nr_ringid & ~NETMAP_RING_MASK) | reg.nr_ringid);
    if (reg.nr_mem_id != 0)
        d->req.nr_arg2 = reg.nr_mem_id;
    return 0;
}

// nm_open()'s `flags` choose which fields come from the parent descriptor `arg`.
void import_from_parent(nm_desc *d, const nm_desc *parent, uint64_t flags)
{
    const nmreq &p = parent->req;
    d->req.nr_arg1 = (flags & NM_OPEN_ARG1) ? p.nr_arg1 : 4;
    if (flags & NM_OPEN_ARG2)
        d->req.nr_arg2 = p.nr_arg2;
    d->req.nr_arg3 = (flags & NM_OPEN_ARG3) ? p.nr_arg3 : 0;
    if (flags & NM_OPEN_RING_CFG) {
        d->req.nr_tx_slots = p.nr_tx_slots;
        d->req.nr_rx_slots = p.nr_rx_slots;
        d->req.nr_tx_rings = p.nr_tx_rings;
        d->req.nr_rx_rings = p.nr_rx_rings;
    }
    if (flags & NM_OPEN_IFNAME) {
        std::memcpy(d->req.nr_name, p.nr_name, sizeof d->req.nr_name);
        d->req.nr_ringid = p.nr_ringid;
        d->req.nr_flags = p.nr_flags;
    }
}

struct ring_range {
    uint16_t first, last;
};

// The rings of one direction that `mode` binds, given that direction's NIC and host ring counts.
// An empty range is first = 1, last = 0, so that "last - first + 1" counts 0 rings.
ring_range bound_range(uint32_t mode, unsigned ring, unsigned hw, unsigned host)
{
    int first = 0, last = static_cast<int>(hw) - 1; // NR_REG_ALL_NIC, and the modes with no range
    switch (mode) {
    case NR_REG_SW: first = static_cast<int>(hw), last = static_cast<int>(hw + host) - 1; break;
    case NR_REG_NIC_SW: last = static_cast<int>(hw + host) - 1; break;
    case NR_REG_ONE_NIC: first = last = static_cast<int>(ring); break;
    case NR_REG_ONE_SW: first = last = static_cast<int>(hw + ring); break;
    default: break;
    }
    if (last < first)
        return {1, 0};
    return {static_cast<uint16_t>(first), static_cast<uint16_t>(last)};
}

void set_ring_ranges(nm_desc *d, const nmreq_register &reg)
{
    ring_range tx = bound_range(reg.nr_mode, reg.nr_ringid, reg.nr_tx_rings, reg.nr_host_tx_rings);
    ring_range rx = bound_range(reg.nr_mode, reg.nr_ringid, reg.nr_rx_rings, reg.nr_host_rx_rings);
    if (reg.nr_flags & NR_RX_RINGS_ONLY)
        tx = {1, 0};
    if (reg.nr_flags & NR_TX_RINGS_ONLY)
        rx = {1, 0};
    d->first_tx_ring = tx.first;
    d->last_tx_ring = tx.last;
    d->first_rx_ring = rx.first;
    d->last_rx_ring = rx.last;
}

int register_desc(nm_desc *d, nmctx *ctx)
{
    nmreq_header hdr;
    nmreq_register reg;
    to_register(d->req, &hdr, &reg);
    d->fd = device_ctrl(ctx, &hdr);
    if (d->fd < 0)
        return -1;
    from_register(reg, &d->req);
    d->memsize = reg.nr_memsize;
    set_ring_ranges(d, reg);
    return 0;
}

template <typename T>
void set_const(T *const &field, T *value)
{
    const_cast<T *&>(field) = value;
}

// Some ring of the descriptor, for buffer arithmetic: the first rx ring, or the first tx ring
// when no rx ring is bound.
netmap_ring *some_ring_of(nm_desc *d)
{
    if (d->last_rx_ring >= d->first_rx_ring &&
        d->nifp->ring_ofs[d->first_rx_ring + d->nifp->ni_tx_rings + d->nifp->ni_host_tx_rings] != 0)
        return NETMAP_RXRING(d->nifp, d->first_rx_ring);
    return NETMAP_TXRING(d->nifp, d->first_tx_ring);
}

struct packet {
    netmap_slot *slot;
    u_char *buf;
    uint32_t len;    // all fragments
    uint32_t caplen; // the leading fragments that sit back to back in memory, readable from buf
};

// Takes the packet at ring->cur (all its NS_MOREFRAG fragments) and releases its slots.
packet take_packet(netmap_ring *ring)
{
    uint32_t i = ring->cur;
    packet p{&ring->slot[i], reinterpret_cast<u_char *>(NETMAP_BUF(ring, ring->slot[i].buf_idx)),
             ring->slot[i].len, ring->slot[i].len};
    bool contiguous = true;
    u_char *prev_buf = p.buf;
    while (ring->slot[i].flags & NS_MOREFRAG) {
        const bool prev_full = ring->slot[i].len == ring->nr_buf_size;
        i = nm_ring_next(ring, i);
        if (i == ring->tail)
            break; // a truncated chain: the port owns the rest
        u_char *buf = reinterpret_cast<u_char *>(NETMAP_BUF(ring, ring->slot[i].buf_idx));
        contiguous = contiguous && prev_full && buf == prev_buf + ring->nr_buf_size;
        p.len += ring->slot[i].len;
        if (contiguous)
            p.caplen += ring->slot[i].len;
        prev_buf = buf;
    }
    ring->head = ring->cur = nm_ring_next(ring, i);
    return p;
}

void fill_header(nm_pkthdr *h, nm_desc *d, const netmap_ring *ring, const packet &p)
{
    h->ts = ring->ts;
    h->len = p.len;
    h->caplen = p.caplen;
    h->d = d;
    h->slot = p.slot;
    h->buf = p.buf;
}

uint16_t next_rx_ring(const nm_desc *d, uint16_t ri)
{
    return ri >= d->last_rx_ring ? d->first_rx_ring : ri + 1;
}

} // namespace

// The legacy request as a NETMAP_REQ_REGISTER body. Pipe modes become the "x{N" / "x}N" names
// that replaced them. A mode of 0 (NR_REG_DEFAULT) takes the selection from nr_ringid's bits, as
// the legacy API did: NETMAP_SW_RING the host rings, NETMAP_HW_RING one hardware ring, else all.
void to_register(const nmreq &req, nmreq_header *hdr, nmreq_register *reg)
{
    nmreq_header_init(hdr, NETMAP_REQ_REGISTER, reg);
    uint32_t mode = req.nr_flags & NR_REG_MASK;
    const unsigned ring = req.nr_ringid & NETMAP_RING_MASK;
    if (mode == NR_REG_PIPE_MASTER || mode == NR_REG_PIPE_SLAVE)
        std::snprintf(hdr->nr_name, sizeof hdr->nr_name, "%.*s%c%u", static_cast<int>(sizeof req.nr_name),
                      req.nr_name, mode == NR_REG_PIPE_MASTER ? '{' : '}', ring);
    else
        std::memcpy(hdr->nr_name, req.nr_name, sizeof req.nr_name);
    *reg = {};
    if (mode == NR_REG_DEFAULT)
        mode = (req.nr_ringid & NETMAP_SW_RING)   ? uint32_t{NR_REG_SW}
               : (req.nr_ringid & NETMAP_HW_RING) ? uint32_t{NR_REG_ONE_NIC}
                                                  : uint32_t{NR_REG_ALL_NIC};
    const bool pipe = mode == NR_REG_PIPE_MASTER || mode == NR_REG_PIPE_SLAVE;
    reg->nr_mode = pipe ? uint32_t{NR_REG_ALL_NIC} : mode;
    reg->nr_ringid = pipe ? 0 : static_cast<uint16_t>(ring);
    reg->nr_flags = req.nr_flags & ~uint64_t{NR_REG_MASK};
    if (req.nr_ringid & NETMAP_NO_TX_POLL)
        reg->nr_flags |= NR_NO_TX_POLL;
    if (req.nr_ringid & NETMAP_DO_RX_POLL)
        reg->nr_flags |= NR_DO_RX_POLL;
    reg->nr_mem_id = req.nr_arg2;
    reg->nr_extra_bufs = req.nr_arg3;
    reg->nr_tx_slots = req.nr_tx_slots;
    reg->nr_rx_slots = req.nr_rx_slots;
    reg->nr_tx_rings = req.nr_tx_rings;
    reg->nr_rx_rings = req.nr_rx_rings;
}

void from_register(const nmreq_register &reg, nmreq *req)
{
    req->nr_version = NETMAP_API;
    req->nr_offset = static_cast<uint32_t>(reg.nr_offset);
    req->nr_memsize = static_cast<uint32_t>(reg.nr_memsize); // the legacy field is 32 bits wide
    req->nr_tx_slots = reg.nr_tx_slots;
    req->nr_rx_slots = reg.nr_rx_slots;
    req->nr_tx_rings = reg.nr_tx_rings;
    req->nr_rx_rings = reg.nr_rx_rings;
    req->nr_arg2 = reg.nr_mem_id;
    req->nr_arg3 = reg.nr_extra_bufs;
}

} // namespace netring::nm

using namespace netring::nm;

extern "C" {

nm_desc *nm_open(const char *ifname, const nmreq *req, uint64_t flags, const nm_desc *arg)
{
    if (ifname == nullptr || !names_netmap_port(ifname)) {
        errno = 0; // not a netmap name: not an error, the caller may try something else
        return nullptr;
    }
    nmctx *ctx = nmctx_get();
    auto *d = static_cast<nm_desc *>(std::calloc(1, sizeof(nm_desc)));
    if (d == nullptr) {
        nmctx_ferror(ctx, "%s: out of memory for a descriptor", ifname);
        errno = ENOMEM;
        return nullptr;
    }
    d->self = d;
    d->fd = -1;
    if (req != nullptr)
        d->req = *req;
    const nm_desc *parent = is_netmap_desc(arg) ? arg : nullptr;
    int error = 0;
    if (!(flags & NM_OPEN_IFNAME) && parse_legacy_name(ifname, d, ctx) < 0)
        error = errno;
    if (error == 0) {
        d->req.nr_version = NETMAP_API;
        d->req.nr_ringid &= NETMAP_RING_MASK;
        if (parent != nullptr && flags != 0)
            import_from_parent(d, parent, flags);
        d->req.nr_ringid |= static_cast<uint16_t>(flags & (NETMAP_NO_TX_POLL | NETMAP_DO_RX_POLL));
        if (register_desc(d, ctx) < 0)
            error = errno;
    }
    // With a parent the memory is always set up (shared when the region matches).
    if (error == 0 && (!(flags & NM_OPEN_NO_MMAP) || parent != nullptr) && nm_mmap(d, parent) != 0) {
        error = errno;
        nmctx_ferror(ctx, "%s: cannot map the port's memory: %s", ifname, std::strerror(error));
    }
    if (error != 0) {
        nm_close(d);
        errno = error;
        return nullptr;
    }
    d->cur_tx_ring = d->first_tx_ring;
    d->cur_rx_ring = d->first_rx_ring;
    return d;
}

int nm_close(nm_desc *d)
{
    if (!is_netmap_desc(d))
        return EINVAL;
    if (d->done_mmap && d->mem != nullptr)
        munmap(d->mem, d->memsize);
    if (d->fd >= 0)
        close(d->fd);
    std::memset(static_cast<void *>(d), 0, sizeof *d);
    std::free(d);
    return 0;
}

// Maps the port's memory, or borrows the parent's mapping when both sit in the same region
// (nr_arg2). Returns 0, or EINVAL with errno from mmap().
int nm_mmap(nm_desc *d, const nm_desc *parent)
{
    if (d->done_mmap)
        return 0;
    if (is_netmap_desc(parent) && parent->mem != nullptr && parent->req.nr_arg2 == d->req.nr_arg2) {
        d->mem = parent->mem;
        d->memsize = parent->memsize;
    } else {
        if (d->memsize == 0)
            d->memsize = d->req.nr_memsize;
        void *mem = mmap(nullptr, d->memsize, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd, 0);
        if (mem == MAP_FAILED)
            return EINVAL;
        d->mem = mem;
        d->done_mmap = 1;
    }
    set_const(d->nifp, NETMAP_IF(d->mem, d->req.nr_offset));
    netmap_ring *ring = some_ring_of(d);
    set_const(d->some_ring, ring);
    set_const(d->buf_start, static_cast<void *>(NETMAP_BUF(ring, 0)));
    set_const(d->buf_end, static_cast<void *>(static_cast<char *>(d->mem) + d->memsize));
    return 0;
}

int nm_inject(nm_desc *d, const void *buf, size_t size)
{
    return inject_packet(d->nifp, d->first_tx_ring, d->last_tx_ring, &d->cur_tx_ring, buf, size);
}

// Hands up to cnt packets (all there are when cnt is 0 or negative) to cb, visiting the bound rx
// rings round-robin from cur_rx_ring. Each callback sees d->hdr; hdr.flags has NM_MORE_PKTS on
// every packet but the last of the call, so each packet's callback runs once the next is found.
int nm_dispatch(nm_desc *d, int cnt, nm_cb_t cb, u_char *arg)
{
    if (d->nifp == nullptr || d->last_rx_ring < d->first_rx_ring)
        return 0;
    const int rings = d->last_rx_ring - d->first_rx_ring + 1;
    int got = 0;
    bool pending = false;
    uint16_t ri = d->cur_rx_ring;
    for (int visited = 0; visited < rings && (cnt <= 0 || got < cnt); visited++, ri = next_rx_ring(d, ri)) {
        netmap_ring *ring = NETMAP_RXRING(d->nifp, ri);
        for (; !nm_ring_empty(ring) && (cnt <= 0 || got < cnt); got++) {
            if (pending)
                cb(arg, &d->hdr, d->hdr.buf);
            d->hdr.flags = NM_MORE_PKTS;
            fill_header(&d->hdr, d, ring, take_packet(ring));
            d->cur_rx_ring = ri; // the ring of the packet in d->hdr
            pending = true;
        }
    }
    if (pending) {
        d->hdr.flags = 0;
        cb(arg, &d->hdr, d->hdr.buf);
    }
    return got;
}

// The next packet of the bound rx rings, round-robin from cur_rx_ring, or NULL when all are empty.
u_char *nm_nextpkt(nm_desc *d, nm_pkthdr *hdr)
{
    if (d->nifp == nullptr || d->last_rx_ring < d->first_rx_ring)
        return nullptr;
    uint16_t ri = d->cur_rx_ring;
    do {
        netmap_ring *ring = NETMAP_RXRING(d->nifp, ri);
        if (!nm_ring_empty(ring)) {
            fill_header(hdr, d, ring, take_packet(ring));
            hdr->flags = 0;
            d->cur_rx_ring = ri;
            return hdr->buf;
        }
        ri = next_rx_ring(d, ri);
    } while (ri != d->cur_rx_ring);
    return nullptr;
}

} // extern "C"
