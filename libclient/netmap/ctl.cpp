// netmap's control requests on a netmap descriptor: ioctl NIOCCTRL (struct nmreq_header), and the
// legacy NIOCREGIF / NIOCGINFO (struct nmreq), answered through libnetring as netmap's kernel
// answers them, errno values included. Whatever netring cannot offer is refused with netmap's
// errno and a line on stderr that says why (log()).
#include "ctl_util.hpp"
#include "nm_file.hpp"
#include "nm_private.hpp"

#include <netring/port_name.hpp>

#include <net/if.h>
#include <net/netmap.h>
#include <net/netmap_legacy.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

namespace netring::netmap {
namespace {

// netmap's registration (name, mode, ring, flags) as a netring port name; errno on refusal.
int port_name_for(const std::string &name, uint32_t mode, uint32_t ringid, uint64_t flags, std::string &out)
{
    if (name.empty())
        return fail(ENXIO, "empty port name");
    if (flags & NR_ZCOPY_MON)
        return fail(EOPNOTSUPP, name + ": zero-copy monitors are not offered by netring; copy monitors (/r, /t) are");
    const bool monitor = (flags & (NR_MONITOR_TX | NR_MONITOR_RX)) != 0;
    if (monitor && (flags & (NR_EXCLUSIVE | NR_TX_RINGS_ONLY | NR_RX_RINGS_ONLY)))
        return fail(EINVAL, name + ": a monitor takes none of NR_EXCLUSIVE, NR_TX_RINGS_ONLY, NR_RX_RINGS_ONLY");
    // A monitor of one NIC ring watches every NIC ring: its rx ring k is then the copy of ring k,
    // where a program that registered ring k looks for it.
    if (monitor && mode == NR_REG_ONE_NIC)
        mode = NR_REG_ALL_NIC;
    if (mode == NR_REG_NULL)
        return fail(EOPNOTSUPP, name + ": NR_REG_NULL (memory without rings) is not offered by netring");
    if (mode == NR_REG_PIPE_MASTER || mode == NR_REG_PIPE_SLAVE || mode > NR_REG_ONE_SW)
        return fail(EINVAL, name + ": registration mode " + std::to_string(mode) + " is not valid");
    if (is_vale(name) || is_pipe(name)) {
        const bool all = mode == NR_REG_DEFAULT || mode == NR_REG_ALL_NIC || (mode == NR_REG_ONE_NIC && ringid == 0);
        if (!all)
            return fail(EINVAL, name + ": pipes and switch ports take NR_REG_ALL_NIC (or ring 0)");
        out = is_vale(name) ? name : "netmap:" + name;
    } else {
        out = "netmap:" + name;
        switch (mode) {
        case NR_REG_DEFAULT:
        case NR_REG_ALL_NIC: break;
        case NR_REG_ONE_NIC: out += "-" + std::to_string(ringid); break;
        case NR_REG_SW: out += "^"; break;
        case NR_REG_NIC_SW: out += "*"; break;
        case NR_REG_ONE_SW:
            if (ringid != 0)
                return fail(EINVAL, name + ": host ring " + std::to_string(ringid) + " does not exist (one host ring)");
            out += "^";
            break;
        }
    }
    std::string suffix;
    if (flags & NR_EXCLUSIVE)
        suffix += "x";
    if (flags & NR_TX_RINGS_ONLY)
        suffix += "T";
    if (flags & NR_RX_RINGS_ONLY)
        suffix += "R";
    if (flags & NR_MONITOR_RX)
        suffix += "r";
    if (flags & NR_MONITOR_TX)
        suffix += "t";
    if (!suffix.empty())
        out += "/" + suffix;
    if (auto p = parse_port_name(out); !p)
        return fail(is_vale(name) ? ENXIO : EINVAL, p.err().message);
    return 0;
}

// Walks the option chain: every option gets a status. REGISTER fails on any option (netring has
// none of netmap's: external memory, CSB, kernel sync loops, offsets); other requests go on.
int check_options(nmreq_header *h, bool fatal)
{
    constexpr int max_options = 16;
    uint32_t seen = 0;
    int count = 0;
    int result = 0;
    for (uint64_t p = h->nr_options; p; count++) {
        if (count == max_options)
            return fail(EMSGSIZE, "option chain longer than " + std::to_string(max_options));
        auto *o = reinterpret_cast<nmreq_option *>(static_cast<uintptr_t>(p));
        p = o->nro_next;
        if (o->nro_reqtype == 0) {
            o->nro_status = EINVAL;
            return fail(EINVAL, "option of type 0");
        }
        if (o->nro_reqtype < 32 && (seen & (1u << o->nro_reqtype))) {
            o->nro_status = EINVAL;
            return fail(EINVAL, "option " + std::to_string(o->nro_reqtype) + " given twice");
        }
        if (o->nro_reqtype < 32)
            seen |= 1u << o->nro_reqtype;
        o->nro_status = EOPNOTSUPP;
        if (fatal && result == 0)
            result = fail(EOPNOTSUPP, "option " + std::to_string(o->nro_reqtype) +
                                          " is not offered by netring (no external memory, CSB, kernel sync "
                                          "loops or slot offsets)");
    }
    return result;
}

uint16_t clamp16(uint32_t v) { return static_cast<uint16_t>(std::min<uint32_t>(v, 0xffff)); }

int do_register(nm_file &f, int fd, const std::string &name, nmreq_register &r)
{
    if (f.p)
        return fail(EBUSY, "REGISTER on a descriptor that is already registered");
    std::string port;
    if (port_name_for(name, r.nr_mode, r.nr_ringid, r.nr_flags, port) < 0)
        return -1;
    netring::open_options o;
    o.tx_rings = r.nr_tx_rings;
    o.rx_rings = r.nr_rx_rings;
    o.tx_slots = r.nr_tx_slots;
    o.rx_slots = r.nr_rx_slots;
    o.extra_bufs = r.nr_extra_bufs;
    o.netmap_view = true;
    // The port's own reference to the connection: the program's descriptor stays the program's.
    unique_fd own(dup_cloexec(fd));
    if (!own.valid())
        return fail(errno, "dup of the netmap descriptor: " + std::string(std::strerror(errno)));
    auto p = netring::port::open_on(std::move(own), port, o);
    if (!p)
        return fail(p.err(), port);
    f.p.emplace(std::move(p.value()));
    f.nr_flags = static_cast<uint32_t>(r.nr_flags);
    const nr_if *v = f.p->netmap_if();
    r.nr_offset = f.p->netmap_if_offset();
    r.nr_memsize = f.p->region_size();
    r.nr_tx_rings = clamp16(v->ni_tx_rings);
    r.nr_rx_rings = clamp16(v->ni_rx_rings);
    r.nr_host_tx_rings = clamp16(v->ni_host_tx_rings);
    r.nr_host_rx_rings = clamp16(v->ni_host_rx_rings);
    r.nr_tx_slots = f.p->tx_rings() ? f.p->tx_ring(0)->num_slots : 0;
    r.nr_rx_slots = f.p->rx_rings() ? f.p->rx_ring(0)->num_slots : 0;
    r.nr_mem_id = f.p->mem_id();
    r.nr_extra_bufs = f.p->extra_bufs();
    return 0;
}

int port_info(nm_file &f, const std::string &name, nmreq_port_info_get &r)
{
    std::string port;
    if (port_name_for(name, NR_REG_ALL_NIC, 0, 0, port) < 0)
        return -1;
    auto d = netring::query_port_info(port);
    if (!d)
        return fail(d.err(), port);
    // netringd describes an absent interface (present = false); netmap has no such port.
    if (!is_vale(name) && !is_pipe(name) && !d->nic.present)
        return fail(ENXIO, port + ": no such interface in netringd's namespace");
    r.nr_tx_rings = clamp16(d->tx_rings);
    r.nr_rx_rings = clamp16(d->rx_rings);
    r.nr_tx_slots = d->tx_slots;
    r.nr_rx_slots = d->rx_slots;
    const bool nic = d->nic.present;
    r.nr_host_tx_rings = r.nr_host_rx_rings = 1;
    if (nic && d->nic.hw_queues)
        r.nr_tx_rings = r.nr_rx_rings = clamp16(d->nic.hw_queues);
    r.nr_memsize = 0;
    r.nr_mem_id = 0;
    // The region is known once some registration maps it: this descriptor's, or anyone's.
    if (f.p && f.p->name() == port) {
        r.nr_memsize = f.p->region_size();
        r.nr_mem_id = f.p->mem_id();
    } else if (auto s = netring::query_stats(); s) {
        for (const auto &rg : s->regions)
            if (rg.name == d->region_name)
                r.nr_memsize = rg.size;
    }
    return 0;
}

int pools_info(nm_file &f, nmreq_pools_info &r)
{
    if (!f.p)
        return fail(ENXIO, "POOLS_INFO_GET on a descriptor that is not registered");
    const nr_if *v = f.p->netmap_if();
    const auto *base = reinterpret_cast<const uint8_t *>(v) - f.p->netmap_if_offset();
    const auto *hdr = reinterpret_cast<const nr_region_header *>(base);
    r.nr_memsize = f.p->region_size();
    r.nr_mem_id = f.p->mem_id();
    r.nr_if_pool_offset = hdr->meta_offset;
    r.nr_if_pool_objtotal = 0; // interface blocks and rings share one metadata area
    r.nr_if_pool_objsize = 0;
    r.nr_ring_pool_offset = hdr->meta_offset;
    r.nr_ring_pool_objtotal = 0;
    r.nr_ring_pool_objsize = 0;
    r.nr_buf_pool_offset = hdr->buffers_offset;
    r.nr_buf_pool_objtotal = hdr->num_buffers;
    r.nr_buf_pool_objsize = hdr->buf_size;
    return 0;
}

int port_hdr(const std::string &name, nmreq_port_hdr &p, bool set)
{
    if (set && p.nr_hdr_len != 0 && p.nr_hdr_len != 10 && p.nr_hdr_len != 12)
        return fail(EINVAL, "PORT_HDR_SET: header length " + std::to_string(p.nr_hdr_len) + " is not 0, 10 or 12");
    if (set && !is_vale(name))
        return fail(ENXIO, "PORT_HDR_SET: " + name + " is not a switch port");
    if (set && p.nr_hdr_len != 0)
        return fail(EOPNOTSUPP, "PORT_HDR_SET: netring ports carry no virtio-net header");
    std::string port;
    if (port_name_for(name, NR_REG_ALL_NIC, 0, 0, port) < 0)
        return -1;
    p.nr_hdr_len = 0;
    return 0;
}

} // namespace

int control(nm_file &f, int fd, nmreq_header *h)
{
    if (!h)
        return fail(EINVAL);
    if (h->nr_version != NETMAP_API)
        return fail(EINVAL, "request of API version " + std::to_string(h->nr_version) + ", netring speaks " +
                                std::to_string(NETMAP_API));
    if (h->nr_reserved != 0)
        return fail(EINVAL);
    const bool no_body = h->nr_reqtype == NETMAP_REQ_VALE_DELIF || h->nr_reqtype == NETMAP_REQ_SYNC_KLOOP_STOP ||
                         h->nr_reqtype == NETMAP_REQ_CSB_ENABLE;
    if (h->nr_reqtype == 0 || h->nr_reqtype > NETMAP_REQ_CSB_ENABLE)
        return fail(EINVAL, "unknown request type " + std::to_string(h->nr_reqtype));
    if (no_body != (h->nr_body == 0))
        return fail(EINVAL);
    std::lock_guard g(f.control);
    if (check_options(h, h->nr_reqtype == NETMAP_REQ_REGISTER) < 0)
        return -1;
    const std::string name = name_of(h);
    switch (h->nr_reqtype) {
    case NETMAP_REQ_REGISTER: return do_register(f, fd, name, *body_of<nmreq_register>(h));
    case NETMAP_REQ_PORT_INFO_GET: return port_info(f, name, *body_of<nmreq_port_info_get>(h));
    case NETMAP_REQ_VALE_ATTACH: return vale_attach(name, *body_of<nmreq_vale_attach>(h));
    case NETMAP_REQ_VALE_DETACH: return vale_detach(name, *body_of<nmreq_vale_detach>(h));
    case NETMAP_REQ_VALE_LIST: return vale_list(h, *body_of<nmreq_vale_list>(h));
    case NETMAP_REQ_PORT_HDR_SET: return port_hdr(name, *body_of<nmreq_port_hdr>(h), true);
    case NETMAP_REQ_PORT_HDR_GET: return port_hdr(name, *body_of<nmreq_port_hdr>(h), false);
    case NETMAP_REQ_VALE_NEWIF: return vale_newif(name);
    case NETMAP_REQ_VALE_DELIF: return vale_delif(name);
    case NETMAP_REQ_VALE_POLLING_ENABLE:
    case NETMAP_REQ_VALE_POLLING_DISABLE:
        if (!is_vale(name))
            return fail(EINVAL);
        return fail(EOPNOTSUPP, name + ": netring's switch forwards in its own thread; there are no polling "
                                       "threads to configure");
    case NETMAP_REQ_POOLS_INFO_GET: return pools_info(f, *body_of<nmreq_pools_info>(h));
    default:
        return fail(EOPNOTSUPP, "request " + std::to_string(h->nr_reqtype) +
                                    " (kernel sync loops, CSB) is not offered by netring: its rings are synced "
                                    "in shared memory already");
    }
}

// The legacy struct nmreq: NIOCGINFO is PORT_INFO_GET, NIOCREGIF with nr_cmd 0 is REGISTER.
int legacy_control(nm_file &f, int fd, unsigned long cmd, nmreq *r)
{
    if (!r)
        return fail(EINVAL);
    if (r->nr_version != NETMAP_API)
        return fail(EINVAL, "legacy request of API version " + std::to_string(r->nr_version));
    const std::string name(r->nr_name, strnlen(r->nr_name, sizeof r->nr_name));
    std::lock_guard g(f.control);
    if (cmd == NIOCGINFO) {
        nmreq_port_info_get info{};
        if (port_info(f, name, info) < 0)
            return -1;
        r->nr_memsize = static_cast<uint32_t>(info.nr_memsize);
        r->nr_tx_slots = info.nr_tx_slots;
        r->nr_rx_slots = info.nr_rx_slots;
        r->nr_tx_rings = info.nr_tx_rings;
        r->nr_rx_rings = info.nr_rx_rings;
        r->nr_arg2 = info.nr_mem_id;
        return 0;
    }
    if (r->nr_cmd != 0)
        return fail(EOPNOTSUPP, "legacy switch command " + std::to_string(r->nr_cmd) +
                                    ": use NIOCCTRL's VALE requests (vale-ctl does)");
    nmreq_header hdr;
    nmreq_register reg;
    nm::to_register(*r, &hdr, &reg);
    if (do_register(f, fd, name_of(&hdr), reg) < 0)
        return -1;
    nm::from_register(reg, r);
    return 0;
}

} // namespace netring::netmap
