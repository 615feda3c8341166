// One client connection: reads requests, applies the session state table, answers.
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

#include "registry.hpp"

#include <netring/protocol.hpp>

#include <boost/asio/local/stream_protocol.hpp>

#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <memory>
#include <span>
#include <vector>

namespace netring::netringd {

class control_server;

class session : public std::enable_shared_from_this<session> {
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

    void wait_readable();
    void on_readable();
    void process_input();
    void handle(const proto::header &h, std::span<const std::byte> payload);
    void dispatch(const proto::decoded_request &req);

    void on_hello(uint32_t seq, const proto::hello &m);
    void on_regif(uint32_t seq, const proto::regif &m);
    void on_unregif(uint32_t seq, const proto::unregif &m);
    void on_sync(uint32_t seq, const proto::sync_request &m, bool tx);
    void on_port_info(uint32_t seq, const proto::port_info &m);
    void on_stats(uint32_t seq);
    void on_nic_ctl(uint32_t seq, const proto::nic_ctl &m);
    void on_switch_ctl(uint32_t seq, const proto::switch_ctl &m);

    template <class T>
    void reply_struct(proto::msg_type t, uint32_t seq, const T &msg, std::span<const int> fds = {})
    {
        reply(t, seq, std::as_bytes(std::span<const T, 1>(&msg, 1)), fds);
    }
    void reply_error(uint32_t seq, const error &e);
    void reply(proto::msg_type t, uint32_t seq, std::span<const std::byte> payload, std::span<const int> fds);
    void flush_output();
    void wait_writable();

    std::string who() const; // "session 3 (pid 123 uid 0)"
    client_info client() const { return {id_, cred_.uid, cred_.gid, cred_.pid, groups_}; }

    uint64_t id_;
    socket_type socket_;
    control_server &server_;
    ucred cred_{};
    std::vector<gid_t> groups_; // the peer's supplementary groups when it connected
    proto::session_state state_ = proto::session_state::awaiting_hello;
    std::array<std::byte, max_request> in_{};
    size_t in_len_ = 0;
    std::vector<std::byte> out_; // a reply not yet fully written
    size_t out_done_ = 0;
};

} // namespace netring::netringd
