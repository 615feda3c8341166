#include "requests.hpp"

#include "control_server.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <cstring>

#ifndef NETRINGD_VERSION
#define NETRINGD_VERSION "0"
#endif

namespace netring::netringd {

void reply_sink::reply_error(uint32_t seq, const error &e)
{
    proto::reply_status st{};
    proto::set_status(st, e);
    reply_struct(proto::msg_type::error_reply, seq, st);
}

namespace {

// One request's answer: the server's registry, the asking client, the reply's destination.
struct answer {
    control_server &server;
    request_context &ctx;
    reply_sink &out;

    void dispatch(const proto::decoded_request &req)
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
        case proto::msg_type::reg_query: on_reg_query(seq, std::get<proto::reg_query>(req.body)); break;
        case proto::msg_type::reattach: on_reattach(seq, std::get<proto::reattach>(req.body)); break;
        case proto::msg_type::restart: on_restart(seq); break;
        default: out.reply_error(seq, error::from(errc::unknown_message, "not a request")); break;
        }
    }

    void on_hello(uint32_t seq, const proto::hello &m)
    {
        proto::hello_reply rep{};
        const uint16_t lo = std::max(m.min_version, proto::min_version);
        const uint16_t hi = std::min(m.max_version, proto::version);
        if (lo > hi) {
            proto::set_status(rep.status,
                              error::from(errc::unsupported_version,
                                          "client speaks versions " + std::to_string(m.min_version) + ".." +
                                              std::to_string(m.max_version) + ", netringd " +
                                              std::to_string(proto::min_version) + ".." +
                                              std::to_string(proto::version)));
            out.reply_struct(proto::msg_type::hello_reply, seq, rep); // the session still awaits a HELLO
            return;
        }
        ctx.state = proto::session_state::ready;
        ctx.version = hi;
        proto::set_ok(rep.status);
        rep.version = hi;
        rep.uid = ctx.client.uid;
        rep.gid = ctx.client.gid;
        rep.pid = static_cast<uint32_t>(ctx.client.pid);
        proto::set_text(rep.daemon_version, sizeof rep.daemon_version, "netringd " NETRINGD_VERSION);
        server.log().info(ctx.who + ": hello from '" +
                          std::string(*proto::fixed_string(m.client_name, sizeof m.client_name)) + "'");
        out.reply_struct(proto::msg_type::hello_reply, seq, rep);
    }

    void on_regif(uint32_t seq, const proto::regif &m)
    {
        proto::regif_reply rep{};
        auto r = server.reg().register_port(ctx.client, m);
        if (!r) {
            const std::string line = ctx.who + ": regif " +
                                     std::string(*proto::fixed_string(m.port_name, sizeof m.port_name)) +
                                     " refused: " + r.err().message;
            if (r.err().code == make_error_code(errc::access_denied))
                server.log().warning(line); // an operator wants to see policy refusals
            else
                server.log().info(line);
            proto::set_status(rep.status, r.err());
            send_regif_reply(seq, rep, {});
            return;
        }
        const attach_result &a = r->a;
        server.log().info(ctx.who + ": regif " + r->name + " -> registration " + std::to_string(r->reg_id) +
                          " (" + std::to_string(a.tx_rings) + " tx, " + std::to_string(a.rx_rings) +
                          " rx rings, region " + a.mem->name() + ")");
        answer_registration(seq, *r);
    }

    void on_reg_query(uint32_t seq, const proto::reg_query &m)
    {
        auto r = server.reg().query(ctx.client.session, m.reg_id);
        if (!r) {
            proto::regif_reply rep{};
            proto::set_status(rep.status, r.err());
            send_regif_reply(seq, rep, {});
            return;
        }
        server.log().info(ctx.who + ": reg_query -> registration " + std::to_string(r->reg_id));
        answer_registration(seq, *r);
    }

    void on_reattach(uint32_t seq, const proto::reattach &m)
    {
        auto r = server.reg().reattach(ctx.client, m.reg_id, m.token);
        if (!r) {
            server.log().warning(ctx.who + ": reattach " + std::to_string(m.reg_id) + " refused: " + r.err().message);
            proto::regif_reply rep{};
            proto::set_status(rep.status, r.err());
            send_regif_reply(seq, rep, {});
            return;
        }
        server.log().notice(ctx.who + ": re-attached registration " + std::to_string(r->reg_id) + " (" + r->name + ")");
        answer_registration(seq, *r);
    }

    // The reply goes out before the handoff starts (replies are written at once, the handoff is
    // posted to the loop): the admin learns the restart began, then sees the connection close.
    void on_restart(uint32_t seq)
    {
        proto::restart_reply rep{};
        if (!server.reg().may_administer(ctx.client)) {
            proto::set_status(rep.status, error::from(errc::access_denied,
                                                      "uid " + std::to_string(ctx.client.uid) +
                                                          " is not an admin of this netringd (admin directive)"));
        } else if (!server.on_restart) {
            proto::set_status(rep.status, error::from(errc::not_supported, "this netringd cannot restart itself"));
        } else {
            proto::set_ok(rep.status);
            server.log().notice(ctx.who + ": restart requested");
            boost::asio::post(server.executor(), server.on_restart);
        }
        out.reply_struct(proto::msg_type::restart_reply, seq, rep);
    }

