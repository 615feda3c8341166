// One client connection: reads requests, applies the session state table, hands each allowed
// request to answer_request (requests.hpp) and writes the replies.
//
//   auto s = std::make_shared<session>(id, std::move(socket), server);
//   s->start();      // SO_PEERCRED, then reads until EOF, error or close()
//   s->close();      // unregisters everything the session registered, closes the socket
//
// Reading: wait for readability, then one non-blocking recvmsg (wire's recv_with_fds) into a
// bounded buffer (one header + the largest request). Any fds a client sends are collected and
// closed at once. A bad header closes the connection (the stream cannot be re-synchronised); an
// unknown type gets an error_reply and the stream goes on. While a reply is not fully written
// the session reads nothing more, so a client that does not read its replies only stalls itself.
// Replies never block the daemon: a reply that finds the socket buffer full closes the client.
#pragma once

#include "peer_credentials.hpp"
#include "registry.hpp"
#include "requests.hpp"

#include <netring/protocol.hpp>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sys/socket.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <vector>

namespace netring::netringd {

class control_server;

class session final : public std::enable_shared_from_this<session>, private reply_sink {
public:
    using socket_type = boost::asio::local::stream_protocol::socket;

    session(uint64_t id, socket_type socket, control_server &server);
    session(const session &) = delete;
    session &operator=(const session &) = delete;

    void start();
    void close(const char *why);
    uint64_t id() const { return id_; }
    bool closed() const { return state_ == proto::session_state::closed; }

private:
    static constexpr size_t max_request = sizeof(proto::header) + proto::max_request_payload;

    void arm_idle_timer();
    void wait_readable();
    void on_readable();
    void process_input();
    void handle(const proto::header &h, std::span<const std::byte> payload);
    // reply_sink: one non-blocking sendmsg, the rest (if any) as the socket drains.
    void reply(proto::msg_type t, uint32_t seq, std::span<const std::byte> payload,
               std::span<const int> fds) override;
    void flush_output();
    void wait_writable();

    client_info client() const { return {id_, cred_.uid, cred_.gid, cred_.pid, cred_.groups}; }

    uint64_t id_;
    socket_type socket_;
    control_server &server_;
    boost::asio::steady_timer idle_;
    bool admitted_ = false; // counted by the quota book: released on close
    std::chrono::steady_clock::time_point last_request_; // the last complete request (idle timer)
    peer_credentials cred_;
    std::string who_; // "session 3 (pid 123 uid 0)", for log lines
    proto::session_state state_ = proto::session_state::awaiting_hello;
    uint16_t version_ = 0; // negotiated by HELLO
    std::array<std::byte, max_request> in_{};
    size_t in_len_ = 0;
    std::vector<std::byte> out_; // a reply not yet fully written
    size_t out_done_ = 0;
};

} // namespace netring::netringd
