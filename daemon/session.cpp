#include "session.hpp"

#include "control_server.hpp"

#include <rings/wire.hpp>

#include <boost/asio/socket_base.hpp>

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#ifndef NETRINGD_VERSION
#define NETRINGD_VERSION "0"
#endif

namespace netring::netringd {

session::session(uint64_t id, socket_type socket, control_server &server)
    : id_(id), socket_(std::move(socket)), server_(server) {}

namespace {

// The peer's supplementary groups as they were when it connected (SO_PEERGROUPS, Linux 4.13+), so
// that `gid=N` in the policy also matches a member of N whose primary group is another. Without
// them, only the primary group counts.
std::vector<gid_t> peer_groups(int fd, const logger &log)
{
    std::vector<gid_t> groups(16);
    for (int tries = 0; tries < 4; tries++) {
        socklen_t len = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
        if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) == 0) {
            groups.resize(len / sizeof(gid_t));
            return groups;
        }
        if (errno != ERANGE) {
            log.error("SO_PEERGROUPS failed (" + std::string(std::strerror(errno)) +
                      "): only the primary group counts for this client");
            return {};
        }
        groups.resize(len / sizeof(gid_t) + 1); // the kernel said how much room it needs
    }
    return {};
}

} // namespace

std::string session::who() const
{
    return "session " + std::to_string(id_) + " (pid " + std::to_string(cred_.pid) + " uid " +
           std::to_string(cred_.uid) + ")";
}

void session::start()
{
    socklen_t len = sizeof cred_;
    if (::getsockopt(socket_.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred_, &len) != 0) {
        server_.log().error("SO_PEERCRED failed: " + std::string(std::strerror(errno)));
        close("no peer credentials");
        return;
    }
    groups_ = peer_groups(socket_.native_handle(), server_.log());
    boost::system::error_code ec;
    socket_.non_blocking(true, ec); // replies must never block the daemon
    if (ec) {
        close("cannot make the socket non-blocking");
        return;
    }
    server_.log().info(who() + ": connected");
    wait_readable();
}

void session::close(const char *why)
{
    if (closed())
        return;
    state_ = proto::session_state::closed;
    const size_t released = server_.reg().unregister_session(id_);
    server_.log().info(who() + ": closed (" + why + "), " + std::to_string(released) + " registration" +
                       (released == 1 ? "" : "s") + " released");
    boost::system::error_code ec;
    socket_.close(ec);
    server_.session_closed(id_);
}

void session::wait_readable()
{
    socket_.async_wait(socket_type::wait_read, [self = shared_from_this()](const boost::system::error_code &ec) {
        if (self->closed())
            return;
        if (ec) {
            self->close("wait failed");
            return;
        }
        self->on_readable();
    });
}

void session::on_readable()
{
    std::vector<unique_fd> fds; // whatever a client sends along is closed on return
    const ssize_t n = recv_with_fds(socket_.native_handle(), in_.data() + in_len_, in_.size() - in_len_, fds);
    if (!fds.empty()) {
        server_.log().info(who() + ": closed " + std::to_string(fds.size()) + " unexpected file descriptors");
        fds.clear(); // before anything is answered: no request may see them
    }
    if (n == 0) {
        close("end of stream");
        return;
    }
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            wait_readable();
            return;
        }
        close(errno == EPROTO ? "too many file descriptors sent" : "receive error");
        return;
    }
    in_len_ += static_cast<size_t>(n);
    process_input();
}

void session::process_input()
{
    size_t off = 0;
    while (out_.empty() && !closed() && in_len_ - off >= sizeof(proto::header)) {
        proto::header h;
        std::memcpy(&h, in_.data() + off, sizeof h);
        if (auto s = proto::check_request_header(h); !s && s.err().code != make_error_code(errc::unknown_message)) {
            server_.log().error(who() + ": " + s.err().message + "; closing the connection");
            close("bad header");
            return;
        }
        if (in_len_ - off < sizeof h + h.length)
            break; // the rest of this message has not arrived yet
        handle(h, std::span<const std::byte>(in_.data() + off + sizeof h, h.length));
        off += sizeof h + h.length;
    }
    if (closed())
        return;
    std::memmove(in_.data(), in_.data() + off, in_len_ - off);
    in_len_ -= off;
    if (!out_.empty())
        wait_writable();
    else
        wait_readable();
}

