// SWITCH_CTL for tools (netring-switch): one request per call over a short-lived connection.
#include "connection.hpp"
#include "reply_codec.hpp"

#include <netring/netring.hpp>
#include <netring/protocol.hpp>

namespace netring::switches {
namespace {

// The request's strings are fixed arrays: a name that does not fit is refused here rather than
// truncated into a different name.
status fit(const char *what, std::string_view text)
{
    if (text.size() >= proto::port_name_max)
        return error::from(errc::bad_port_name, std::string(what) + " '" + std::string(text) +
                                                    "' is longer than " +
                                                    std::to_string(proto::port_name_max - 1) + " characters");
    if (text.find('\0') != std::string_view::npos)
        return error::from(errc::bad_port_name, std::string(what) + " holds a NUL character");
    return ok_status();
}

result<std::vector<switch_entry>> call(proto::switch_op op, std::string_view sw, std::string_view arg,
                                       const std::string &socket_path)
{
    if (auto s = fit("switch name", sw); !s)
        return s.err();
    if (auto s = fit("argument", arg); !s)
        return s.err();
    proto::switch_ctl req{};
    req.op = static_cast<uint32_t>(op);
    proto::set_text(req.switch_name, sizeof req.switch_name, sw);
    proto::set_text(req.arg, sizeof req.arg, arg);
    auto conn = detail::connection::open(resolve_socket_path(socket_path));
    if (!conn)
        return conn.err();
    auto reply = conn->call_struct(proto::msg_type::switch_ctl, req, proto::msg_type::switch_ctl_reply);
    if (!reply)
        return reply.err();
    return proto::decode_switch_ctl_reply(reply->hdr, reply->payload);
}

status call_status(proto::switch_op op, std::string_view sw, std::string_view arg,
                   const std::string &socket_path)
{
    auto r = call(op, sw, arg, socket_path);
    if (!r)
        return r.err();
    return ok_status();
}

} // namespace

status create(std::string_view sw, const std::string &socket_path)
{
    return call_status(proto::switch_op::create, sw, {}, socket_path);
}

status destroy(std::string_view sw, const std::string &socket_path)
{
    return call_status(proto::switch_op::destroy, sw, {}, socket_path);
}

status add_port(std::string_view sw, std::string_view port, const std::string &socket_path)
{
    return call_status(proto::switch_op::add_port, sw, port, socket_path);
}

status delete_port(std::string_view sw, std::string_view port, const std::string &socket_path)
{
    return call_status(proto::switch_op::delete_port, sw, port, socket_path);
}

status attach(std::string_view sw, std::string_view nic, const std::string &socket_path)
{
    return call_status(proto::switch_op::attach, sw, nic, socket_path);
}

status detach(std::string_view sw, std::string_view nic, const std::string &socket_path)
{
    return call_status(proto::switch_op::detach, sw, nic, socket_path);
}

status may_administer(const std::string &socket_path)
{
    return call_status(proto::switch_op::may_administer, {}, {}, socket_path);
}

result<std::vector<switch_entry>> list(std::string_view sw, const std::string &socket_path)
{
    return call(proto::switch_op::list, sw, {}, socket_path);
}

} // namespace netring::switches
