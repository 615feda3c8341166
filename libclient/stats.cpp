// Daemon information for tools: STATS and PORT_INFO over a short-lived connection of their own.
#include "connection.hpp"
#include "reply_codec.hpp"

#include <netring/netring.hpp>
#include <netring/port_name.hpp>

#include <poll.h>
#include <sys/socket.h>

namespace netring {

result<daemon_stats> query_stats(const std::string &socket_path)
{
    auto conn = detail::connection::open(resolve_socket_path(socket_path));
    if (!conn)
        return conn.err();
    const proto::stats req{};
    auto reply = conn->call_struct(proto::msg_type::stats, req, proto::msg_type::stats_reply);
    if (!reply)
        return reply.err();
    return proto::decode_stats_reply(reply->hdr, reply->payload);
}

result<port_details> query_port_info(std::string_view name, const std::string &socket_path)
{
    if (auto parsed = parse_port_name(name); !parsed)
        return parsed.err();
    auto conn = detail::connection::open(resolve_socket_path(socket_path));
    if (!conn)
        return conn.err();
    proto::port_info req{};
    proto::set_text(req.port_name, sizeof req.port_name, name);
    auto reply = conn->call_struct(proto::msg_type::port_info, req, proto::msg_type::port_info_reply);
    if (!reply)
        return reply.err();
    return proto::decode_port_info_reply(reply->hdr, reply->payload);
}

status set_promiscuous(std::string_view name, bool on, const std::string &socket_path)
{
    if (auto parsed = parse_port_name(name); !parsed)
        return parsed.err();
    auto conn = detail::connection::open(resolve_socket_path(socket_path));
    if (!conn)
        return conn.err();
    proto::nic_ctl req{};
    proto::set_text(req.port_name, sizeof req.port_name, name);
    req.op = static_cast<uint32_t>(proto::nic_op::promisc);
    req.value = on ? 1 : 0;
    auto reply = conn->call_struct(proto::msg_type::nic_ctl, req, proto::msg_type::nic_ctl_reply);
    if (!reply)
        return reply.err();
    auto r = proto::decode_reply<proto::nic_ctl_reply>(reply->hdr, reply->payload);
    if (!r)
        return r.err();
    return ok_status();
}

status restart_daemon(const std::string &socket_path, int timeout_ms)
{
    auto conn = detail::connection::open(resolve_socket_path(socket_path));
    if (!conn)
        return conn.err();
    proto::restart req{};
    auto reply = conn->call_struct(proto::msg_type::restart, req, proto::msg_type::restart_reply);
    if (!reply)
        return reply.err();
    auto r = proto::decode_reply<proto::restart_reply>(reply->hdr, reply->payload);
    if (!r)
        return r.err();
    // The old process lets go of every connection when it hands over: once this one closes, the
    // next answer on the socket comes from the successor. A handoff that failed keeps it open.
    pollfd p{conn->fd(), POLLIN, 0};
    char byte;
    if (::poll(&p, 1, timeout_ms) == 1 && ::recv(conn->fd(), &byte, 1, MSG_DONTWAIT) <= 0)
        return ok_status();
    return error::from(errc::internal, "netringd accepted the restart but did not hand over within " +
                                           std::to_string(timeout_ms) + " ms (its log says why)");
}

} // namespace netring