void session::handle(const proto::header &h, std::span<const std::byte> payload)
{
    auto req = proto::decode_request(h, payload);
    if (!req) {
        reply_error(h.seq, req.err());
        return;
    }
    const proto::transition t = proto::session_transition(state_, req->type);
    if (t.refusal != errc::ok) {
        const char *text = t.refusal == errc::hello_required
                               ? (state_ == proto::session_state::ready ? "HELLO twice" : "HELLO first")
                               : "request refused in this session state";
        reply_error(h.seq, error::from(t.refusal, text));
        return;
    }
    dispatch(*req);
}

void session::dispatch(const proto::decoded_request &req)
{
    const uint32_t seq = req.seq;
    switch (req.type) {
    case proto::msg_type::hello: on_hello(seq, std::get<proto::hello>(req.body)); break;
    case proto::msg_type::regif: on_regif(seq, std::get<proto::regif>(req.body)); break;
    case proto::msg_type::unregif: on_unregif(seq, std::get<proto::unregif>(req.body)); break;
    case proto::msg_type::txsync: on_sync(seq, std::get<proto::sync_request>(req.body), true); break;
    case proto::msg_type::rxsync: on_sync(seq, std::get<proto::sync_request>(req.body), false); break;
    case proto::msg_type::port_info: on_port_info(seq, std::get<proto::port_info>(req.body)); break;
    case proto::msg_type::stats: on_stats(seq); break;
    case proto::msg_type::nic_ctl: on_nic_ctl(seq, std::get<proto::nic_ctl>(req.body)); break;
    case proto::msg_type::switch_ctl: on_switch_ctl(seq, std::get<proto::switch_ctl>(req.body)); break;
    default: reply_error(seq, error::from(errc::unknown_message, "not a request")); break;
    }
}

void session::on_hello(uint32_t seq, const proto::hello &m)
{
    proto::hello_reply rep{};
    const uint16_t lo = std::max(m.min_version, proto::min_version);
    const uint16_t hi = std::min(m.max_version, proto::version);
    if (lo > hi) {
        proto::set_status(rep.status, error::from(errc::unsupported_version,
                                                  "client speaks versions " + std::to_string(m.min_version) + ".." +
                                                      std::to_string(m.max_version) + ", netringd " +
                                                      std::to_string(proto::min_version) + ".." +
                                                      std::to_string(proto::version)));
        reply_struct(proto::msg_type::hello_reply, seq, rep); // the session still awaits a HELLO
        return;
    }
    state_ = proto::session_state::ready;
    proto::set_ok(rep.status);
    rep.version = hi;
    rep.uid = cred_.uid;
    rep.gid = cred_.gid;
    rep.pid = static_cast<uint32_t>(cred_.pid);
    proto::set_text(rep.daemon_version, sizeof rep.daemon_version, "netringd " NETRINGD_VERSION);
    server_.log().info(who() + ": hello from '" + std::string(*proto::fixed_string(m.client_name, sizeof m.client_name)) +
                       "'");
    reply_struct(proto::msg_type::hello_reply, seq, rep);
}

