#include "control_server.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace netring::netringd {
namespace {

// True when something accepts connections at `path`: another netringd owns it.
bool socket_is_live(const std::string &path)
{
    unique_fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid())
        return false;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    return ::connect(fd.get(), reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0;
}

error from_ec(const boost::system::error_code &ec, const std::string &what)
{
    return error::from_errno(ec.value(), what);
}

} // namespace

control_server::control_server(boost::asio::io_context &io, registry &reg, logger log)
    : reg_(reg), log_(log), acceptor_(io), retry_(io) {}

control_server::~control_server() { stop(); }

uint64_t control_server::uptime_ms() const
{
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_).count());
}

status control_server::listen(const std::string &path, socket_access access)
{
    if (path.empty() || path.size() >= sizeof(sockaddr_un::sun_path))
        return error::from(errc::limit_exceeded, "socket path '" + path + "' is empty or too long");
    const std::filesystem::path dir = std::filesystem::path(path).parent_path();
    std::error_code fec;
    if (!dir.empty() && !std::filesystem::exists(dir, fec)) {
        if (!std::filesystem::create_directories(dir, fec))
            return error::from(errc::internal, "cannot create " + dir.string() + ": " + fec.message());
        ::chmod(dir.c_str(), 0755);
    }
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return error::from(errc::internal, path + " exists and is not a socket; not replacing it");
        if (socket_is_live(path))
            return error::from(errc::port_busy, "another netringd is listening on " + path);
        ::unlink(path.c_str()); // stale: its daemon died without cleaning up
    }

    boost::system::error_code ec;
    const boost::asio::local::stream_protocol::endpoint ep(path);
    acceptor_.open(ep.protocol(), ec);
    if (!ec)
        acceptor_.bind(ep, ec);
    if (ec)
        return from_ec(ec, "bind " + path);
    path_ = path;
    // Group and mode before listen(): no client can connect while the file still has the bits
    // bind() gave it. The group first, so the mode never grants its bits to the old group.
    if (access.group != static_cast<gid_t>(-1) && ::chown(path.c_str(), static_cast<uid_t>(-1), access.group) != 0) {
        const int err = errno;
        ::unlink(path.c_str());
        return error::from_errno(err, "chown " + path + " to gid " + std::to_string(access.group));
    }
    if (::chmod(path.c_str(), access.mode) != 0) {
        const int err = errno;
        ::unlink(path.c_str());
        return error::from_errno(err, "chmod " + path);
    }
    acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
    if (ec)
        return from_ec(ec, "listen on " + path);
    listening_ = true;
    accept_next();
    return ok_status();
}

status control_server::adopt_listener(unique_fd fd, const std::string &path)
{
    int listening = 0;
    socklen_t len = sizeof listening;
    sockaddr_un addr{};
    socklen_t alen = sizeof addr;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening ||
        ::getsockname(fd.get(), reinterpret_cast<sockaddr *>(&addr), &alen) != 0 || addr.sun_family != AF_UNIX)
        return error::from(errc::bad_message, "the kept control socket is not a listening Unix socket");
    const std::string bound(addr.sun_path, strnlen(addr.sun_path, sizeof addr.sun_path));
    if (bound != path)
        return error::from(errc::bad_message, "the kept control socket is bound to " + bound + ", not " + path);
    // Its file can have gone while no daemon ran (a runtime directory removed): nobody could
    // connect to the kept socket then.
    struct stat st;
    if (::stat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode))
        return error::from(errc::bad_message, "the kept control socket's file " + path + " is gone");
    boost::system::error_code ec;
    acceptor_.assign(boost::asio::local::stream_protocol(), fd.get(), ec);
    if (ec)
        return from_ec(ec, "adopting the control socket " + path);
    (void)fd.release(); // the acceptor owns it now
    path_ = path;
    listening_ = true;
    accept_next();
    return ok_status();
}

void control_server::pause_accepting()
{
    listening_ = false;
    boost::system::error_code ec;
    acceptor_.cancel(ec);
    retry_.cancel();
}

void control_server::resume_accepting()
{
    if (listening_ || !acceptor_.is_open())
        return;
    listening_ = true;
    accept_next();
}

void control_server::accept_next()
{
    acceptor_.async_accept([this](const boost::system::error_code &ec, session::socket_type socket) {
        if (!listening_ || ec == boost::asio::error::operation_aborted)
            return;
        if (ec) {
            log_.error("accept: " + ec.message());
            retry_.expires_after(std::chrono::milliseconds(100));
            retry_.async_wait([this](const boost::system::error_code &wec) {
                if (!wec && listening_)
                    accept_next();
            });
            return;
        }
        const uint64_t id = next_id_++;
        auto s = std::make_shared<session>(id, std::move(socket), *this);
        sessions_.emplace(id, s);
        s->start();
        accept_next();
    });
}

void control_server::stop()
{
    const bool was_listening = listening_;
    listening_ = false;
    boost::system::error_code ec;
    acceptor_.close(ec);
    retry_.cancel();
    auto all = std::move(sessions_);
    sessions_.clear();
    for (auto &[id, s] : all)
        s->close("daemon stopping");
    if (!was_listening)
        return;
    reg_.unregister_all();
    if (!path_.empty())
        ::unlink(path_.c_str());
    path_.clear();
}

} // namespace netring::netringd
