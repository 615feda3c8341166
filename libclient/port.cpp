// port::open: connect, HELLO, REGIF, then map the region and check every offset the daemon gave
// before following it. Also the accessors and the destructor.
#include "port_impl.hpp"

#include "reply_codec.hpp"

#include <netring/port_name.hpp>

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace netring {
namespace {

error inconsistent(const std::string &what)
{
    return error::from(errc::bad_message, "netringd's registration is inconsistent: " + what);
}

template <class T>
T *at(uint8_t *base, uint64_t off)
{
    return reinterpret_cast<T *>(base + off);
}

// Fills the ring_ref of one ring from what check_if_block copied and vouched for (never from the
// region again: a peer could have rewritten it since), adding the checks specific to a port.
result<ring_state> make_ring(uint8_t *base, const rings::checked_ring &c, uint32_t port_kind, uint32_t index,
                             bool tx, uint32_t want_slots)
{
    ring_state r;
    r.index = index;
    r.tx = tx;
    r.label = std::string(tx ? "tx" : "rx") + " ring " + std::to_string(index);
    r.own.ring = at<nr_ring>(base, c.ring_off);
    r.own.sync = at<nr_sync>(base, c.sync_off);
    r.own.num_slots = c.num_slots; // the trusted copy: never re-read from the region
    r.seen_errors = rings::load_relaxed(r.own.sync->kern.errors); // earlier resets are not ours
    if (r.own.num_slots != want_slots)
        return inconsistent(r.label + " has " + std::to_string(r.own.num_slots) + " slots, the reply said " +
                            std::to_string(want_slots));
    if (c.dir != (tx ? NR_RING_DIR_TX : NR_RING_DIR_RX))
        return inconsistent(r.label + " has the wrong direction");
    if (port_kind == NR_PORT_KIND_PIPE) {
        if (c.partner_ring_off == 0 || c.partner_sync_off == 0)
            return inconsistent(r.label + " of a pipe has no partner");
        r.partner.ring = at<nr_ring>(base, c.partner_ring_off);
        r.partner.sync = at<nr_sync>(base, c.partner_sync_off);
        r.partner.num_slots = c.partner_slots;
        // The handoff walks both rings with one index: equal sizes keep it inside both.
        if (r.partner.num_slots != r.own.num_slots)
            return inconsistent("partner of " + r.label + " has a different size");
    }
    return r;
}

// The netmap view is read by netmap programs, not by libnetring: it must only lie inside the
// region with the ring_ofs[] its counts promise.
status check_netmap_view(const uint8_t *base, uint64_t size, uint64_t off)
{
    if (off % alignof(nr_if) != 0 || off > size || size - off < sizeof(nr_if))
        return inconsistent("netmap view at " + std::to_string(off) + " outside the region");
    const auto *v = reinterpret_cast<const nr_if *>(base + off);
    const uint64_t total = uint64_t{v->ni_tx_rings} + v->ni_rx_rings + v->ni_host_tx_rings + v->ni_host_rx_rings;
    if (total == 0 || total > 4096 || size - off - sizeof(nr_if) < total * sizeof(int64_t))
        return inconsistent("netmap view lists " + std::to_string(total) + " rings");
    return ok_status();
}

} // namespace

// The mapping and ring checks of open(), on a reply the caller already decoded.
status port::impl::attach(const proto::regif_reply &rep, std::vector<unique_fd> fds)
{
    impl &p = *this;
    const uint64_t rings_total = uint64_t{rep.tx_rings} + rep.rx_rings;
    if (rings_total == 0 || rings_total > 1024)
        return inconsistent(std::to_string(rings_total) + " rings");
    if (rep.num_fds != 1 + 2 * rings_total || fds.size() != rep.num_fds)
        return inconsistent("expected " + std::to_string(1 + 2 * rings_total) + " descriptors, the reply said " +
                            std::to_string(rep.num_fds) + " and carried " + std::to_string(fds.size()));
    if (rep.port_kind != NR_PORT_KIND_PIPE && rep.port_kind != NR_PORT_KIND_DAEMON &&
        rep.port_kind != NR_PORT_KIND_MONITOR)
        return inconsistent("unknown port kind " + std::to_string(rep.port_kind));
    if (rep.port_kind == NR_PORT_KIND_MONITOR && rep.tx_rings != 0)
        return inconsistent("a monitor with tx rings");

    // mmap past the end of the file would map pages whose access raises SIGBUS.
    struct stat st;
    if (::fstat(fds[0].get(), &st) < 0)
        return error::from_errno(errno, "fstat of the region");
    if (rep.region_size == 0 || static_cast<uint64_t>(st.st_size) < rep.region_size)
        return inconsistent("region size " + std::to_string(rep.region_size) + " beyond the memfd's " +
                            std::to_string(st.st_size) + " bytes");
    auto region = mapped_region::map(fds[0].get(), rep.region_size);
    if (!region)
        return region.err();
    p.region = std::move(region.value());

    std::string why;
    auto geo = rings::read_region_header(p.region.base(), p.region.size(), &why);
    if (!geo)
        return inconsistent(why);
    p.geo = *geo;
    if (geo->buf_size != rep.buf_size)
        return inconsistent("buffer size differs from the region header");
    if (rep.if_offset % alignof(nr_if) != 0)
        return inconsistent("misaligned if block");
    rings::checked_if layout;
    if (auto bad = rings::check_if_block(p.region.base(), p.geo, rep.if_offset, &layout); !bad.empty())
        return inconsistent(bad);
    p.nifp = reinterpret_cast<nr_if *>(p.region.base() + rep.if_offset);
    if (layout.tx_rings != rep.tx_rings || layout.rx_rings != rep.rx_rings)
        return inconsistent("ring counts differ between the reply and the if block");
    if (layout.port_kind != rep.port_kind)
        return inconsistent("port kind differs between the reply and the if block");

    p.reg_id = rep.reg_id;
    p.port_kind = rep.port_kind;
    p.polled = (layout.flags & NR_IF_POLLED) != 0;
    p.extra_bufs = rep.extra_bufs;
    p.lim.num_buffers = p.geo.num_buffers;
    p.lim.buf_size = p.geo.buf_size;
    for (uint32_t pos = 0; pos < rings_total; pos++) {
        const bool tx = pos < rep.tx_rings;
        const uint32_t index = tx ? pos : pos - rep.tx_rings;
        auto r = make_ring(p.region.base(), layout.rings[pos], rep.port_kind, index, tx,
                           tx ? rep.tx_slots : rep.rx_slots);
        if (!r)
            return r.err();
        if (rep.port_kind == NR_PORT_KIND_MONITOR) {
            const nr_mon_source *src = nr_ring_mon_source(r->own.ring);
            if (src == nullptr)
                return inconsistent(r->label + " of a monitor does not say what it copies");
            r->source = *src;
        }
        r->kick_fd = fds[1 + 2 * pos].get();
        r->notify_fd = fds[2 + 2 * pos].get();
        (tx ? p.tx : p.rx).push_back(std::move(r.value()));
    }
    // One offset mask for the whole port: the slot checks use it for every ring.
    p.lim.offset_mask = p.tx.empty() ? p.rx[0].own.ring->offset_mask : p.tx[0].own.ring->offset_mask;
    for (const auto *dir : {&p.tx, &p.rx})
        for (const ring_state &r : *dir)
            if (r.own.ring->offset_mask != p.lim.offset_mask)
                return inconsistent("rings disagree on the slot offset mask");
    if (p.lim.offset_mask >= p.geo.buf_size)
        return inconsistent("slot offset mask reaches past the buffer");
    p.mon.base = p.region.base();
    p.mon.size = p.region.size();
    p.mon.buffers_offset = p.geo.buffers_offset;
    p.mon.lim = p.lim;
    if (rep.netmap_if_offset != 0) {
        if (auto s = check_netmap_view(p.region.base(), p.region.size(), rep.netmap_if_offset); !s)
            return s;
        p.netmap_if_offset = rep.netmap_if_offset;
    }
    p.mem_id = static_cast<uint16_t>(rep.mem_id);
    p.region_fd = std::move(fds[0]);
    fds.erase(fds.begin());
    p.ring_fds = std::move(fds);
    return ok_status();
}

struct port::pending {
    detail::connection conn;
    result<received_message> reply;
    std::string name; // empty when adopted: the if block's name is used
    open_options opts;
};

result<port> port::open(std::string_view name, const open_options &opts)
{
    auto parsed = parse_port_name(name); // before connecting: a typo needs no daemon
    if (!parsed)
        return parsed.err();
    auto control = connect_control(opts.socket_path);
    if (!control)
        return control.err();
    return open_on(std::move(control.value()), name, opts);
}

result<port> port::open_on(unique_fd control, std::string_view name, const open_options &opts)
{
    auto parsed = parse_port_name(name);
    if (!parsed)
        return parsed.err();
    proto::regif req{};
    proto::set_text(req.port_name, sizeof req.port_name, name);
    req.flags = opts.flags | (parsed->exclusive ? proto::regif_exclusive : 0) |
                (parsed->tx_only ? proto::regif_tx_only : 0) | (parsed->rx_only ? proto::regif_rx_only : 0) |
                (opts.netmap_view ? proto::regif_netmap_view : 0);
    // A monitor has rx rings only: tx sizes have nothing to size, so one set of options serves
    // any port name (the daemon refuses them on a monitor).
    const bool monitor = parsed->is_monitor();
    req.tx_rings = monitor ? 0 : opts.tx_rings;
    req.rx_rings = opts.rx_rings;
    req.tx_slots = monitor ? 0 : opts.tx_slots;
    req.rx_slots = opts.rx_slots;
    req.extra_bufs = opts.extra_bufs;
    auto conn = detail::connection::adopt(std::move(control));
    auto reply = conn.call_struct(proto::msg_type::regif, req, proto::msg_type::regif_reply);
    return finish_open({std::move(conn), std::move(reply), std::string(name), opts});
}

result<port> port::adopt(unique_fd control, const open_options &opts)
{
    proto::reg_query req{};
    auto conn = detail::connection::adopt(std::move(control));
    auto reply = conn.call_struct(proto::msg_type::reg_query, req, proto::msg_type::regif_reply);
    return finish_open({std::move(conn), std::move(reply), {}, opts});
}

// The end of open_on and adopt: decode the reply, map and check, then own the connection.
result<port> port::finish_open(pending &&o)
{
    if (!o.reply)
        return o.reply.err();
    auto rep = proto::decode_regif_reply(o.reply->hdr, o.reply->payload);
    if (!rep)
        return rep.err();
    auto p = std::make_unique<impl>();
    p->opts = o.opts;
    p->opts.socket_path = resolve_socket_path(o.opts.socket_path);
    if (auto s = p->attach(rep.value(), std::move(o.reply->fds)); !s)
        return s.err(); // p's destructor closes every fd and unmaps; the socket close unregisters
    p->name = !o.name.empty() ? std::move(o.name)
                              : std::string(p->nifp->ni_name, strnlen(p->nifp->ni_name, sizeof p->nifp->ni_name));
    p->seq = o.conn.seq();
    p->sock = o.conn.release_fd();
    std::memcpy(p->link.token.data(), rep->token, sizeof rep->token); // zero from a daemon before version 5
    p->link.if_offset = rep->if_offset;
    return port(std::move(p));
}

port::port(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
port::port(port &&) noexcept = default;
port &port::operator=(port &&) noexcept = default;
// Closing the control socket is the unregister: the daemon then frees the rings and buffers, and
// tells a pipe's other end. With no daemon to tell it, the port does that itself first.
port::~port()
{
    if (impl_)
        impl_->release_partner();
}

nr_if *port::nifp() const { return impl_->nifp; }
uint32_t port::tx_rings() const { return static_cast<uint32_t>(impl_->tx.size()); }
uint32_t port::rx_rings() const { return static_cast<uint32_t>(impl_->rx.size()); }
nr_ring *port::tx_ring(uint32_t i) const { return i < impl_->tx.size() ? impl_->tx[i].own.ring : nullptr; }
nr_ring *port::rx_ring(uint32_t i) const { return i < impl_->rx.size() ? impl_->rx[i].own.ring : nullptr; }

char *port::buffer(uint32_t buf_idx) const
{
    if (buf_idx >= impl_->geo.num_buffers)
        return nullptr;
    return reinterpret_cast<char *>(impl_->region.base() + impl_->geo.buffers_offset) +
           uint64_t{buf_idx} * impl_->geo.buf_size;
}

uint32_t port::buf_size() const { return impl_->geo.buf_size; }
uint32_t port::extra_bufs() const { return impl_->extra_bufs; }
const std::string &port::name() const { return impl_->name; }
sync_mode port::mode() const { return impl_->opts.sync; }
int port::control_fd() const { return impl_->sock.get(); }
nr_if *port::netmap_if() const
{
    return impl_->netmap_if_offset ? reinterpret_cast<nr_if *>(impl_->region.base() + impl_->netmap_if_offset)
                                   : nullptr;
}
uint64_t port::netmap_if_offset() const { return impl_->netmap_if_offset; }
uint16_t port::mem_id() const { return impl_->mem_id; }
int port::region_fd() const { return impl_->region_fd.get(); }
uint64_t port::region_size() const { return impl_->region.size(); }
uint32_t port::reg_id() const { return impl_->reg_id; }
const std::string &port::last_error() const { return impl_->last_error; }

bool port::is_monitor() const { return impl_->port_kind == NR_PORT_KIND_MONITOR; }
bool port::needs_polling() const { return impl_->polled; }

bool port::monitor_source_of(uint32_t i, monitor_source &out) const
{
    if (!is_monitor() || i >= impl_->rx.size())
        return false;
    const nr_mon_source &s = impl_->rx[i].source;
    out.tx = (s.flags & NR_MON_SRC_TX) != 0;
    out.host = (s.flags & NR_MON_SRC_HOST) != 0;
    out.ring = s.ringid;
    return true;
}

uint64_t port::monitor_drops(uint32_t i) const
{
    if (!is_monitor() || i >= impl_->rx.size())
        return 0;
    return rings::load_relaxed(impl_->rx[i].own.sync->kern.drops);
}

} // namespace netring