void session::on_regif(uint32_t seq, const proto::regif &m)
{
    proto::regif_reply rep{};
    auto r = server_.reg().register_port(client(), m);
    if (!r) {
        const std::string line = who() + ": regif " + std::string(*proto::fixed_string(m.port_name, sizeof m.port_name)) +
                                 " refused: " + r.err().message;
        if (r.err().code == make_error_code(errc::access_denied))
            server_.log().error(line); // an operator wants to see policy refusals
        else
            server_.log().info(line);
        proto::set_status(rep.status, r.err());
        reply_struct(proto::msg_type::regif_reply, seq, rep);
        return;
    }
    const attach_result &a = r->a;
    proto::set_ok(rep.status);
    rep.region_size = a.mem->size();
    rep.if_offset = a.if_offset;
    rep.reg_id = r->reg_id;
    rep.port_kind = a.port_kind;
    rep.tx_rings = a.tx_rings;
    rep.rx_rings = a.rx_rings;
    rep.tx_slots = a.tx_slots;
    rep.rx_slots = a.rx_slots;
    rep.buf_size = a.mem->geometry().buf_size;
    rep.extra_bufs = a.extra_bufs;
    rep.num_fds = static_cast<uint32_t>(a.fds.size());
    server_.log().info(who() + ": regif " + r->name + " -> registration " + std::to_string(r->reg_id) + " (" +
                       std::to_string(a.tx_rings) + " tx, " + std::to_string(a.rx_rings) + " rx rings, region " +
                       a.mem->name() + ")");
    reply_struct(proto::msg_type::regif_reply, seq, rep, a.fds);
}

void session::on_unregif(uint32_t seq, const proto::unregif &m)
{
    proto::unregif_reply rep{};
    if (auto s = server_.reg().unregister(id_, m.reg_id); !s)
        proto::set_status(rep.status, s.err());
    else
        proto::set_ok(rep.status);
    server_.log().info(who() + ": unregif " + std::to_string(m.reg_id));
    reply_struct(proto::msg_type::unregif_reply, seq, rep);
}

void session::on_sync(uint32_t seq, const proto::sync_request &m, bool tx)
{
    proto::sync_reply rep{};
    const sync_result r = server_.reg().sync(id_, m.reg_id, m.ring, tx);
    if (r.ok())
        proto::set_ok(rep.status);
    else
        proto::set_status(rep.status, error::from(r.code, r.message));
    rep.tail = r.tail;
    reply_struct(proto::msg_type::sync_reply, seq, rep);
}

void session::on_port_info(uint32_t seq, const proto::port_info &m)
{
    proto::port_info_reply rep{};
    auto d = server_.reg().port_info(client(), *proto::fixed_string(m.port_name, sizeof m.port_name));
    if (!d) {
        proto::set_status(rep.status, d.err());
    } else {
        proto::set_ok(rep.status);
        rep.port_kind = d->port_kind;
        rep.tx_rings = d->tx_rings;
        rep.rx_rings = d->rx_rings;
        rep.tx_slots = d->tx_slots;
        rep.rx_slots = d->rx_slots;
        rep.buf_size = d->buf_size;
        rep.clients = d->clients;
        rep.exclusive = d->exclusive ? 1 : 0;
        proto::set_text(rep.region_name, sizeof rep.region_name, d->region_name);
        if (const auto &n = d->nic; n.present) {
            auto &w = rep.nic;
            w.present = 1;
            w.link_up = n.link_up ? 1 : 0;
            w.promisc = n.promisc ? 1 : 0;
            w.speed_mbps = n.speed_mbps;
            w.mtu = n.mtu;
            w.hw_queues = n.hw_queues;
            w.ring_slots = n.ring_slots;
            w.numa_node = n.numa_node;
            std::memcpy(w.mac, n.mac, sizeof w.mac);
            proto::set_text(w.mode, sizeof w.mode, n.mode);
            proto::set_text(w.xdp_mode, sizeof w.xdp_mode, n.xdp_mode);
            w.rx_packets = n.rx_packets;
            w.tx_packets = n.tx_packets;
            w.rx_bytes = n.rx_bytes;
            w.tx_bytes = n.tx_bytes;
            w.rx_dropped = n.rx_dropped;
            w.tx_dropped = n.tx_dropped;
            w.copies = n.copies;
        }
    }
    reply_struct(proto::msg_type::port_info_reply, seq, rep);
}

