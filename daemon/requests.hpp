// The control protocol's requests as netringd answers them: each decoded request becomes a registry
// call, and its outcome a reply struct. The one place where the daemon translates between the wire
// format and its own terms (with the registry's REGIF, STATS and SWITCH_CTL encoding).
//
//   request_context ctx{client, who, state};
//   answer_request(server, req, ctx, sink);   // exactly one sink.reply() per request
//
// A session owns the socket and the session state; it checks the header and the state table first
// and hands only requests the state allows to answer_request.
#pragma once

#include "registry.hpp"

#include <netring/protocol.hpp>

#include <cstddef>
#include <span>
#include <string>

namespace netring::netringd {

class control_server;

// Where replies go: the session writes them to its socket. The fds are borrowed for the call.
class reply_sink {
public:
    virtual void reply(proto::msg_type t, uint32_t seq, std::span<const std::byte> payload,
                       std::span<const int> fds) = 0;

    template <class T>
    void reply_struct(proto::msg_type t, uint32_t seq, const T &msg, std::span<const int> fds = {})
    {
        reply(t, seq, std::as_bytes(std::span<const T, 1>(&msg, 1)), fds);
    }
    void reply_error(uint32_t seq, const error &e);

protected:
    ~reply_sink() = default;
};

struct request_context {
    client_info client;
    const std::string &who;      // "session 3 (pid 123 uid 0)", for log lines
    proto::session_state &state; // a successful HELLO makes it ready
    uint16_t &version;           // and sets the protocol version the session speaks
};

void answer_request(control_server &server, const proto::decoded_request &req, request_context &ctx,
                    reply_sink &out);

} // namespace netring::netringd
