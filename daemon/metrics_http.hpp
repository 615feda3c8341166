// The metrics endpoint: HTTP/1.1 on TCP (Boost.Beast) serving metrics_text() at GET /metrics, on
// the control thread's io_context, so reading the registry takes no lock.
//
//   metrics_http metrics(io, reg, server, log);
//   if (auto s = metrics.listen("127.0.0.1", 9108); !s) ...   // config: metrics_listen
//   metrics.stop();                                            // partner of listen; closes sessions
//
// One request per connection (the reply says Connection: close). GET or HEAD /metrics: 200 and
// the exposition; another path: 404; another method: 405; a request that does not parse or is too
// large: 400. A client gets at most `read_timeout` to send its request and `write_timeout` to take
// the reply, and at most `max_sessions` connections are open at once (more are closed at accept),
// so a slow or hostile scraper costs a bounded amount of memory and nothing else.
#pragma once

#include "control_server.hpp"
#include "log.hpp"
#include "metrics_text.hpp"
#include "registry.hpp"

#include <netring/error.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace netring::netringd {

class metrics_http {
public:
    static constexpr size_t max_sessions = 16;
    static constexpr uint32_t max_request_bytes = 8192; // request line and headers; no body allowed
    static constexpr std::chrono::seconds read_timeout{10};
    static constexpr std::chrono::seconds write_timeout{10};

    metrics_http(boost::asio::io_context &io, registry &reg, const control_server &server, logger log);
    ~metrics_http();
    metrics_http(const metrics_http &) = delete;
    metrics_http &operator=(const metrics_http &) = delete;

    // `address` is numeric (IPv4 or IPv6, no brackets); port 0 picks a free one (see port()).
    status listen(const std::string &address, uint16_t port);
    void stop();
    uint16_t port() const { return port_; }

    // What a scrape answers now.
    metrics_snapshot gather() const;

private:
    class session;
    void accept_next();
    void session_closed(const session *s) { sessions_.erase(s); }

    registry &reg_;
    const control_server &server_;
    logger log_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer retry_; // accept errors (EMFILE) back off instead of spinning
    std::map<const session *, std::shared_ptr<session>> sessions_;
    uint16_t port_ = 0;
    bool listening_ = false;
};

} // namespace netring::netringd