void session::on_nic_ctl(uint32_t seq, const proto::nic_ctl &m)
{
    proto::nic_ctl_reply rep{};
    const auto name = *proto::fixed_string(m.port_name, sizeof m.port_name);
    if (auto s = server_.reg().nic_ctl(client(), name, m.value != 0); !s) {
        proto::set_status(rep.status, s.err());
    } else {
        proto::set_ok(rep.status);
        server_.log().info(who() + ": " + std::string(name) + " promiscuous mode " + (m.value ? "on" : "off"));
    }
    reply_struct(proto::msg_type::nic_ctl_reply, seq, rep);
}

// Every switch change is logged, refused ones too: switch administration is an admin's act.
void session::on_switch_ctl(uint32_t seq, const proto::switch_ctl &m)
{
    const auto op = static_cast<proto::switch_op>(m.op); // decode_request checked the range
    const auto sw = *proto::fixed_string(m.switch_name, sizeof m.switch_name);
    const auto arg = *proto::fixed_string(m.arg, sizeof m.arg);
    const auto r = server_.reg().switch_ctl(client(), op, sw, arg);
    if (op != proto::switch_op::list) {
        const std::string what = who() + ": switch " + switch_op_name(op) + " " + std::string(sw) +
                                 (arg.empty() ? "" : " " + std::string(arg));
        if (r)
            server_.log().info(what);
        else
            server_.log().info(what + " refused: " + r.err().describe());
    }
    reply(proto::msg_type::switch_ctl_reply, seq, switch_ctl_payload(r), {});
}

void session::on_stats(uint32_t seq)
{
    const auto payload = server_.reg().build_stats(server_.uptime_ms(), server_.session_count());
    reply(proto::msg_type::stats_reply, seq, payload, {});
}

void session::reply_error(uint32_t seq, const error &e)
{
    proto::reply_status st{};
    proto::set_status(st, e);
    reply_struct(proto::msg_type::error_reply, seq, st);
}

// One non-blocking sendmsg; fds ride as SCM_RIGHTS on the first byte. (wire's send_message would
// wait for buffer space, which the daemon's one thread must never do.)
void session::reply(proto::msg_type t, uint32_t seq, std::span<const std::byte> payload, std::span<const int> fds)
{
    if (closed())
        return;
    const proto::header h = proto::make_header(t, static_cast<uint32_t>(payload.size()), seq);
    out_.resize(sizeof h + payload.size());
    std::memcpy(out_.data(), &h, sizeof h);
    if (!payload.empty())
        std::memcpy(out_.data() + sizeof h, payload.data(), payload.size());
    out_done_ = 0;

    iovec iov{out_.data(), out_.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[fd_control_space];
    attach_fds(msg, control, fds);
    ssize_t n;
    do {
        n = ::sendmsg(socket_.native_handle(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        out_.clear();
        close(errno == EAGAIN || errno == EWOULDBLOCK ? "socket buffer full: the client does not read its replies"
                                                      : "send error");
        return;
    }
    out_done_ = static_cast<size_t>(n);
    if (out_done_ == out_.size())
        out_.clear(); // else the rest goes out when the socket is writable (process_input waits)
}

void session::wait_writable()
{
    socket_.async_wait(socket_type::wait_write, [self = shared_from_this()](const boost::system::error_code &ec) {
        if (self->closed())
            return;
        if (ec) {
            self->close("wait failed");
            return;
        }
        self->flush_output();
    });
}

// The tail of a reply larger than the socket buffer (a big STATS answer): written as the client
// reads, without blocking; nothing more is read from this client meanwhile.
void session::flush_output()
{
    const ssize_t n = ::send(socket_.native_handle(), out_.data() + out_done_, out_.size() - out_done_,
                             MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        out_.clear();
        close("send error");
        return;
    }
    if (n > 0)
        out_done_ += static_cast<size_t>(n);
    if (out_done_ < out_.size()) {
        wait_writable();
        return;
    }
    out_.clear();
    process_input(); // requests that arrived meanwhile, then back to reading
}

} // namespace netring::netringd