    void answer_registration(uint32_t seq, const registered &r)
    {
        const attach_result &a = r.a;
        proto::regif_reply rep{};
        proto::set_ok(rep.status);
        rep.region_size = a.mem->size();
        rep.if_offset = a.if_offset;
        rep.reg_id = r.reg_id;
        rep.port_kind = a.port_kind;
        rep.tx_rings = a.tx_rings;
        rep.rx_rings = a.rx_rings;
        rep.tx_slots = a.tx_slots;
        rep.rx_slots = a.rx_slots;
        rep.buf_size = a.mem->geometry().buf_size;
        rep.extra_bufs = a.extra_bufs;
        rep.num_fds = static_cast<uint32_t>(a.fds.size());
        rep.netmap_if_offset = r.netmap_if_offset;
        rep.mem_id = r.mem_id;
        std::memcpy(rep.token, r.token.data(), sizeof rep.token);
        send_regif_reply(seq, rep, a.fds);
    }

    // Sessions of versions 1 and 2 know the reply without its version 3 tail, 3 and 4 without the
    // token of version 5.
    void send_regif_reply(uint32_t seq, const proto::regif_reply &rep, std::span<const int> fds)
    {
        std::span<const std::byte> bytes = std::as_bytes(std::span<const proto::regif_reply, 1>(&rep, 1));
        if (ctx.version < 3)
            bytes = bytes.first(proto::regif_reply_v2_size);
        else if (ctx.version < 5)
            bytes = bytes.first(proto::regif_reply_v4_size);
        out.reply(proto::msg_type::regif_reply, seq, bytes, fds);
    }

    void on_unregif(uint32_t seq, const proto::unregif &m)
    {
        proto::unregif_reply rep{};
        if (auto s = server.reg().unregister(ctx.client.session, m.reg_id); !s)
            proto::set_status(rep.status, s.err());
        else
            proto::set_ok(rep.status);
        server.log().info(ctx.who + ": unregif " + std::to_string(m.reg_id));
        out.reply_struct(proto::msg_type::unregif_reply, seq, rep);
    }

    void on_sync(uint32_t seq, const proto::sync_request &m, bool tx)
    {
        proto::sync_reply rep{};
        const sync_result r = server.reg().sync(ctx.client.session, m.reg_id, m.ring, tx);
        if (r.ok())
            proto::set_ok(rep.status);
        else
            proto::set_status(rep.status, error::from(r.code, r.message));
        rep.tail = r.tail;
        out.reply_struct(proto::msg_type::sync_reply, seq, rep);
    }

    void on_port_info(uint32_t seq, const proto::port_info &m)
    {
        proto::port_info_reply rep{};
        auto d = server.reg().port_info(ctx.client, *proto::fixed_string(m.port_name, sizeof m.port_name));
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
        out.reply_struct(proto::msg_type::port_info_reply, seq, rep);
    }

    void on_nic_ctl(uint32_t seq, const proto::nic_ctl &m)
    {
        proto::nic_ctl_reply rep{};
        const auto name = *proto::fixed_string(m.port_name, sizeof m.port_name);
        if (auto s = server.reg().nic_ctl(ctx.client, name, m.value != 0); !s) {
            proto::set_status(rep.status, s.err());
        } else {
            proto::set_ok(rep.status);
            server.log().info(ctx.who + ": " + std::string(name) + " promiscuous mode " +
                              (m.value ? "on" : "off"));
        }
        out.reply_struct(proto::msg_type::nic_ctl_reply, seq, rep);
    }

    // Every switch change is logged, refused ones too: switch administration is an admin's act.
    void on_switch_ctl(uint32_t seq, const proto::switch_ctl &m)
    {
        const auto op = static_cast<proto::switch_op>(m.op); // decode_request checked the range
        const auto sw = *proto::fixed_string(m.switch_name, sizeof m.switch_name);
        const auto arg = *proto::fixed_string(m.arg, sizeof m.arg);
        const auto r = server.reg().switch_ctl(ctx.client, op, sw, arg);
        if (op != proto::switch_op::list) {
            const std::string what = ctx.who + ": switch " + switch_op_name(op) + " " + std::string(sw) +
                                     (arg.empty() ? "" : " " + std::string(arg));
            if (r)
                server.log().info(what);
            else
                server.log().info(what + " refused: " + r.err().describe());
        }
        out.reply(proto::msg_type::switch_ctl_reply, seq, switch_ctl_payload(r), {});
    }

    void on_stats(uint32_t seq)
    {
        const auto payload =
            server.reg().build_stats(server.uptime_ms(), server.session_count(), ctx.version);
        out.reply(proto::msg_type::stats_reply, seq, payload, {});
    }
};

} // namespace

void answer_request(control_server &server, const proto::decoded_request &req, request_context &ctx,
                    reply_sink &out)
{
    answer{server, ctx, out}.dispatch(req);
}

} // namespace netring::netringd
