// The control server: a Unix stream socket acceptor and its sessions, on one Boost.Asio thread.
//
//   control_server server(io, reg, log);
//   if (auto s = server.listen("/run/netring/netringd.sock", {gid, 0660}); !s) ...
//   io.run();                      // until stop() leaves nothing to do
//   server.stop();                 // stop accepting, close sessions, remove the socket file
//
// By default the socket is mode 0666: who may open what is the policy's decision (SO_PEERCRED at
// accept), not the file's. socket_access narrows who may connect at all (config socket_group and
// socket_mode). A stale socket file is replaced; a live one (another daemon answers) is not.
#pragma once

#include "log.hpp"
#include "registry.hpp"
#include "session.hpp"

#include <netring/unique_fd.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <sys/types.h>

namespace netring::netringd {

// The socket file's group and permission bits, applied between bind() and listen().
struct socket_access {
    gid_t group = static_cast<gid_t>(-1); // -1: keep the group bind() gave it
    mode_t mode = 0666;
};

class control_server {
public:
    control_server(boost::asio::io_context &io, registry &reg, logger log);
    ~control_server();
    control_server(const control_server &) = delete;
    control_server &operator=(const control_server &) = delete;

    status listen(const std::string &path, socket_access access = {});
    // A listening socket a previous netringd kept (docs/RESTART.md): it must be a listening Unix
    // stream socket bound to `path`. Connections that queued during the restart are accepted.
    status adopt_listener(unique_fd fd, const std::string &path);
    // The planned restart: accepting stops (the socket stays open and listening, for the successor)
    // and resume_accepting() undoes it when the handoff fails.
    void pause_accepting();
    void resume_accepting();
    int listener_fd() { return acceptor_.is_open() ? acceptor_.native_handle() : -1; }
    // RESTART's handler (main sets it); empty: this netringd cannot restart itself.
    std::function<void()> on_restart;
    // Partner of listen(). Unregisters everything; safe to call twice.
    void stop();

    registry &reg() { return reg_; }
    boost::asio::any_io_executor executor() { return acceptor_.get_executor(); }
    const logger &log() const { return log_; }
    uint64_t uptime_ms() const;
    uint32_t session_count() const { return static_cast<uint32_t>(sessions_.size()); }
    uint32_t idle_timeout_s() const { return idle_timeout_s_; }
    void set_idle_timeout_s(uint32_t s) { idle_timeout_s_ = s; }
    // Called by a session as it closes.
    void session_closed(uint64_t id) { sessions_.erase(id); }

private:
    void accept_next();

    registry &reg_;
    logger log_;
    boost::asio::local::stream_protocol::acceptor acceptor_;
    boost::asio::steady_timer retry_; // accept errors (EMFILE) back off instead of spinning
    std::map<uint64_t, std::shared_ptr<session>> sessions_;
    uint64_t next_id_ = 1;
    std::string path_;
    bool listening_ = false;
    uint32_t idle_timeout_s_ = 30;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

} // namespace netring::netringd
