#include "connection.hpp"

#include "reply_codec.hpp"

#include <netring/netring.hpp>

#include <poll.h>
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

result<connection> connection::open(const std::string &socket_path, int answer_within_ms)
{
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_path.empty() || socket_path.size() >= sizeof addr.sun_path)
        return error::from(errc::daemon_gone, "socket path '" + socket_path + "' is empty or too long");
    std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());

    unique_fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
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
        return error{make_error_code(errc::daemon_gone),
                     "cannot reach netringd at '" + socket_path + "': " + std::strerror(err)};
    }

    connection c(std::move(fd));
    c.answer_within_ms_ = answer_within_ms;
    proto::hello h{};
    h.min_version = proto::min_version;
    h.max_version = proto::version;
    proto::set_text(h.client_name, sizeof h.client_name, "libnetring");
    auto reply = c.call_struct(proto::msg_type::hello, h, proto::msg_type::hello_reply);
    if (!reply)
        return reply.err();
    auto hr = proto::decode_reply<proto::hello_reply>(reply->hdr, reply->payload);
    if (!hr)
        return hr.err();
    if (hr->version < proto::min_version || hr->version > proto::version)
        return error::from(errc::unsupported_version,
                           "netringd chose protocol version " + std::to_string(hr->version));
    c.version_ = hr->version;
    return c;
}

// The daemon's answer to a connection it does not admit: an error_reply with sequence number 0 (no
// request has that number) carrying the reason, sent before it closes the socket.
bool is_refusal(const received_message &m)
{
    return m.hdr.seq == 0 && static_cast<proto::msg_type>(m.hdr.type) == proto::msg_type::error_reply &&
           !proto::reply_failure(m.hdr, m.payload);
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
    if (answer_within_ms_ >= 0) {
        pollfd p{fd_.get(), POLLIN, 0};
        int n;
        do {
            n = ::poll(&p, 1, answer_within_ms_);
        } while (n < 0 && errno == EINTR);
        if (n == 0)
            return error::from(errc::daemon_gone, "netringd took the connection but did not answer within " +
                                                      std::to_string(answer_within_ms_) + " ms");
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
