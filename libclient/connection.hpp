// A control connection to netringd as libnetring opens it: connect, HELLO, then request/reply
// round trips that check every reply (type, sequence number, size) before use. Used by port::open
// and the stats queries; not part of the public API.
#pragma once

#include <rings/wire.hpp>

#include <netring/error.hpp>
#include <netring/protocol.hpp>
#include <netring/unique_fd.hpp>

#include <span>
#include <string>

namespace netring::detail {

class connection {
public:
    // Connects to `socket_path` (already resolved) and negotiates the protocol version.
    static result<connection> open(const std::string &socket_path);
    // A connection open() made earlier, maybe in another process (its socket handed over).
    static connection adopt(unique_fd fd) { return connection(std::move(fd)); }

    int fd() const { return fd_.get(); }
    unique_fd release_fd() { return std::move(fd_); }
    uint32_t next_seq() { return ++seq_ == 0 ? ++seq_ : seq_; } // 0 marks a refusal (connection.cpp)
    uint32_t seq() const { return seq_; }
    uint16_t version() const { return version_; } // agreed in HELLO; 0 for an adopted connection

    // Sends a request and returns the reply (fds included) once check_reply_header accepted it.
    result<received_message> call(proto::msg_type req, std::span<const std::byte> payload, proto::msg_type reply);

    template <class T>
    result<received_message> call_struct(proto::msg_type req, const T &msg, proto::msg_type reply)
    {
        return call(req, std::as_bytes(std::span<const T, 1>(&msg, 1)), reply);
    }

private:
    explicit connection(unique_fd fd) : fd_(std::move(fd)) {}
    unique_fd fd_;
    uint32_t seq_ = 0;
    uint16_t version_ = 0;
};

// The steps of open() for a caller that must not block on them (a re-attach from the data path,
// port_control.cpp): connect (EAGAIN, ECONNREFUSED, ENOENT: daemon_gone; EACCES: access_denied),
// the HELLO request, and the version its answer agrees on (a refusal's own error, or the check's).
result<unique_fd> connect_unix(const std::string &socket_path, bool nonblocking);
proto::hello hello_request();
result<uint16_t> hello_answer(const received_message &m, uint32_t seq);
// An error_reply with sequence number 0: the daemon refused the connection and said why.
bool is_refusal(const received_message &m);

// Any failure of the connection itself is reported as errc::daemon_gone (with the OS reason),
// so callers see one code for "netringd is not there any more".
error as_daemon_gone(const error &e);

} // namespace netring::detail
