#include "connection.hpp"

#include "reply_codec.hpp"

#include <netring/netring.hpp>

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace netring {

std::string resolve_socket_path(const std::string &explicit_path)
{
    if (!explicit_path.empty())
        return explicit_path;
    if (const char *env = std::getenv("NETRING_SOCKET"); env && *env)
        return env;
    return default_socket_path;
}

result<unique_fd> connect_control(const std::string &socket_path)
{
    auto c = detail::connection::open(resolve_socket_path(socket_path));
    if (!c)
        return c.err();
    return c->release_fd();
}

namespace detail {

error as_daemon_gone(const error &e)
{
    if (e.code.category() == error_category())
        return e;
    return error{make_error_code(errc::daemon_gone), e.message};
}

// The daemon's answer to a connection it does not admit: an error_reply with sequence number 0 (no
// request has that number) carrying the reason, sent before it closes the socket.
bool is_refusal(const received_message &m)
{
    return m.hdr.seq == 0 && static_cast<proto::msg_type>(m.hdr.type) == proto::msg_type::error_reply &&
           !proto::reply_failure(m.hdr, m.payload);
}

result<unique_fd> connect_unix(const std::string &socket_path, bool nonblocking)
{
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_path.empty() || socket_path.size() >= sizeof addr.sun_path)
        return error::from(errc::daemon_gone, "socket path '" + socket_path + "' is empty or too long");
    std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());

    unique_fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0));
    if (!fd.valid())
        return error::from_errno(errno, "socket");
    int rc;
    do {
        rc = ::connect(fd.get(), reinterpret_cast<const sockaddr *>(&addr), sizeof addr);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        const int err = errno;
        // EACCES: connecting needs write permission on the socket file, which the daemon's
        // socket_group and socket_mode may give only to one group.
        if (err == EACCES || err == EPERM)
            return error{make_error_code(errc::access_denied),
                         "cannot reach netringd at '" + socket_path +
                             "': permission denied (connecting needs write access to the socket; "
                             "is this user in the socket's group?)"};
        // EAGAIN (non-blocking): the backlog is full; the daemon is there but busy.
        return error{make_error_code(errc::daemon_gone),
                     "cannot reach netringd at '" + socket_path + "': " + std::strerror(err)};
    }
    return fd;
}

proto::hello hello_request()
{
    proto::hello h{};
    h.min_version = proto::min_version;
    h.max_version = proto::version;
    proto::set_text(h.client_name, sizeof h.client_name, "libnetring");
    return h;
}

result<uint16_t> hello_answer(const received_message &m, uint32_t seq)
{
    if (is_refusal(m))
        return proto::reply_failure(m.hdr, m.payload).err();
    if (auto s = proto::check_reply_header(m.hdr, proto::msg_type::hello_reply, seq); !s)
        return s.err();
    auto hr = proto::decode_reply<proto::hello_reply>(m.hdr, m.payload);
    if (!hr)
        return hr.err();
    if (hr->version < proto::min_version || hr->version > proto::version)
        return error::from(errc::unsupported_version, "netringd chose protocol version " + std::to_string(hr->version));
    return hr->version;
}

result<connection> connection::open(const std::string &socket_path)
{
    auto fd = connect_unix(socket_path, false);
    if (!fd)
        return fd.err();
    connection c(std::move(fd.value()));
    const uint32_t seq = c.next_seq();
    if (auto s = send_struct(c.fd(), proto::msg_type::hello, seq, hello_request()); !s) {
        // A daemon that refused this connection (a quota) wrote why before it closed the socket.
        if (auto m = recv_message(c.fd(), proto::max_reply_payload); m && is_refusal(*m))
            return proto::reply_failure(m->hdr, m->payload).err();
        return as_daemon_gone(s.err());
    }
    auto m = recv_message(c.fd(), proto::max_reply_payload);
    if (!m)
        return as_daemon_gone(m.err());
    auto v = hello_answer(*m, seq);
    if (!v)
        return v.err();
    c.version_ = v.value();
    return c;
}

result<received_message> connection::call(proto::msg_type req, std::span<const std::byte> payload,
                                          proto::msg_type reply)
{
    const uint32_t seq = next_seq();
    if (auto s = send_message(fd_.get(), req, seq, payload); !s) {
        // A daemon that refused this connection (a quota) wrote why before it closed the socket.
        if (auto m = recv_message(fd_.get(), proto::max_reply_payload); m && is_refusal(*m))
            return proto::reply_failure(m->hdr, m->payload).err();
        return as_daemon_gone(s.err());
    }
    auto m = recv_message(fd_.get(), proto::max_reply_payload);
    if (!m)
        return as_daemon_gone(m.err());
    if (is_refusal(*m))
        return proto::reply_failure(m->hdr, m->payload).err();
    if (auto s = proto::check_reply_header(m->hdr, reply, seq); !s)
        return s.err();
    return m;
}

} // namespace detail
} // namespace netring
