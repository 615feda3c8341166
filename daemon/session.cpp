#include "session.hpp"

#include "control_server.hpp"

#include <rings/wire.hpp>

#include <boost/asio/socket_base.hpp>

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace netring::netringd {

session::session(uint64_t id, socket_type socket, control_server &server)
    : id_(id), socket_(std::move(socket)), server_(server), idle_(socket_.get_executor()),
      who_("session " + std::to_string(id))
{}

void session::start()
{
    auto cred = read_peer_credentials(socket_.native_handle(), server_.log());
    if (!cred) {
        server_.log().error(cred.err().describe());
        close("no peer credentials");
        return;
    }
    cred_ = std::move(cred.value());
    who_ = "session " + std::to_string(id_) + " (pid " + std::to_string(cred_.pid) + " uid " +
           std::to_string(cred_.uid) + ")";
    boost::system::error_code ec;
    socket_.non_blocking(true, ec); // replies must never block the daemon
    if (ec) {
        close("cannot make the socket non-blocking");
        return;
    }
    const credentials who{cred_.uid, cred_.gid, cred_.groups};
    if (auto s = server_.reg().quotas().admit_connection(who); !s) {
        // Refused before any request: one error_reply with sequence number 0 says why, then close.
        server_.log().info(who_ + ": refused: " + s.err().message);
        reply_error(0, s.err());
        close("refused");
        return;
    }
    admitted_ = true;
    server_.log().info(who_ + ": connected");
    last_request_ = std::chrono::steady_clock::now();
    arm_idle_timer();
    wait_readable();
}

// A connection that holds no registration and completes no request for idle_timeout_s is closed,
// so connections that hold nothing (idle, or sending a request a byte at a time) cannot pile up.
// One that holds a registration may stay silent forever: shm-sync clients never need to talk.
void session::arm_idle_timer()
{
    idle_.expires_at(last_request_ + std::chrono::seconds(server_.idle_timeout_s()));
    idle_.async_wait([self = shared_from_this()](const boost::system::error_code &ec) {
        if (ec || self->closed())
            return;
        if (std::chrono::steady_clock::now() <
            self->last_request_ + std::chrono::seconds(self->server_.idle_timeout_s()))
            self->arm_idle_timer(); // a request came meanwhile: wait from it
        else if (self->server_.reg().registrations_of(self->id_) == 0)
            self->close("idle: no registration and no request for idle_timeout_s");
        else {
            self->last_request_ = std::chrono::steady_clock::now();
            self->arm_idle_timer();
        }
    });
}

void session::close(const char *why)
{
    if (closed())
        return;
    state_ = proto::session_state::closed;
    idle_.cancel();
    const size_t released = server_.reg().unregister_session(id_);
    if (admitted_)
        server_.reg().quotas().release_connection(cred_.uid);
    server_.log().info(who_ + ": closed (" + why + "), " + std::to_string(released) + " registration" +
                       (released == 1 ? "" : "s") + " released");
    boost::system::error_code ec;
    socket_.close(ec);
    server_.session_closed(id_);
}

void session::wait_readable()
{
    socket_.async_wait(socket_type::wait_read,
                       [self = shared_from_this()](const boost::system::error_code &ec) {
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
        server_.log().info(who_ + ": closed " + std::to_string(fds.size()) + " unexpected file descriptors");
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
        if (auto s = proto::check_request_header(h);
            !s && s.err().code != make_error_code(errc::unknown_message)) {
            server_.log().error(who_ + ": " + s.err().message + "; closing the connection");
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
    last_request_ = std::chrono::steady_clock::now(); // the idle timer looks at it when it expires
    request_context ctx{client(), who_, state_, version_};
    answer_request(server_, *req, ctx, *this);
}

// One non-blocking sendmsg; fds ride as SCM_RIGHTS on the first byte. (wire's send_message would
// wait for buffer space, which the daemon's one thread must never do.)
void session::reply(proto::msg_type t, uint32_t seq, std::span<const std::byte> payload,
                    std::span<const int> fds)
{
    if (closed())
        return;
    proto::header h = proto::make_header(t, static_cast<uint32_t>(payload.size()), seq);
    // The version the session speaks, so a client older than the daemon accepts the reply and
    // reads its layout; before HELLO agreed one, the oldest, which every client accepts.
    h.version = version_ != 0 ? version_ : proto::min_version;
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
        close(errno == EAGAIN || errno == EWOULDBLOCK
                  ? "socket buffer full: the client does not read its replies"
                  : "send error");
        return;
    }
    out_done_ = static_cast<size_t>(n);
    if (out_done_ == out_.size())
        out_.clear(); // else the rest goes out when the socket is writable (process_input waits)
}

void session::wait_writable()
{
    socket_.async_wait(socket_type::wait_write,
                       [self = shared_from_this()](const boost::system::error_code &ec) {
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
