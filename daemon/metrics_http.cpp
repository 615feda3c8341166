#include "metrics_http.hpp"

#include "ports/nic/nic_sysfs.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#ifndef NETRINGD_VERSION
#define NETRINGD_VERSION "0"
#endif

namespace netring::netringd {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

class metrics_http::session : public std::enable_shared_from_this<session> {
public:
    session(tcp::socket socket, metrics_http &owner) : stream_(std::move(socket)), owner_(owner) {}

    void start()
    {
        parser_.header_limit(max_request_bytes);
        parser_.body_limit(0); // a scrape has no body
        stream_.expires_after(read_timeout);
        http::async_read(stream_, buffer_, parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
            self->on_read(ec);
        });
    }

    void close()
    {
        if (closed_)
            return;
        closed_ = true;
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.close();
        owner_.session_closed(this); // may destroy *this: the handler running holds the last reference
    }

private:
    void on_read(beast::error_code ec)
    {
        if (closed_)
            return;
        // The client went away or never finished its request: nobody to answer.
        if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
            ec == boost::asio::error::operation_aborted || ec == boost::asio::error::connection_reset) {
            close();
            return;
        }
        if (ec) {
            respond(http::status::bad_request, "bad request: " + ec.message() + "\n", false);
            return;
        }
        const auto &req = parser_.get();
        std::string_view target(req.target().data(), req.target().size());
        target = target.substr(0, target.find('?')); // Prometheus may add parameters; none matter
        if (target != "/metrics") {
            respond(http::status::not_found, "not found: netringd serves /metrics\n", false);
            return;
        }
        if (req.method() != http::verb::get && req.method() != http::verb::head) {
            respond(http::status::method_not_allowed, "only GET and HEAD\n", false);
            return;
        }
        respond(http::status::ok, metrics_text(owner_.gather()), req.method() == http::verb::head);
    }

    void respond(http::status code, std::string body, bool head_only)
    {
        res_.result(code);
        res_.version(11);
        res_.keep_alive(false);
        res_.set(http::field::server, "netringd");
        res_.set(http::field::content_type, code == http::status::ok ? "text/plain; version=0.0.4; charset=utf-8"
                                                                     : "text/plain; charset=utf-8");
        if (code == http::status::method_not_allowed)
            res_.set(http::field::allow, "GET, HEAD");
        res_.body() = std::move(body);
        res_.prepare_payload();
        if (head_only)
            res_.body().clear(); // Content-Length stays that of the GET
        stream_.expires_after(write_timeout);
        http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code, size_t) { self->close(); });
    }

    beast::tcp_stream stream_;
    metrics_http &owner_;
    beast::flat_buffer buffer_{max_request_bytes};
    http::request_parser<http::empty_body> parser_;
    http::response<http::string_body> res_;
    bool closed_ = false;
};

metrics_http::metrics_http(boost::asio::io_context &io, registry &reg, const control_server &server, logger log)
    : reg_(reg), server_(server), log_(log), acceptor_(io), retry_(io) {}

metrics_http::~metrics_http() { stop(); }

status metrics_http::listen(const std::string &address, uint16_t port)
{
    boost::system::error_code ec;
    const auto ip = boost::asio::ip::make_address(address, ec);
    if (ec)
        return error::from(errc::internal, "metrics address '" + address + "': " + ec.message());
    const tcp::endpoint ep(ip, port);
    const std::string where = (ip.is_v6() ? "[" + address + "]" : address) + ":" + std::to_string(port);
    acceptor_.open(ep.protocol(), ec);
    if (!ec)
        acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec)
        acceptor_.bind(ep, ec);
    if (!ec)
        acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
    if (ec) {
        acceptor_.close();
        return error::from_errno(ec.value(), "metrics on " + where);
    }
    port_ = acceptor_.local_endpoint().port();
    listening_ = true;
    log_.info("metrics on http://" + where + "/metrics");
    accept_next();
    return ok_status();
}

void metrics_http::accept_next()
{
    acceptor_.async_accept([this](const boost::system::error_code &ec, tcp::socket socket) {
        if (!listening_ || ec == boost::asio::error::operation_aborted)
            return;
        if (ec) {
            log_.error("metrics accept: " + ec.message());
            retry_.expires_after(std::chrono::milliseconds(100));
            retry_.async_wait([this](const boost::system::error_code &wec) {
                if (!wec && listening_)
                    accept_next();
            });
            return;
        }
        if (sessions_.size() < max_sessions) {
            auto s = std::make_shared<session>(std::move(socket), *this);
            sessions_.emplace(s.get(), s);
            s->start();
        } // else the socket closes here: a scraper that holds every slot gets no more
        accept_next();
    });
}

void metrics_http::stop()
{
    listening_ = false;
    boost::system::error_code ec;
    acceptor_.close(ec);
    retry_.cancel();
    auto all = std::move(sessions_);
    sessions_.clear();
    for (auto &[p, s] : all)
        s->close();
}

metrics_snapshot metrics_http::gather() const
{
    metrics_snapshot m;
    m.version = NETRINGD_VERSION;
    m.uptime_seconds = static_cast<double>(server_.uptime_ms()) / 1000.0;
    m.clients = server_.session_count();
    m.stats = reg_.snapshot();
    m.switches = reg_.switches().list();
    for (const region_snapshot &r : m.stats.regions) {
        if (!r.name.starts_with("nic:"))
            continue;
        nic_snapshot n;
        n.interface = r.name.substr(4);
        describe_interface(n.interface, n.details);
        m.nics.push_back(std::move(n));
    }
    return m;
}

} // namespace netring::netringd
